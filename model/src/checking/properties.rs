//! The properties checked, by stable name (`specs/multipaxos.md`, "Properties").
//!
//! Safety ("always"): `agreement`, `validity`, `linearizable`. Each is paired with reachability
//! ("sometimes") properties that show the states where safety could fail were really explored:
//! `decided`, `all-clients-done`, `new-leader-decides`, `prepare-skip`, and, in configurations
//! with crashes, `decided-after-recovery`. A sometimes-property that cannot apply to a
//! configuration is left out of it: `new-leader-decides` when no second ballot can win,
//! `prepare-skip` without Prepare-skip or with fewer than two commands, recovery without crashes.

use super::config::CheckConfig;
use super::system::{clients, servers, PaxosModel, State};
use crate::types::Command;
use stateright::{Expectation, Property};

/// The properties that apply to `cfg`.
pub fn all(cfg: &CheckConfig) -> Vec<Property<PaxosModel>> {
    let mut properties = vec![
        Property::always("agreement", agreement),
        Property::always("validity", validity),
        Property::always("linearizable", linearizable),
        Property::sometimes("decided", decided),
        Property::sometimes("all-clients-done", all_clients_done),
    ];
    // A second ballot can decide after a first one only with a second election, won by another
    // campaigner or by the same server after a crash (a leader does not campaign while it
    // leads, and only another campaigner can depose it).
    if cfg.elections >= 2 && (cfg.campaigners >= 2 || cfg.crashes > 0) {
        properties.push(Property::sometimes(
            "new-leader-decides",
            new_leader_decides,
        ));
    }
    // Prepare-skip needs it switched on, and two commands to propose.
    if cfg.prepare_skip && cfg.clients * cfg.ops_per_client >= 2 {
        properties.push(Property::sometimes("prepare-skip", prepare_skip));
    }
    if cfg.crashes > 0 {
        properties.push(Property::sometimes(
            "decided-after-recovery",
            decided_after_recovery,
        ));
    }
    properties
}

/// Whether a property is a safety property.
pub fn is_safety(property: &Property<PaxosModel>) -> bool {
    property.expectation == Expectation::Always
}

/// No slot was ever decided with two different values, by any servers, at any time.
fn agreement(_: &PaxosModel, state: &State) -> bool {
    state
        .history
        .decided
        .values()
        .all(|values| values.len() <= 1)
}

/// Every value ever decided is a no-op or a command its client submitted.
fn validity(model: &PaxosModel, state: &State) -> bool {
    state.history.decided.values().flatten().all(|command| {
        let Command::Client(command) = command else {
            return true;
        };
        let actor = command.client.0 as usize;
        let Some(client) = state.actor_states.get(actor).and_then(|s| s.as_client()) else {
            return false; // Not a client of this system.
        };
        let request = command.request.0 as usize;
        request < client.submitted as usize && model.script(actor).get(request) == Some(&command.op)
    })
}

/// What the clients observed has a linearization for a single register.
fn linearizable(_: &PaxosModel, state: &State) -> bool {
    state.history.tester.serialized_history().is_some()
}

/// Some slot was decided.
fn decided(_: &PaxosModel, state: &State) -> bool {
    !state.history.decided.is_empty()
}

/// Every client ran its whole script.
fn all_clients_done(model: &PaxosModel, state: &State) -> bool {
    clients(model, state)
        .all(|(actor, c)| c.is_idle() && c.submitted as usize == model.script(actor).len())
}

/// A leader decided two new commands under one ballot after a single Phase 1.
fn prepare_skip(model: &PaxosModel, state: &State) -> bool {
    servers(model, state).any(|s| s.leadership().is_some_and(|l| l.fresh_decided >= 2))
}

/// Two different ballots decided something: a new leader decided after an earlier one.
fn new_leader_decides(_: &PaxosModel, state: &State) -> bool {
    state.history.later_ballot_decided
}

/// A server that crashed and recovered learned a decision afterwards.
fn decided_after_recovery(model: &PaxosModel, state: &State) -> bool {
    servers(model, state).enumerate().any(|(i, s)| {
        state.history.recovered.iter().any(|r| r.index() == i) && !s.learned.is_empty()
    })
}
