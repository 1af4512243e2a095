//! What a server persists: its acceptor's promise and accepted entries, and the snapshot that
//! replaces the entries it has compacted (`specs/multipaxos.md`, "Durable state").
//!
//! A step that changes it returns [`Effect::Persist`](crate::output::Effect::Persist) as the
//! first effect of its [`Output`](crate::output::Output), *before* any message that depends on it,
//! and a recovering server starts from it alone ([`Node::start`](crate::node::Node::start)):
//! everything else a server holds is volatile. (The model checker's adapter stores it as
//! stateright's actor `Storage`.)

use crate::state_machine::Command;
use crate::state_machine::{AppliedState, Register, StateMachine};
use crate::types::{Ballot, Slot};
use crate::vec_map::VecMap;
use serde::{Deserialize, Serialize};

/// An acceptor's vote for `command` in a slot, cast in `ballot`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct AcceptedEntry<M: StateMachine = Register> {
    /// The ballot of the `Accept` that carried it.
    pub ballot: Ballot,
    /// The value accepted.
    pub command: Command<M>,
}

/// A server's durable state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Durable<M: StateMachine = Register> {
    /// The highest ballot this acceptor promised: it rejects anything lower.
    pub promised: Ballot,
    /// Accepted entries of the slots not yet compacted into `snapshot`.
    pub accepted: VecMap<Slot, AcceptedEntry<M>>,
    /// The state machine up to `snapshot.next_slot`: every slot below it was decided, applied,
    /// and its accepted entry dropped.
    pub snapshot: AppliedState<M>,
}

impl<M: StateMachine> Durable<M> {
    /// Accepted entries from `first_slot` on, as sent in a `Promise`.
    pub fn accepted_from(&self, first_slot: Slot) -> Vec<(Slot, AcceptedEntry<M>)> {
        self.accepted
            .range(first_slot..)
            .map(|(slot, entry)| (*slot, entry.clone()))
            .collect()
    }
}
