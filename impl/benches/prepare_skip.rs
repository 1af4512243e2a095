//! Prepare-skip versus Phase 1 per command, side by side in one process.
//!
//! `cargo bench -p paxos-impl --bench prepare_skip` (or `make bench`). Each round runs the same
//! workload (in-memory storage, a clean network, `CLIENTS` concurrent writers) once with
//! Prepare-skip and once without, alternating which goes first, so that the machine's noise
//! hits both alike. It reports the median throughput and messages per command of each, and
//! their ratios. Messages per command are deterministic in spirit (the protocol's cost);
//! throughput depends on the machine.
//!
//! Environment: `BENCH_ROUNDS` (default 5), `BENCH_OPS` (commands per run, default 5000).

use paxos_impl::{Cluster, ClusterConfig, StorageChoice};
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;

struct Sample {
    ops_per_s: f64,
    msgs_per_op: f64,
    p50_us: f64,
}

fn run(prepare_skip: bool, ops: usize, seed: u64) -> Sample {
    let mut cfg = ClusterConfig::new(3);
    cfg.seed = seed;
    cfg.storage = StorageChoice::Memory;
    cfg.prepare_skip = prepare_skip;
    let cluster = Cluster::start(cfg).expect("the cluster starts");
    cluster
        .wait_for_leader(Duration::from_secs(10))
        .expect("a leader is elected");
    let before = cluster.net_stats().sent;
    let start = Instant::now();
    let mut latencies_us: Vec<f64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let mut client = cluster.client().expect("a client");
                let share = ops / CLIENTS;
                scope.spawn(move || {
                    (0..share)
                        .map(|k| {
                            let t = Instant::now();
                            client
                                .write(paxos_model::types::Value((c * share + k + 1) as u64))
                                .expect("the write completes");
                            t.elapsed().as_secs_f64() * 1e6
                        })
                        .collect::<Vec<f64>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a client thread"))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let sent = cluster.net_stats().sent - before;
    cluster.check_agreement().expect("agreement");
    cluster.shutdown().expect("clean shutdown");
    let done = (ops / CLIENTS * CLIENTS) as f64;
    latencies_us.sort_by(|a, b| a.total_cmp(b));
    Sample {
        ops_per_s: done / elapsed,
        msgs_per_op: sent as f64 / done,
        p50_us: latencies_us[latencies_us.len() / 2],
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("prepare_skip: bench");
        return;
    }
    let rounds = env("BENCH_ROUNDS", 5).max(1);
    let ops = env("BENCH_OPS", 5000).max(CLIENTS);
    println!("3 replicas, memory storage, clean network, {CLIENTS} clients, {ops} writes per run, {rounds} rounds");
    let (mut skip, mut classic) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let seed = 1000 + round as u64;
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for prepare_skip in order {
            let s = run(prepare_skip, ops, seed);
            println!(
                "  round {round}: {:<22} {:>9.0} ops/s  {:>6.2} msgs/op  p50 {:>7.0} us",
                if prepare_skip {
                    "Prepare-skip"
                } else {
                    "Phase 1 per command"
                },
                s.ops_per_s,
                s.msgs_per_op,
                s.p50_us
            );
            if prepare_skip {
                &mut skip
            } else {
                &mut classic
            }
            .push(s);
        }
    }
    let med = |v: &[Sample], f: fn(&Sample) -> f64| median(v.iter().map(f).collect());
    let (skip_tp, classic_tp) = (med(&skip, |s| s.ops_per_s), med(&classic, |s| s.ops_per_s));
    let (skip_m, classic_m) = (
        med(&skip, |s| s.msgs_per_op),
        med(&classic, |s| s.msgs_per_op),
    );
    let (skip_l, classic_l) = (med(&skip, |s| s.p50_us), med(&classic, |s| s.p50_us));
    println!("median  Prepare-skip:        {skip_tp:>9.0} ops/s  {skip_m:>6.2} msgs/op  p50 {skip_l:>7.0} us");
    println!("median  Phase 1 per command: {classic_tp:>9.0} ops/s  {classic_m:>6.2} msgs/op  p50 {classic_l:>7.0} us");
    println!(
        "ratio   Prepare-skip / Phase 1 per command: throughput x{:.2}, messages per command x{:.2}, p50 latency x{:.2}",
        skip_tp / classic_tp,
        skip_m / classic_m,
        skip_l / classic_l
    );
}
