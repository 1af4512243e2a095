//! The catalogue of known-bad variants: for each [`Bug`], the smallest configuration we found
//! under which the checker catches it, and the property it violates (`specs/bugs.md`).
//!
//! Every entry is a claim the tests check both ways (`model/tests/bugs.rs`): with the bug, the
//! checker reports `violates` as violated; without it, the same configuration passes.

use super::config::{CheckConfig, NetworkKind};
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

/// The smallest configuration known to catch `bug`, and the property it violates there.
///
/// Why each needs what it needs:
/// - Most are caught by the default configuration: two campaigners give two ballots, two clients
///   give two different commands competing for a slot, and a write and a read give
///   linearizability something to check.
/// - `volatile-acceptor` needs a crash: only a recovered acceptor can forget its promise.
/// - `count-messages` needs duplicated messages and four servers: with three, the leader's own
///   vote plus any one other is already a true majority, so counting a vote twice changes
///   nothing.
/// - `adopt-any-value` needs three ballots (two rounds): values accepted in two different
///   ballots for one slot, then a third leader that picks the older one. The ordered network
///   keeps that search small.
pub fn catalogue() -> Vec<KnownBug> {
    Bug::ALL
        .into_iter()
        .map(|bug| {
            let default = CheckConfig {
                bug: Some(bug),
                ..CheckConfig::default()
            };
            let (config, violates) = match bug {
                Bug::IgnorePromisedValues
                | Bug::AcceptBelowPromise
                | Bug::HalfQuorum
                | Bug::SkipPhase1
                | Bug::BallotWithoutLeader => (default, "agreement"),
                Bug::ReplyBeforeDecide | Bug::LeaderLocalRead => (default, "linearizable"),
                Bug::VolatileAcceptor => (
                    CheckConfig {
                        crashes: 1,
                        ..default
                    },
                    "agreement",
                ),
                Bug::CountMessages => (
                    CheckConfig {
                        servers: 4,
                        network: NetworkKind::UnorderedDuplicating,
                        ..default
                    },
                    "agreement",
                ),
                Bug::AdoptAnyValue => (
                    CheckConfig {
                        elections: 3,
                        network: NetworkKind::Ordered,
                        ..default
                    },
                    "agreement",
                ),
            };
            KnownBug {
                bug,
                config,
                violates,
            }
        })
        .collect()
}

/// The catalogue entry of `bug`.
pub fn known(bug: Bug) -> KnownBug {
    catalogue()
        .into_iter()
        .find(|k| k.bug == bug)
        .expect("every bug is in the catalogue")
}
