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
/// How often the driver loop looks for a command that waited longer than [`OP_TIMEOUT`].
const LATE_CHECK_EVERY: Duration = Duration::from_millis(100);

/// What a runtime point runs.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub sessions: usize,
    /// Client driver threads the sessions are spread over (at most one per session).
    pub drivers: usize,
    pub prepare_skip: bool,
    pub reads: bool,
    /// Lease reads (`ClusterConfig::lease_reads`) instead of ReadIndex reads.
    pub lease_reads: bool,
    /// Every timer this many times longer (for runs under valgrind).
    pub timer_scale: u32,
}

/// Runs `point` until `clock`'s window is over; `dir` selects disk storage.
pub fn run(point: Point, dir: Option<&Path>, seed: u64, clock: &Clock) -> Sample {
    let mut cfg = ClusterConfig::new(3);
    cfg.seed = seed;
    cfg.prepare_skip = point.prepare_skip;
    cfg.lease_reads = point.lease_reads;
    cfg.client_timeout = OP_TIMEOUT;
    let timing = &mut cfg.timing;
    let x = point.timer_scale.max(1);
    timing.election_timeout = timing.election_timeout.start * x..timing.election_timeout.end * x;
    timing.heartbeat_interval *= x;
    timing.client_retry = timing.client_retry.start * x..timing.client_retry.end * x;
    // Both lease durations scale together: a lease still ends before every grant it counts.
    timing.lease *= x;
    timing.lease_grant *= x;
    cfg.observe = false; // The bench measures from its clients; nothing reads the observer.
    cfg.storage = match dir {
        Some(dir) => StorageChoice::Disk(dir.to_path_buf()),
        None => StorageChoice::Memory,
    };
    let before = Counters::now();
    let cluster = Cluster::start(cfg).expect("the cluster starts");
    let drivers = point.drivers.clamp(1, point.sessions.max(1));
    // Driver `d` serves sessions `d, d + D, ...` (as the bound's), numbered 0.. in it.
    let completions = std::thread::scope(|scope| {
        let others: Vec<_> = (1..drivers)
            .map(|d| {
                let cluster = &cluster;
                std::thread::Builder::new()
                    .name(format!("bench-driver-{d}"))
                    .spawn_scoped(scope, move || drive(cluster, point, d, drivers, clock))
                    .expect("spawn a driver thread")
            })
            .collect();
        let mut completions = drive(&cluster, point, 0, drivers, clock);
        for other in others {
            completions.merge(other.join().expect("a driver thread"));
        }
        completions
    });
    let ops = completions.len().max(1) as f64;
    // Before the latencies are sorted, as the bound's (that is the bench's work, not theirs).
    let per_op = Counters::now().per_op_since(&before, ops as u64);
    let mut sample = Sample::of(clock, &completions);
    (sample.cpu_us_per_op, sample.switches_per_op) = per_op;
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

/// Driver `me` of `drivers`, served by this thread: its share of the sessions (session `s` of
/// the point where `s mod drivers == me`); each resubmits as soon as it completes.
fn drive(cluster: &Cluster, point: Point, me: usize, drivers: usize, clock: &Clock) -> Completions {
    let sessions = (me..point.sessions).step_by(drivers).count();
    // The session's number in the point, which makes its written values its own.
    let global = |local: usize| me + local * drivers;
    let mut driver = cluster.client_driver(sessions).expect("a client driver");
    let mut started = Vec::with_capacity(sessions);
    let mut count = vec![0u64; sessions];
    for session in 0..sessions {
        started.push(Instant::now());
        driver
            .submit(session, op(point, global(session), 0))
            .expect("submit");
    }
    let mut completions = Completions::default();
    let mut done = Vec::new();
    let mut now = Instant::now();
    let mut late_check = now + LATE_CHECK_EVERY;
    loop {
        driver
            .poll(now + POLL_WAIT, &mut done)
            .expect("the cluster runs");
        // One look at the clock per poll, after it: every reply the poll took counts as
        // completed now, after all of its steps (so no latency is shorter than its command
        // took), and every command submitted below as started now, before its submit step
        // (longer, again). A look per completion was about 6 % of this thread's samples at 32
        // lease-read sessions, where this thread bounds the throughput.
        now = Instant::now();
        for c in done.drain(..) {
            clock.completed(now);
            completions.push(clock, now, now - started[c.session]);
            count[c.session] += 1;
            started[c.session] = now;
            driver
                .submit(c.session, op(point, global(c.session), count[c.session]))
                .expect("submit");
        }
        if clock.over(now) {
            return completions;
        }
        if now >= late_check {
            late_check = now + LATE_CHECK_EVERY;
            if let Some(late) = started.iter().find(|s| now - **s > OP_TIMEOUT) {
                panic!("a command waited {:?}", now - *late);
            }
        }
    }
}
