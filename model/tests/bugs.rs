//! Every known-bad variant is caught on its documented configuration, and the same
//! configuration without the bug passes (`specs/bugs.md`).

use paxos_model::bug::Bug;
use paxos_model::checking::{
    catalogue, check, CheckConfig, CheckerKind, Outcome, RunOptions, Status,
};

fn run(cfg: CheckConfig, checker: CheckerKind) -> Outcome {
    check(
        cfg,
        RunOptions {
            checker,
            threads: 2,
            timeout: None,
            max_depth: None,
            seed: 0,
            progress: false,
        },
    )
}

fn assert_caught(bug: Bug) {
    let known = paxos_model::checking::bugs::known(bug);
    assert_eq!(known.config.bug, Some(bug));
    // BFS stops at the first violation and gives a short counterexample.
    let outcome = run(known.config.clone(), CheckerKind::Bfs);
    let property = outcome
        .property(known.violates)
        .unwrap_or_else(|| panic!("{bug}: no property {}", known.violates));
    assert_eq!(property.status, Status::Violated, "{bug} was not caught");
    let steps = property.counterexample.as_ref().expect("a counterexample");
    assert!(!steps.is_empty());
    assert!(property.explorer_path.is_some());
    assert!(!outcome.passed());
}

#[test]
fn the_catalogue_lists_every_bug_once() {
    let bugs: Vec<Bug> = catalogue().iter().map(|k| k.bug).collect();
    assert_eq!(bugs, Bug::ALL);
}

#[test]
fn ignore_promised_values_is_caught() {
    assert_caught(Bug::IgnorePromisedValues);
}

#[test]
fn adopt_any_value_is_caught() {
    assert_caught(Bug::AdoptAnyValue);
}

#[test]
fn accept_below_promise_is_caught() {
    assert_caught(Bug::AcceptBelowPromise);
}

#[test]
fn half_quorum_is_caught() {
    assert_caught(Bug::HalfQuorum);
}

#[test]
fn volatile_acceptor_is_caught() {
    assert_caught(Bug::VolatileAcceptor);
}

#[test]
fn skip_phase1_is_caught() {
    assert_caught(Bug::SkipPhase1);
}

#[test]
fn ballot_without_leader_is_caught() {
    assert_caught(Bug::BallotWithoutLeader);
}

#[test]
fn count_messages_is_caught() {
    assert_caught(Bug::CountMessages);
}

#[test]
fn reply_before_decide_is_caught() {
    assert_caught(Bug::ReplyBeforeDecide);
}

#[test]
fn leader_local_read_is_caught() {
    assert_caught(Bug::LeaderLocalRead);
}

/// Each distinct configuration of the catalogue passes without its bug (DFS: same verdict as
/// BFS on a complete run, far less memory).
#[test]
fn every_catching_configuration_passes_without_the_bug() {
    let mut configs: Vec<CheckConfig> = catalogue().iter().map(|k| k.correct_config()).collect();
    configs.dedup();
    configs.sort_by_key(|c| format!("{c:?}"));
    configs.dedup();
    for cfg in configs {
        let outcome = run(cfg.clone(), CheckerKind::Dfs);
        assert!(outcome.complete, "{cfg:?}");
        assert!(outcome.passed(), "{cfg:?} fails without a bug");
    }
}
