//! Every message and timer of the protocol (`specs/multipaxos.md`, "Messages").

use crate::durable::AcceptedEntry;
use crate::state_machine::{AppliedState, Register, StateMachine};
use crate::state_machine::{ClientCommand, Command};
use crate::types::{Ballot, RequestId, Slot};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A message between actors. Servers are proposers, acceptors and learners at once.
///
/// The variants that carry a variable amount of state (`Promise`, `StateTransfer`) box it, so
/// that every message is as small as an `Accept`: the model checker's network holds and copies
/// messages by value, in every state.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Msg<M: StateMachine = Register> {
    /// Client → server: please run this command.
    Request(ClientCommand<M>),
    /// Server → the leader it knows: a client's request, passed on once (never forwarded again).
    Forward(ClientCommand<M>),
    /// Server → client: the command ran (now or earlier) and returned `result`.
    Reply {
        /// The request answered.
        request: RequestId,
        /// Its result.
        result: M::Output,
    },
    /// Phase 1a, candidate → acceptors: promise `ballot` for every slot from `first_slot` on.
    Prepare {
        /// The candidate's ballot.
        ballot: Ballot,
        /// The candidate's first unapplied slot.
        first_slot: Slot,
    },
    /// Phase 1b, acceptor → candidate: promised; here is what I accepted from `first_slot` on,
    /// and my applied state if it is ahead of `first_slot` (I may have compacted those slots).
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// Echoes the `Prepare`, so a leader can tell promises of a repeated Phase 1 apart.
        first_slot: Slot,
        /// Accepted entries at `first_slot` and above.
        accepted: Box<[(Slot, AcceptedEntry<M>)]>,
        /// The acceptor's applied state, when it is ahead of `first_slot`.
        applied: Option<Box<AppliedState<M>>>,
    },
    /// Phase 2a, leader → acceptors: accept `command` for `slot` in `ballot`.
    Accept {
        /// The leader's ballot.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
        /// The value proposed.
        command: Command<M>,
        /// The ballot's commit point (`ServerConfig::commit_point`; `#0` without it): every slot
        /// from the leader's first slot of this leadership up to here was decided in `ballot`,
        /// with the value the leader proposed for it in `ballot`.
        decided_below: Slot,
    },
    /// Phase 2b, acceptor → leader: accepted the leader's value for `slot` in `ballot`.
    Accepted {
        /// The ballot accepted.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
    },
    /// Acceptor → candidate or leader: your `ballot` is below the `promised` one; step down.
    Nack {
        /// The ballot rejected.
        ballot: Ballot,
        /// The higher ballot this acceptor promised.
        promised: Ballot,
    },
    /// Leader → servers: `slot` is decided (with `command`, in `ballot`).
    Decide {
        /// The ballot whose majority decided it.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
        /// The decided value.
        command: Command<M>,
    },
    /// Leader → servers: I lead `ballot` and have applied every slot below `commit`.
    Heartbeat {
        /// The leader's ballot.
        ballot: Ballot,
        /// The leader's first unapplied slot.
        commit: Slot,
        /// The ballot's commit point, as in `Accept`.
        decided_below: Slot,
    },
    /// Leader → acceptors: do you still admit my `ballot`? (A ReadIndex confirmation round.)
    ReadConfirm {
        /// The leader's ballot.
        ballot: Ballot,
        /// The leader's confirmation round in this ballot.
        round: u32,
    },
    /// Acceptor → leader: I admit `ballot` (and promised it), after your `round` began.
    ReadAck {
        /// The ballot confirmed.
        ballot: Ballot,
        /// The round answered.
        round: u32,
    },
    /// Lagging server → leader: I have applied only the slots below `next_slot`.
    CatchUp {
        /// The sender's first unapplied slot.
        next_slot: Slot,
    },
    /// Server → lagging server: my applied state, to install in place of the slots you missed
    /// (state transfer).
    StateTransfer(Box<AppliedState<M>>),
    /// Pre-vote, server whose election timer fired → servers: would you promise `ballot` (my
    /// next one)? Changes nothing at the receiver (`ServerConfig::pre_vote`).
    PreVote {
        /// The ballot the sender would campaign with.
        ballot: Ballot,
    },
    /// Server → the sender of a `PreVote`: yes, I would promise `ballot`, and I have not heard
    /// from a leader since my election timer last fired. A refusal is silence.
    PreVoteGranted {
        /// The ballot of the pre-vote.
        ballot: Ballot,
    },
    /// Follower → leader: your heartbeat of `ballot` reached me and I admit it (check-quorum,
    /// `ServerConfig::check_quorum`).
    HeartbeatAck {
        /// The leader's ballot.
        ballot: Ballot,
    },
    /// Leader → acceptors: grant me a lease for `ballot` (lease reads,
    /// `ServerConfig::lease_reads`): promise no other ballot until your grant expires.
    LeaseRequest {
        /// The leader's ballot.
        ballot: Ballot,
        /// The leader's lease round in this ballot.
        round: u32,
    },
    /// Acceptor → leader: granted (and promised `ballot`); I promise no other ballot until my
    /// `LeaseGrant` timer fires, which is after your lease of this `round` expired.
    LeaseGranted {
        /// The ballot granted.
        ballot: Ballot,
        /// The round answered.
        round: u32,
    },
}

impl<M: StateMachine> fmt::Debug for Msg<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Request(c) => write!(f, "Request({c:?})"),
            Msg::Forward(c) => write!(f, "Forward({c:?})"),
            Msg::Reply { request, result } => write!(f, "Reply({request:?}, {result:?})"),
            Msg::Prepare { ballot, first_slot } => {
                write!(f, "Prepare({ballot:?}, {first_slot:?}..)")
            }
            Msg::Promise {
                ballot,
                first_slot,
                accepted,
                applied,
            } => {
                write!(f, "Promise({ballot:?}, {first_slot:?}.., {accepted:?}")?;
                if let Some(s) = applied {
                    write!(f, ", applied to {:?}", s.next_slot)?;
                }
                write!(f, ")")
            }
            Msg::Accept {
                ballot,
                slot,
                command,
                decided_below,
            } => {
                write!(f, "Accept({ballot:?}, {slot:?}, {command:?}")?;
                if *decided_below != Slot(0) {
                    write!(f, ", decided<{decided_below:?}")?;
                }
                write!(f, ")")
            }
            Msg::Accepted { ballot, slot } => write!(f, "Accepted({ballot:?}, {slot:?})"),
            Msg::Nack { ballot, promised } => write!(f, "Nack({ballot:?} < {promised:?})"),
            Msg::Decide {
                ballot,
                slot,
                command,
            } => write!(f, "Decide({ballot:?}, {slot:?}, {command:?})"),
            Msg::Heartbeat {
                ballot,
                commit,
                decided_below,
            } => {
                write!(f, "Heartbeat({ballot:?}, {commit:?}")?;
                if *decided_below != Slot(0) {
                    write!(f, ", decided<{decided_below:?}")?;
                }
                write!(f, ")")
            }
            Msg::ReadConfirm { ballot, round } => write!(f, "ReadConfirm({ballot:?}, #{round})"),
            Msg::ReadAck { ballot, round } => write!(f, "ReadAck({ballot:?}, #{round})"),
            Msg::CatchUp { next_slot } => write!(f, "CatchUp({next_slot:?})"),
            Msg::StateTransfer(s) => write!(f, "StateTransfer(to {:?})", s.next_slot),
            Msg::PreVote { ballot } => write!(f, "PreVote({ballot:?})"),
            Msg::PreVoteGranted { ballot } => write!(f, "PreVoteGranted({ballot:?})"),
            Msg::HeartbeatAck { ballot } => write!(f, "HeartbeatAck({ballot:?})"),
            Msg::LeaseRequest { ballot, round } => write!(f, "LeaseRequest({ballot:?}, #{round})"),
            Msg::LeaseGranted { ballot, round } => write!(f, "LeaseGranted({ballot:?}, #{round})"),
        }
    }
}

/// Timers. In the model any set timer may fire at any moment; the runtime draws a duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Timer {
    /// Server: no word from a leader for a while; campaign for leadership (with pre-vote: ask
    /// for pre-votes first). With check-quorum, at a leader: check that a majority was heard
    /// from since the previous firing.
    Election,
    /// Leader: tell followers I am alive, and re-send `Accept`s not yet answered.
    Heartbeat,
    /// Client: no reply for a while; re-send the request to the next server.
    ClientRetry,
    /// Leader, with `ServerConfig::parallel_leader_write`: write the votes of the `Accept`s
    /// already sent, then count them. Set with a zero duration: the runtime fires it right
    /// after the I/O of the batch that proposed (the model: at any later moment, or never
    /// before a crash).
    LeaderWrite,
    /// Leader (lease reads): the lease of its latest lease round expires. Set when the round
    /// starts, before its `LeaseRequest` leaves, for `Timing::lease`.
    Lease,
    /// Acceptor (lease reads): its lease grant expires, and it may promise another ballot again.
    /// Set when it grants, for `Timing::lease_grant`: longer than any lease that can count the
    /// grant, whatever the clocks' drift (`specs/multipaxos.md`, "Lease reads").
    LeaseGrant,
}
