//! The reduction "loss is subsumed by an unordered network" (`CheckConfig::drops_explored`,
//! `specs/multipaxos.md`, "Bounds and reductions") claims that on unordered networks, exploring
//! `Drop` actions reaches no server, client, timer, storage or ghost state that the run without
//! drops does not reach. These tests check the claim on small configurations by comparing the
//! two sets of reachable states with the network's contents projected away.

use paxos_model::checking::{CheckConfig, NetworkKind, PaxosModel, State};
use stateright::{Checker, Model};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// A digest of everything in a state except the network.
fn projection(state: &State) -> u64 {
    let mut h = DefaultHasher::new();
    state.actor_states.hash(&mut h);
    state.timers_set.hash(&mut h);
    state.random_choices.hash(&mut h);
    state.crashed.hash(&mut h);
    state.actor_storages.hash(&mut h);
    state.history.hash(&mut h);
    h.finish()
}

/// The projections of every reachable state, and the number of unique (unprojected) states.
fn projections(cfg: CheckConfig) -> (HashSet<u64>, usize) {
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let sink = Arc::clone(&seen);
    let checker = PaxosModel::new(cfg)
        .checker()
        .threads(1)
        .visitor(move |path: stateright::Path<State, _>| {
            sink.lock().unwrap().insert(projection(path.last_state()));
        })
        .spawn_dfs()
        .join();
    assert!(checker.is_done());
    let unique = checker.unique_state_count();
    let set = std::mem::take(&mut *seen.lock().unwrap());
    (set, unique)
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
