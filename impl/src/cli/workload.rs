//! The clients' workload: every client is a session of one [`ClientDriver`], served by one
//! thread; each session runs operations (up to its window of them at once) until the run ends, with reads and
//! writes mixed by a seeded generator; every written value is unique.

use paxos_impl::ClientDriver;
use paxos_model::types::{Op, RequestId, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
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
/// command in flight completed. Each session keeps its window full: up to the cluster's client
/// window of operations outstanding (one, by default: one after another).
pub fn run_driver(mut driver: ClientDriver, plan: &Plan) -> ClientReport {
    let sessions = driver.len();
    let mut rngs: Vec<ChaCha8Rng> = (0..sessions)
        .map(|i| ChaCha8Rng::seed_from_u64(plan.seed ^ (i as u64 + 1) << 48))
        .collect();
    let mut written = vec![0u64; sessions];
    // Per session, when each outstanding request was submitted (oldest first).
    let mut started: Vec<VecDeque<(RequestId, Instant)>> = vec![VecDeque::new(); sessions];
    let mut report = ClientReport::default();
    // Fills `session`'s window while the plan has operations left.
    let mut fill = |driver: &mut ClientDriver,
                    session: usize,
                    started: &mut [VecDeque<(RequestId, Instant)>]| {
        while driver.can_submit(session) && plan.claim() {
            let op = if rngs[session].random_bool(plan.read_ratio) {
                Op::Read
            } else {
                written[session] += 1;
                Op::Write(Value(((session as u64 + 1) << 40) | written[session]))
            };
            let request = driver.submit(session, op)?;
            started[session].push_back((request, Instant::now()));
        }
        Ok::<(), paxos_impl::ClientError>(())
    };
    for session in 0..sessions {
        if let Err(e) = fill(&mut driver, session, &mut started) {
            report.error = Some(e.to_string());
            return report;
        }
    }
    let mut done = Vec::new();
    while started.iter().any(|s| !s.is_empty()) {
        if let Err(e) = driver.poll(Instant::now() + POLL_WAIT, &mut done) {
            report.error = Some(e.to_string());
            return report;
        }
        let now = Instant::now();
        for c in done.drain(..) {
            let outstanding = &mut started[c.session];
            let at = outstanding
                .iter()
                .position(|(request, _)| *request == c.request)
                .expect("a reply to a request the session submitted");
            let (_, began) = outstanding.remove(at).expect("found");
            report.latencies.push(now - began);
            report.first_done.get_or_insert(now);
            report.last_done = Some(now);
            match c.op {
                Op::Read => report.reads += 1,
                Op::Write(_) => report.writes += 1,
            }
            plan.completed.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = fill(&mut driver, c.session, &mut started) {
                report.error = Some(e.to_string());
                return report;
            }
        }
        let late = started.iter().enumerate().find_map(|(s, outstanding)| {
            let (_, oldest) = outstanding.front()?;
            (now - *oldest > plan.op_timeout).then_some(s)
        });
        if let Some(session) = late {
            report.error = Some(format!(
                "client {:?}: no reply within {:?} to {:?}",
                driver.client(session),
                plan.op_timeout,
                driver.pending(session).first()
            ));
            return report;
        }
    }
    report
}
