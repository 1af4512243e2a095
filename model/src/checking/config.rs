//! What a model-checking run checks: the cluster, the workload, the faults, and the bounds and
//! reductions that keep the state space finite (`specs/multipaxos.md`, "Bounds and reductions").

use crate::bug::Bug;
use crate::config::{ClientConfig, HeartbeatMode, ServerConfig};
use crate::types::{Op, Value};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Limits on the configuration: beyond them no run completes on a 24 GiB machine, and a typo
/// (`--servers 30`) should get a clear error instead of an endless run.
pub const SERVERS_MAX: usize = 7;
/// See [`SERVERS_MAX`].
pub const CLIENTS_MAX: usize = 4;
/// See [`SERVERS_MAX`].
pub const OPS_PER_CLIENT_MAX: usize = 4;
/// See [`SERVERS_MAX`].
pub const ELECTIONS_MAX: u32 = 6;
/// See [`SERVERS_MAX`].
pub const CLIENT_RETRIES_MAX: u32 = 3;
/// Largest `--window` (undecided slots in flight).
pub const WINDOW_MAX: usize = 4;
/// Largest `--client-window` (requests a client keeps outstanding).
pub const CLIENT_WINDOW_MAX: u32 = 4;

/// The network semantics (stateright's three networks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkKind {
    /// Messages race each other; each is delivered at most once.
    UnorderedNonduplicating,
    /// Messages race each other and may be delivered any number of times.
    UnorderedDuplicating,
    /// Per (sender, receiver) pair, messages arrive in the order sent.
    Ordered,
}

impl NetworkKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            NetworkKind::UnorderedNonduplicating => "unordered-nonduplicating",
            NetworkKind::UnorderedDuplicating => "unordered-duplicating",
            NetworkKind::Ordered => "ordered",
        }
    }
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for NetworkKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.replace('_', "-").as_str() {
            "unordered-nonduplicating" => Ok(NetworkKind::UnorderedNonduplicating),
            "unordered-duplicating" => Ok(NetworkKind::UnorderedDuplicating),
            "ordered" => Ok(NetworkKind::Ordered),
            _ => Err(format!(
                "unknown network '{s}' (known: unordered-nonduplicating, unordered-duplicating, ordered)"
            )),
        }
    }
}

/// An invalid configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A count or bound outside what the model supports.
    #[error("--{flag} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// The flag's name.
        flag: &'static str,
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
        /// The value given.
        value: u64,
    },
}

/// A model-checking configuration. [`CheckConfig::default`] is what `make check` runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct CheckConfig {
    /// Number of servers.
    pub servers: usize,
    /// Number of clients.
    pub clients: usize,
    /// Commands each client submits, one at a time.
    pub ops_per_client: usize,
    /// Bound: campaigns in total, by any servers (each raises its ballot above everything it
    /// promised, so this also bounds ballots). Any server may campaign again: one that voted,
    /// one that was deposed, one that recovered.
    pub elections: u32,
    /// Network semantics.
    pub network: NetworkKind,
    /// Whether messages can be lost.
    pub lossy: bool,
    /// Reduction off: explore loss as explicit `Drop` actions even on unordered networks, where
    /// it adds no server or client state (see [`CheckConfig::drops_explored`]).
    pub literal_loss: bool,
    /// Server crashes allowed in total (each followed, possibly, by a recovery).
    pub crashes: usize,
    /// Multi-Paxos Prepare-skip (false: Phase 1 before every new slot, one slot at a time).
    pub prepare_skip: bool,
    /// ReadIndex reads at the leader, without a slot (false, the default: reads go through the
    /// log, so the default configuration's two clients put two commands in it).
    pub read_index: bool,
    /// Limit: client commands decided together in one slot (1: no batching).
    pub batch: usize,
    /// Limit: undecided slots a leader keeps in flight (`None`: no window).
    pub window: Option<usize>,
    /// Pre-vote: a server campaigns only after a majority granted it a pre-vote
    /// (`ServerConfig::pre_vote`).
    pub pre_vote: bool,
    /// Check-quorum: a leader that heard from no majority between two firings of its election
    /// timer steps down (`ServerConfig::check_quorum`).
    pub check_quorum: bool,
    /// The commit point on `Accept` and heartbeats (false: decisions reach other servers only
    /// through `Decide`, Phase 1 and state transfer).
    pub commit_point: bool,
    /// Parallel leader write: the leader sends its `Accept`s before its own vote is durable
    /// and counts the vote once written (`ServerConfig::parallel_leader_write`).
    pub parallel_leader_write: bool,
    /// Lease reads at the leader (`ServerConfig::lease_reads`), with ReadIndex reads as their
    /// fallback: the servers get `read_index` too.
    pub lease_reads: bool,
    /// Reduction: only servers `0..campaigners` have election timers.
    pub campaigners: usize,
    /// Reduction off: leaders announce decisions to every server (`Decide`).
    pub announce_decisions: bool,
    /// Reduction off: one heartbeat per leadership (with retransmission and catch-up).
    pub heartbeats: bool,
    /// Bound: re-sends per client request (0: clients never retry).
    pub client_retries: u32,
    /// Limit: requests each client keeps outstanding (1: one at a time), which is also the
    /// servers' session window (`ServerConfig::session_window`).
    pub client_window: u32,
    /// Servers compact their log every this many applied slots (1: at every slot, so the
    /// applied state always equals the stored snapshot; 2: it can be one slot ahead).
    pub compact_every: u64,
    /// Reduction: forget messages whose delivery can never change anything again
    /// (`checking::reduction`; off for known-bad variants and on the ordered network).
    pub forget_dead_messages: bool,
    /// A deliberately broken protocol variant.
    pub bug: Option<Bug>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            servers: 3,
            clients: 2,
            ops_per_client: 1,
            elections: 3,
            network: NetworkKind::UnorderedNonduplicating,
            lossy: false,
            literal_loss: false,
            crashes: 0,
            prepare_skip: true,
            read_index: false,
            batch: 1,
            window: None,
            pre_vote: false,
            check_quorum: false,
            commit_point: false,
            parallel_leader_write: false,
            lease_reads: false,
            campaigners: 2,
            announce_decisions: false,
            heartbeats: false,
            client_retries: 0,
            client_window: 1,
            compact_every: 1,
            forget_dead_messages: true,
            bug: None,
        }
    }
}

fn in_range(flag: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            flag,
            min,
            max,
            value,
        })
    }
}

impl CheckConfig {
    /// Checks every bound; the error names the flag.
    pub fn validate(&self) -> Result<(), ConfigError> {
        in_range("servers", self.servers as u64, 1, SERVERS_MAX as u64)?;
        in_range("clients", self.clients as u64, 1, CLIENTS_MAX as u64)?;
        in_range(
            "ops-per-client",
            self.ops_per_client as u64,
            1,
            OPS_PER_CLIENT_MAX as u64,
        )?;
        in_range("elections", self.elections as u64, 1, ELECTIONS_MAX as u64)?;
        in_range("crashes", self.crashes as u64, 0, self.servers as u64)?;
        in_range(
            "campaigners",
            self.campaigners as u64,
            1,
            self.servers as u64,
        )?;
        in_range("compact-every", self.compact_every, 1, 4)?;
        in_range("batch", self.batch as u64, 1, CLIENTS_MAX as u64)?;
        if let Some(window) = self.window {
            in_range("window", window as u64, 1, WINDOW_MAX as u64)?;
        }
        in_range(
            "client-retries",
            self.client_retries as u64,
            0,
            CLIENT_RETRIES_MAX as u64,
        )?;
        in_range(
            "client-window",
            u64::from(self.client_window),
            1,
            u64::from(CLIENT_WINDOW_MAX),
        )?;
        Ok(())
    }

    /// The command-line flags that select this configuration (only those that differ from
    /// the defaults), e.g. `["--crashes", "1", "--bug", "volatile-acceptor"]`.
    pub fn flags(&self) -> Vec<String> {
        let cfg = self;
        let d = CheckConfig::default();
        let mut f = Vec::new();
        let mut push = |name: &str, value: Option<String>| {
            f.push(format!("--{name}"));
            if let Some(v) = value {
                f.push(v);
            }
        };
        if cfg.servers != d.servers {
            push("servers", Some(cfg.servers.to_string()));
        }
        if cfg.clients != d.clients {
            push("clients", Some(cfg.clients.to_string()));
        }
        if cfg.ops_per_client != d.ops_per_client {
            push("ops-per-client", Some(cfg.ops_per_client.to_string()));
        }
        if cfg.elections != d.elections {
            push("elections", Some(cfg.elections.to_string()));
        }
        if cfg.network != d.network {
            push("network", Some(cfg.network.to_string()));
        }
        if cfg.lossy {
            push("lossy", None);
        }
        if cfg.literal_loss {
            push("literal-loss", None);
        }
        if cfg.crashes != d.crashes {
            push("crashes", Some(cfg.crashes.to_string()));
        }
        if !cfg.prepare_skip {
            push("no-prepare-skip", None);
        }
        if cfg.read_index {
            push("read-index", None);
        }
        if cfg.batch != d.batch {
            push("batch", Some(cfg.batch.to_string()));
        }
        if let Some(window) = cfg.window {
            push("window", Some(window.to_string()));
        }
        if cfg.pre_vote {
            push("pre-vote", None);
        }
        if cfg.check_quorum {
            push("check-quorum", None);
        }
        if cfg.commit_point {
            push("commit-point", None);
        }
        if cfg.parallel_leader_write {
            push("parallel-leader-write", None);
        }
        if cfg.lease_reads {
            push("lease-reads", None);
        }
        if cfg.campaigners != cfg.servers.min(2) {
            push("campaigners", Some(cfg.campaigners.to_string()));
        }
        if cfg.announce_decisions {
            push("announce-decisions", None);
        }
        if cfg.heartbeats {
            push("heartbeats", None);
        }
        if cfg.client_retries != d.client_retries {
            push("client-retries", Some(cfg.client_retries.to_string()));
        }
        if cfg.client_window != d.client_window {
            push("client-window", Some(cfg.client_window.to_string()));
        }
        if cfg.compact_every != d.compact_every {
            push("compact-every", Some(cfg.compact_every.to_string()));
        }
        if !cfg.forget_dead_messages {
            push("keep-dead-messages", None);
        }
        if let Some(bug) = cfg.bug {
            push("bug", Some(bug.to_string()));
        }
        f
    }

    /// Whether the dead-message and vote reductions (`checking::reduction`) apply: asked for,
    /// on an unordered network, for a protocol that keeps what they rest on.
    pub fn reduces_dead_messages(&self) -> bool {
        self.forget_dead_messages
            && self.bug.is_none_or(|b| b.keeps_what_reductions_rest_on())
            && self.network != NetworkKind::Ordered
    }

    /// Whether the checker explores `Drop` actions.
    ///
    /// Reduction "loss is subsumed by an unordered network" (`specs/multipaxos.md`, "Bounds and
    /// reductions"): on an unordered network a message may stay undelivered forever, so every
    /// run with a lost message has a twin without the loss, in which that message is simply
    /// never delivered (on the duplicating network: never delivered again). The twins pass
    /// through the same server, client, timer and ghost states; only the network's contents
    /// differ, and no property reads them. Dropping is therefore explored only where it adds
    /// behaviour: on the ordered network, where a lost message lets the ones behind it through.
    /// `--literal-loss` explores drops anyway; a test checks that the projected states agree.
    pub fn drops_explored(&self) -> bool {
        self.lossy && (self.literal_loss || self.network == NetworkKind::Ordered)
    }

    /// The operation client `c` (0-based among clients) submits as its `k`-th command: writes
    /// and reads alternate, starting with a write for even clients and a read for odd ones, and
    /// every write has its own value.
    pub fn op(&self, c: usize, k: usize) -> Op {
        if (c + k) % 2 == 0 {
            Op::Write(Value(1 + (c * self.ops_per_client + k) as u64))
        } else {
            Op::Read
        }
    }

    /// How many commands the clients' scripts put in the log: every write, and every read
    /// unless reads are ReadIndex reads (a read queued while its server campaigns may still
    /// take a slot, so this is the least number, which is what the caller needs).
    pub fn log_commands(&self) -> usize {
        (0..self.clients)
            .flat_map(|c| self.script(c))
            .filter(|op| !(self.read_index || self.lease_reads) || *op != Op::Read)
            .count()
    }

    /// Client `c`'s whole script.
    pub fn script(&self, c: usize) -> Vec<Op> {
        (0..self.ops_per_client).map(|k| self.op(c, k)).collect()
    }

    /// Server `i`'s step-function configuration, with this run's bounds and reductions.
    pub fn server(&self, i: usize) -> ServerConfig {
        let mut cfg = ServerConfig::cluster(self.servers);
        cfg.prepare_skip = self.prepare_skip;
        cfg.read_index = self.read_index || self.lease_reads;
        cfg.lease_reads = self.lease_reads;
        cfg.pre_vote = self.pre_vote;
        cfg.check_quorum = self.check_quorum;
        cfg.bug = self.bug;
        cfg.may_campaign = i < self.campaigners;
        cfg.announce_decisions = self.announce_decisions;
        cfg.heartbeat = if self.heartbeats {
            HeartbeatMode::Once
        } else {
            HeartbeatMode::Off
        };
        cfg.keep_log = true;
        cfg.compact_every = self.compact_every;
        // One less than the clients, so that a full queue is reachable (and explored); with
        // batching, room for every client, so that a batch can take them all.
        cfg.pending_max = if self.batch >= 2 {
            self.clients
        } else {
            self.clients.saturating_sub(1).max(1)
        };
        cfg.batch_commands_max = self.batch;
        cfg.window_slots_max = self.window.unwrap_or(usize::MAX);
        cfg.commit_point = self.commit_point;
        cfg.parallel_leader_write = self.parallel_leader_write;
        cfg.session_window = self.client_window;
        cfg
    }

    /// Client `c`'s step-function configuration (0-based among clients).
    pub fn client(&self, c: usize) -> ClientConfig {
        let mut cfg = ClientConfig::cluster(self.servers, c % self.servers);
        cfg.retries_max = Some(self.client_retries);
        cfg.window = self.client_window;
        cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_bounds_are_enforced() {
        assert_eq!(CheckConfig::default().validate(), Ok(()));
        let zero = CheckConfig {
            servers: 0,
            ..CheckConfig::default()
        };
        assert_eq!(
            zero.validate().unwrap_err().to_string(),
            "--servers must be between 1 and 7, got 0"
        );
        let crashes = CheckConfig {
            crashes: 4,
            ..CheckConfig::default()
        };
        assert!(crashes.validate().is_err());
    }

    #[test]
    fn scripts_alternate_writes_and_reads_with_distinct_values() {
        let cfg = CheckConfig {
            ops_per_client: 2,
            ..CheckConfig::default()
        };
        assert_eq!(cfg.script(0), vec![Op::Write(Value(1)), Op::Read]);
        assert_eq!(cfg.script(1), vec![Op::Read, Op::Write(Value(4))]);
    }

    #[test]
    fn networks_parse_with_dashes_or_underscores() {
        assert_eq!("ordered".parse(), Ok(NetworkKind::Ordered));
        assert_eq!(
            "unordered_duplicating".parse(),
            Ok(NetworkKind::UnorderedDuplicating)
        );
        assert!("lossy".parse::<NetworkKind>().is_err());
    }
}
