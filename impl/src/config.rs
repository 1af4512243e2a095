//! A cluster's configuration, checked before any thread starts.

use crate::error::ConfigError;
use crate::net::FaultConfig;
use crate::record::Recorder;
use crate::storage::Storage;
#[cfg(feature = "bugs")]
use paxos_model::bug::Bug;
use paxos_model::config::{ClientConfig, ServerConfig, Timing};
use paxos_model::node::Node;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Limit: replicas in one cluster.
pub const REPLICAS_MAX: usize = 15;
/// Limit: clients one cluster hands out over its lifetime.
pub const CLIENTS_MAX: usize = 4096;

/// Limit: the largest batch a cluster may be configured with (`--batch`).
pub const BATCH_COMMANDS_MAX: usize = 4096;
/// Limit: the largest window a cluster may be configured with (`--window`).
pub const WINDOW_SLOTS_MAX: usize = 1024;
/// Limit: the largest client window a cluster may be configured with (`--client-window`):
/// requests one client session keeps outstanding, and results each session keeps.
pub const CLIENT_WINDOW_MAX: usize = 64;
/// A known-bad runtime, the runtime's counterpart of the model's known-bad variants
/// (`paxos_model::bug::Bug`): switched on only by tests, through [`ClusterConfig::runtime_bug`],
/// which exists only with the `bugs` feature.
#[cfg(feature = "bugs")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RuntimeBug {
    /// A replica hands a batch's messages to the network *before* it saves the batch's durable
    /// state (`// BUG(send-before-save)` in `replica.rs`). Without a crash inside the batch's
    /// I/O nothing shows it; a crash point between the sends and the end of the save restarts
    /// the replica from a state older than messages it sent (`crash_point.rs`).
    SendBeforeSave,
}

/// Where replicas keep their durable state.
#[derive(Clone)]
pub enum StorageChoice {
    /// In memory, owned by the cluster: survives replica crashes, not the process.
    Memory,
    /// One file per replica in this directory (created if missing).
    Disk(PathBuf),
    /// A storage the caller owns (e.g. to keep a [`crate::MemoryStorage`] across clusters).
    Shared(Arc<dyn Storage>),
}

impl std::fmt::Debug for StorageChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageChoice::Memory => write!(f, "Memory"),
            StorageChoice::Disk(dir) => write!(f, "Disk({})", dir.display()),
            StorageChoice::Shared(s) => write!(f, "Shared({})", s.name()),
        }
    }
}

/// Everything a cluster is started with.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// Number of replicas (servers `0..replicas`).
    pub replicas: usize,
    /// Seeds every random choice outside the protocol: network faults and timer durations.
    pub seed: u64,
    /// Where durable state lives.
    pub storage: StorageChoice,
    /// Network faults.
    pub faults: FaultConfig,
    /// Multi-Paxos Prepare-skip (the model's `ServerConfig::prepare_skip`).
    pub prepare_skip: bool,
    /// ReadIndex reads at the leader, no slot and no disk write (the model's
    /// `ServerConfig::read_index`): on by default; off, reads go through the log like writes.
    pub read_index: bool,
    /// Limit: client commands the leader decides together in one slot (batching, the model's
    /// `ServerConfig::batch_commands_max`); 1 to `BATCH_COMMANDS_MAX`.
    pub batch_commands_max: usize,
    /// Limit: undecided slots the leader keeps in flight (the pipelining window, the model's
    /// `ServerConfig::window_slots_max`); 1 to `WINDOW_SLOTS_MAX`.
    pub window_slots_max: usize,
    /// Limit: requests each client session keeps outstanding (pipelined sessions), which is
    /// also what the replicas' sessions keep (the model's `ClientConfig::window` and
    /// `ServerConfig::session_window`); 1 (one at a time, the default) to
    /// [`CLIENT_WINDOW_MAX`].
    pub client_window: usize,
    /// Pre-vote (the model's `ServerConfig::pre_vote`): a replica whose election timer fires
    /// campaigns only after a majority granted it a pre-vote. Off by default.
    pub pre_vote: bool,
    /// Check-quorum (the model's `ServerConfig::check_quorum`): a leader that heard from no
    /// majority within an election timeout steps down. Off by default.
    pub check_quorum: bool,
    /// The commit point on `Accept`s and heartbeats (the model's `ServerConfig::commit_point`):
    /// followers learn decided slots from their own votes, and the leader sends no `Decide`.
    /// On by default.
    pub commit_point: bool,
    /// The parallel leader write (the model's `ServerConfig::parallel_leader_write`): the
    /// leader's `Accept`s leave before its own vote is on disk, and the vote is written right
    /// after (the `LeaderWrite` timer, due once the batch's I/O is done) and counted once
    /// durable. On by default (measured: p50 at one client on disk 0.36 → 0.26 ms).
    pub parallel_leader_write: bool,
    /// Lease reads (the model's `ServerConfig::lease_reads`): a leader holding a lease from a
    /// majority answers reads with no confirmation round; ReadIndex reads otherwise (so it
    /// turns `read_index` on). Safe only while no clock drifts more than
    /// `paxos_model::config::CLOCK_DRIFT_PERCENT_MAX` (`Timing::lease_is_safe`). Off by default.
    pub lease_reads: bool,
    /// A deliberately broken protocol variant, for tests (only with the `bugs` feature).
    #[cfg(feature = "bugs")]
    pub bug: Option<Bug>,
    /// A deliberately broken runtime, for tests (only with the `bugs` feature).
    #[cfg(feature = "bugs")]
    pub runtime_bug: Option<RuntimeBug>,
    /// Timer durations for replicas and clients.
    pub timing: Timing,
    /// How long a client operation waits by default.
    pub client_timeout: Duration,
    /// Where steps and faults are recorded, if anywhere.
    pub recorder: Option<Recorder>,
    /// Observe every replica step: its role, promise and applied slot, and every decision it
    /// learned (what [`crate::Cluster::leader`], [`crate::Cluster::status`],
    /// [`crate::Cluster::decided`] and [`crate::Cluster::check_agreement`] report). Off, a step
    /// costs the observer nothing (no lock, no copy), and those report what was seen at start.
    pub observe: bool,
}

impl ClusterConfig {
    /// `replicas` replicas in memory, a clean network, seed 0, default timing.
    pub fn new(replicas: usize) -> ClusterConfig {
        ClusterConfig {
            replicas,
            seed: 0,
            storage: StorageChoice::Memory,
            faults: FaultConfig::default(),
            prepare_skip: true,
            read_index: true,
            batch_commands_max: ServerConfig::BATCH_COMMANDS_MAX_DEFAULT,
            window_slots_max: ServerConfig::WINDOW_SLOTS_MAX_DEFAULT,
            client_window: 1,
            pre_vote: false,
            check_quorum: false,
            commit_point: true,
            parallel_leader_write: true,
            lease_reads: false,
            #[cfg(feature = "bugs")]
            bug: None,
            #[cfg(feature = "bugs")]
            runtime_bug: None,
            timing: Timing::default(),
            client_timeout: Duration::from_secs(10),
            recorder: None,
            observe: true,
        }
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.replicas == 0 {
            return Err(ConfigError::NoReplicas);
        }
        if self.replicas > REPLICAS_MAX {
            return Err(ConfigError::TooManyReplicas {
                got: self.replicas,
                max: REPLICAS_MAX,
            });
        }
        for (what, value, max) in [
            ("batch", self.batch_commands_max, BATCH_COMMANDS_MAX),
            ("window", self.window_slots_max, WINDOW_SLOTS_MAX),
            ("client-window", self.client_window, CLIENT_WINDOW_MAX),
        ] {
            if !(1..=max).contains(&value) {
                return Err(ConfigError::Limit { what, value, max });
            }
        }
        if self.lease_reads && !self.timing.lease_is_safe() {
            return Err(ConfigError::LeaseTiming {
                lease: self.timing.lease,
                grant: self.timing.lease_grant,
            });
        }
        self.faults.validate()
    }

    /// The node with id `id`: a server below `replicas`, a client (which first asks server
    /// `id % replicas`) from there on. What the runtime runs, and what a replay needs.
    pub fn node(&self, id: usize) -> Node {
        if id < self.replicas {
            return Node::Server(self.server_config());
        }
        let mut cfg = ClientConfig::cluster(self.replicas, id % self.replicas);
        cfg.timing = self.timing.clone();
        cfg.window = self.client_window as u32;
        Node::Client(cfg)
    }

    /// The model's configuration of one replica.
    pub fn server_config(&self) -> ServerConfig {
        let mut cfg = ServerConfig::cluster(self.replicas);
        cfg.prepare_skip = self.prepare_skip;
        cfg.read_index = self.read_index || self.lease_reads;
        cfg.lease_reads = self.lease_reads;
        cfg.batch_commands_max = self.batch_commands_max;
        cfg.window_slots_max = self.window_slots_max;
        cfg.session_window = self.client_window as u32;
        cfg.pre_vote = self.pre_vote;
        cfg.check_quorum = self.check_quorum;
        cfg.commit_point = self.commit_point;
        cfg.parallel_leader_write = self.parallel_leader_write;
        cfg.timing = self.timing.clone();
        #[cfg(feature = "bugs")]
        {
            cfg.bug = self.bug;
        }
        cfg
    }
}
