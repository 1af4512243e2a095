//! `paxos-impl run`: start a cluster, drive it with concurrent clients (sessions of one client
//! driver thread) under the requested faults, then print a summary and check agreement.

pub mod args;
mod bench;
pub mod client;
mod nemesis;
pub mod serve;
mod summary;
mod workload;

use args::{RunArgs, StorageKind};
use indicatif::{ProgressBar, ProgressStyle};
use nemesis::Nemesis;
use paxos_impl::{
    Cluster, ClusterConfig, ConfigError, FaultConfig, Recorder, RecorderConfig, StateDetail,
    StorageChoice,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use summary::Summary;
use workload::Plan;

/// Limit: concurrent clients of `run`.
const CLIENTS_MAX: usize = 256;
/// Operations when neither `--ops` nor `--duration` is given.
const OPS_DEFAULT: u64 = 10_000;
/// How often the main thread updates the progress bar and the fault schedule.
const TICK: Duration = Duration::from_millis(10);

/// Why `run` failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Invalid arguments (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Invalid arguments the library does not know about (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The cluster failed (exit code 1).
    #[error(transparent)]
    Cluster(#[from] paxos_impl::ClusterError),
}

/// Checks the arguments the library does not check itself.
fn validate(args: &RunArgs) -> Result<(), RunError> {
    if args.clients == 0 || args.clients > CLIENTS_MAX {
        return Err(RunError::Usage(format!(
            "--clients must be between 1 and {CLIENTS_MAX} (got {})",
            args.clients
        )));
    }
    if args.ops == Some(0) {
        return Err(RunError::Usage("--ops must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&args.read_ratio) {
        return Err(ConfigError::Probability {
            what: "read ratio",
            value: args.read_ratio,
        }
        .into());
    }
    for (name, every) in [
        ("--partition-every", args.partition_every),
        ("--crash-leader-every", args.crash_leader_every),
        ("--duration", args.duration),
    ] {
        if every.is_some_and(|d| d < Duration::from_millis(10)) {
            return Err(RunError::Usage(format!("{name} must be at least 10ms")));
        }
    }
    if args.op_timeout.is_zero() {
        return Err(RunError::Usage("--op-timeout must be more than 0s".into()));
    }
    if args.storage == StorageKind::Memory && args.data_dir.is_some() {
        return Err(RunError::Usage(
            "--data-dir only applies to --storage disk".into(),
        ));
    }
    Ok(())
}

/// Runs the cluster; returns whether every check passed.
pub fn run(args: RunArgs) -> Result<bool, RunError> {
    validate(&args)?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let mut cfg = ClusterConfig::new(args.replicas);
    cfg.seed = seed;
    cfg.faults = FaultConfig {
        loss: args.loss,
        dup: args.dup,
        delay: args.delay_ms.clone(),
    };
    cfg.prepare_skip = !args.no_prepare_skip;
    cfg.read_index = !args.reads_through_log;
    cfg.lease_reads = args.lease_reads;
    cfg.batch_commands_max = args.batch;
    cfg.window_slots_max = args.window;
    cfg.client_window = args.client_window;
    cfg.pre_vote = args.pre_vote;
    cfg.check_quorum = args.check_quorum;
    cfg.commit_point = !args.no_commit_point;
    cfg.parallel_leader_write = !args.no_parallel_leader_write;
    cfg.client_timeout = args.op_timeout;
    cfg.validate()?;
    let temp_dir;
    let data_dir = match (args.storage, &args.data_dir) {
        (StorageKind::Memory, _) => None,
        (StorageKind::Disk, Some(dir)) => Some(dir.clone()),
        (StorageKind::Disk, None) => {
            temp_dir = tempfile::Builder::new()
                .prefix("paxos-impl-")
                .tempdir()
                .map_err(|source| ConfigError::DataDir {
                    path: std::env::temp_dir(),
                    source,
                })?;
            Some(temp_dir.path().to_path_buf())
        }
    };
    cfg.storage = match &data_dir {
        Some(dir) => StorageChoice::Disk(dir.clone()),
        None => StorageChoice::Memory,
    };
    if args.trace.is_some() || args.history.is_some() {
        cfg.recorder = Some(Recorder::new(RecorderConfig {
            in_memory: false,
            trace: args.trace.clone(),
            history: args.history.clone(),
            detail: if args.trace_full_states {
                StateDetail::Full
            } else {
                StateDetail::Digest
            },
        })?);
    }

    let cluster = Cluster::start(cfg)?;
    let plan = Plan {
        ops: match (args.ops, args.duration) {
            (Some(ops), _) => Some(ops),
            (None, Some(_)) => None,
            (None, None) => Some(OPS_DEFAULT),
        },
        claimed: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        read_ratio: args.read_ratio,
        op_timeout: args.op_timeout,
        seed,
    };
    let driver = cluster.client_driver(args.clients)?;
    let mut nemesis = Nemesis::new(
        args.replicas,
        args.crash_leader_every,
        args.partition_every,
        seed,
    );
    let faults_asked = args.crash_leader_every.is_some() || args.partition_every.is_some();
    if faults_asked && !nemesis.can_fail_any() {
        eprintln!(
            "note: {} replica(s) tolerate no failure: no crash or partition will be injected",
            args.replicas
        );
    }
    let progress = progress_bar(plan.ops, args.duration);
    let started = Instant::now();
    let mut nemesis_error = None;
    let reports = std::thread::scope(|scope| {
        let plan = &plan;
        let handle = std::thread::Builder::new()
            .name("clients".into())
            .spawn_scoped(scope, move || workload::run_driver(driver, plan))
            .expect("spawn the client driver thread");
        loop {
            std::thread::sleep(TICK);
            let done = plan.completed.load(Ordering::Relaxed);
            let elapsed = started.elapsed();
            match args.duration {
                Some(d) => progress.set_position(elapsed.min(d).as_millis() as u64),
                None => progress.set_position(done),
            }
            let over = args.duration.is_some_and(|d| elapsed >= d) || handle.is_finished();
            if over {
                break;
            }
            if nemesis_error.is_none() {
                if let Err(e) = nemesis.tick(&cluster) {
                    nemesis_error = Some(e);
                    break;
                }
            }
        }
        plan.stop.store(true, Ordering::Relaxed);
        if let Err(e) = nemesis.repair(&cluster) {
            nemesis_error.get_or_insert(e);
        }
        vec![handle.join().expect("the client driver does not panic")]
    });
    progress.finish_and_clear();

    let storage = match &data_dir {
        Some(dir) if args.data_dir.is_none() => {
            format!("{} ({}, temporary)", cluster.storage_name(), dir.display())
        }
        Some(dir) => format!("{} ({})", cluster.storage_name(), dir.display()),
        None => cluster.storage_name().to_string(),
    };
    let summary = Summary::collect(&cluster, &args, seed, storage, started, &reports, &nemesis);
    let shutdown = cluster.shutdown();
    summary.print();
    let mut ok = summary.ok();
    if let Some(e) = nemesis_error {
        eprintln!("error: fault injection failed: {e} (seed {seed})");
        ok = false;
    }
    if let Err(e) = shutdown {
        eprintln!("error: {e} (seed {seed})");
        ok = false;
    }
    Ok(ok)
}

fn progress_bar(ops: Option<u64>, duration: Option<Duration>) -> ProgressBar {
    let (len, template) = match (ops, duration) {
        (Some(ops), _) => (ops, "{elapsed_precise} [{bar:40}] {pos}/{len} ops"),
        (None, Some(d)) => (
            d.as_millis() as u64,
            "{elapsed_precise} [{bar:40}] {pos}/{len} ms",
        ),
        (None, None) => (0, "{elapsed_precise} {pos}"),
    };
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    bar
}
