//! Pinned state spaces: the exact number of unique states of small configurations, each run to
//! completion with every property holding or found. A changed number is a changed model: review
//! it, then update it here and in the README's table.

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

/// Checks `cfg` to completion and asserts its unique-state count, that every property holds
/// or was found, and which properties apply.
fn pin(cfg: CheckConfig, unique_states: usize, properties: &[&str]) {
    let outcome = run(cfg.clone());
    assert!(outcome.complete, "{cfg:?} did not complete");
    for p in &outcome.properties {
        assert!(
            matches!(p.status, Status::Holds | Status::Found),
            "{}: {:?} in {cfg:?}",
            p.name,
            p.status
        );
    }
    let names: Vec<&str> = outcome.properties.iter().map(|p| p.name).collect();
    assert_eq!(names, properties, "properties of {cfg:?}");
    assert_eq!(
        outcome.unique_states, unique_states,
        "unique states of {cfg:?}"
    );
}

/// The properties of every configuration.
const ALWAYS: [&str; 13] = [
    "agreement",
    "validity",
    "linearizable",
    "chosen",
    "exactly-once",
    "answerable",
    "progress",
    "decided",
    "all-clients-done",
    "value-chosen",
    "applied-at-two-servers",
    "awaited-request-executed",
    "quiescent-leader",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    ALWAYS.iter().chain(extra).copied().collect()
}

/// With explored message loss, liveness is not asked (`progress`, `quiescent-leader`).
fn without_progress(extra: &[&'static str]) -> Vec<&'static str> {
    ALWAYS
        .iter()
        .filter(|p| !["progress", "quiescent-leader"].contains(p))
        .chain(extra)
        .copied()
        .collect()
}

/// `make check`: three elections by two campaigners, two clients (about a minute on 2 cores).
#[test]
fn the_default_configuration() {
    pin(
        CheckConfig::default(),
        1_275_422,
        &with(&["new-leader-decides", "prepare-skip"]),
    );
}

#[test]
fn three_elections_one_client() {
    pin(
        CheckConfig {
            clients: 1,
            campaigners: 3,
            ..CheckConfig::default()
        },
        78_645,
        &with(&["new-leader-decides"]),
    );
}

#[test]
fn a_crash_and_re_elections() {
    pin(
        CheckConfig {
            clients: 1,
            elections: 2,
            crashes: 1,
            ..CheckConfig::default()
        },
        17_417,
        &with(&["new-leader-decides", "decided-after-recovery"]),
    );
}

#[test]
fn duplication_literal_loss_and_a_crash_on_two_servers() {
    pin(
        CheckConfig {
            servers: 2,
            clients: 1,
            ops_per_client: 2,
            elections: 2,
            network: NetworkKind::UnorderedDuplicating,
            lossy: true,
            literal_loss: true,
            crashes: 1,
            ..CheckConfig::default()
        },
        68_033,
        &without_progress(&[
            "new-leader-decides",
            "prepare-skip",
            "decided-after-recovery",
        ]),
    );
}

#[test]
fn without_the_dead_message_reduction() {
    pin(
        CheckConfig {
            clients: 1,
            elections: 2,
            forget_dead_messages: false,
            ..CheckConfig::default()
        },
        11_834,
        &with(&["new-leader-decides"]),
    );
}

#[test]
fn phase1_for_every_command() {
    pin(
        CheckConfig {
            clients: 1,
            ops_per_client: 2,
            elections: 2,
            prepare_skip: false,
            ..CheckConfig::default()
        },
        20_492,
        &with(&["new-leader-decides"]),
    );
}

#[test]
fn the_ordered_lossy_network() {
    pin(
        CheckConfig {
            clients: 1,
            elections: 2,
            network: NetworkKind::Ordered,
            lossy: true,
            ..CheckConfig::default()
        },
        32_063,
        &without_progress(&["new-leader-decides"]),
    );
}

#[test]
fn heartbeats_decisions_retries_and_compaction_on_two_servers() {
    pin(
        CheckConfig {
            servers: 2,
            clients: 1,
            ops_per_client: 2,
            elections: 2,
            heartbeats: true,
            announce_decisions: true,
            client_retries: 1,
            compact_every: 2,
            ..CheckConfig::default()
        },
        120_165,
        &with(&["new-leader-decides", "prepare-skip"]),
    );
}

/// Lease reads on two servers with two elections (`specs/multipaxos.md`, "Lease reads"): the
/// grants' early expiry is one of the reductions behind this count.
#[test]
fn lease_reads_on_two_servers() {
    pin(
        CheckConfig {
            servers: 2,
            elections: 2,
            read_index: true,
            lease_reads: true,
            ..CheckConfig::default()
        },
        8_646,
        &with(&["new-leader-decides", "lease-read-answered"]),
    );
}
