//! How the step functions are configured: for a real cluster, or bounded for model checking.
//!
//! [`ServerConfig::cluster`] and [`ClientConfig::cluster`] are what a real deployment (the
//! threaded runtime) uses: unbounded ballots, every server may campaign, decisions announced to
//! every server, periodic heartbeats. The bounds and reductions that make model checking finite
//! can only be set from inside this crate (`pub(crate)`), by [`crate::checking`], so no real
//! cluster can ever run with them (`specs/multipaxos.md`, "Bounds and reductions").

use crate::bug::Bug;
use std::ops::Range;
use std::time::Duration;

/// Real-time durations. The model ignores them (any set timer may fire at any moment), except
/// for the one ordering lease reads rest on, which the checked model imposes on its timers
/// (`specs/multipaxos.md`, "Lease reads").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timing {
    /// A follower campaigns after hearing nothing from a leader for a duration drawn from this.
    pub election_timeout: Range<Duration>,
    /// A leader sends heartbeats (and re-sends unanswered `Accept`s) this often.
    pub heartbeat_interval: Duration,
    /// A client re-sends its request after a duration drawn from this.
    pub client_retry: Range<Duration>,
    /// Lease reads: how long a leader's lease lasts, on its own clock, from the moment it asks
    /// for it (before its `LeaseRequest` leaves).
    pub lease: Duration,
    /// Lease reads: how long an acceptor keeps a grant, on its own clock, from the moment it
    /// grants (after the `LeaseRequest` arrived). Must outlast `lease` whatever the drift of the
    /// two clocks ([`Timing::lease_is_safe`]).
    pub lease_grant: Duration,
}

/// The leader's lease, in milliseconds of its own clock ([`Timing::lease`]).
pub const LEASE_MS: u64 = 80;
/// An acceptor's grant, in milliseconds of its own clock ([`Timing::lease_grant`]).
pub const LEASE_GRANT_MS: u64 = 100;
/// The clock-drift bound lease reads assume: no clock runs more than this many percent faster
/// or slower than real time. A lease of `LEASE_MS` on a slow leader clock lasts at most
/// `LEASE_MS · (1 + ρ)` real milliseconds; a grant of `LEASE_GRANT_MS` on a fast acceptor
/// clock at least `LEASE_GRANT_MS / (1 + ρ)`: 88 < 90.9 with ρ = 10 %.
pub const CLOCK_DRIFT_PERCENT_MAX: u64 = 10;
/// The shortest election timeout, in milliseconds: at least a grant, so that a follower whose
/// leader fell silent has usually let its grant expire by the time its election timer fires
/// (a follower that still holds one defers its campaign: liveness, not safety).
pub const ELECTION_TIMEOUT_MS_MIN: u64 = 150;
/// The longest election timeout, in milliseconds.
pub const ELECTION_TIMEOUT_MS_MAX: u64 = 300;

const _: () = assert!(
    LEASE_MS * (100 + CLOCK_DRIFT_PERCENT_MAX) * (100 + CLOCK_DRIFT_PERCENT_MAX)
        < LEASE_GRANT_MS * 100 * 100,
    "a lease must end before every grant it counts, whatever the clocks' drift"
);
const _: () = assert!(LEASE_GRANT_MS <= ELECTION_TIMEOUT_MS_MIN);

impl Default for Timing {
    fn default() -> Self {
        Timing {
            election_timeout: Duration::from_millis(ELECTION_TIMEOUT_MS_MIN)
                ..Duration::from_millis(ELECTION_TIMEOUT_MS_MAX),
            heartbeat_interval: Duration::from_millis(40),
            client_retry: Duration::from_millis(200)..Duration::from_millis(400),
            lease: Duration::from_millis(LEASE_MS),
            lease_grant: Duration::from_millis(LEASE_GRANT_MS),
        }
    }
}

impl Timing {
    /// Whether a lease ends, in real time, before every grant it counts when no clock drifts
    /// more than [`CLOCK_DRIFT_PERCENT_MAX`]: `lease · (1 + ρ) < lease_grant / (1 + ρ)`. The
    /// runtime refuses lease reads with a timing that breaks it.
    pub fn lease_is_safe(&self) -> bool {
        let drift = 100 + u128::from(CLOCK_DRIFT_PERCENT_MAX);
        self.lease.as_micros() * drift * drift < self.lease_grant.as_micros() * 100 * 100
    }
}

/// How a leader's heartbeat timer behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeartbeatMode {
    /// No heartbeats at all (a model reduction).
    Off,
    /// One heartbeat per leadership (a model reduction that still explores catch-up).
    Once,
    /// A heartbeat every `heartbeat_interval` (real clusters).
    Periodic,
}

/// A server's configuration. Built with [`ServerConfig::cluster`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerConfig {
    /// Number of servers in the cluster (servers are actors `0..servers`).
    pub servers: usize,
    /// Run Phase 2 alone for new commands while leading (Multi-Paxos). When false, the leader
    /// runs Phase 1 again before every new slot, one slot at a time (classic per-instance
    /// Paxos); a slot holds a batch of up to `batch_commands_max` commands.
    pub prepare_skip: bool,
    /// Real-time durations.
    pub timing: Timing,
    /// A deliberately broken variant of the protocol ([`Bug`]), for demonstrations and tests.
    /// Exists only with the `bugs` feature: a production build cannot turn a variant on.
    #[cfg(feature = "bugs")]
    pub bug: Option<Bug>,
    /// Reduction: whether this server has an election timer at all.
    pub(crate) may_campaign: bool,
    /// Reduction: whether a leader announces each decision to every server (`Decide`). Without
    /// it, servers learn decided slots only through Phase 1 and snapshots.
    pub(crate) announce_decisions: bool,
    /// Reduction: leader heartbeats (and with them retransmission and catch-up).
    pub(crate) heartbeat: HeartbeatMode,
    /// Model checking: keep every decision in the volatile log (the ghost record reads it, and
    /// a pruned log would split states by when pruning happened). Real clusters prune it at
    /// each compaction, keeping the decisions since the previous one.
    pub(crate) keep_log: bool,
    /// Apply this many slots between two compactions of the durable log (at least 1). A
    /// larger value saves fewer times; a smaller one keeps the durable state smaller.
    pub compact_every: u64,
    /// Limit: client requests a server queues while it campaigns.
    pub pending_max: usize,
    /// Reads without log writes (ReadIndex): the leader answers a read once a majority has
    /// confirmed its ballot after the read arrived and it has applied every slot it had
    /// proposed when the read arrived. Off: a read takes a slot like a write. Off in
    /// [`ServerConfig::cluster`] and by default in the runtime and the checker (`--read-index`
    /// turns it on).
    /// (A read queued while its server campaigns is proposed through the log.)
    pub read_index: bool,
    /// Limit: client commands a leader decides together in one slot (batching; at least 1).
    /// When it proposes, the leader takes up to this many of the requests waiting, in arrival
    /// order (`specs/multipaxos.md`, "Batching and the window").
    pub batch_commands_max: usize,
    /// Limit: undecided slots a leader keeps in flight (the pipelining window; at least 1).
    /// New requests wait (and batch up) while the window is full; a decision opens it. A
    /// takeover re-proposes every open slot regardless, and they count against the window.
    pub window_slots_max: usize,
    /// Pre-vote: before raising its ballot, a server whose election timer fired asks the others
    /// whether they would promise its next ballot (`PreVote`), and campaigns only once a
    /// majority (itself included) said yes. A server says yes only if it does not lead and has
    /// not heard from a leader since its own election timer last fired. A pre-vote changes no
    /// promise and persists nothing. Off in [`ServerConfig::cluster`] (`--pre-vote` turns it on).
    pub pre_vote: bool,
    /// Check-quorum: a leader keeps its election timer running; when it fires, a leader that
    /// has not heard from a majority (itself included: `HeartbeatAck`s and counted `Accepted`s)
    /// since the previous firing steps down. Followers answer heartbeats with `HeartbeatAck`.
    /// Off in [`ServerConfig::cluster`] (`--check-quorum` turns it on).
    pub check_quorum: bool,
    /// The commit point on `Accept` and heartbeats: the leader tells, on every `Accept` and
    /// heartbeat, how far the slots of its leadership were decided in its ballot, and a server
    /// learns each such slot for which it holds a vote of that ballot, without a `Decide`; the
    /// leader then announces no decision (`specs/multipaxos.md`, "The commit point"). Off in
    /// [`ServerConfig::cluster`] and by default in the checker (`--commit-point`); on by default in
    /// the runtime.
    pub commit_point: bool,
    /// Parallel leader write (Raft's §10.2.1; etcd): a leader sends its `Accept`s before its own
    /// vote is durable, and counts that vote only once it is (the `LeaderWrite` timer, which
    /// the runtime fires right after the batch that proposed; `specs/multipaxos.md`, "Leader
    /// writes in parallel"). Followers still persist before they answer. Off in
    /// [`ServerConfig::cluster`] and by default in the checker (`--parallel-leader-write`).
    pub parallel_leader_write: bool,
    /// Lease reads (needs `read_index`, its fallback): a leader asks a majority for a lease
    /// (`LeaseRequest`) when it takes office and whenever a read finds it expired; an acceptor
    /// that grants one promises no other ballot until its grant expires, which the clock
    /// assumption puts after the leader's lease ends. While it holds a lease, a leader answers a
    /// read without a confirmation round, once it applied the slots below the read's read index;
    /// without one, the read is a ReadIndex read (`specs/multipaxos.md`, "Lease reads"). Off in
    /// [`ServerConfig::cluster`], in the runtime and in the checker (`--lease-reads`).
    pub lease_reads: bool,
    /// Limit: requests a client may keep outstanding (its window, at least 1), which is also
    /// what a session keeps: the results of its client's executed requests above its highest
    /// one minus this (`specs/multipaxos.md`, "Sessions and the window"). Every client's
    /// [`ClientConfig::window`] must be at most this. 1 in [`ServerConfig::cluster`] and in the
    /// checker (`--window` raises it); [`ServerConfig::SESSION_WINDOW_DEFAULT`] in the runtime.
    pub session_window: u32,
}

impl ServerConfig {
    /// The configuration of a real cluster of `servers` servers: no model-checking bound.
    pub fn cluster(servers: usize) -> ServerConfig {
        ServerConfig {
            servers,
            prepare_skip: true,
            timing: Timing::default(),
            #[cfg(feature = "bugs")]
            bug: None,
            may_campaign: true,
            announce_decisions: true,
            heartbeat: HeartbeatMode::Periodic,
            keep_log: false,
            compact_every: 64,
            pending_max: 1024,
            read_index: false,
            batch_commands_max: Self::BATCH_COMMANDS_MAX_DEFAULT,
            window_slots_max: Self::WINDOW_SLOTS_MAX_DEFAULT,
            pre_vote: false,
            check_quorum: false,
            commit_point: false,
            parallel_leader_write: false,
            lease_reads: false,
            session_window: 1,
        }
    }

    /// The runtime's default batch limit ([`ServerConfig::batch_commands_max`]).
    pub const BATCH_COMMANDS_MAX_DEFAULT: usize = 64;
    /// The runtime's default window ([`ServerConfig::window_slots_max`]).
    pub const WINDOW_SLOTS_MAX_DEFAULT: usize = 4;
    /// The runtime's default session window ([`ServerConfig::session_window`]).
    pub const SESSION_WINDOW_DEFAULT: u32 = 16;

    /// Whether `bug` is switched on. Always false without the `bugs` feature, so the compiler
    /// removes every known-bad branch from a production build.
    #[inline(always)]
    pub(crate) fn has(&self, bug: Bug) -> bool {
        #[cfg(feature = "bugs")]
        return self.bug == Some(bug);
        #[cfg(not(feature = "bugs"))]
        {
            let _ = bug;
            false
        }
    }

    /// Whether this configuration carries a model-checking bound or reduction.
    pub fn is_bounded(&self) -> bool {
        let real = ServerConfig::cluster(self.servers);
        !self.may_campaign
            || self.announce_decisions != real.announce_decisions
            || self.heartbeat != real.heartbeat
    }
}

/// A client's configuration. Built with [`ClientConfig::cluster`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    /// Number of servers (servers are actors `0..servers`).
    pub servers: usize,
    /// The server the client asks first.
    pub first_server: usize,
    /// Real-time durations.
    pub timing: Timing,
    /// Bound: how many times one request may be re-sent. `None` for real clients.
    pub(crate) retries_max: Option<u32>,
    /// Limit: requests outstanding at once (at least 1; at most the servers'
    /// [`ServerConfig::session_window`]). The client submits request `r` only once it has the
    /// replies of every request up to `r − window`.
    pub window: u32,
}

impl ClientConfig {
    /// A real client of a cluster of `servers` servers that asks `first_server` first and
    /// retries without limit.
    pub fn cluster(servers: usize, first_server: usize) -> Self {
        ClientConfig {
            servers,
            first_server,
            timing: Timing::default(),
            retries_max: None,
            window: 1,
        }
    }
}
