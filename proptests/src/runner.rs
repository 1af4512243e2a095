//! Runs a [`Case`] on the real threaded runtime, records everything, and checks the recording.
//!
//! A case runs in three phases:
//!
//! 1. **Start.** The cluster starts with a recorder that keeps full states in memory, and the
//!    runner waits (bounded) for a first leader, so that "crash the leader" means something.
//! 2. **Faults.** Each client runs in its own thread: its operations one after another, each
//!    after its think time. Meanwhile the fault schedule is applied step by step. A fault that
//!    would make more than a minority unavailable (crashed or isolated) is skipped unless the
//!    case allows it. Clients keep waiting for operations that cannot complete yet.
//! 3. **Heal and finish.** The partition ends and every crashed replica restarts. From then on
//!    every outstanding operation, and every operation invoked later, must complete within
//!    [`LIVENESS_AFTER_HEAL`]: liveness after healing. (Loss, duplication and delay rates stay
//!    as configured: the network's rates are fixed for a cluster's life.)
//!
//! The recording then goes through checks 1–3 ([`crate::checks`]). A failing case writes its
//! recording to a file and reports the seed, the file and the command that replays it.

use crate::case::{Case, ClientStep, Fault};
use crate::checks::{self, Report};
use crate::recording::{Recording, RunConfig};
use paxos_impl::record::StateDetail;
use paxos_impl::ClientDriver;
use paxos_impl::{
    Client, ClientError, Cluster, ClusterConfig, FaultConfig, NetStats, Recorder, StorageChoice,
};
use paxos_model::config::Timing;
use paxos_model::types::{Op, RequestId};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limit: how long every client operation may take once every fault is healed.
pub const LIVENESS_AFTER_HEAL: Duration = Duration::from_secs(10);
/// Limit: how long the runner waits for a first leader before the faults begin.
pub const FIRST_LEADER_WAIT: Duration = Duration::from_secs(3);
/// Limit: how long a crash at a point (`Fault::CrashLeaderAt`, `Fault::CrashOtherAt`) waits for
/// a batch that has the point before the replica is crashed between two batches instead.
pub const CRASH_POINT_WAIT: Duration = Duration::from_millis(200);
/// How long a waiting client blocks before it looks at the clock again.
const CLIENT_SLICE: Duration = Duration::from_millis(50);

/// The timer durations of every case: about half the defaults, so that a crashed leader is
/// replaced within a case's short fault window. The model ignores durations.
pub fn case_timing() -> Timing {
    Timing {
        election_timeout: Duration::from_millis(80)..Duration::from_millis(160),
        heartbeat_interval: Duration::from_millis(20),
        client_retry: Duration::from_millis(100)..Duration::from_millis(200),
        // Half the defaults, like the election timeout: still a lease that ends before every
        // grant it counts with 10 % clock drift (`Timing::lease_is_safe`: 48.4 < 50 ms).
        lease: Duration::from_millis(40),
        lease_grant: Duration::from_millis(50),
    }
}

/// What running a case produced.
#[derive(Debug)]
pub struct Run {
    /// Everything that happened.
    pub recording: Recording,
    /// The fault schedule as it was applied (which replica, or why a step was skipped).
    pub applied: Vec<String>,
    /// What went wrong outside the checks: a client that did not finish in time (liveness), a
    /// runtime error, the runtime's own agreement check.
    pub problems: Vec<String>,
    /// Message counts.
    pub net: NetStats,
}

/// A checked run.
#[derive(Debug)]
pub struct Checked {
    /// The run.
    pub run: Run,
    /// Checks 1–3.
    pub report: Report,
}

impl Checked {
    /// Every finding, as `check/kind`, and `+problems` if the runner had any: one line for a
    /// survey of seeds.
    pub fn summary(&self) -> String {
        let findings: Vec<String> = self
            .report
            .findings()
            .iter()
            .map(|f| format!("{:?}/{:?}", f.check, f.kind))
            .collect();
        let problems = if self.run.problems.is_empty() {
            ""
        } else {
            "+problems"
        };
        format!("{findings:?}{problems}")
    }

    /// Whether the run finished and every check passed.
    pub fn passed(&self) -> bool {
        self.run.problems.is_empty() && self.report.passed()
    }
}

/// The cluster configuration of a case (recording into `recorder`, disk state in `dir`).
pub fn cluster_config(case: &Case, recorder: Recorder, dir: Option<&Path>) -> ClusterConfig {
    let mut cfg = ClusterConfig::new(case.replicas);
    cfg.seed = case.seed;
    cfg.faults = FaultConfig {
        loss: case.loss,
        dup: case.dup,
        delay: Duration::ZERO..Duration::from_micros(case.delay_us_max),
    };
    cfg.storage = match dir {
        Some(dir) => StorageChoice::Disk(dir.to_path_buf()),
        None => StorageChoice::Memory,
    };
    cfg.bug = case.bug;
    cfg.batch_commands_max = case.batch;
    cfg.window_slots_max = case.window;
    cfg.client_window = case.client_window;
    cfg.read_index = case.read_index;
    cfg.lease_reads = case.lease_reads;
    cfg.pre_vote = case.election_switches;
    cfg.check_quorum = case.election_switches;
    cfg.parallel_leader_write = case.parallel_leader_write;
    cfg.runtime_bug = case.runtime_bug;
    cfg.timing = case_timing();
    cfg.recorder = Some(recorder);
    cfg
}

/// Runs `case` on the runtime (no checks yet).
pub fn run_case(case: &Case) -> Run {
    let recorder = Recorder::in_memory(StateDetail::Full);
    let dir = case
        .disk
        .then(|| tempfile::tempdir().expect("a temporary directory"));
    let cfg = cluster_config(case, recorder.clone(), dir.as_ref().map(|d| d.path()));
    let config = RunConfig::of(&cfg);
    let mut problems = Vec::new();
    let mut applied = Vec::new();
    let net = match Cluster::start(cfg) {
        Ok(cluster) => {
            drive(&cluster, case, &mut applied, &mut problems);
            if let Err(e) = cluster.check_agreement() {
                problems.push(format!("the runtime's own agreement check: {e}"));
            }
            if let Err(e) = cluster.shutdown() {
                problems.push(format!("shutdown: {e}"));
            }
            cluster.net_stats()
        }
        Err(e) => {
            problems.push(format!("the cluster did not start: {e}"));
            NetStats::default()
        }
    };
    Run {
        recording: Recording {
            config,
            case: format!("{case:?}"),
            events: recorder.events(),
        },
        applied,
        problems,
        net,
    }
}

/// Phases 1–3 on a started cluster.
fn drive(cluster: &Cluster, case: &Case, applied: &mut Vec<String>, problems: &mut Vec<String>) {
    if cluster.wait_for_leader(FIRST_LEADER_WAIT).is_none() {
        applied.push(format!("no leader within {FIRST_LEADER_WAIT:?}"));
    }
    let mut clients = Vec::new();
    let mut driver = None;
    if case.client_window > 1 {
        // Pipelined sessions: one driver thread runs every client, each with up to its window
        // of operations outstanding.
        match cluster.client_driver(case.clients.len()) {
            Ok(d) => driver = Some(d),
            Err(e) => problems.push(format!("no client driver: {e}")),
        }
    } else {
        for steps in &case.clients {
            match cluster.client() {
                Ok(client) => clients.push((client, steps)),
                Err(e) => problems.push(format!("no client: {e}")),
            }
        }
    }
    let healed: Mutex<Option<Instant>> = Mutex::new(None);
    std::thread::scope(|scope| {
        let mut handles: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(c, (client, steps))| {
                let healed = &healed;
                scope.spawn(move || run_client(c, client, steps, healed))
            })
            .collect();
        if let Some(driver) = driver {
            let healed = &healed;
            handles.push(scope.spawn(move || run_pipelined(driver, &case.clients, healed)));
        }
        inject(cluster, case, applied, problems);
        *healed.lock().expect("healed lock") = Some(Instant::now());
        for handle in handles {
            match handle.join() {
                Ok(Ok(())) => {}
                Ok(Err(problem)) => problems.push(problem),
                Err(_) => problems.push("a client thread panicked".into()),
            }
        }
    });
}

/// One client's operations. Fails when an operation is still pending
/// [`LIVENESS_AFTER_HEAL`] after both the heal and its invocation.
fn run_client(
    c: usize,
    mut client: Client,
    steps: &[ClientStep],
    healed: &Mutex<Option<Instant>>,
) -> Result<(), String> {
    for (k, step) in steps.iter().enumerate() {
        std::thread::sleep(Duration::from_millis(step.pause_ms));
        let op = step.op(c, k);
        let invoked = Instant::now();
        let mut result = client.execute_timeout(op, CLIENT_SLICE);
        loop {
            match result {
                Ok(_) => break,
                Err(ClientError::Timeout { .. }) => {
                    let healed_at = *healed.lock().expect("healed lock");
                    if let Some(at) = healed_at {
                        let waited = Instant::now().saturating_duration_since(at.max(invoked));
                        if waited >= LIVENESS_AFTER_HEAL {
                            return Err(format!(
                                "liveness: client {:?}'s operation {k} ({op:?}) got no reply \
                                 within {LIVENESS_AFTER_HEAL:?} after every fault was healed",
                                client.id()
                            ));
                        }
                    }
                    result = client.wait(CLIENT_SLICE);
                }
                Err(e) => return Err(format!("client {:?}, {op:?}: {e}", client.id())),
            }
        }
    }
    Ok(())
}

/// Every client's operations as pipelined sessions of one driver: a session invokes its next
/// operation once its think time passed and its window has room. Fails when an operation is
/// still pending [`LIVENESS_AFTER_HEAL`] after both the heal and its invocation.
fn run_pipelined(
    mut driver: ClientDriver,
    clients: &[Vec<ClientStep>],
    healed: &Mutex<Option<Instant>>,
) -> Result<(), String> {
    let start = Instant::now();
    // Per session: the next step, when it may be invoked, and when each request was invoked.
    let mut next = vec![0usize; clients.len()];
    let mut due: Vec<Instant> = clients
        .iter()
        .map(|steps| start + Duration::from_millis(steps.first().map_or(0, |s| s.pause_ms)))
        .collect();
    let mut invoked: BTreeMap<(usize, RequestId), (Instant, Op)> = BTreeMap::new();
    let mut done = Vec::new();
    loop {
        let now = Instant::now();
        for (c, steps) in clients.iter().enumerate() {
            while next[c] < steps.len() && due[c] <= now && driver.can_submit(c) {
                let op = steps[next[c]].op(c, next[c]);
                let request = driver
                    .submit(c, op)
                    .map_err(|e| format!("client {:?}, {op:?}: {e}", driver.client(c)))?;
                invoked.insert((c, request), (now, op));
                next[c] += 1;
                if let Some(step) = steps.get(next[c]) {
                    due[c] = now + Duration::from_millis(step.pause_ms);
                }
            }
        }
        if invoked.is_empty() && next.iter().zip(clients).all(|(k, s)| *k == s.len()) {
            return Ok(());
        }
        // Wake for the next think time that ends with room in its window (a full window waits
        // for a reply, which wakes the poll anyway).
        let wake = (0..clients.len())
            .filter(|c| next[*c] < clients[*c].len() && driver.can_submit(*c))
            .map(|c| due[c])
            .min()
            .unwrap_or(now + CLIENT_SLICE)
            .clamp(now, now + CLIENT_SLICE);
        driver
            .poll(wake, &mut done)
            .map_err(|e| format!("client driver: {e}"))?;
        for completion in done.drain(..) {
            invoked.remove(&(completion.session, completion.request));
        }
        let healed_at = *healed.lock().expect("healed lock");
        if let Some(at) = healed_at {
            let now = Instant::now();
            if let Some(((c, request), (_, op))) = invoked.iter().find(|(_, (began, _))| {
                now.saturating_duration_since(at.max(*began)) >= LIVENESS_AFTER_HEAL
            }) {
                return Err(format!(
                    "liveness: client {:?}'s request {} ({op:?}) got no reply within \
                     {LIVENESS_AFTER_HEAL:?} after every fault was healed",
                    driver.client(*c),
                    request.0
                ));
            }
        }
    }
}

/// Applies the fault schedule, then heals everything.
fn inject(cluster: &Cluster, case: &Case, applied: &mut Vec<String>, problems: &mut Vec<String>) {
    let n = case.replicas;
    let mut crashed: BTreeSet<usize> = BTreeSet::new();
    let mut isolated: BTreeSet<usize> = BTreeSet::new();
    let unavailable =
        |crashed: &BTreeSet<usize>, isolated: &BTreeSet<usize>| crashed.union(isolated).count();
    let pick = |k: u8, from: Vec<usize>| (!from.is_empty()).then(|| from[k as usize % from.len()]);
    let mut note = |what: String| applied.push(what);
    for step in &case.faults {
        std::thread::sleep(Duration::from_millis(step.pause_ms));
        let leader = cluster.leader().filter(|l| !crashed.contains(l));
        // Running non-leaders, those still connected to the majority side first.
        let mut others: Vec<usize> = (0..n)
            .filter(|r| Some(*r) != leader && !crashed.contains(r))
            .collect();
        others.sort_by_key(|r| (isolated.contains(r), *r));
        let result = match step.fault {
            Fault::CrashLeader
            | Fault::CrashOther(_)
            | Fault::CrashLeaderAt(_)
            | Fault::CrashOtherAt(..) => {
                let (target, point) = match step.fault {
                    Fault::CrashLeader => (leader, None),
                    Fault::CrashOther(k) => (pick(k, others), None),
                    Fault::CrashLeaderAt(point) => (leader, Some(point)),
                    Fault::CrashOtherAt(k, point) => (pick(k, others), Some(point)),
                    _ => unreachable!(),
                };
                let mut after = crashed.clone();
                after.extend(target);
                match target {
                    Some(r) if unavailable(&after, &isolated) <= case.unavailable_max() => {
                        crashed.insert(r);
                        match point {
                            None => {
                                note(format!("{:?}: crash {r}", step.fault));
                                cluster.crash(r)
                            }
                            Some(point) => cluster.crash_at(r, point, CRASH_POINT_WAIT).map(|at| {
                                note(match at {
                                    Some(at) => format!("{:?}: crash {r} at {at:?}", step.fault),
                                    None => format!(
                                        "{:?}: crash {r} between batches (no batch with the \
                                         point within {CRASH_POINT_WAIT:?})",
                                        step.fault
                                    ),
                                })
                            }),
                        }
                    }
                    _ => {
                        note(format!("{:?}: skipped", step.fault));
                        Ok(())
                    }
                }
            }
            Fault::Restart(k) => match pick(k, crashed.iter().copied().collect()) {
                Some(r) => {
                    note(format!("{:?}: restart {r}", step.fault));
                    crashed.remove(&r);
                    cluster.restart(r)
                }
                None => {
                    note(format!("{:?}: skipped (none crashed)", step.fault));
                    Ok(())
                }
            },
            Fault::IsolateLeader | Fault::IsolateOther(_) => {
                let target = match step.fault {
                    Fault::IsolateLeader => leader,
                    Fault::IsolateOther(k) => pick(
                        k,
                        others
                            .into_iter()
                            .filter(|r| !isolated.contains(r))
                            .collect(),
                    ),
                    _ => unreachable!(),
                };
                let mut after = isolated.clone();
                after.extend(target);
                match target {
                    Some(r)
                        if after.len() < n
                            && unavailable(&crashed, &after) <= case.unavailable_max() =>
                    {
                        isolated = after;
                        let side: Vec<usize> = isolated.iter().copied().collect();
                        note(format!("{:?}: isolate {side:?} (adds {r})", step.fault));
                        cluster.partition(&[side])
                    }
                    _ => {
                        note(format!("{:?}: skipped", step.fault));
                        Ok(())
                    }
                }
            }
            Fault::Heal => {
                note("Heal".into());
                isolated.clear();
                cluster.heal();
                Ok(())
            }
        };
        if let Err(e) = result {
            problems.push(format!("{:?}: {e}", step.fault));
        }
    }
    if !isolated.is_empty() {
        note("final heal".into());
        cluster.heal();
    }
    for r in crashed {
        note(format!("final restart {r}"));
        if let Err(e) = cluster.restart(r) {
            problems.push(format!("final restart of {r}: {e}"));
        }
    }
}

/// Runs `case` and checks its recording.
pub fn run_and_check(case: &Case) -> Checked {
    let run = run_case(case);
    let report = checks::check(&run.recording);
    Checked { run, report }
}

/// The command that replays a recording file against the model.
pub fn replay_command(path: &Path) -> String {
    format!(
        "cargo run --release -p paxos-proptests --bin replay -- {}",
        path.display()
    )
}

/// Runs and checks `case`; on failure, writes the recording to `dir` and returns a message
/// with the seed, the file, the command that replays it, and every finding.
pub fn run_checked(case: &Case, name: &str, dir: &Path) -> Result<Checked, String> {
    let checked = run_and_check(case);
    if checked.passed() {
        return Ok(checked);
    }
    Err(failure_message(&checked, case, name, dir))
}

/// Writes a failed run's recording and describes the failure.
pub fn failure_message(checked: &Checked, case: &Case, name: &str, dir: &Path) -> String {
    let path: PathBuf = dir.join(format!("{name}-seed-{}.jsonl", case.seed));
    let written = match checked.run.recording.write(&path) {
        Ok(()) => format!(
            "recording: {}\nreplay it: {}",
            path.display(),
            replay_command(&path)
        ),
        Err(e) => format!("(could not write the recording to {}: {e})", path.display()),
    };
    let problems: String = checked
        .run
        .problems
        .iter()
        .map(|p| format!("\n  - {p}"))
        .collect();
    format!(
        "case failed, seed {seed}\n{written}\nproblems:{problems}\nchecks:\n{report}\nfaults \
         applied: {applied:?}\nnetwork: {net:?}\ncase: {case:?}",
        seed = case.seed,
        report = checked.report,
        applied = checked.run.applied,
        net = checked.run.net,
    )
}
