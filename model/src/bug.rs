//! Known-bad variants of the protocol. Each one turns on exactly one small, plausible-looking
//! deviation at the place where the correct code stands (search for `Bug::`), so users can watch
//! the checker catch it. With no bug selected (`ServerConfig::bug == None`) nothing changes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One deliberate protocol bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Bug {
    /// A new leader ignores the values in the promises and proposes its own commands.
    IgnorePromisedValues,
    /// A new leader adopts the first value it hears of for a slot, not the highest-ballot one.
    AdoptAnyValue,
    /// An acceptor accepts a proposal whose ballot is below the one it promised.
    AcceptBelowPromise,
    /// Quorums are `n/2` (rounded down) instead of a majority.
    HalfQuorum,
    /// Acceptors do not persist their promise and accepted entries.
    VolatileAcceptor,
    /// A server that starts an election skips Phase 1 and leads at once.
    SkipPhase1,
    /// Ballots compare by round only: two servers can own "the same" ballot.
    BallotWithoutLeader,
    /// Votes are counted per message, not per acceptor.
    CountMessages,
    /// The leader replies to the client when it proposes, before the command is decided.
    ReplyBeforeDecide,
    /// The leader answers reads from its local state, not through the log.
    LeaderLocalRead,
}

impl Bug {
    /// Every bug, in the order `paxos-model bugs` lists them.
    pub const ALL: [Bug; 10] = [
        Bug::IgnorePromisedValues,
        Bug::AdoptAnyValue,
        Bug::AcceptBelowPromise,
        Bug::HalfQuorum,
        Bug::VolatileAcceptor,
        Bug::SkipPhase1,
        Bug::BallotWithoutLeader,
        Bug::CountMessages,
        Bug::ReplyBeforeDecide,
        Bug::LeaderLocalRead,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Bug::IgnorePromisedValues => "ignore-promised-values",
            Bug::AdoptAnyValue => "adopt-any-value",
            Bug::AcceptBelowPromise => "accept-below-promise",
            Bug::HalfQuorum => "half-quorum",
            Bug::VolatileAcceptor => "volatile-acceptor",
            Bug::SkipPhase1 => "skip-phase1",
            Bug::BallotWithoutLeader => "ballot-without-leader",
            Bug::CountMessages => "count-messages",
            Bug::ReplyBeforeDecide => "reply-before-decide",
            Bug::LeaderLocalRead => "leader-local-read",
        }
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Bug {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Bug::ALL.into_iter().find(|b| b.name() == s).ok_or_else(|| {
            let names: Vec<_> = Bug::ALL.iter().map(|b| b.name()).collect();
            format!("unknown bug '{s}' (known: {})", names.join(", "))
        })
    }
}
