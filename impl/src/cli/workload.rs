//! The clients' workload: every client is a session of one [`ClientDriver`], served by one
//! thread; each session runs operations one after another until the run ends, with reads and
//! writes mixed by a seeded generator; every written value is unique.

use paxos_impl::ClientDriver;
use paxos_model::types::{Op, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long one poll of the driver waits at most (the op timeout is checked in between).
const POLL_WAIT: Duration = Duration::from_millis(50);

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
    /// When the first command completed (the first decided command: throughput is measured
    /// from here, not from before a leader existed).
    pub first_done: Option<Instant>,
    /// When the last command completed.
    pub last_done: Option<Instant>,
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

/// Runs every session of `driver` (one thread: this one) until the plan says stop and every
/// command in flight completed. Each session runs its operations one after another.
pub fn run_driver(mut driver: ClientDriver, plan: &Plan) -> ClientReport {
    let sessions = driver.len();
    let mut rngs: Vec<ChaCha8Rng> = (0..sessions)
        .map(|i| ChaCha8Rng::seed_from_u64(plan.seed ^ (i as u64 + 1) << 48))
        .collect();
    let mut written = vec![0u64; sessions];
    let mut started: Vec<Option<Instant>> = vec![None; sessions];
    let mut report = ClientReport::default();
    let mut submit =
        |driver: &mut ClientDriver, session: usize, started: &mut [Option<Instant>]| {
            if !plan.claim() {
                return Ok(());
            }
            let op = if rngs[session].random_bool(plan.read_ratio) {
                Op::Read
            } else {
                written[session] += 1;
                Op::Write(Value(((session as u64 + 1) << 40) | written[session]))
            };
            started[session] = Some(Instant::now());
            driver.submit(session, op)
        };
    for session in 0..sessions {
        if let Err(e) = submit(&mut driver, session, &mut started) {
            report.error = Some(e.to_string());
            return report;
        }
    }
    let mut done = Vec::new();
    while started.iter().any(Option::is_some) {
        if let Err(e) = driver.poll(Instant::now() + POLL_WAIT, &mut done) {
            report.error = Some(e.to_string());
            return report;
        }
        let now = Instant::now();
        for c in done.drain(..) {
            let began = started[c.session].take().expect("a session that submitted");
            report.latencies.push(now - began);
            report.first_done.get_or_insert(now);
            report.last_done = Some(now);
            match c.op {
                Op::Read => report.reads += 1,
                Op::Write(_) => report.writes += 1,
            }
            plan.completed.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = submit(&mut driver, c.session, &mut started) {
                report.error = Some(e.to_string());
                return report;
            }
        }
        let late = started
            .iter()
            .enumerate()
            .find_map(|(s, at)| at.filter(|at| now - *at > plan.op_timeout).map(|_| s));
        if let Some(session) = late {
            report.error = Some(format!(
                "client {:?}: no reply within {:?} to {:?}",
                driver.client(session),
                plan.op_timeout,
                driver.pending(session)
            ));
            return report;
        }
    }
    report
}
