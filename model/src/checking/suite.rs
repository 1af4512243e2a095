//! `make check-full`: a small named set of configurations, checked one after the other, whose
//! union takes every rule of the coverage list and catches every known-bad variant
//! (`specs/multipaxos.md`, "The full suite"). Each entry says what it is there for.

use super::config::{CheckConfig, NetworkKind};

/// One configuration of the suite.
#[derive(Clone, Debug)]
pub struct SuiteEntry {
    /// A short name.
    pub name: &'static str,
    /// The configuration.
    pub config: CheckConfig,
    /// What it is there for.
    pub why: &'static str,
}

/// The suite, in the order `make check-full` runs it.
pub fn suite() -> Vec<SuiteEntry> {
    let d = CheckConfig::default();
    vec![
        SuiteEntry {
            name: "default",
            config: d.clone(),
            why: "make check: three elections (the highest-ballot rule), re-elections, no-op fills",
        },
        SuiteEntry {
            name: "tla-smr",
            config: CheckConfig {
                clients: 1,
                ops_per_client: 3,
                elections: 2,
                campaigners: 3,
                network: NetworkKind::UnorderedDuplicating,
                lossy: true,
                ..d.clone()
            },
            why: "the bounds of tlaplus/Examples MultiPaxos_MC.cfg: 3 servers, 2 writes + 1 read \
                  (one client, in sequence), any server leads, 2 leaderships, messages \
                  reordered, duplicated and lost",
        },
        SuiteEntry {
            name: "crash",
            config: CheckConfig {
                clients: 1,
                ops_per_client: 2,
                elections: 2,
                campaigners: 3,
                crashes: 1,
                ..d.clone()
            },
            why: "a crash and a recovery: votes persisted before the crash count after it",
        },
        SuiteEntry {
            name: "retries",
            config: CheckConfig {
                clients: 1,
                ops_per_client: 2,
                elections: 3,
                client_retries: 1,
                ..d.clone()
            },
            why: "a client retries across leader changes: answered from the session table; a \
                  command proposed by two leaders is decided twice and runs once",
        },
        SuiteEntry {
            name: "heartbeats",
            config: CheckConfig {
                servers: 2,
                clients: 1,
                ops_per_client: 2,
                elections: 2,
                heartbeats: true,
                announce_decisions: true,
                client_retries: 1,
                compact_every: 2,
                ..d.clone()
            },
            why: "heartbeats, retransmission and catch-up by state transfer, announced \
                  decisions, compaction with the applied state ahead of the snapshot",
        },
        SuiteEntry {
            name: "heartbeats-crash",
            config: CheckConfig {
                servers: 2,
                clients: 1,
                ops_per_client: 2,
                elections: 2,
                heartbeats: true,
                announce_decisions: true,
                compact_every: 2,
                crashes: 1,
                ..d.clone()
            },
            why: "a leader that restarts behind what it told its followers: catch-up requests \
                  and decisions it already knows",
        },
        SuiteEntry {
            name: "no-prepare-skip",
            config: CheckConfig {
                clients: 1,
                ops_per_client: 2,
                elections: 2,
                prepare_skip: false,
                ..d.clone()
            },
            why: "classic Paxos: Phase 1 before every new slot",
        },
        SuiteEntry {
            name: "stale-messages",
            config: CheckConfig {
                clients: 1,
                elections: 2,
                campaigners: 3,
                forget_dead_messages: false,
                network: NetworkKind::UnorderedDuplicating,
                client_retries: 1,
                ..d.clone()
            },
            why: "no dead-message reduction, duplication: every stale and duplicate input is \
                  delivered and ignored",
        },
        SuiteEntry {
            name: "ordered-lossy",
            config: CheckConfig {
                clients: 1,
                ops_per_client: 2,
                elections: 2,
                network: NetworkKind::Ordered,
                lossy: true,
                ..d.clone()
            },
            why: "per-link FIFO with loss (explored as Drop actions; no reduction applies)",
        },
        SuiteEntry {
            name: "four-servers",
            config: CheckConfig {
                servers: 4,
                clients: 1,
                elections: 2,
                network: NetworkKind::UnorderedDuplicating,
                ..d.clone()
            },
            why: "four servers and duplication: a vote counted twice looks like a majority",
        },
        SuiteEntry {
            name: "read-index",
            config: CheckConfig {
                read_index: true,
                ..d.clone()
            },
            why: "the default bounds with ReadIndex reads: a read answered without a slot sees \
                  every write that completed before it",
        },
        SuiteEntry {
            name: "reads-heartbeats",
            config: CheckConfig {
                read_index: true,
                servers: 2,
                clients: 2,
                elections: 2,
                heartbeats: true,
                ..d.clone()
            },
            why: "a read round whose confirmation is not answered yet is re-sent by the heartbeat",
        },
        SuiteEntry {
            name: "reads",
            config: CheckConfig {
                read_index: true,
                servers: 2,
                clients: 2,
                ops_per_client: 2,
                elections: 2,
                network: NetworkKind::UnorderedDuplicating,
                forget_dead_messages: false,
                ..d.clone()
            },
            why: "two ReadIndex reads at once (one waits for the next confirmation round), late \
                  and repeated confirmations and requests kept",
        },
        SuiteEntry {
            name: "batching",
            config: CheckConfig {
                batch: 2,
                window: Some(1),
                ..d.clone()
            },
            why: "the default bounds with batches of two and a window of one slot: requests wait \
                  for the window and are decided together in one slot",
        },
        SuiteEntry {
            name: "pipelined-sessions",
            config: CheckConfig {
                clients: 1,
                ops_per_client: 3,
                client_window: 2,
                elections: 1,
                client_retries: 1,
                commit_point: true,
                ..d.clone()
            },
            why: "a client with two requests outstanding: a later request decided before an \
                  earlier one, which still runs once and is answered; the session keeps the \
                  window and forgets what falls below it (a late copy of a request below it is \
                  dropped); a retry re-sends the window; followers apply from the commit point",
        },
        SuiteEntry {
            name: "pre-vote",
            config: CheckConfig {
                pre_vote: true,
                clients: 1,
                elections: 3,
                campaigners: 3,
                ..d.clone()
            },
            why: "pre-vote: every server campaigns only after a majority granted its pre-vote, \
                  and a server that heard from the leader refuses one",
        },
        SuiteEntry {
            name: "check-quorum",
            config: CheckConfig {
                check_quorum: true,
                heartbeats: true,
                clients: 1,
                elections: 2,
                ..d.clone()
            },
            why: "check-quorum: a leader that heard from no majority between two firings of its \
                  election timer steps down; heartbeats are answered",
        },
        SuiteEntry {
            name: "pre-vote-check-quorum",
            config: CheckConfig {
                pre_vote: true,
                check_quorum: true,
                heartbeats: true,
                servers: 2,
                clients: 2,
                elections: 2,
                forget_dead_messages: false,
                ..d.clone()
            },
            why: "both: a leader that stepped down grants a pre-vote; stale pre-votes, grants and \
                  heartbeat answers kept and ignored",
        },
        SuiteEntry {
            name: "commit-point",
            config: CheckConfig {
                commit_point: true,
                elections: 2,
                client_retries: 1,
                ..d.clone()
            },
            why: "the commit point on Accepts: servers learn decided slots from their own votes \
                  in the leader's ballot; a deposed leader's lone vote of an older ballot is not \
                  learned (a retry gives the new leader a later Accept to carry its commit point)",
        },
        SuiteEntry {
            name: "parallel-leader-write",
            config: CheckConfig {
                parallel_leader_write: true,
                clients: 1,
                elections: 2,
                crashes: 1,
                ..d.clone()
            },
            why: "the leader's own vote written after its Accept left: counted once durable, \
                  skipped for a slot the followers decided first, lost in a crash before the \
                  write (and then not counted), dropped by a deposed leader",
        },
        SuiteEntry {
            name: "lease-reads",
            config: CheckConfig {
                read_index: true,
                lease_reads: true,
                elections: 2,
                ..d.clone()
            },
            why: "lease reads: a leader holding a majority's grants answers a read with no \
                  round; a grant refuses other ballots (and defers its server's campaign) until \
                  it expires, after the lease; reads without the lease fall back to ReadIndex",
        },
        SuiteEntry {
            name: "lease-restart",
            config: CheckConfig {
                read_index: true,
                lease_reads: true,
                servers: 2,
                elections: 2,
                crashes: 1,
                forget_dead_messages: false,
                ..d.clone()
            },
            why: "lease reads across a crash: a restarted acceptor holds a grant for the ballot \
                  it promised; late lease grants kept and ignored",
        },
        SuiteEntry {
            name: "lease-superseded",
            config: CheckConfig {
                read_index: true,
                lease_reads: true,
                clients: 1,
                elections: 2,
                campaigners: 3,
                forget_dead_messages: false,
                ..d.clone()
            },
            why: "lease grants held to their timers (no early expiry): a newer leader that won \
                  without an acceptor's grant supersedes it with its Accept",
        },
    ]
}

/// The suite entry called `name`.
///
/// # Panics
/// If there is none.
pub fn entry(name: &str) -> SuiteEntry {
    suite()
        .into_iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no suite entry called {name}"))
}
