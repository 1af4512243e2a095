//! Two reductions, each checked by comparing sets of reachable states with the network's
//! contents projected away (`specs/multipaxos.md`, "Bounds and reductions"):
//!
//! - "loss is subsumed by an unordered network" (`CheckConfig::drops_explored`): on unordered
//!   networks, exploring `Drop` actions reaches no server, client, timer, storage or ghost state
//!   that the run without drops does not reach;
//! - "dead messages are forgotten" (`checking::reduction`): removing messages whose delivery can
//!   never change anything again loses no server, client, timer, storage or ghost state.

use paxos_model::checking::{CheckConfig, NetworkKind, PaxosModel, State};
use stateright::Model;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// A digest of everything in a state except the network.
fn projection(state: &State) -> u64 {
    let mut h = DefaultHasher::new();
    state.actor_states.hash(&mut h);
    state.timers_set.hash(&mut h);
    state.random_choices.hash(&mut h);
    state.crashed.hash(&mut h);
    state.actor_storages.hash(&mut h);
    // The ghost, with its record of votes by what it means: the values chosen (the vote
    // reduction folds the record itself).
    let g = &state.history;
    (&g.tester, &g.in_flight, &g.decided, g.first_deciding_ballot).hash(&mut h);
    (g.later_ballot_decided, g.crashes, g.elections, &g.recovered).hash(&mut h);
    g.chosen(
        state
            .actor_states
            .iter()
            .filter(|s| s.as_server().is_some())
            .count(),
    )
    .hash(&mut h);
    h.finish()
}

/// The projections of every reachable state, and the number of unique (unprojected) states:
/// a plain depth-first search over the model (`init_states`, `actions`, `next_state`, as the
/// checker explores it), without the checker's path bookkeeping.
fn projections(cfg: CheckConfig) -> (HashSet<u64>, usize) {
    let model = PaxosModel::new(cfg);
    let digest = |state: &State| {
        let mut h = DefaultHasher::new();
        state.hash(&mut h);
        h.finish()
    };
    let mut seen = HashSet::new();
    let mut projected = HashSet::new();
    let mut stack = model.init_states();
    let mut actions = Vec::new();
    while let Some(state) = stack.pop() {
        if !seen.insert(digest(&state)) {
            continue;
        }
        projected.insert(projection(&state));
        actions.clear();
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            stack.extend(model.next_state(&state, action));
        }
    }
    (projected, seen.len())
}

fn assert_loss_adds_no_projected_state(cfg: CheckConfig) {
    let literal = CheckConfig {
        literal_loss: true,
        ..cfg.clone()
    };
    assert!(!cfg.drops_explored() && literal.drops_explored());
    let (reduced, reduced_unique) = projections(cfg);
    let (with_drops, with_drops_unique) = projections(literal);
    // The drops really were explored: many more states, differing only in the network.
    assert!(
        with_drops_unique > reduced_unique,
        "{with_drops_unique} <= {reduced_unique}"
    );
    assert_eq!(reduced, with_drops);
}

#[test]
fn loss_adds_no_state_on_the_unordered_nonduplicating_network() {
    assert_loss_adds_no_projected_state(CheckConfig {
        clients: 1,
        elections: 2,
        crashes: 1,
        lossy: true,
        ..CheckConfig::default()
    });
}

#[test]
fn loss_adds_no_state_on_the_unordered_duplicating_network() {
    assert_loss_adds_no_projected_state(CheckConfig {
        servers: 2,
        clients: 1,
        elections: 2,
        crashes: 1,
        network: NetworkKind::UnorderedDuplicating,
        lossy: true,
        ..CheckConfig::default()
    });
}

#[test]
fn loss_adds_states_on_the_ordered_network_so_drops_are_explored_there() {
    let lossless = CheckConfig {
        clients: 1,
        elections: 2,
        network: NetworkKind::Ordered,
        ..CheckConfig::default()
    };
    let lossy = CheckConfig {
        lossy: true,
        ..lossless.clone()
    };
    assert!(lossy.drops_explored());
    let (without, _) = projections(lossless);
    let (with, _) = projections(lossy);
    // A lost message lets the ones queued behind it through: new server states.
    assert!(without.is_subset(&with));
    assert!(
        with.len() > without.len(),
        "{} <= {}",
        with.len(),
        without.len()
    );
}

fn assert_forgetting_dead_messages_loses_no_projected_state(cfg: CheckConfig) {
    let kept = CheckConfig {
        forget_dead_messages: false,
        ..cfg.clone()
    };
    let (reduced, reduced_unique) = projections(cfg);
    let (full, full_unique) = projections(kept);
    // The reduction really removed something: fewer states, differing only in the network.
    assert!(
        reduced_unique < full_unique,
        "{reduced_unique} >= {full_unique}"
    );
    let lost: Vec<_> = full.difference(&reduced).take(3).collect();
    assert!(lost.is_empty(), "states lost by the reduction: {lost:?}");
    assert_eq!(reduced, full);
}

#[test]
fn forgetting_dead_messages_loses_no_state_with_re_elections_and_a_crash() {
    assert_forgetting_dead_messages_loses_no_projected_state(CheckConfig {
        clients: 1,
        elections: 2,
        crashes: 1,
        campaigners: 3,
        ..CheckConfig::default()
    });
}

#[test]
fn forgetting_dead_messages_loses_no_state_with_decisions_heartbeats_and_retries() {
    assert_forgetting_dead_messages_loses_no_projected_state(CheckConfig {
        servers: 2,
        clients: 1,
        elections: 2,
        announce_decisions: true,
        heartbeats: true,
        client_retries: 1,
        ..CheckConfig::default()
    });
}

#[test]
fn forgetting_dead_messages_loses_no_state_on_the_duplicating_network() {
    assert_forgetting_dead_messages_loses_no_projected_state(CheckConfig {
        servers: 2,
        clients: 1,
        elections: 3,
        crashes: 1,
        network: NetworkKind::UnorderedDuplicating,
        ..CheckConfig::default()
    });
}

/// The dead `PreVote`, `PreVoteGranted` and `HeartbeatAck` rules: both election switches, a
/// leader that steps down and servers that ask for pre-votes again, a crash.
#[test]
fn forgetting_dead_messages_loses_no_state_with_pre_votes_and_check_quorum() {
    assert_forgetting_dead_messages_loses_no_projected_state(CheckConfig {
        servers: 2,
        clients: 1,
        elections: 3,
        crashes: 1,
        pre_vote: true,
        check_quorum: true,
        heartbeats: true,
        ..CheckConfig::default()
    });
}

/// The dead `Promise` and `Accepted` at a leader of their ballot (Phase 1 over; slot decided
/// there): Phase 1 repeated for every new command (no Prepare-skip), a crash.
#[test]
fn forgetting_dead_messages_loses_no_state_with_repeated_phase_one() {
    assert_forgetting_dead_messages_loses_no_projected_state(CheckConfig {
        clients: 1,
        ops_per_client: 2,
        elections: 1,
        crashes: 1,
        prepare_skip: false,
        ..CheckConfig::default()
    });
}

/// The same with the parallel leader write (slots decided before the leader's own vote is
/// written) and the commit point.
#[test]
fn forgetting_dead_messages_loses_no_state_with_the_parallel_leader_write() {
    assert_forgetting_dead_messages_loses_no_projected_state(CheckConfig {
        clients: 1,
        elections: 2,
        parallel_leader_write: true,
        commit_point: true,
        ..CheckConfig::default()
    });
}
