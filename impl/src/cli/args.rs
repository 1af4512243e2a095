//! The command line: `paxos-impl run [OPTIONS]`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

/// A threaded runtime for the model-checked Multi-Paxos.
#[derive(Debug, Parser)]
#[command(name = "paxos-impl", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a cluster under a client workload and faults, then report and check agreement.
    Run(RunArgs),
}

/// Where replicas keep their durable state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StorageKind {
    /// One file per replica in the data directory, fsynced.
    Disk,
    /// In memory (survives a replica crash, not the process).
    Memory,
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Number of replicas.
    #[arg(long, default_value_t = 3)]
    pub replicas: usize,
    /// Number of concurrent clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Stop after this many completed operations (default 10000 unless --duration is given).
    #[arg(long, conflicts_with = "duration")]
    pub ops: Option<u64>,
    /// Stop after this long (e.g. `10s`, `500ms`).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Fraction of operations that are reads.
    #[arg(long, default_value_t = 0.5)]
    pub read_ratio: f64,
    /// Probability that the network loses a message.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Probability that the network duplicates a message.
    #[arg(long, default_value_t = 0.0)]
    pub dup: f64,
    /// Network delay range in milliseconds, `MIN..MAX` (or one number).
    #[arg(long, value_parser = parse_delay, default_value = "0..0")]
    pub delay_ms: Range<Duration>,
    /// Isolate a random minority of replicas this often (healed after half the period).
    #[arg(long, value_parser = parse_duration)]
    pub partition_every: Option<Duration>,
    /// Crash the observed leader this often (restarted after half the period).
    #[arg(long, value_parser = parse_duration)]
    pub crash_leader_every: Option<Duration>,
    /// Seed of every random choice outside the protocol (default: from the clock; printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Storage backend.
    #[arg(long, value_enum, default_value_t = StorageKind::Disk)]
    pub storage: StorageKind,
    /// Data directory for disk storage (default: a fresh temporary directory, removed after).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Classic Paxos: a Phase 1 before every new command.
    #[arg(long)]
    pub no_prepare_skip: bool,
    /// Reads through the log like writes, instead of ReadIndex reads at the leader.
    #[arg(long)]
    pub no_read_index: bool,
    /// Write client invocations and responses as JSON lines to this file.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Write the full recording (every step, fault, crash) as JSON lines to this file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Put full states (not only digests) in the trace: only for short runs.
    #[arg(long, requires = "trace")]
    pub trace_full_states: bool,
    /// Give up on an operation that takes longer than this (a liveness failure); more than 0s.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub op_timeout: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (expected e.g. 10s, 500ms)"))
}

fn parse_delay(s: &str) -> Result<Range<Duration>, String> {
    let ms = |part: &str| -> Result<Duration, String> {
        part.trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("'{part}' is not a number of milliseconds (expected MIN..MAX)"))
    };
    match s.split_once("..") {
        Some((min, max)) => Ok(ms(min)?..ms(max)?),
        None => {
            let d = ms(s)?;
            Ok(d..d)
        }
    }
}
