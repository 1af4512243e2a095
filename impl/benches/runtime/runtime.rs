//! One point of the runtime: a 3-replica cluster on a clean network, closed-loop sessions that
//! each keep one command outstanding, all writes or all reads.

use crate::stats::{Clock, Completions, Sample};
use paxos_impl::{Cluster, ClusterConfig, StorageChoice};
use paxos_model::types::{Op, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// Limit: how long one command may wait before the point fails.
const OP_TIMEOUT: Duration = Duration::from_secs(30);

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
    cfg.storage = match dir {
        Some(dir) => StorageChoice::Disk(dir.to_path_buf()),
        None => StorageChoice::Memory,
    };
    let cluster = Cluster::start(cfg).expect("the cluster starts");
    let completions = drive(&cluster, point, clock);
    let ops = completions.done.len().max(1) as f64;
    let mut sample = Sample::of(clock, &completions);
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

/// One thread per session, each with its own blocking client.
fn drive(cluster: &Cluster, point: Point, clock: &Clock) -> Completions {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..point.sessions)
            .map(|session| {
                let mut client = cluster.client().expect("a client");
                scope.spawn(move || {
                    let mut completions = Completions::default();
                    for k in 0.. {
                        let started = Instant::now();
                        client
                            .execute(op(point, session, k))
                            .expect("the command completes");
                        let now = Instant::now();
                        clock.completed(now);
                        completions.push(now, now - started);
                        if clock.over(now) {
                            break;
                        }
                    }
                    completions
                })
            })
            .collect();
        let mut all = Completions::default();
        for worker in workers {
            all.extend(worker.join().expect("a client thread"));
        }
        all
    })
}
