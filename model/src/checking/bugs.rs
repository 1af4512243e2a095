//! The catalogue of known-bad variants: for each [`Bug`], the smallest configuration we found
//! under which the checker catches it, and the property it violates (`specs/bugs.md`).
//!
//! Every entry is a claim the tests check both ways (`model/tests/bugs.rs`): with the bug, the
//! checker reports `violates` as violated; without it, the same configuration passes.

use super::config::CheckConfig;
use super::suite;
use crate::bug::Bug;
use serde::Serialize;

/// A known-bad variant and how to catch it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownBug {
    /// The variant.
    pub bug: Bug,
    /// The configuration that catches it (with `bug` set).
    pub config: CheckConfig,
    /// The always-property it violates there.
    pub violates: &'static str,
}

/// What `paxos-model bugs --json` prints for one bug.
#[derive(Clone, Debug, Serialize)]
pub struct BugListing {
    /// The `--bug` name.
    pub name: &'static str,
    /// What the variant does.
    pub description: &'static str,
    /// The rule of the correct protocol it breaks.
    pub rule: &'static str,
    /// The `paxos-model check` flags (besides `--bug NAME`) of the configuration that catches it.
    pub flags: Vec<String>,
    /// The property the checker reports violated.
    pub violates: &'static str,
}

impl KnownBug {
    /// The configuration without the bug: it must pass.
    pub fn correct_config(&self) -> CheckConfig {
        CheckConfig {
            bug: None,
            ..self.config.clone()
        }
    }

    /// The listing printed by `paxos-model bugs`.
    pub fn listing(&self) -> BugListing {
        BugListing {
            name: self.bug.name(),
            description: self.bug.description(),
            rule: self.bug.rule(),
            flags: self.correct_config().flags(),
            violates: self.violates,
        }
    }
}

/// For each bug, the configuration of the full suite (`checking::suite`) that catches it, and
/// the property it violates there. No bug has a configuration of its own: the suite's
/// configurations are what `make check-full` checks, so each bug shows that the suite would
/// catch that mistake.
///
/// Why each needs what it needs:
/// - Most are caught by the default configuration: elections by two campaigners, two clients
///   with two different commands competing for a slot, a write and a read for linearizability.
/// - `read-before-applied` needs ReadIndex reads: the default bounds with `--read-index`.
/// - `batch-one-result` and `window-stuck` need batches and a window: the `batching` entry.
/// - `commit-any-ballot` needs the commit point, a deposed leader holding a lone vote of its
///   ballot, and a later `Accept` of the new leader (a client retry): the `commit-point` entry.
/// - `lease-read-after-newer-promise` needs lease reads: the `lease-reads` entry, where a
///   deposed leader answers a read from its lease after a newer leader decided a write.
/// - `session-keeps-latest-only` needs a client with two requests outstanding, decided out of
///   order: the `pipelined-sessions` entry.
/// - `volatile-acceptor` needs a crash: only a recovered acceptor can forget its promise.
/// - `count-messages` needs duplicated messages and four servers: with three, the leader's own
///   vote plus any one other is already a true majority.
/// - `pre-vote-promises` needs pre-vote on: its entry `pre-vote`, where `ballots-pre-voted`
///   sees an acceptor promise a ballot whose pre-vote no majority granted.
/// - `check-quorum-keeps-stale-acks` needs check-quorum on and an answer to count: its entry
///   `check-quorum` (heartbeats answered), where `check-quorum-heard-majority` sees a leader
///   pass a second check with no answer since the first.
pub fn catalogue() -> Vec<KnownBug> {
    Bug::ALL
        .into_iter()
        .map(|bug| {
            let (entry, violates) = catching(bug);
            KnownBug {
                bug,
                config: CheckConfig {
                    bug: Some(bug),
                    ..suite::entry(entry).config
                },
                violates,
            }
        })
        .collect()
}

/// The suite entry that catches `bug`, and the property it violates.
pub fn catching(bug: Bug) -> (&'static str, &'static str) {
    match bug {
        // A vote that is not part of a real majority, or a second value chosen: `chosen`
        // sees it when the votes are cast, before any server learns a value.
        Bug::IgnorePromisedValues
        | Bug::AdoptAnyValue
        | Bug::AcceptBelowPromise
        | Bug::BallotWithoutLeader
        | Bug::AcceptKeepsPromise
        | Bug::LearnFromPromise
        | Bug::NoopTakeover => ("default", "chosen"),
        Bug::HalfQuorum | Bug::SkipPhase1 => ("default", "agreement"),
        Bug::ReplyBeforeDecide | Bug::LeaderLocalRead => ("default", "linearizable"),
        Bug::ReadBeforeApplied => ("read-index", "linearizable"),
        Bug::BatchOneResult => ("batching", "linearizable"),
        Bug::WindowStuck => ("batching", "progress"),
        Bug::CommitAnyBallot => ("commit-point", "chosen"),
        Bug::LeaderCountsUnsavedVote => ("parallel-leader-write", "chosen"),
        Bug::LeaseReadAfterNewerPromise => ("lease-reads", "linearizable"),
        Bug::SessionKeepsLatestOnly => ("pipelined-sessions", "exactly-once"),
        Bug::SkipHoleFill => ("default", "progress"),
        Bug::ApplyOutOfOrder => ("default", "exactly-once"),
        Bug::VolatileAcceptor => ("crash", "chosen"),
        Bug::CountMessages => ("four-servers", "chosen"),
        Bug::PreVotePromises => ("pre-vote", "ballots-pre-voted"),
        Bug::PreVoteIgnoresLeader => ("pre-vote", "pre-vote-respects-leader"),
        Bug::CheckQuorumKeepsStaleAcks => ("check-quorum", "check-quorum-heard-majority"),
    }
}

/// The catalogue entry of `bug`.
pub fn known(bug: Bug) -> KnownBug {
    catalogue()
        .into_iter()
        .find(|k| k.bug == bug)
        .expect("every bug is in the catalogue")
}
