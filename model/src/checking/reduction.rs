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
//! - `Prepare(b)` and `Heartbeat(b)` to X, when X promised above b and b's owner no longer owns
//!   it: X answers with a `Nack(b)`, which is dead on arrival. The state after the delivery
//!   is the state before it, up to dead messages.
//! - `Decide(slot)` to X, when slot is below X's stored snapshot: known forever (even after a
//!   crash, X restarts from that snapshot).
//! - `StateTransfer(s)` to X, when s is not ahead of X's stored snapshot: stale forever.
//! - `Reply(r)` to client C, when C has submitted r and is not waiting for it: C's requests only
//!   grow, so it never takes it.
//!
//! It is sound only for the correct protocol on unordered networks: a known-bad variant acts
//! on messages the correct protocol ignores, and on the ordered network removing a message
//! lets the ones behind it through. So it is off for both. `model/tests/reductions.rs` checks
//! it by comparing reachable states (without the network) with and without it.

use super::config::CheckConfig;
use crate::actor::PaxosActor;
use crate::msg::Msg;
use crate::node::NodeState;
use crate::types::Ballot;
use stateright::actor::{ActorModelState, Envelope, Id, Network};

/// Whether the reduction applies to `cfg`.
pub fn applies(cfg: &CheckConfig) -> bool {
    cfg.forget_dead_messages && cfg.bug.is_none() && cfg.network != super::NetworkKind::Ordered
}

/// Removes every dead message from `state`'s network. (Generic in the ghost record, which it
/// does not read, so that this module does not import `system`, which imports it.)
pub fn forget_dead_messages<H>(state: &mut ActorModelState<PaxosActor, H>) {
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
                Msg::Prepare { ballot, .. } | Msg::Heartbeat { ballot, .. } => {
                    promised > *ballot && !owns(src, *ballot)
                }
                Msg::Decide { slot, .. } => *slot < x.durable.snapshot.next_slot,
                Msg::StateTransfer(s) => s.next_slot <= x.durable.snapshot.next_slot,
                Msg::Request(_) | Msg::Forward(_) | Msg::Reply { .. } | Msg::CatchUp { .. } => {
                    false
                }
            }
        }
        Some(NodeState::Client(c)) => match msg {
            Msg::Reply { request, .. } => {
                request.0 < c.submitted && c.pending.is_none_or(|p| p.request != *request)
            }
            _ => false,
        },
        None => false,
    }
}
