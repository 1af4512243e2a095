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
    let actors = &state.actor_states;
    let node = |id: Id| actors.get(usize::from(id)).map(|s| &***s);
    let dead = |env: &Envelope<Msg>| is_dead(node(env.src), node(env.dst), &env.msg);
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

fn is_dead(src: Option<&NodeState>, dst: Option<&NodeState>, msg: &Msg) -> bool {
    match dst {
        Some(NodeState::Server(x)) => {
            let promised = x.durable.promised;
            match msg {
                Msg::Accept { ballot, .. } => promised > *ballot,
                Msg::Promise { ballot, .. }
                | Msg::Accepted { ballot, .. }
                | Msg::Nack { ballot, .. } => x.own_ballot() != Some(*ballot),
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
