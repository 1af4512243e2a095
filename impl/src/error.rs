//! What a user of the runtime can get wrong, and what the environment can do to it: each is a
//! documented error with a clear message. What only a bug can cause (a model assertion, a
//! poisoned lock) panics instead (`STYLE.md`, "Two kinds of failure").

use paxos_model::state_machine::{ClientCommand, Register, StateMachine};
use paxos_model::types::ClientId;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// An invalid cluster configuration: reported before any thread starts.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A cluster needs at least one replica.
    #[error("a cluster needs at least 1 replica (got 0)")]
    NoReplicas,
    /// More replicas than the runtime supports.
    #[error("at most {max} replicas are supported (got {got})")]
    TooManyReplicas {
        /// The number asked for.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// A limit (`batch`, `window`) outside `1..=max`.
    #[error("--{what} must be between 1 and {max} (got {value})")]
    Limit {
        /// Which limit.
        what: &'static str,
        /// The value given.
        value: usize,
        /// The largest allowed.
        max: usize,
    },
    /// Lease reads with a lease that may outlast a grant it counts when clocks drift.
    #[error(
        "lease reads need a lease ({lease:?}) that ends before every grant ({grant:?}) with {}% clock drift",
        paxos_model::config::CLOCK_DRIFT_PERCENT_MAX
    )]
    LeaseTiming {
        /// The leader's lease.
        lease: Duration,
        /// An acceptor's grant.
        grant: Duration,
    },
    /// A probability outside `0..=1` (or not a number).
    #[error("{what} must be a probability between 0 and 1 (got {value})")]
    Probability {
        /// Which rate (`loss`, `dup`, `read ratio`).
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// A network delay range whose minimum is above its maximum, or that is too long.
    #[error(
        "delay range {min:?}..{max:?} is invalid (min must not exceed max, max at most {limit:?})"
    )]
    DelayRange {
        /// Smallest delay.
        min: Duration,
        /// Largest delay.
        max: Duration,
        /// The longest delay allowed.
        limit: Duration,
    },
    /// A message duplication rate of 1 would duplicate forever.
    #[error("duplication rate must be below 1 (got {0})")]
    DupRateOne(f64),
    /// The data directory cannot be created or written.
    #[error("data directory {path} is not usable: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The data directory is refused: another process holds it, or it belongs to a replica of
    /// a real deployment.
    #[error(transparent)]
    DataDirRefused(crate::storage::DataDirError),
    /// A recording or history file cannot be created.
    #[error("cannot create output file {path}: {source}")]
    OutputFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A replica's durable state could not be read or written.
#[derive(Debug, Error)]
pub enum StorageError {
    /// Reading or writing the file failed.
    #[error("storage I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is damaged: it must not be used, and the replica must not start empty instead.
    #[error("storage file {path} is corrupt ({reason}); refusing to start replica {replica} from it (an empty start could forget promises and votes)")]
    Corrupt {
        /// The replica.
        replica: usize,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A failure a test injected ([`crate::storage::FaultyStorage`]).
    #[error("injected {what} failure on replica {replica}'s storage: what reached it is unknown, so the replica must not go on")]
    Injected {
        /// The replica.
        replica: usize,
        /// What failed (`write`, `fsync`).
        what: &'static str,
    },
    /// The durable state could not be encoded.
    #[error("cannot encode the durable state of replica {replica}: {source}")]
    Encode {
        /// The replica.
        replica: usize,
        /// Why.
        source: serde_json::Error,
    },
}

/// An operation on a running cluster failed.
#[derive(Debug, Error)]
pub enum ClusterError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A replica's storage failed (it stays down).
    #[error("replica {replica}: {source}")]
    Storage {
        /// The replica.
        replica: usize,
        /// Why.
        source: StorageError,
    },
    /// No replica has this index.
    #[error("no replica {replica} (the cluster has {replicas})")]
    NoSuchReplica {
        /// The index asked for.
        replica: usize,
        /// How many replicas there are.
        replicas: usize,
    },
    /// The replica is already running (restart) or already down (crash).
    #[error("replica {replica} is already {state}")]
    WrongState {
        /// The replica.
        replica: usize,
        /// `running` or `down`.
        state: &'static str,
    },
    /// A replica thread stopped on its own: a storage failure or a panic (a bug).
    #[error("replica {replica} failed: {message}")]
    ReplicaFailed {
        /// The replica.
        replica: usize,
        /// What happened.
        message: String,
    },
    /// The cluster was shut down.
    #[error("the cluster is shut down")]
    Shutdown,
    /// Too many clients.
    #[error("at most {max} clients are supported")]
    TooManyClients {
        /// The limit.
        max: usize,
    },
    /// Writing the recording or the history failed.
    #[error("writing the recording failed: {0}")]
    Recording(std::io::Error),
    /// A partition names a replica twice or one that does not exist.
    #[error("invalid partition: {0}")]
    Partition(String),
}

/// A client operation did not complete.
#[derive(Debug, Error)]
pub enum ClientError<M: StateMachine = Register> {
    /// No reply within the time allowed. The command stays in flight: [`crate::Client::wait`]
    /// keeps waiting for it (it runs at most once, whenever it runs).
    #[error("client {client:?}: no reply to {pending:?} within {waited:?}")]
    Timeout {
        /// The client.
        client: ClientId,
        /// The command in flight.
        pending: ClientCommand<M>,
        /// How long this call waited.
        waited: Duration,
    },
    /// A command is still in flight from an earlier call that timed out; wait for it first.
    #[error("client {client:?}: {pending:?} is still in flight; call wait() first")]
    Busy {
        /// The client.
        client: ClientId,
        /// The command in flight.
        pending: ClientCommand<M>,
    },
    /// Nothing is in flight to wait for.
    #[error("client {0:?}: nothing in flight")]
    Idle(ClientId),
    /// The cluster was shut down.
    #[error("the cluster is shut down")]
    Shutdown,
}
