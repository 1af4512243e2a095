//! Every known-bad variant is caught on a configuration of the full suite (`specs/bugs.md`);
//! the suite's configurations pass without any bug (`make check-full`).

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

#[test]
fn skip_hole_fill_is_caught() {
    assert_caught(Bug::SkipHoleFill);
}

#[test]
fn learn_from_promise_is_caught() {
    assert_caught(Bug::LearnFromPromise);
}

#[test]
fn apply_out_of_order_is_caught() {
    assert_caught(Bug::ApplyOutOfOrder);
}

#[test]
fn accept_keeps_promise_is_caught() {
    assert_caught(Bug::AcceptKeepsPromise);
}

#[test]
fn noop_takeover_is_caught() {
    assert_caught(Bug::NoopTakeover);
}

/// Every bug is caught on a configuration of the full suite (`make check-full`), which passes
/// without it (the suite itself checks that: `paxos-model suite`).
#[test]
fn every_bug_is_caught_by_a_suite_configuration() {
    let suite = paxos_model::checking::suite::suite();
    for known in catalogue() {
        let (entry, _) = paxos_model::checking::bugs::catching(known.bug);
        let entry = suite
            .iter()
            .find(|e| e.name == entry)
            .unwrap_or_else(|| panic!("{}: no suite entry {entry}", known.bug));
        assert_eq!(known.correct_config(), entry.config, "{}", known.bug);
    }
}

#[test]
fn read_before_applied_is_caught() {
    assert_caught(Bug::ReadBeforeApplied);
}

#[test]
fn pre_vote_promises_is_caught() {
    assert_caught(Bug::PreVotePromises);
}

#[test]
fn pre_vote_ignores_leader_is_caught() {
    assert_caught(Bug::PreVoteIgnoresLeader);
}

#[test]
fn batch_one_result_is_caught() {
    assert_caught(Bug::BatchOneResult);
}

#[test]
fn window_stuck_is_caught() {
    assert_caught(Bug::WindowStuck);
}

#[test]
fn commit_any_ballot_is_caught() {
    assert_caught(Bug::CommitAnyBallot);
}

#[test]
fn lease_read_after_newer_promise_is_caught() {
    assert_caught(Bug::LeaseReadAfterNewerPromise);
}

/// The counterexample of `lease-read-after-newer-promise` (`specs/bugs.md`): a leader holds a
/// lease; a server holding its grant campaigns anyway and wins with the third server, whose
/// write completes; the first leader, still holding its lease, answers a read with the value
/// before that write. 14 steps with BFS (two threads may find a path a step or two longer).
#[test]
fn lease_read_after_newer_promise_answers_a_stale_read() {
    let known = paxos_model::checking::bugs::known(Bug::LeaseReadAfterNewerPromise);
    let outcome = run(known.config.clone(), CheckerKind::Bfs);
    let property = outcome.property("linearizable").expect("linearizable");
    assert_eq!(property.status, Status::Violated);
    let steps = property.counterexample.as_ref().expect("a counterexample");
    assert!((14..=16).contains(&steps.len()), "{steps:#?}");
    let write_ok = steps
        .iter()
        .position(|s| s.contains("Reply(r0, WriteOk)"))
        .unwrap_or_else(|| panic!("no write completes: {steps:#?}"));
    let last = steps.last().expect("steps");
    assert!(last.contains("Reply(r0, ReadOk(v0))"), "{steps:#?}");
    assert!(write_ok < steps.len() - 1);
    // Two campaigns: the leader that answers the read, and the newer one.
    let campaigns = steps.iter().filter(|s| s.contains("Election")).count();
    assert_eq!(campaigns, 2, "{steps:#?}");
    // Without the bug, the same configuration passes.
    assert!(run(known.correct_config(), CheckerKind::Dfs).passed());
}

#[test]
fn check_quorum_keeps_stale_acks_is_caught() {
    assert_caught(Bug::CheckQuorumKeepsStaleAcks);
}

/// The counterexample of `check-quorum-keeps-stale-acks` (`specs/bugs.md`): a leader takes one
/// answer to its heartbeat, then its election timer fires twice: the first check passes with
/// that answer, the second passes with the same one, heard before the first. 8 steps with BFS,
/// the shortest (a campaign, its Prepare and Promise, the heartbeat timer, the Heartbeat and
/// its answer, two checks; two threads may find a path a step longer).
#[test]
fn check_quorum_keeps_stale_acks_passes_a_second_check_unheard() {
    let known = paxos_model::checking::bugs::known(Bug::CheckQuorumKeepsStaleAcks);
    let outcome = run(known.config.clone(), CheckerKind::Bfs);
    let property = outcome
        .property("check-quorum-heard-majority")
        .expect("check-quorum-heard-majority");
    assert_eq!(property.status, Status::Violated);
    let steps = property.counterexample.as_ref().expect("a counterexample");
    assert!((8..=9).contains(&steps.len()), "{steps:#?}");
    let answer = steps
        .iter()
        .position(|s| s.contains("HeartbeatAck"))
        .unwrap_or_else(|| panic!("no answer: {steps:#?}"));
    // The leader's election timer: its campaign, then two checks after the one answer.
    let firings: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].contains("Election"))
        .collect();
    assert_eq!(firings.len(), 3, "{steps:#?}");
    assert!(firings[1] > answer, "{steps:#?}");
    assert_eq!(
        firings[1..],
        [steps.len() - 2, steps.len() - 1],
        "{steps:#?}"
    );
    // Without the bug, the same configuration passes.
    assert!(run(known.correct_config(), CheckerKind::Dfs).passed());
}
