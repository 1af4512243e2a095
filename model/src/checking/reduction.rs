//! Reduction "dead messages are forgotten" (`specs/multipaxos.md`, "Bounds and reductions").
//!
//! On an unordered network a message stays in flight until it is delivered, and a message
//! whose delivery can never change anything again still splits states: two states that differ
//! only in a stale `Promise` are explored twice, and so is everything after them. After each
//! step the checker removes such *dead* messages. A message is dead when delivering it is a
//! no-op (no state change, no effect, nothing for the ghost record) in the current state *and
//! in every state that can follow*. Each rule below rests on something that only grows: an
//! acceptor's promise and its stored snapshot (durable, so they survive crashes), the ballots a
//! server owns (a server owns a ballot during one campaign and leadership, never again: its
//! next campaign is above everything it promised), a client's request numbers.
//!
//! - `Accept(b)` to X, when X promised above b: ignored (`accept-below-promise-ignored`).
//! - `Promise(b)`, `Accepted(b)`, `Nack(b)` to X, when X does not own b now: X can never own b
//!   again, so they are ignored forever (`promise-stale-ignored`, `accepted-stale-ignored`,
//!   `nack-stale-ignored`). A crashed X is judged by its state before the crash
//!   (conservative: it recovers owning nothing).
//! - `Promise(b, first_slot)` to X, when X leads b and is not running a Phase 1 from
//!   first_slot, and cannot start one from there (first_slot below its `next_slot`, or at it
//!   while `prepared`): the Phase 1s of a ballot start from ever higher slots
//!   (`promise-stale-ignored`, `phase_one_over`).
//! - `Accepted(b, slot)` to X, when X leads b, slot is not among its proposals and X applied or
//!   learned it: X proposes a slot at most once in its ballot (`accepted-decided-ignored`,
//!   `decided_at_leader`).
//! - `ReadAck(b, r)` to X, when X does not own b, or its round of b is past r, or r is confirmed
//!   already: rounds only grow within a ballot, and a confirmed round stays confirmed
//!   (`read-ack-stale-ignored`).
//! - `Prepare(b)`, `Heartbeat(b)` and `ReadConfirm(b)` to X, when X promised above b and b's
//!   owner no longer owns it: X answers with a `Nack(b)`, which is dead on arrival. The state after the delivery
//!   is the state before it, up to dead messages.
//! - `LeaseRequest(b)` to X as `ReadConfirm(b)`; `LeaseGranted(b, r)` to X as `ReadAck(b, r)`,
//!   a round no longer requested counting as confirmed (`lease-grant-ignored`).
//! - `PreVote(b)` to X, when X promised above b: refused forever (`pre-vote-refused-stale`).
//! - `PreVoteGranted(b)` to X, when X promised b or more: X's pre-votes are for the ballot just
//!   above its promise, so it never runs one for b again (`pre-vote-grant-ignored`).
//! - `HeartbeatAck(b)` to X, when X does not own b now (`heartbeat-ack-ignored`).
//! - `Decide(slot)` to X, when slot is below X's stored snapshot: known forever (even after a
//!   crash, X restarts from that snapshot).
//! - `StateTransfer(s)` to X, when s is not ahead of X's stored snapshot: stale forever.
//! - `Reply(r)` to client C, when C has submitted r and is not waiting for it: C's requests only
//!   grow, so it never takes it.
//!
//! The same reasoning settles the ghost record of votes (`Ghost::votes`, read by the `chosen`
//! property), whose histories would otherwise split states that differ only in who voted for
//! what long ago ([`settle_votes`]): a value a majority voted for in a ballot is chosen, and
//! only that fact is kept; the votes of a ballot that can get no more votes (its owner no longer
//! owns it, and no `Accept` of it is in flight) and that reached no majority can never be part
//! of a choice, and are dropped.
//!
//! It is sound only on unordered networks (on the ordered network removing a message lets the
//! ones behind it through), and only for a protocol that keeps the rules above: it is off for
//! the known-bad variants that act on input the correct protocol ignores or forget what only
//! grows (`Bug::keeps_what_reductions_rest_on`). `model/tests/reductions.rs` checks
//! it by comparing reachable states (without the network) with and without it.

use super::system::State;
use crate::msg::Msg;
use crate::node::NodeState;
use crate::types::Ballot;
use stateright::actor::{Envelope, Id, Network};

/// Removes every dead message from `state`'s network.
pub fn forget_dead_messages(state: &mut State) {
    forget(state, |_| true);
}

/// Removes every dead message from the network of `state`, a step of actor `actor` from a state
/// that held no dead message: only that actor's state changed, and whether a message is dead
/// depends only on its sender's and its receiver's states, so only the messages to or from
/// `actor` (those sent by the step among them) can have died.
pub fn forget_dead_messages_after_step(state: &mut State, actor: usize) {
    let actor = Id::from(actor);
    forget(state, |env| env.src == actor || env.dst == actor);
}

fn forget(state: &mut State, may_have_died: impl Fn(&Envelope<Msg>) -> bool) {
    let actors = &state.actor_states;
    let node = |id: Id| actors.get(usize::from(id)).map(|s| &***s);
    let dead =
        |env: &Envelope<Msg>| may_have_died(env) && is_dead(node(env.src), node(env.dst), &env.msg);
    match &mut state.network {
        Network::UnorderedNonDuplicating(map) => {
            if map.keys().any(dead) {
                map.retain(|env, _| !dead(env));
            }
        }
        Network::UnorderedDuplicating(set, _) => {
            if set.iter().any(dead) {
                set.retain(|env| !dead(env));
            }
        }
        Network::Ordered(_) => {}
    }
}

/// Whether server `owner` owns `ballot` now (campaigns for it or leads it).
fn owns(owner: Option<&NodeState>, ballot: Ballot) -> bool {
    owner
        .and_then(NodeState::as_server)
        .is_some_and(|s| s.own_ballot() == Some(ballot))
}

/// Whether leader `x`, which owns the ballot of a `Promise` for its Phase 1 from `first_slot`,
/// ignores it now and forever (`promise-stale-ignored`): `x` won that Phase 1, and counts
/// promises only for a repeated Phase 1 of its ballot, which starts from its next free slot.
/// Within a ballot the first slots of its Phase 1s strictly grow: the campaign's is at most the
/// leader's first `next_slot`; a repeated Phase 1 starts only after a new command spent
/// `prepared`, and that command's proposal moved `next_slot` past its slot; `next_slot` never
/// falls. So a promise below `next_slot` (at it, while `prepared`), or for another Phase 1
/// than the repeated one running, is never counted.
fn phase_one_over(x: &crate::server::ServerState, first_slot: crate::types::Slot) -> bool {
    let Some(l) = x.leadership() else {
        return false; // A candidate: this is its Phase 1 (it owns the ballot once).
    };
    match &l.reprepare {
        Some(tally) => tally.first_slot != first_slot,
        None => first_slot < l.next_slot || (first_slot == l.next_slot && l.prepared),
    }
}

/// Whether leader `x`, which owns the ballot of an `Accepted` for `slot`, ignores it now and
/// forever (`accepted-decided-ignored`): the slot is no longer among its proposals and it is
/// decided here (applied, or learned). A leader proposes a slot at most once in its ballot
/// (fresh proposals go to `next_slot`, above every slot proposed; a takeover skips slots
/// applied, learned or proposed already), and what it applied or learned stays so while it
/// owns the ballot (a crash ends the ownership).
fn decided_at_leader(x: &crate::server::ServerState, slot: crate::types::Slot) -> bool {
    x.leadership().is_some_and(|l| {
        !l.proposals.contains_key(&slot)
            && (slot < x.applied.next_slot || x.learned.contains_key(&slot))
    })
}

fn is_dead(src: Option<&NodeState>, dst: Option<&NodeState>, msg: &Msg) -> bool {
    match dst {
        Some(NodeState::Server(x)) => {
            let promised = x.durable.promised;
            match msg {
                Msg::Accept { ballot, .. } => promised > *ballot,
                Msg::Promise {
                    ballot, first_slot, ..
                } => x.own_ballot() != Some(*ballot) || phase_one_over(x, *first_slot),
                Msg::Accepted { ballot, slot } => {
                    x.own_ballot() != Some(*ballot) || decided_at_leader(x, *slot)
                }
                Msg::Nack { ballot, .. } => x.own_ballot() != Some(*ballot),
                Msg::ReadAck { ballot, round } => {
                    x.own_ballot() != Some(*ballot)
                        || x.leadership().is_some_and(|l| {
                            l.reads.round > *round
                                || (l.reads.round == *round && l.reads.confirming.is_empty())
                        })
                }
                Msg::Prepare { ballot, .. }
                | Msg::Heartbeat { ballot, .. }
                | Msg::ReadConfirm { ballot, .. } => promised > *ballot && !owns(src, *ballot),
                Msg::Decide { slot, .. } => *slot < x.durable.snapshot.next_slot,
                Msg::StateTransfer(s) => s.next_slot <= x.durable.snapshot.next_slot,
                // Refused forever: the promise only rises.
                Msg::PreVote { ballot } => promised > *ballot,
                // X's pre-votes are for ballots above its promise: never this one again.
                Msg::PreVoteGranted { ballot } => promised >= *ballot,
                Msg::HeartbeatAck { ballot } => x.own_ballot() != Some(*ballot),
                // As `ReadConfirm` and `ReadAck`: lease rounds only grow within a ballot, and a
                // round granted or expired is never requested again.
                Msg::LeaseRequest { ballot, .. } => promised > *ballot && !owns(src, *ballot),
                Msg::LeaseGranted { ballot, round } => {
                    x.own_ballot() != Some(*ballot)
                        || x.leadership().is_some_and(|l| {
                            l.lease.round > *round
                                || (l.lease.round == *round
                                    && l.lease.status != crate::server::LeaseStatus::Requested)
                        })
                }
                Msg::Request(_) | Msg::Forward(_) | Msg::Reply { .. } | Msg::CatchUp { .. } => {
                    false
                }
            }
        }
        Some(NodeState::Client(c)) => match msg {
            Msg::Reply { request, .. } => request.0 < c.submitted && c.awaiting(*request).is_none(),
            _ => false,
        },
        None => false,
    }
}

/// Folds the ghost's votes: chosen values move to `settled`; votes of a ballot that can get no
/// more votes, and reached no majority, are dropped.
pub fn settle_votes(state: &mut State, servers: usize) {
    let majority = crate::types::majority(servers) as u32;
    let owner_still_owns = |ballot: Ballot| {
        owns(
            state.actor_states.get(ballot.leader.index()).map(|s| &***s),
            ballot,
        )
    };
    let accept_in_flight = |slot: crate::types::Slot, ballot: Ballot| {
        let is_it = |msg: &Msg| matches!(msg, Msg::Accept { ballot: b, slot: s, .. } if *b == ballot && *s == slot);
        match &state.network {
            Network::UnorderedNonDuplicating(map) => map.keys().any(|e| is_it(&e.msg)),
            Network::UnorderedDuplicating(set, _) => set.iter().any(|e| is_it(&e.msg)),
            Network::Ordered(flows) => flows.values().flatten().any(is_it),
        }
    };
    let mut settle = Vec::new();
    let mut drop = Vec::new();
    for (slot, votes) in state.history.votes.iter() {
        for ((ballot, command), voters) in votes {
            if voters.count_ones() >= majority {
                settle.push((*slot, *ballot, command.clone()));
            } else if !owner_still_owns(*ballot) && !accept_in_flight(*slot, *ballot) {
                drop.push((*slot, *ballot, command.clone()));
            }
        }
    }
    if settle.is_empty() && drop.is_empty() {
        return;
    }
    let ghost = &mut state.history;
    for (slot, ballot, command) in settle.iter().chain(&drop) {
        let votes = ghost.votes.get_mut(slot).expect("listed above");
        votes.remove(&(*ballot, command.clone()));
        if votes.is_empty() {
            ghost.votes.remove(slot);
        }
    }
    for (slot, _, command) in settle {
        ghost.settled.entry(slot).or_default().insert(command);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checking::{CheckConfig, PaxosModel};
    use stateright::actor::ActorModelAction;
    use stateright::Model;
    use std::collections::{BTreeMap, HashSet, VecDeque};
    use std::hash::{BuildHasher, BuildHasherDefault};

    fn digest(state: &State) -> u64 {
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(state)
    }

    fn kind(msg: &Msg) -> String {
        format!("{msg:?}")
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .collect()
    }

    /// Explores up to `limit` states of `cfg` without the reduction, breadth-first, and checks
    /// the first half of "dead" for every message the reduction would forget: delivering it now
    /// changes nothing, up to dead messages (a no-op, or a `Nack` that is itself dead). The
    /// second half, "and in every state that follows", is `tests/reductions.rs`: the reachable
    /// states with and without the reduction. Returns the dead messages seen, by kind.
    fn dead_messages_change_nothing(cfg: CheckConfig, limit: usize) -> BTreeMap<String, usize> {
        let model = PaxosModel::new(CheckConfig {
            forget_dead_messages: false,
            ..cfg
        });
        let mut seen = HashSet::new();
        let mut queue: VecDeque<State> = model.init_states().into();
        let mut dead = BTreeMap::new();
        let mut actions = Vec::new();
        while let Some(state) = queue.pop_front() {
            if seen.len() >= limit || !seen.insert(digest(&state)) {
                continue;
            }
            let mut reduced = state.clone();
            forget_dead_messages(&mut reduced);
            model.actions(&state, &mut actions);
            for action in actions.drain(..) {
                let next = model.next_state(&state, action.clone());
                if let ActorModelAction::Deliver { src, dst, msg } = &action {
                    let env = Envelope {
                        src: *src,
                        dst: *dst,
                        msg: msg.clone(),
                    };
                    let forgotten = match &reduced.network {
                        Network::UnorderedNonDuplicating(map) => !map.contains_key(&env),
                        Network::UnorderedDuplicating(set, _) => !set.contains(&env),
                        Network::Ordered(_) => false,
                    };
                    if forgotten && !state.crashed[usize::from(*dst)] {
                        let dst_state = state.actor_states.get(usize::from(*dst)).map(|s| &***s);
                        let at_owner = match msg {
                            Msg::Promise { ballot, .. } | Msg::Accepted { ballot, .. } => {
                                owns(dst_state, *ballot)
                            }
                            _ => false,
                        };
                        let k = kind(msg) + if at_owner { " to its owner" } else { "" };
                        *dead.entry(k).or_insert(0) += 1;
                        if let Some(next) = &next {
                            let mut after = next.clone();
                            forget_dead_messages(&mut after);
                            assert!(
                                after.actor_states == reduced.actor_states
                                    && after.network == reduced.network
                                    && after.timers_set == reduced.timers_set
                                    && after.history == reduced.history,
                                "delivering the dead {action:?} changes {state:#?}"
                            );
                        }
                    }
                }
                queue.extend(next);
            }
        }
        dead
    }

    /// With the reduction, no state the checker reaches holds a dead message: looking only at
    /// the acting actor's messages after each step (`forget_dead_messages_after_step`) forgets
    /// as much as looking at them all.
    #[test]
    fn reduced_states_hold_no_dead_message() {
        for cfg in [
            CheckConfig {
                clients: 1,
                ops_per_client: 2,
                elections: 2,
                crashes: 1,
                campaigners: 3,
                ..CheckConfig::default()
            },
            CheckConfig {
                servers: 2,
                clients: 1,
                elections: 2,
                heartbeats: true,
                announce_decisions: true,
                client_retries: 1,
                read_index: true,
                lease_reads: true,
                ..CheckConfig::default()
            },
        ] {
            let model = PaxosModel::new(cfg);
            let mut seen = HashSet::new();
            let mut queue: VecDeque<State> = model.init_states().into();
            let mut actions = Vec::new();
            while let Some(state) = queue.pop_front() {
                if seen.len() >= 30_000 || !seen.insert(digest(&state)) {
                    continue;
                }
                let mut all = state.clone();
                forget_dead_messages(&mut all);
                assert!(all.network == state.network, "a dead message in {state:#?}");
                model.actions(&state, &mut actions);
                for action in actions.drain(..) {
                    queue.extend(model.next_state(&state, action));
                }
            }
            assert!(seen.len() >= 10_000, "{} states", seen.len());
        }
    }

    /// The configurations reach the dead `Promise` and `Accepted` at a leader of their ballot
    /// (`phase_one_over`, `decided_at_leader`): Phase 1 won, repeated (no Prepare-skip), with
    /// the parallel leader write and the commit point; and the older rules.
    #[test]
    fn dead_messages_are_no_ops_now() {
        let base = CheckConfig {
            clients: 1,
            ops_per_client: 2,
            elections: 2,
            campaigners: 3,
            ..CheckConfig::default()
        };
        let mut dead = BTreeMap::new();
        for cfg in [
            CheckConfig {
                crashes: 1,
                ..base.clone()
            },
            CheckConfig {
                prepare_skip: false,
                ..base.clone()
            },
            CheckConfig {
                parallel_leader_write: true,
                commit_point: true,
                heartbeats: true,
                ..base.clone()
            },
            CheckConfig {
                servers: 2,
                announce_decisions: true,
                heartbeats: true,
                client_retries: 1,
                ..base.clone()
            },
        ] {
            for (k, n) in dead_messages_change_nothing(cfg, 40_000) {
                *dead.entry(k).or_insert(0) += n;
            }
        }
        let kinds = [
            "Promise to its owner",
            "Accepted to its owner",
            "Promise",
            "Accepted",
            "Accept",
            "Prepare",
            "Reply",
        ];
        for k in kinds {
            assert!(dead.get(k).is_some_and(|n| *n > 0), "no dead {k}: {dead:?}");
        }
    }
}
