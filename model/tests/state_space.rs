//! Pinned state spaces: the exact number of unique states of small configurations, and every
//! property's status in each. A changed number is a changed model: review it, then update it
//! here and in the README's table.

use paxos_model::checking::{
    check, CheckConfig, CheckerKind, NetworkKind, Outcome, RunOptions, Status,
};

fn run(cfg: CheckConfig) -> Outcome {
    check(
        cfg,
        RunOptions {
            checker: CheckerKind::Dfs,
            threads: 2,
            timeout: None,
            max_depth: None,
            seed: 0,
            progress: false,
        },
    )
}

use Status::{Found, Holds};

/// Checks `cfg` to completion and asserts its unique-state count and every property's status.
fn pin(cfg: CheckConfig, unique_states: usize, properties: &[(&str, Status)]) {
    let outcome = run(cfg.clone());
    assert!(outcome.complete, "{cfg:?} did not complete");
    let got: Vec<(&str, Status)> = outcome
        .properties
        .iter()
        .map(|p| (p.name, p.status))
        .collect();
    assert_eq!(got, properties, "properties of {cfg:?}");
    assert_eq!(
        outcome.unique_states, unique_states,
        "unique states of {cfg:?}"
    );
    assert!(outcome.passed());
}

const SAFETY: [(&str, Status); 3] = [
    ("agreement", Holds),
    ("validity", Holds),
    ("linearizable", Holds),
];

fn with(extra: &[(&'static str, Status)]) -> Vec<(&'static str, Status)> {
    SAFETY.iter().chain(extra).copied().collect()
}

#[test]
fn the_default_configuration() {
    pin(
        CheckConfig::default(),
        49_638,
        &with(&[
            ("decided", Found),
            ("all-clients-done", Found),
            ("new-leader-decides", Found),
            ("prepare-skip", Found),
        ]),
    );
}

#[test]
fn duplication_loss_and_a_crash() {
    pin(
        CheckConfig {
            network: NetworkKind::UnorderedDuplicating,
            lossy: true,
            crashes: 1,
            ..CheckConfig::default()
        },
        415_961,
        &with(&[
            ("decided", Found),
            ("all-clients-done", Found),
            ("new-leader-decides", Found),
            ("prepare-skip", Found),
            ("decided-after-recovery", Found),
        ]),
    );
}

#[test]
fn duplication_and_literal_loss_with_a_crash_on_two_servers() {
    pin(
        CheckConfig {
            servers: 2,
            clients: 1,
            network: NetworkKind::UnorderedDuplicating,
            lossy: true,
            literal_loss: true,
            crashes: 1,
            ..CheckConfig::default()
        },
        14_855,
        &with(&[
            ("decided", Found),
            ("all-clients-done", Found),
            ("decided-after-recovery", Found),
        ]),
    );
}

#[test]
fn one_client_and_a_crash() {
    pin(
        CheckConfig {
            clients: 1,
            crashes: 1,
            ..CheckConfig::default()
        },
        16_366,
        &with(&[
            ("decided", Found),
            ("all-clients-done", Found),
            ("new-leader-decides", Found),
            ("decided-after-recovery", Found),
        ]),
    );
}

#[test]
fn phase1_for_every_command() {
    pin(
        CheckConfig {
            prepare_skip: false,
            ..CheckConfig::default()
        },
        188_235,
        &with(&[
            ("decided", Found),
            ("all-clients-done", Found),
            ("new-leader-decides", Found),
        ]),
    );
}

#[test]
fn the_ordered_lossy_network() {
    pin(
        CheckConfig {
            network: NetworkKind::Ordered,
            lossy: true,
            ..CheckConfig::default()
        },
        121_343,
        &with(&[
            ("decided", Found),
            ("all-clients-done", Found),
            ("new-leader-decides", Found),
            ("prepare-skip", Found),
        ]),
    );
}

#[test]
fn heartbeats_retransmission_and_catch_up() {
    pin(
        CheckConfig {
            clients: 1,
            heartbeats: true,
            ..CheckConfig::default()
        },
        323_323,
        &with(&[
            ("decided", Found),
            ("all-clients-done", Found),
            ("new-leader-decides", Found),
        ]),
    );
}

#[test]
fn one_client_two_commands() {
    pin(
        CheckConfig {
            clients: 1,
            ops_per_client: 2,
            ..CheckConfig::default()
        },
        12_162,
        &with(&[
            ("decided", Found),
            ("all-clients-done", Found),
            ("new-leader-decides", Found),
            ("prepare-skip", Found),
        ]),
    );
}
