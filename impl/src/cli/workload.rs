//! The clients' workload: each client thread runs operations one after another until the run
//! ends, with reads and writes mixed by a seeded generator; every written value is unique.

use paxos_impl::Client;
use paxos_model::types::{Op, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What every client shares.
pub struct Plan {
    /// Operations to run in total (`None`: until `stop`).
    pub ops: Option<u64>,
    /// Operations claimed so far (with `ops`).
    pub claimed: AtomicU64,
    /// Operations completed so far.
    pub completed: AtomicU64,
    /// Set when the run ends.
    pub stop: AtomicBool,
    /// Fraction of reads.
    pub read_ratio: f64,
    /// Longest wait for one operation.
    pub op_timeout: Duration,
    /// The run's seed.
    pub seed: u64,
}

/// What one client did.
#[derive(Default)]
pub struct ClientReport {
    /// Latency of each completed operation.
    pub latencies: Vec<Duration>,
    /// Completed reads.
    pub reads: u64,
    /// Completed writes.
    pub writes: u64,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
}

impl Plan {
    fn claim(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        match self.ops {
            Some(ops) => self.claimed.fetch_add(1, Ordering::Relaxed) < ops,
            None => true,
        }
    }
}

/// Runs client number `index` until the plan says stop.
pub fn run_client(mut client: Client, index: usize, plan: &Plan) -> ClientReport {
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed ^ (index as u64 + 1) << 48);
    let mut report = ClientReport::default();
    let mut written = 0u64;
    while plan.claim() {
        let op = if rng.random_bool(plan.read_ratio) {
            Op::Read
        } else {
            written += 1;
            Op::Write(Value(((index as u64 + 1) << 40) | written))
        };
        let started = Instant::now();
        match client.execute_timeout(op, plan.op_timeout) {
            Ok(_) => {
                report.latencies.push(started.elapsed());
                match op {
                    Op::Read => report.reads += 1,
                    Op::Write(_) => report.writes += 1,
                }
                plan.completed.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                report.error = Some(e.to_string());
                break;
            }
        }
    }
    report
}
