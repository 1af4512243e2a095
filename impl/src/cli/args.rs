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
    /// Create one replica's data directory and its identity (for `serve`): a replica never
    /// starts on a directory that was not initialized for it.
    Init(InitArgs),
    /// Run one replica in this process over TCP, on a data directory made by `init`.
    Serve(ServeArgs),
    /// One operation on the key-value service of a `serve` cluster, over TCP.
    Client(ClientArgs),
}

/// Options of `client`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The replicas' client addresses, in replica order, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub cluster: Vec<std::net::SocketAddr>,
    /// This client's id, below 65,536 and unique for the cluster's lifetime (default: a new one
    /// handed out by a replica).
    #[arg(long)]
    pub id: Option<u32>,
    /// Give up after this long (exit 1).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub timeout: Duration,
    /// The operation.
    #[command(subcommand)]
    pub op: ClientOp,
}

/// A client operation.
#[derive(Debug, Subcommand)]
pub enum ClientOp {
    /// Set a key's value; prints `ok`.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Print a key's value alone on the last line; a missing key is an error (exit 1).
    Get {
        /// The key.
        key: String,
    },
    /// Remove a key; prints `deleted`, or `not found` (exit 1) if it had no value.
    Delete {
        /// The key.
        key: String,
    },
    /// Set KEY to NEW if it holds OLD; prints `ok`, or (exit 1) the value it holds instead.
    Cas {
        /// The key.
        key: String,
        /// The value the key must hold.
        old: String,
        /// The value to set.
        new: String,
    },
    /// Each replica's status: role, ballot, commit point (highest slot known decided), applied
    /// slot; one line per replica (exit 1 if one did not answer).
    Status,
    /// Closed-loop load: each client runs one write (or read) after another for `--secs`;
    /// prints ops/s and latency percentiles per number of clients.
    Bench(BenchArgs),
}

/// Options of `client bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Concurrent clients (each its own session and connections), comma-separated for one run
    /// per number, e.g. `1,64`.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub clients: Vec<usize>,
    /// Measured seconds per number of clients (after a warm-up operation per client).
    #[arg(long, default_value_t = 5)]
    pub secs: u64,
    /// Fraction of operations that are reads.
    #[arg(long, default_value_t = 0.0)]
    pub read_ratio: f64,
    /// Also write the results as JSON to this file (e.g. target/bench/cluster.json).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// This replica's index in --peers.
    #[arg(long)]
    pub id: usize,
    /// Every replica's peer address, in replica order, comma-separated (this one's included).
    #[arg(long, value_delimiter = ',', required = true)]
    pub peers: Vec<std::net::SocketAddr>,
    /// The data directory, made by `paxos-impl init` for this id and cluster.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The cluster's name, as given to `init` (a directory of another cluster is refused).
    #[arg(long)]
    pub cluster: String,
    /// Where clients connect (default: the peer address, which takes clients too).
    #[arg(long)]
    pub client_addr: Option<std::net::SocketAddr>,
    /// Seed of the replica's timer durations (default: random).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Obey partition orders from loopback addresses on the client address (test harnesses
    /// only: a process that obeys them can be cut off from its peers by anyone on this host).
    #[arg(long)]
    pub fault_injection: bool,
}

/// Options of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The data directory to create (missing parents are created too).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The replica's index in the cluster (0-based, its position in `serve --peers`).
    #[arg(long)]
    pub id: usize,
    /// The cluster's name: letters, digits, `.`, `_`, `-`.
    #[arg(long)]
    pub cluster: String,
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
    /// Classic Paxos: a Phase 1 before every new slot, one slot at a time (a slot holds a batch of up to --batch commands).
    #[arg(long)]
    pub no_prepare_skip: bool,
    /// Reads through the log (a slot and a disk write each) instead of ReadIndex reads at the
    /// leader (the default: no slot, no disk write).
    #[arg(long)]
    pub reads_through_log: bool,
    /// Lease reads: a leader holding a lease from a majority answers reads without a
    /// confirmation round (ReadIndex reads while it holds none). Assumes no clock drifts more
    /// than 10 % (a lease of 80 ms ends before every grant of 100 ms it counts).
    #[arg(long, conflicts_with = "reads_through_log")]
    pub lease_reads: bool,
    /// Batching: the leader decides up to N client commands together in one slot (1: none).
    #[arg(long, value_name = "N", default_value_t = paxos_model::config::ServerConfig::BATCH_COMMANDS_MAX_DEFAULT)]
    pub batch: usize,
    /// The pipelining window: the leader keeps at most N undecided slots in flight.
    #[arg(long, value_name = "N", default_value_t = paxos_model::config::ServerConfig::WINDOW_SLOTS_MAX_DEFAULT)]
    pub window: usize,
    /// Pipelined sessions: each client keeps up to N operations outstanding (1: one at a
    /// time); the replicas' sessions keep as many results per client.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub client_window: usize,
    /// Pre-vote: a replica asks for a majority's pre-votes before it raises its ballot.
    #[arg(long)]
    pub pre_vote: bool,
    /// Check-quorum: a leader that heard from no majority within an election timeout steps down.
    #[arg(long)]
    pub check_quorum: bool,
    /// Announce every decision with a `Decide` instead of the commit point on `Accept`s.
    #[arg(long)]
    pub no_commit_point: bool,
    /// The leader writes its own vote before its `Accept`s leave (the default: it sends them
    /// first, writes in parallel with the followers, and counts its vote once written).
    #[arg(long)]
    pub no_parallel_leader_write: bool,
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
