//! A test case: a cluster, a client workload, network faults and a schedule of crashes,
//! restarts and partitions. Cases are plain data, so proptest can generate and shrink them
//! ([`crate::strategy`]) and a test can also write one by hand ([`crate::runner::run_case`]).
//!
//! The schedule names its targets by role (`CrashLeader`) or by a pick among the eligible
//! replicas (`CrashOther(k)`: the `k mod m`-th of the `m` running non-leaders), because which
//! replica leads is only known while the case runs.

use paxos_impl::{CrashPoint, RuntimeBug};
use paxos_model::bug::Bug;
use paxos_model::config::ServerConfig;
use paxos_model::types::{Op, Value};

/// Limit: clients in one case.
pub const CLIENTS_MAX: usize = 3;
/// Limit: operations per client in one case.
pub const OPS_PER_CLIENT_MAX: usize = 8;
/// Limit: fault steps in one case.
pub const FAULTS_MAX: usize = 8;
/// Limit: the pause before a fault step. With [`FAULTS_MAX`], faults last at most 720 ms
/// (about 360 ms on average).
pub const FAULT_PAUSE_MS_MAX: u64 = 90;
/// Limit: a client's pause before each operation (think time).
pub const CLIENT_PAUSE_MS_MAX: u64 = 60;
/// Limit: the longest extra delay the network adds to a message.
pub const DELAY_US_MAX: u64 = 3_000;

/// One client operation, after a pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientStep {
    /// Think time before the operation is invoked.
    pub pause_ms: u64,
    /// A write (of a value unique to this client and operation) or a read.
    pub write: bool,
}

impl ClientStep {
    /// The operation of client `c`'s `k`-th step: every write in a case has its own value, so
    /// a read tells which write it saw.
    pub fn op(&self, c: usize, k: usize) -> Op {
        if self.write {
            Op::Write(Value(1_000 * (c as u64 + 1) + k as u64 + 1))
        } else {
            Op::Read
        }
    }
}

/// A fault, resolved against the cluster when it is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Crash the replica observed leading (skipped when none is).
    CrashLeader,
    /// Crash one of the running replicas that are not the observed leader (a pick; those on
    /// the majority side of a partition come first).
    CrashOther(u8),
    /// Crash the observed leader inside the I/O of a batch, at this point
    /// (`paxos_impl::crash_point`; between two batches if it does not reach the point within
    /// [`crate::runner::CRASH_POINT_WAIT`]).
    CrashLeaderAt(CrashPoint),
    /// Crash one of the running non-leaders (a pick, as `CrashOther`) at this point.
    CrashOtherAt(u8, CrashPoint),
    /// Restart one of the crashed replicas (a pick).
    Restart(u8),
    /// Cut the observed leader (with any replicas isolated already) off from the others.
    IsolateLeader,
    /// Cut one more non-leader (a pick among those not isolated yet) off from the others, on
    /// the isolated side.
    IsolateOther(u8),
    /// End any partition.
    Heal,
}

/// A fault after a pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultStep {
    /// Time since the previous fault step (or the start of the workload).
    pub pause_ms: u64,
    /// What to do.
    pub fault: Fault,
}

/// A generated (or hand-written) test case.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// Replicas (3 or 5).
    pub replicas: usize,
    /// Seeds the network's faults and the timer draws.
    pub seed: u64,
    /// Probability that a message is lost (for the whole run, healing included).
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub dup: f64,
    /// Each copy is delayed by up to this many microseconds (so messages reorder).
    pub delay_us_max: u64,
    /// Durable state on disk (in a fresh directory) instead of in memory.
    pub disk: bool,
    /// Per client, its operations.
    pub clients: Vec<Vec<ClientStep>>,
    /// The fault schedule. Every fault is healed (partitions ended, crashed replicas
    /// restarted) after the last step.
    pub faults: Vec<FaultStep>,
    /// Whether the schedule may take a majority down at once (no progress is expected until
    /// the heal). Otherwise a fault that would is skipped.
    pub majority_down: bool,
    /// A known-bad protocol variant, for the tests that show the checks catch bugs.
    pub bug: Option<Bug>,
    /// `ClusterConfig::batch_commands_max`: client commands per slot.
    pub batch: usize,
    /// `ClusterConfig::window_slots_max`: undecided slots in flight.
    pub window: usize,
    /// `ClusterConfig::client_window`: operations each client keeps outstanding (above 1, the
    /// clients are pipelined sessions of one driver thread).
    pub client_window: usize,
    /// `ClusterConfig::read_index`: ReadIndex reads at the leader (else reads through the log).
    pub read_index: bool,
    /// `ClusterConfig::lease_reads`: lease reads at the leader (with `read_index`).
    pub lease_reads: bool,
    /// `ClusterConfig::pre_vote` and `ClusterConfig::check_quorum`, both on.
    pub election_switches: bool,
    /// `ClusterConfig::parallel_leader_write`.
    pub parallel_leader_write: bool,
    /// A known-bad runtime, for the tests that show the crash points catch it.
    pub runtime_bug: Option<RuntimeBug>,
}

impl Case {
    /// A case with no fault, no client and no bug.
    pub fn quiet(replicas: usize, seed: u64) -> Case {
        Case {
            replicas,
            seed,
            loss: 0.0,
            dup: 0.0,
            delay_us_max: 0,
            disk: false,
            clients: Vec::new(),
            faults: Vec::new(),
            majority_down: false,
            bug: None,
            batch: ServerConfig::BATCH_COMMANDS_MAX_DEFAULT,
            window: ServerConfig::WINDOW_SLOTS_MAX_DEFAULT,
            client_window: 1,
            read_index: true,
            lease_reads: false,
            election_switches: false,
            parallel_leader_write: true,
            runtime_bug: None,
        }
    }

    /// How many replicas may be unavailable (crashed or isolated) at once.
    pub fn unavailable_max(&self) -> usize {
        if self.majority_down {
            self.replicas
        } else {
            (self.replicas - 1) / 2
        }
    }
}
