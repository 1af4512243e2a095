//! One point of the runtime: a 3-replica cluster on a clean network, closed-loop sessions that
//! each keep one command outstanding, all writes or all reads.

use crate::counters::Counters;
use crate::stats::{Clock, Completions, Sample};
use paxos_impl::{Cluster, ClusterConfig, StorageChoice};
use paxos_model::types::{Op, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// Limit: how long one command may wait before the point fails.
const OP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one poll of the driver waits at most.
const POLL_WAIT: Duration = Duration::from_millis(50);

/// What a runtime point runs.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub sessions: usize,
    pub prepare_skip: bool,
    pub reads: bool,
}

/// Runs `point` until `clock`'s window is over; `dir` selects disk storage.
pub fn run(point: Point, dir: Option<&Path>, seed: u64, clock: &Clock) -> Sample {
    let mut cfg = ClusterConfig::new(3);
    cfg.seed = seed;
    cfg.prepare_skip = point.prepare_skip;
    cfg.client_timeout = OP_TIMEOUT;
    cfg.observe = false; // The bench measures from its clients; nothing reads the observer.
    cfg.storage = match dir {
        Some(dir) => StorageChoice::Disk(dir.to_path_buf()),
        None => StorageChoice::Memory,
    };
    let before = Counters::now();
    let cluster = Cluster::start(cfg).expect("the cluster starts");
    let completions = drive(&cluster, point, clock);
    let ops = completions.done.len().max(1) as f64;
    let mut sample = Sample::of(clock, &completions);
    (sample.cpu_us_per_op, sample.switches_per_op) =
        Counters::now().per_op_since(&before, ops as u64);
    sample.msgs_per_op = cluster.net_stats().sent as f64 / ops;
    sample.syncs_per_op = cluster.storage_syncs() as f64 / ops;
    cluster.shutdown().expect("a clean shutdown");
    sample
}

/// The operation session `session` runs as its `k`-th.
fn op(point: Point, session: usize, k: u64) -> Op {
    if point.reads {
        Op::Read
    } else {
        Op::Write(Value(((session as u64 + 1) << 40) | (k + 1)))
    }
}

/// Every session in one driver, served by this thread; each resubmits as soon as it completes.
fn drive(cluster: &Cluster, point: Point, clock: &Clock) -> Completions {
    let mut driver = cluster
        .client_driver(point.sessions)
        .expect("a client driver");
    let mut started = Vec::with_capacity(point.sessions);
    let mut count = vec![0u64; point.sessions];
    for session in 0..point.sessions {
        started.push(Instant::now());
        driver
            .submit(session, op(point, session, 0))
            .expect("submit");
    }
    let mut completions = Completions::default();
    let mut done = Vec::new();
    loop {
        let now = Instant::now();
        driver
            .poll(now + POLL_WAIT, &mut done)
            .expect("the cluster runs");
        for c in done.drain(..) {
            let now = Instant::now();
            clock.completed(now);
            completions.push(now, now - started[c.session]);
            count[c.session] += 1;
            started[c.session] = now;
            driver
                .submit(c.session, op(point, c.session, count[c.session]))
                .expect("submit");
        }
        let now = Instant::now();
        if clock.over(now) {
            return completions;
        }
        if let Some(late) = started.iter().find(|s| now - **s > OP_TIMEOUT) {
            panic!("a command waited {:?}", now - *late);
        }
    }
}
