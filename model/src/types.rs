//! The protocol's vocabulary: who takes part, how ballots are ordered, what a slot holds.
//!
//! Every id is typed. Servers and clients share one id space, [`NodeId`]: servers are nodes
//! `0..n`, clients are nodes `n..n+c` (`specs/multipaxos.md`, "Nodes").

use serde::{Deserialize, Serialize};
use std::fmt;

/// Any participant, server or client: the address a message is sent to or comes from.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

/// A server (proposer, acceptor and learner at once): node index `0..n`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ServerId(pub u32);

/// A client: its node index, `n..n+c`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientId(pub u32);

impl NodeId {
    /// Index into per-node vectors.
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// This node as a server, if it is one of the cluster's `servers` servers.
    pub fn as_server(self, servers: usize) -> Option<ServerId> {
        (self.index() < servers).then_some(ServerId(self.0))
    }
}

impl ServerId {
    /// Index into per-server vectors.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl From<ServerId> for NodeId {
    fn from(s: ServerId) -> Self {
        NodeId(s.0)
    }
}

impl From<ClientId> for NodeId {
    fn from(c: ClientId) -> Self {
        NodeId(c.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "N{}", self.0)
    }
}

impl fmt::Debug for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S{}", self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "C{}", self.0)
    }
}

/// The round part of a ballot. Round 0 is never used by a leader: it marks "no ballot yet".
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Round(pub u32);

/// A ballot `(round, leader)`. Ballots are totally ordered, round first and then the leader's id,
/// so two servers never own the same ballot (`specs/multipaxos.md`, "Ballots").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// Compared first.
    pub round: Round,
    /// Breaks ties between servers that chose the same round.
    pub leader: ServerId,
}

impl Ballot {
    /// Below every ballot a server can own: what an acceptor has promised before any `Prepare`.
    pub const ZERO: Ballot = Ballot {
        round: Round(0),
        leader: ServerId(0),
    };

    /// The ballot `(round, leader)`.
    pub fn new(round: u32, leader: ServerId) -> Ballot {
        Ballot {
            round: Round(round),
            leader,
        }
    }

    /// The leader this ballot names, unless it is [`Ballot::ZERO`].
    pub fn known_leader(self) -> Option<ServerId> {
        (self.round.0 > 0).then_some(self.leader)
    }
}

impl Default for Ballot {
    fn default() -> Self {
        Ballot::ZERO
    }
}

impl fmt::Debug for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B({},{:?})", self.round.0, self.leader)
    }
}

/// A position in the replicated log.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot(pub u64);

impl Slot {
    /// The slot after this one.
    pub fn next(self) -> Slot {
        Slot(self.0 + 1)
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A client's request number: the position of the command in that client's sequence, from 0.
/// A client issues one request at a time, so request numbers of one client only grow.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u32);

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// A value of the replicated register. `Value(0)` is the initial value.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Value(pub u64);

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// An operation on the replicated register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Replace the register's value.
    Write(Value),
    /// Return the register's value. Reads go through the log like writes (no leases).
    Read,
}

/// What an [`Op`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OpResult {
    /// The write took effect.
    WriteOk,
    /// The value the read observed.
    ReadOk(Value),
}

/// The number of servers that form a majority of `n`.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_leader() {
        let b = |r, l| Ballot::new(r, ServerId(l));
        assert!(Ballot::ZERO < b(1, 0));
        assert!(b(1, 0) < b(1, 1));
        assert!(b(1, 2) < b(2, 0));
        assert_eq!(Ballot::ZERO.known_leader(), None);
        assert_eq!(b(1, 2).known_leader(), Some(ServerId(2)));
    }

    #[test]
    fn majority_is_more_than_half() {
        assert_eq!(
            [1, 2, 3, 4, 5].map(majority),
            [1, 2, 2, 3, 3],
            "majorities of 1..=5 servers"
        );
    }
}
