//! The clock assumption of lease reads, imposed on the checked model's timers
//! (`specs/multipaxos.md`, "Lease reads").
//!
//! Timers are abstract in the model: any set timer may fire at any moment. That covers every
//! real timing, and safety never rests on timing, except for lease reads. They assume that no
//! clock drifts more than `CLOCK_DRIFT_PERCENT_MAX` from real time, so that a leader's lease,
//! which starts before its `LeaseRequest` leaves, ends (in real time) before every grant that
//! counts in it, which starts after the request arrived and lasts longer on any clock
//! (`Timing::lease_is_safe`). In the model that is one order between timers: **an acceptor's
//! `LeaseGrant` timer does not fire while the owner of its grant's ballot, up and campaigning
//! for or leading it, runs the `Lease` timer of a round the grant covers** (the round the
//! acceptor granted, 0 for a promise, or any round for a grant held since a restart). Every
//! other order of timers stays possible.
//!
//! The checker removes the `LeaseGrant` timeouts that would break it from the actions it
//! explores ([`grant_may_expire`]); the step functions themselves never read a clock. A run of
//! the threaded runtime that broke the assumption (a clock drifting more than that) would be
//! one the model does not contain: the known-bad variant `lease-read-after-newer-promise`
//! shows what goes wrong then, an acceptor promising a newer ballot while a lease counts it.

use super::system::{Action, PaxosModel, State};
use crate::msg::Timer;
use crate::server::Role;
use stateright::actor::ActorModelAction;

/// Whether server `acceptor`'s `LeaseGrant` timer may fire in `state`: no up server leads its
/// grant's ballot with a lease round the grant covers still running (requested or held).
pub fn grant_may_expire(model: &PaxosModel, state: &State, acceptor: usize) -> bool {
    let Some(grant) = state.actor_states[acceptor]
        .as_server()
        .and_then(|s| s.lease_grant)
    else {
        return true; // A late firing: changes nothing.
    };
    let leader = grant.ballot.leader.index();
    if leader >= model.cfg.servers || state.crashed[leader] {
        return true; // A crashed leader answers nothing: its lease went with it.
    }
    let Some(owner) = state.actor_states[leader].as_server() else {
        return true;
    };
    let expired = crate::server::LeaseStatus::Expired;
    // The lease round its owner runs: a campaign's is round 0, as is the one it won.
    let running = match &owner.role {
        Role::Leader(l) if l.lease.status != expired => Some((l.ballot, l.lease.round)),
        Role::Candidate(t) if t.lease != expired => Some((t.ballot, 0)),
        _ => None,
    };
    !running.is_some_and(|(ballot, round)| grant.covers(ballot, round))
}

/// Reduction "grants expire as early as the clock allows" (with the dead-message reduction: on
/// unordered networks): when some acceptor's `LeaseGrant` timer may fire, it is the only action
/// explored. Holding a grant only takes options away: a `Prepare` it refuses is consumed, which
/// on an unordered network is a message never delivered; a campaign it defers is an election
/// timer that has not fired yet; nothing else, and no property, reads a grant. So every run in
/// which a grant is held longer than the assumption requires has a twin, with the same server,
/// client and ghost states up to the grant, in which it expired at once and those messages and
/// timers simply wait. The grant is then held exactly while a lease that counts it runs.
pub fn expire_grants_first(actions: &mut Vec<Action>) {
    let expiry = actions
        .iter()
        .position(|a| matches!(a, ActorModelAction::Timeout(_, Timer::LeaseGrant)));
    if let Some(at) = expiry {
        let first = actions.swap_remove(at);
        actions.clear();
        actions.push(first);
    }
}
