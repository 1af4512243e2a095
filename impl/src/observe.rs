//! What the runtime observes of its replicas, for tests, reports and the fault schedule: each
//! replica's status after its latest step, every decision each replica learned (collected as it
//! appears in the replica's state, so nothing is missed when the replica compacts or crashes),
//! and every leader ballot seen. Observation only: nothing here feeds back into the protocol.

use paxos_model::node::NodeState;
use paxos_model::server::{Decision, Role};
use paxos_model::state_machine::{Command, Register, StateMachine};
use paxos_model::types::{Ballot, Slot};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// A replica's role, as last observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleView {
    /// Not leading.
    Follower,
    /// Running Phase 1 for this ballot.
    Candidate(Ballot),
    /// Leading this ballot.
    Leader(Ballot),
}

/// A replica as last observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// Whether its thread is running.
    pub up: bool,
    /// How many times it was started (1 for the first start).
    pub incarnation: u32,
    /// Its role after its latest step.
    pub role: RoleView,
    /// Its acceptor's promise.
    pub promised: Ballot,
    /// Its first unapplied slot.
    pub applied: Slot,
    /// The highest slot it knows decided: learned, or applied (a compacted slot was decided).
    pub commit: Option<Slot>,
    /// Steps taken, over all incarnations.
    pub steps: u64,
    /// Why it stopped on its own (a storage failure or a panic), if it did.
    pub failure: Option<String>,
}

impl Default for ReplicaStatus {
    fn default() -> Self {
        ReplicaStatus {
            up: false,
            incarnation: 0,
            role: RoleView::Follower,
            promised: Ballot::ZERO,
            applied: Slot(0),
            commit: None,
            steps: 0,
            failure: None,
        }
    }
}

/// Two different commands observed for one slot.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("agreement violated at slot {slot:?}: {decisions:?} (replica, ballot, command)")]
pub struct Disagreement<M: StateMachine = Register> {
    /// The slot.
    pub slot: Slot,
    /// Every observed decision for it: replica, ballot, command.
    pub decisions: Vec<(usize, Ballot, Command<M>)>,
}

/// The result of a successful agreement check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// Distinct slots decided by at least one replica.
    pub slots: usize,
    /// Slot decisions compared (one per replica per slot).
    pub decisions: usize,
}

struct ReplicaView<M: StateMachine> {
    status: ReplicaStatus,
    /// Every decision learned (only when the observer keeps history).
    decided: BTreeMap<Slot, Decision<M>>,
    /// A slot this replica itself saw decided twice, differently (across incarnations).
    self_conflict: Option<(Slot, Decision<M>, Decision<M>)>,
    /// Its state machine after its latest step that applied a slot (only when the observer
    /// keeps history).
    machine: Option<M>,
}

impl<M: StateMachine> Default for ReplicaView<M> {
    fn default() -> Self {
        ReplicaView {
            status: ReplicaStatus::default(),
            decided: BTreeMap::new(),
            self_conflict: None,
            machine: None,
        }
    }
}

/// Observations of every replica of a cluster.
pub(crate) struct Observer<M: StateMachine = Register> {
    replicas: Vec<Mutex<ReplicaView<M>>>,
    leader_ballots: Mutex<BTreeSet<Ballot>>,
    /// Whether every decision and the state machine are kept (the in-process cluster's tests
    /// and agreement check); a `serve` process keeps only the status, so that its memory does
    /// not grow with the log.
    history: bool,
}

impl<M: StateMachine> Observer<M> {
    /// An observer of `replicas` replicas; with `history`, it keeps every decision and the
    /// latest state machine of each.
    pub(crate) fn new(replicas: usize, history: bool) -> Observer<M> {
        Observer {
            replicas: (0..replicas).map(|_| Mutex::default()).collect(),
            leader_ballots: Mutex::default(),
            history,
        }
    }

    fn view(&self, replica: usize) -> std::sync::MutexGuard<'_, ReplicaView<M>> {
        self.replicas[replica].lock().expect("observer lock")
    }

    /// Records a replica's state after a step. `applied_before` is its first unapplied slot
    /// before the step: every decision the step learned is at or above it.
    pub(crate) fn observe(&self, replica: usize, state: &NodeState<M>, applied_before: Slot) {
        let Some(server) = state.as_server() else {
            return;
        };
        let role = match &server.role {
            Role::Follower => RoleView::Follower,
            Role::Candidate(t) => RoleView::Candidate(t.ballot),
            Role::Leader(l) => RoleView::Leader(l.ballot),
        };
        let mut view = self.view(replica);
        let view = &mut *view;
        // The shared set is touched only when this replica leads a ballot it did not lead in
        // its previous step: not on every step of a leader.
        if let RoleView::Leader(ballot) = role {
            if view.status.role != role {
                self.leader_ballots
                    .lock()
                    .expect("observer lock")
                    .insert(ballot);
            }
        }
        if self.history
            && (view.machine.is_none() || server.applied.next_slot != view.status.applied)
        {
            view.machine = Some(server.applied.machine.clone());
        }
        // Without history, no decision is kept (a `serve` process reports only its status).
        let learned = server.learned.range(applied_before..);
        for (slot, decision) in learned.filter(|_| self.history) {
            match view.decided.get(slot) {
                None => {
                    view.decided.insert(*slot, decision.clone());
                }
                Some(seen) if seen.command != decision.command => {
                    view.self_conflict
                        .get_or_insert((*slot, seen.clone(), decision.clone()));
                }
                Some(_) => {}
            }
        }
        view.status.role = role;
        view.status.promised = server.durable.promised;
        view.status.applied = server.applied.next_slot;
        let last_applied = server.applied.next_slot.0.checked_sub(1).map(Slot);
        view.status.commit = server.learned.keys().next_back().copied().max(last_applied);
        view.status.steps += 1;
    }

    /// Marks a replica started (a new incarnation) or stopped.
    pub(crate) fn set_up(&self, replica: usize, up: bool) {
        let mut view = self.view(replica);
        if up {
            view.status.incarnation += 1;
            view.status.failure = None;
        } else {
            view.status.role = RoleView::Follower;
        }
        view.status.up = up;
    }

    /// Records why a replica stopped on its own.
    pub(crate) fn set_failure(&self, replica: usize, failure: String) {
        let mut view = self.view(replica);
        view.status.up = false;
        view.status.failure = Some(failure);
    }

    pub(crate) fn status(&self, replica: usize) -> ReplicaStatus {
        self.view(replica).status.clone()
    }

    pub(crate) fn decided(&self, replica: usize) -> BTreeMap<Slot, Decision<M>> {
        self.view(replica).decided.clone()
    }

    /// The replica's state machine after its latest step that applied a slot (with history).
    pub(crate) fn machine(&self, replica: usize) -> Option<M> {
        self.view(replica).machine.clone()
    }

    pub(crate) fn leader_ballots(&self) -> BTreeSet<Ballot> {
        self.leader_ballots.lock().expect("observer lock").clone()
    }

    /// No slot with two different commands, within or across replicas.
    pub(crate) fn check_agreement(&self) -> Result<Agreement, Disagreement<M>> {
        let mut all: BTreeMap<Slot, Vec<(usize, Ballot, Command<M>)>> = BTreeMap::new();
        for replica in 0..self.replicas.len() {
            let view = self.view(replica);
            if let Some((slot, a, b)) = view.self_conflict.clone() {
                return Err(Disagreement {
                    slot,
                    decisions: vec![
                        (replica, a.ballot, a.command),
                        (replica, b.ballot, b.command),
                    ],
                });
            }
            for (slot, d) in &view.decided {
                all.entry(*slot)
                    .or_default()
                    .push((replica, d.ballot, d.command.clone()));
            }
        }
        let mut decisions = 0;
        for (slot, seen) in &all {
            decisions += seen.len();
            if seen.iter().any(|(_, _, c)| *c != seen[0].2) {
                return Err(Disagreement {
                    slot: *slot,
                    decisions: seen.clone(),
                });
            }
        }
        Ok(Agreement {
            slots: all.len(),
            decisions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paxos_model::server::ServerState;
    use paxos_model::state_machine::ClientCommand;
    use paxos_model::types::Value;
    use paxos_model::types::{ClientId, Op, RequestId, ServerId};

    fn deciding(slot: u64, command: Command) -> NodeState {
        let mut s = ServerState::recover(None);
        let ballot = Ballot::new(1, ServerId(0));
        s.learned.insert(Slot(slot), Decision { ballot, command });
        NodeState::Server(s)
    }

    #[test]
    fn two_commands_for_one_slot_are_a_disagreement() {
        let write = Command::Client(ClientCommand {
            client: ClientId(3),
            request: RequestId(0),
            op: Op::Write(Value(1)),
        });
        let observer = Observer::new(2, true);
        observer.observe(0, &deciding(0, write.clone()), Slot(0));
        observer.observe(1, &deciding(0, write.clone()), Slot(0));
        assert_eq!(observer.check_agreement().unwrap().slots, 1);
        observer.observe(1, &deciding(1, Command::NoOp), Slot(0));
        observer.observe(0, &deciding(1, write), Slot(0));
        let e = observer.check_agreement().unwrap_err();
        assert_eq!(e.slot, Slot(1));
    }
}
