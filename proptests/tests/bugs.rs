//! The checks catch known-bad protocol variants (`model/src/bug.rs`) running in the real
//! runtime. Each test runs a short scenario with the bug switched on in every replica, for
//! seeds `0..ATTEMPTS_MAX` until the checks report a safety violation, and asserts that one
//! was reported, by check 2 (a model property) or check 3 (observable safety), while check 1
//! found the runtime doing exactly what the (buggy) step functions say (check 2 judges the
//! recorded run as a path of the model, so a variant that breaks no safety property of the log,
//! `check-quorum-keeps-stale-acks`, is caught by the model's property of its own). One variant,
//! `skip-hole-fill`, breaks progress and no safety property: its test asserts that the runner's
//! liveness requirement fails while checks 1–3 pass. Three variants are caught by the model
//! checker but not here; the comment at the end of this file says why, with the measurements.

use paxos_model::bug::Bug;
use paxos_proptests::case::{Case, ClientStep, Fault, FaultStep};
use paxos_proptests::runner::{failure_message, run_and_check};
use std::path::PathBuf;

/// Limit: seeds tried per bug before the test gives up. A scenario catches each bug below in
/// about a third to all of its runs (measured with the `survey` test), so twelve attempts miss
/// with a probability under 1%; the least reliable one gets more.
const ATTEMPTS_MAX: u64 = 12;

/// A case with `bug` switched on, for one seed.
type Scenario = fn(Bug, u64) -> Case;

fn op(pause_ms: u64, write: bool) -> ClientStep {
    ClientStep { pause_ms, write }
}

fn at(pause_ms: u64, fault: Fault) -> FaultStep {
    FaultStep { pause_ms, fault }
}

/// Two majorities in turn: a replica is cut off while the leader decides, then the leader is
/// cut off and the other two (one of which missed everything) must carry on. Three clients,
/// each starting at a different replica, write throughout.
fn split(bug: Bug, seed: u64) -> Case {
    let writer = |first: u64| {
        let mut ops = vec![op(first, true)];
        ops.extend((0..8).map(|k| op(60, k % 4 != 3)));
        ops
    };
    Case {
        delay_us_max: 1_000,
        clients: vec![writer(10), writer(20), writer(30)],
        faults: vec![
            at(0, Fault::IsolateOther(0)),
            at(250, Fault::Heal),
            at(0, Fault::IsolateLeader),
            at(300, Fault::Heal),
        ],
        bug: Some(bug),
        ..Case::quiet(3, seed)
    }
}

/// A leader cut off from the others keeps serving the clients that talk to it: one client
/// writes through it, another reads after the write returned.
fn stale_leader(bug: Bug, seed: u64) -> Case {
    Case {
        clients: vec![
            vec![op(0, false), op(100, true), op(50, true)],
            vec![op(0, false), op(450, false), op(100, false), op(100, false)],
        ],
        faults: vec![at(50, Fault::IsolateLeader), at(700, Fault::Heal)],
        bug: Some(bug),
        ..Case::quiet(3, seed)
    }
}

/// [`stale_leader`] with pre-vote and check-quorum on: the leader is cut off for 700 ms, several
/// election timeouts, while one client keeps writing through it; the other two replicas elect a
/// leader of their own after their pre-votes.
fn cut_off_leader(bug: Bug, seed: u64) -> Case {
    Case {
        election_switches: true,
        ..stale_leader(bug, seed)
    }
}

/// An acceptor votes, crashes and restarts; then a majority that excludes every replica that
/// remembers the vote elects a leader (a majority is down for a moment: no progress expected
/// then).
fn amnesia(bug: Bug, seed: u64) -> Case {
    Case {
        clients: vec![
            vec![op(0, false), op(60, true)],
            vec![op(500, true), op(60, true)],
        ],
        faults: vec![
            at(20, Fault::IsolateOther(0)),
            at(150, Fault::CrashOther(0)),
            at(0, Fault::Restart(0)),
            at(0, Fault::Heal),
            at(0, Fault::IsolateLeader),
            at(600, Fault::Heal),
        ],
        majority_down: true,
        bug: Some(bug),
        ..Case::quiet(3, seed)
    }
}

/// [`split`] on five replicas with two of them cut off at a time, while the network duplicates
/// messages (a vote delivered twice).
fn split_five_duplicating(bug: Bug, seed: u64) -> Case {
    Case {
        replicas: 5,
        dup: 0.3,
        loss: 0.05,
        delay_us_max: 3_000,
        faults: vec![
            at(0, Fault::IsolateOther(0)),
            at(0, Fault::IsolateOther(0)),
            at(250, Fault::Heal),
            at(0, Fault::IsolateLeader),
            at(0, Fault::IsolateOther(0)),
            at(300, Fault::Heal),
        ],
        ..split(bug, seed)
    }
}

/// A lone vote outlives its leader: a client learns which replica leads (its first read is
/// answered by the leader), the leader is cut off, and the client writes through it, so the
/// write has the old leader's vote only. Meanwhile the other two elect a leader, which no client
/// asks anything. At the heal that leader is cut off in turn, before the client retries: the old
/// leader and the third replica elect a leader from promises that report the lone vote.
fn orphan_vote(bug: Bug, seed: u64) -> Case {
    Case {
        clients: vec![vec![op(0, false), op(200, true), op(60, false)]],
        faults: vec![
            at(20, Fault::IsolateLeader),
            at(230, Fault::Heal),
            at(0, Fault::IsolateLeader),
            at(300, Fault::Heal),
        ],
        bug: Some(bug),
        ..Case::quiet(3, seed)
    }
}

/// A hole below a vote. The leader is cut off for less than an election timeout while three
/// clients, one per replica, write: only the one that asks the leader directly gets its write
/// proposed, with the leader's vote alone (the others' requests are forwarded into the
/// partition). Three more clients write just after the heal, so the other two replicas vote for
/// the next slots. A few milliseconds later the leader is cut off again, usually before its next
/// heartbeat (every 20 ms) re-sends the first write: the other two elect a leader whose promises
/// report those slots and nothing below them.
fn hole_below_a_vote(bug: Bug, seed: u64) -> Case {
    let mut clients = vec![vec![op(30, true)]; 3];
    clients.extend(vec![vec![op(72, true)]; 3]);
    Case {
        clients,
        faults: vec![
            at(20, Fault::IsolateLeader),
            at(50, Fault::Heal),
            at(5, Fault::IsolateLeader),
            at(300, Fault::Heal),
        ],
        bug: Some(bug),
        ..Case::quiet(3, seed)
    }
}

/// Three clients issuing reads and writes back to back to a leader with a window of one slot
/// and batches of two: requests wait for the window and are decided two per slot. Clients
/// answered together tend to stay paired, so their patterns differ (write-read, read-write,
/// write-write-read-read): whichever two pair up, some batches mix a read and a write.
fn batched(bug: Bug, seed: u64) -> Case {
    let pattern = |write: fn(usize) -> bool| (0..16).map(|k| op(0, write(k))).collect::<Vec<_>>();
    Case {
        clients: vec![
            pattern(|k| k % 2 == 0),
            pattern(|k| k % 2 == 1),
            pattern(|k| k % 4 < 2),
        ],
        bug: Some(bug),
        batch: 2,
        window: 1,
        // Reads through the log, so that they are batched with writes.
        read_index: false,
        ..Case::quiet(3, seed)
    }
}

/// Pipelined sessions: two clients keep four writes and reads outstanding each, through a
/// network that delays every copy by up to 3 ms, so a later request often reaches the leader,
/// and is decided, before an earlier one.
fn pipelined(bug: Bug, seed: u64) -> Case {
    let pattern = |write: fn(usize) -> bool| (0..16).map(|k| op(0, write(k))).collect::<Vec<_>>();
    Case {
        clients: vec![pattern(|k| k % 3 != 2), pattern(|k| k % 2 == 0)],
        delay_us_max: 3_000,
        client_window: 4,
        bug: Some(bug),
        // Reads through the log, so that every request takes a slot.
        read_index: false,
        ..Case::quiet(3, seed)
    }
}

fn recordings() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("recordings")
}

/// Runs `scenario` for seeds `0..attempts` until a safety check catches `bug`; panics if none
/// does.
fn assert_caught(bug: Bug, scenario: Scenario, attempts: u64) {
    for seed in 0..attempts {
        let case = scenario(bug, seed);
        let checked = run_and_check(&case);
        if checked.report.safety_violated() {
            let message = failure_message(
                &checked,
                &case,
                &format!("bug-{}", bug.name()),
                &recordings(),
            );
            eprintln!("{} caught with seed {seed}:\n{message}", bug.name());
            assert!(
                checked.report.replay.is_ok(),
                "the runtime diverged from the buggy model instead: {message}"
            );
            return;
        }
    }
    panic!("{} was not caught in {attempts} seeds", bug.name());
}

/// Runs `scenario` for seeds `0..attempts` until the runner reports a liveness failure (a client
/// operation still unanswered `runner::LIVENESS_AFTER_HEAL` after every fault was healed)
/// while checks 1–3 all pass; panics if no seed does. For a variant that breaks progress, not
/// safety.
fn assert_stalls(bug: Bug, scenario: Scenario, attempts: u64) {
    for seed in 0..attempts {
        let case = scenario(bug, seed);
        let checked = run_and_check(&case);
        if checked
            .run
            .problems
            .iter()
            .any(|p| p.starts_with("liveness:"))
        {
            let message = failure_message(
                &checked,
                &case,
                &format!("bug-{}", bug.name()),
                &recordings(),
            );
            eprintln!("{} stalled with seed {seed}:\n{message}", bug.name());
            assert!(
                checked.report.passed(),
                "a check failed besides liveness: {message}"
            );
            return;
        }
    }
    panic!("{} did not stall in {attempts} seeds", bug.name());
}

#[test]
#[ignore = "a survey of every bug and scenario; run with --ignored --nocapture"]
fn survey() {
    let scenarios: [(&str, Scenario); 9] = [
        ("split", split),
        ("stale-leader", stale_leader),
        ("cut-off-leader", cut_off_leader),
        ("amnesia", amnesia),
        ("split-five-duplicating", split_five_duplicating),
        ("orphan-vote", orphan_vote),
        ("hole-below-a-vote", hole_below_a_vote),
        ("batched", batched),
        ("pipelined", pipelined),
    ];
    // SURVEY=<names>, comma-separated: the bugs named (every bug if none is) on the scenarios
    // named (every scenario if none is).
    let only = std::env::var("SURVEY").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|o| !o.is_empty()).collect();
    let named = |name: &str| only.contains(&name);
    let any_bug = !Bug::ALL.iter().any(|b| named(b.name()));
    let any_scenario = !scenarios.iter().any(|(name, _)| named(name));
    for bug in Bug::ALL {
        for (name, scenario) in scenarios {
            if !(any_bug || named(bug.name())) || !(any_scenario || named(name)) {
                continue;
            }
            let mut caught = Vec::new();
            let seeds: u64 = std::env::var("SURVEY_SEEDS").map_or(6, |s| s.parse().unwrap());
            for seed in 0..seeds {
                let checked = run_and_check(&scenario(bug, seed));
                caught.push(format!("{seed}:{}", checked.summary()));
            }
            eprintln!("{:24} {name:22} {}", bug.name(), caught.join(" "));
        }
    }
}

#[test]
fn session_keeps_latest_only_is_caught_by_exactly_once() {
    // An earlier request of a pipelining client, decided after a later one, never runs: the
    // replicas' applied states differ from the oracle's execution of the agreed log.
    assert_caught(Bug::SessionKeepsLatestOnly, pipelined, ATTEMPTS_MAX);
}

#[test]
fn check_quorum_keeps_stale_acks_is_caught_by_check_quorum_heard_majority() {
    // The cut-off leader keeps the answers it counted before the partition and passes every
    // check on them. Check 2 sees it: on the run's path the model's record of the answers that
    // reached the leader is empty at its second check after the cut, and
    // `check-quorum-heard-majority` fails. Nothing observable goes wrong (its client's writes
    // time out and are retried elsewhere), so check 3 passes. Surveyed: caught with 6 of 6
    // seeds, by check 2 alone (none on the other scenarios, which leave check-quorum off);
    // without the bug the same scenario passes every check (12 of 12 seeds).
    assert_caught(Bug::CheckQuorumKeepsStaleAcks, cut_off_leader, ATTEMPTS_MAX);
}

#[test]
fn half_quorum_is_caught_as_disagreement() {
    assert_caught(Bug::HalfQuorum, split, ATTEMPTS_MAX);
}

#[test]
fn skip_phase1_is_caught_as_disagreement() {
    assert_caught(Bug::SkipPhase1, split, ATTEMPTS_MAX);
}

#[test]
fn accept_below_promise_is_caught_as_disagreement() {
    assert_caught(Bug::AcceptBelowPromise, split, 2 * ATTEMPTS_MAX);
}

#[test]
fn ignore_promised_values_is_caught_as_disagreement() {
    assert_caught(Bug::IgnorePromisedValues, amnesia, ATTEMPTS_MAX);
}

#[test]
fn volatile_acceptor_is_caught_after_a_restart() {
    assert_caught(Bug::VolatileAcceptor, amnesia, ATTEMPTS_MAX);
}

#[test]
fn count_messages_is_caught_with_five_replicas_and_duplicates() {
    assert_caught(Bug::CountMessages, split_five_duplicating, ATTEMPTS_MAX);
}

#[test]
fn reply_before_decide_is_caught_by_the_client_history() {
    assert_caught(Bug::ReplyBeforeDecide, stale_leader, ATTEMPTS_MAX);
}

#[test]
fn leader_local_read_is_caught_by_the_client_history() {
    assert_caught(Bug::LeaderLocalRead, stale_leader, ATTEMPTS_MAX);
}

#[test]
fn noop_takeover_is_caught_as_disagreement() {
    // Measured: caught with every seed tried (18 of 18, by `chosen` and the replicas'
    // disagreement). The takeover after the leader is cut off is run by two replicas that are
    // behind (one was cut off, the other restarted from its last compaction), so its Phase 1
    // covers chosen slots, whose votes the promises report and the variant overwrites with no-ops.
    // The other scenarios caught it with 0, 0 and 1 of 6 seeds.
    assert_caught(Bug::NoopTakeover, amnesia, ATTEMPTS_MAX);
}

#[test]
fn apply_out_of_order_is_caught_by_exactly_once() {
    // Measured: caught with 16 of 18 seeds (by `exactly-once` and the replicas' applied states):
    // a replica that missed decisions (cut off, or a `Decide` lost) learns a later slot before
    // it catches up, and the variant applies past the gap. `split` caught it with 2 of 6.
    assert_caught(Bug::ApplyOutOfOrder, split_five_duplicating, ATTEMPTS_MAX);
}

#[test]
fn learn_from_promise_is_caught_by_chosen() {
    // Measured: caught with 8 of 8 seeds, by `chosen` only (check 2): the new leader learns the
    // lone vote as decided, which no majority cast. Nothing observable goes wrong afterwards: the
    // write is the value a correct leader would have proposed again, and no other value reaches
    // that slot, so check 3 passes. `split-five-duplicating` caught it with 1 of 6 seeds, the
    // other three older scenarios with none.
    assert_caught(Bug::LearnFromPromise, orphan_vote, ATTEMPTS_MAX);
}

#[test]
fn batch_one_result_is_caught_by_the_client_history() {
    // A read batched after a write is told "write ok" (or a write told a read's value): caught
    // with every seed of 8 surveyed (`SURVEY=batch-one-result,batched`), at the first seed here.
    assert_caught(Bug::BatchOneResult, batched, ATTEMPTS_MAX);
}

#[test]
fn commit_any_ballot_is_caught_as_disagreement() {
    // The cut-off leader of `hole-below-a-vote` holds a lone vote of its ballot; the next leader
    // decides another value in that slot, and when the old leader hears its `Accept`s (and
    // their commit point) it learns its own vote. Surveyed with 6 seeds: caught in 4 on this
    // scenario (2 on `split`, 1 on `split-five-duplicating`, none on the others).
    assert_caught(Bug::CommitAnyBallot, hole_below_a_vote, ATTEMPTS_MAX);
}

#[test]
fn skip_hole_fill_stalls_the_clients() {
    // No safety check can see this variant: nothing wrong is decided and nothing is applied past
    // the hole, so checks 1–3 pass and the runner's liveness requirement is what catches it: the
    // slots above the hole are decided but never applied, and their clients never get a reply.
    // Measured: stalled with 7 of 8 seeds; the four older scenarios never did (0 of 4 each).
    // Without the bug the same scenario passes every check (12 of 12 runs), its takeover filling
    // the hole with a no-op in 10 of them. A stalled run takes `LIVENESS_AFTER_HEAL` (10 s) to be
    // judged: the slowest test of this file.
    assert_stalls(Bug::SkipHoleFill, hole_below_a_vote, ATTEMPTS_MAX);
}

// `window-stuck` is not asserted here: in the runtime a queued command waits only until the next
// request reaches the leader (any client's, or its own client's retry, which calls
// `serve_pending` again), so the variant costs latency, not liveness; the model checker, whose
// clients do not retry by default, catches it as a stall (`progress`).
//
// Not caught here: three variants the model checker catches (`make check-full`) that no scenario
// of this file reaches in the runtime. Surveyed with 6 seeds on each of the six scenarios above
// (0 of 36 each, by any check, liveness included), and not asserted, because a test that cannot
// fail the variant would only pretend to check it. `specs/bugs.md` has the same notes.
//
// - `adopt-any-value`: the new leader must hear of two values for a slot, its own lower-ballot
//   vote first, while the higher-ballot value was chosen and is still unknown to every replica of
//   its quorum. The runtime closes that window within a message delay: a leader announces each
//   decision (`Decide`) as it learns it, and a promise from a replica that applied further
//   carries its applied state, which the candidate installs before re-proposing anything above
//   it. A scenario built for it ([`orphan_vote`] plus two clients writing through the new leader
//   while the old one is cut off, so both a lone vote and a chosen value sit in one slot) caught
//   nothing in 28 seeds (10 of them with 30% loss, 10 with 50%), we believe because the third
//   replica had applied the chosen value by then, so its promise's applied state covered the slot.
// - `ballot-without-leader`: two replicas must campaign in the same round, that is, their election
//   timers (drawn independently in 80–160 ms) must fire within a message delay of each other,
//   before either one's `Prepare` arrives and resets the other's timer; and both must then get a
//   value chosen in one slot before either steps down. No fault of `case.rs` aligns two timers.
// - `accept-keeps-promise`: a replica must vote in a ballot it never promised and then vote in a
//   lower one in the same slot. In the runtime a replica nearly always learns of a new ballot
//   from its `Prepare` or first heartbeat (both raise the promise) before its first `Accept`;
//   the exceptions need a deposed leader that receives the new leader's `Accept` before its
//   heartbeat, is the vote that completes the new majority, and proposes its own client's
//   command in that slot within the 20 ms before the heartbeat deposes it, or two campaigns in
//   the same round, as for `ballot-without-leader`.
