//! The checks can fail: a real recording passes every check, and the same recording doctored
//! in one place (a message never sent, a restart from stale storage, a reordered step, a timer
//! never set, a changed output or state, a wrong client result, a decision made two ways, a
//! double execution, an invented command, a crash that loses the save of steps whose messages
//! left or more steps than were taken) is reported by the checks that cover it, at the doctored
//! event.

use paxos_impl::record::{digest, EventKind, Input, Output, StateRecord};
use paxos_model::msg::{Msg, Timer};
use paxos_model::node::NodeState;
use paxos_model::server::{Decision, Role};
use paxos_model::state_machine::{ClientCommand, Command};
use paxos_model::types::{Ballot, ClientId, Op, OpResult, RequestId, Slot};
use paxos_model::types::{ServerId, Value};
use paxos_proptests::case::{Case, ClientStep, Fault, FaultStep};
use paxos_proptests::observable::{check_observable, Observations};
use paxos_proptests::path::check_path;
use paxos_proptests::replay::replay;
use paxos_proptests::runner::run_and_check;
use paxos_proptests::{check, Check, Finding, Kind, Recording};
use std::sync::OnceLock;

/// Limit: runs tried to get a base recording with every feature the doctors need.
const BASE_ATTEMPTS_MAX: u64 = 8;

fn step(pause_ms: u64, write: bool) -> ClientStep {
    ClientStep { pause_ms, write }
}

/// A run with a leader crash and restart, duplicates and delays, which passes every check and
/// has what each doctoring needs.
fn base() -> &'static Recording {
    static BASE: OnceLock<Recording> = OnceLock::new();
    BASE.get_or_init(|| {
        let ops = || {
            [true, true, false, true, false, true]
                .map(|write| step(15, write))
                .to_vec()
        };
        for seed in 1..=BASE_ATTEMPTS_MAX {
            let case = Case {
                dup: 0.05,
                delay_us_max: 1_000,
                clients: vec![ops(), ops()],
                // Reads through the log, so that check 3 can compare a read's result with the
                // slot it ran in (a ReadIndex read has no slot: a doctored one is caught as
                // `NotLinearizable`, without the slot to name).
                read_index: false,
                faults: vec![
                    FaultStep {
                        pause_ms: 60,
                        fault: Fault::CrashLeader,
                    },
                    FaultStep {
                        pause_ms: 120,
                        fault: Fault::Restart(0),
                    },
                ],
                ..Case::quiet(3, seed)
            };
            let checked = run_and_check(&case);
            assert!(
                checked.passed(),
                "the base run must pass: {}",
                checked.report
            );
            let recording = checked.run.recording;
            if has_features(&recording) {
                return recording;
            }
        }
        panic!("no base recording with every feature in {BASE_ATTEMPTS_MAX} runs");
    })
}

fn steps(recording: &Recording) -> impl Iterator<Item = (usize, &paxos_impl::record::Step)> {
    recording
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.kind {
            EventKind::Step(step) => Some((i, &**step)),
            _ => None,
        })
}

fn has_features(recording: &Recording) -> bool {
    let recovers_after_a_save = stale_storage_target(recording).is_some();
    let accepts = steps(recording).any(|(_, s)| {
        matches!(
            &s.input,
            Input::Deliver {
                msg: Msg::Accept { .. },
                ..
            }
        )
    });
    let reads = recording
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Return { op: Op::Read, .. }));
    recovers_after_a_save && accepts && reads && follower_election(recording).is_some()
}

fn server(state: &StateRecord) -> &paxos_model::server::ServerState {
    state
        .state
        .as_ref()
        .and_then(NodeState::as_server)
        .expect("a full server state")
}

/// A `Recover` step and an older state its replica saved (or `None`: an empty start).
fn stale_storage_target(
    recording: &Recording,
) -> Option<(usize, Option<paxos_model::durable::Durable>)> {
    let mut saves: std::collections::BTreeMap<usize, Vec<paxos_model::durable::Durable>> =
        Default::default();
    for (i, s) in steps(recording) {
        if let Input::Recover { storage } = &s.input {
            let older = saves.get(&s.actor).and_then(|v| {
                v.iter()
                    .rev()
                    .find(|d| Some(*d) != storage.as_ref())
                    .cloned()
            });
            match (older, storage) {
                (Some(d), _) => return Some((i, Some(d))),
                (None, Some(_)) => return Some((i, None)),
                (None, None) => {}
            }
        }
        for o in &s.outputs {
            if let Output::Save {
                durable: Some(d), ..
            } = o
            {
                saves.entry(s.actor).or_default().push(d.clone());
            }
        }
    }
    None
}

/// An election timeout at a replica that does not lead (so its heartbeat timer is not set).
fn follower_election(recording: &Recording) -> Option<usize> {
    steps(recording)
        .find(|(_, s)| {
            s.input
                == Input::Timeout {
                    timer: Timer::Election,
                }
                && s.before
                    .as_ref()
                    .is_some_and(|b| matches!(server(b).role, Role::Follower))
        })
        .map(|(i, _)| i)
}

fn step_mut(recording: &mut Recording, i: usize) -> &mut paxos_impl::record::Step {
    match &mut recording.events[i].kind {
        EventKind::Step(step) => step,
        other => panic!("event {i} is not a step: {other:?}"),
    }
}

/// Renumbers the events by position, as a recorder would have.
fn renumber(recording: &mut Recording) {
    for (i, e) in recording.events.iter_mut().enumerate() {
        e.seq = i as u64;
    }
}

fn record(state: &NodeState) -> StateRecord {
    StateRecord {
        digest: digest(state),
        state: Some(state.clone()),
    }
}

#[track_caller]
fn assert_finding(
    result: Result<impl std::fmt::Debug, Finding>,
    check: Check,
    kind: Kind,
    at: usize,
) {
    let finding = result.expect_err("the doctored recording must fail the check");
    assert_eq!(
        (finding.check, &finding.kind, finding.seq),
        (check, &kind, Some(at as u64)),
        "{finding}"
    );
    eprintln!("reported as expected: {finding}");
}

fn replayed(recording: &Recording) -> Result<paxos_proptests::replay::ReplayStats, Finding> {
    replay(recording, |_, _, _| {})
}

#[test]
fn the_base_recording_passes_every_check() {
    let report = check(base());
    assert!(report.passed(), "{report}");
}

#[test]
fn a_delivery_of_a_message_never_sent_is_reported() {
    let mut doctored = base().clone();
    let (i, accept) = steps(&doctored)
        .find(|(_, s)| {
            matches!(
                &s.input,
                Input::Deliver {
                    msg: Msg::Accept { .. },
                    ..
                }
            )
        })
        .map(|(i, s)| (i, s.clone()))
        .expect("an Accept delivered");
    // The same Accept, but from a replica that did not lead that ballot.
    let Input::Deliver { src, dst, msg } = accept.input else {
        unreachable!()
    };
    let impostor = (0..3)
        .find(|r| *r != src && *r != dst)
        .expect("a third replica");
    step_mut(&mut doctored, i).input = Input::Deliver {
        src: impostor,
        dst,
        msg,
    };
    assert_finding(replayed(&doctored), Check::Replay, Kind::NeverSent, i);
    assert_finding(check_path(&doctored), Check::Path, Kind::NeverSent, i);
}

#[test]
fn a_restart_from_stale_storage_is_reported() {
    let mut doctored = base().clone();
    let (i, stale) = stale_storage_target(&doctored).expect("a restart after saves");
    // The replica restarts from the stale state, and everything it records is consistent
    // with that: only the storage it was given is wrong.
    let step = step_mut(&mut doctored, i);
    let node = base().config.node(step.actor);
    step.input = Input::Recover { storage: stale };
    let (state, output) = step.input.run(&node, step.actor, None);
    step.after = record(&state);
    step.outputs = output
        .effects()
        .iter()
        .map(|e| Output::of(e, paxos_impl::record::StateDetail::Full))
        .collect();
    assert_finding(replayed(&doctored), Check::Replay, Kind::StaleStorage, i);
    assert_finding(check_path(&doctored), Check::Path, Kind::StaleStorage, i);
}

#[test]
fn a_reordered_step_is_reported() {
    let mut doctored = base().clone();
    // Two successive steps of one replica that both change its state, the second delivering
    // a copy sent before the first: swapped, each input is still possible, but the second
    // step now starts from a state the replica was not in.
    let all: Vec<(usize, paxos_impl::record::Step)> =
        steps(&doctored).map(|(i, s)| (i, s.clone())).collect();
    let changes = |s: &paxos_impl::record::Step| {
        s.before
            .as_ref()
            .is_some_and(|b| b.digest != s.after.digest)
    };
    let sent_before = |msg: &Msg, src: usize, dst: usize, before: usize| {
        all.iter().any(|(j, s)| {
            *j < before
                && s.actor == src
                && s.outputs
                    .iter()
                    .any(|o| matches!(o, Output::Send { dst: d, msg: m } if *d == dst && m == msg))
        })
    };
    let (i, j) = all
        .iter()
        .enumerate()
        .filter(|(_, (_, s))| s.actor < 3 && changes(s))
        .find_map(|(k, (i, first))| {
            let (j, second) = all[k + 1..].iter().find(|(_, s)| s.actor == first.actor)?;
            let Input::Deliver { src, dst, msg } = &second.input else {
                return None;
            };
            (changes(second) && sent_before(msg, *src, *dst, *i)).then_some((*i, *j))
        })
        .expect("two successive state-changing steps of one replica");
    let later = doctored.events.remove(j);
    doctored.events.insert(i, later);
    renumber(&mut doctored);
    assert_finding(replayed(&doctored), Check::Replay, Kind::BeforeMismatch, i);
    assert_finding(check_path(&doctored), Check::Path, Kind::BeforeMismatch, i);
}

#[test]
fn a_delivery_moved_before_its_send_is_reported() {
    let mut doctored = base().clone();
    let (j, delivery) = steps(&doctored)
        .find(|(_, s)| {
            matches!(
                &s.input,
                Input::Deliver {
                    msg: Msg::Accept { .. },
                    ..
                }
            )
        })
        .map(|(j, s)| (j, s.clone()))
        .expect("an Accept delivered");
    let Input::Deliver { src, dst, msg } = &delivery.input else {
        unreachable!()
    };
    let (i, _) = steps(&doctored)
        .find(|(_, s)| {
            s.actor == *src
                && s.outputs
                    .iter()
                    .any(|o| matches!(o, Output::Send { dst: d, msg: m } if d == dst && m == msg))
        })
        .expect("the step that sent it");
    let moved = doctored.events.remove(j);
    doctored.events.insert(i, moved);
    renumber(&mut doctored);
    assert_finding(replayed(&doctored), Check::Replay, Kind::NeverSent, i);
    assert_finding(check_path(&doctored), Check::Path, Kind::NeverSent, i);
}

#[test]
fn a_timer_that_was_never_set_is_reported() {
    let mut doctored = base().clone();
    let i = follower_election(&doctored).expect("a follower's election timeout");
    step_mut(&mut doctored, i).input = Input::Timeout {
        timer: Timer::Heartbeat,
    };
    assert_finding(replayed(&doctored), Check::Replay, Kind::TimerNotSet, i);
    assert_finding(check_path(&doctored), Check::Path, Kind::TimerNotSet, i);
}

#[test]
fn a_missing_output_is_reported() {
    let mut doctored = base().clone();
    let (i, _) = steps(&doctored)
        .find(|(_, s)| s.outputs.iter().any(|o| matches!(o, Output::Send { .. })))
        .expect("a step that sends");
    let outputs = &mut step_mut(&mut doctored, i).outputs;
    let last_send = outputs
        .iter()
        .rposition(|o| matches!(o, Output::Send { .. }))
        .expect("a send");
    outputs.remove(last_send);
    assert_finding(replayed(&doctored), Check::Replay, Kind::OutputsMismatch, i);
}

#[test]
fn a_changed_state_is_reported() {
    let mut doctored = base().clone();
    let (i, _) = steps(&doctored)
        .find(|(_, s)| s.actor < 3 && s.before.is_some())
        .expect("a replica's step");
    let step = step_mut(&mut doctored, i);
    let mut state = step.after.state.clone().expect("a full state");
    if let NodeState::Server(s) = &mut state {
        s.durable.promised = Ballot::new(99, ServerId(0));
    }
    step.after = record(&state);
    assert_finding(replayed(&doctored), Check::Replay, Kind::AfterMismatch, i);
    assert_finding(check_path(&doctored), Check::Path, Kind::AfterMismatch, i);
}

/// The replicas' states as check 1 replays them from the base recording.
fn base_observations() -> Observations {
    let mut observations = Observations::default();
    replay(base(), |seq, replica, state| {
        observations.observe(seq, replica, state)
    })
    .expect("the base recording replays");
    observations
}

#[test]
fn a_wrong_client_result_is_reported_by_check_3() {
    let mut doctored = base().clone();
    let i = doctored
        .events
        .iter()
        .position(|e| matches!(e.kind, EventKind::Return { op: Op::Read, .. }))
        .expect("a read returned");
    if let EventKind::Return { result, .. } = &mut doctored.events[i].kind {
        *result = OpResult::ReadOk(Value(424_242));
    }
    let observations = base_observations();
    assert_finding(
        check_observable(&doctored, &observations),
        Check::Observable,
        Kind::WrongResult,
        i,
    );
    // Check 1 sees that the return is not the reply the client's step took.
    assert_finding(replayed(&doctored), Check::Replay, Kind::BadClientEvent, i);
}

/// The last state of replica 0 in the base recording, and the event it is from.
fn last_server_state() -> (u64, paxos_model::server::ServerState) {
    let (i, s) = steps(base())
        .filter(|(_, s)| s.actor == 0)
        .last()
        .expect("a step of replica 0");
    (i as u64, server(&s.after).clone())
}

#[test]
fn a_slot_decided_two_ways_is_reported_by_check_3() {
    let mut observations = base_observations();
    let (seq, mut state) = last_server_state();
    let (slot, decision) = state
        .learned
        .iter()
        .next_back()
        .map(|(s, d)| (*s, d.clone()))
        .expect("a decision in the log");
    state.learned.insert(
        slot,
        Decision {
            command: Command::NoOp,
            ..decision
        },
    );
    observations.observe(seq + 1_000_000, 1, &NodeState::Server(state));
    assert_finding(
        check_observable(base(), &observations),
        Check::Observable,
        Kind::Disagreement,
        seq as usize + 1_000_000,
    );
}

#[test]
fn a_command_executed_twice_is_reported_by_check_3() {
    let mut observations = base_observations();
    let (seq, mut state) = last_server_state();
    // The state machine as if an earlier write had run again at the end.
    let earlier = base()
        .events
        .iter()
        .find_map(|e| match e.kind {
            EventKind::Invoke {
                op: Op::Write(v), ..
            } if v != state.applied.machine.value => Some(v),
            _ => None,
        })
        .expect("another write");
    state.applied.machine.value = earlier;
    observations.observe(seq + 1_000_000, 0, &NodeState::Server(state));
    assert_finding(
        check_observable(base(), &observations),
        Check::Observable,
        Kind::NotExactlyOnce,
        seq as usize + 1_000_000,
    );
}

#[test]
fn a_command_nobody_submitted_is_reported_by_check_3() {
    let mut observations = base_observations();
    let (seq, mut state) = last_server_state();
    // A slot no replica decided in the run: replica 0's last state can be behind another
    // replica's, and a slot another replica decided is reported as a disagreement first.
    let slot = steps(base())
        .filter(|(_, s)| s.actor < base().config.replicas)
        .map(|(_, s)| {
            let state = server(&s.after);
            let learned = state
                .learned
                .keys()
                .next_back()
                .map_or(Slot(0), |s| s.next());
            learned.max(state.applied.next_slot)
        })
        .max()
        .expect("a step of a replica");
    let invented = ClientCommand {
        client: ClientId(3),
        request: RequestId(99),
        op: Op::Write(Value(7)),
    };
    state.learned.insert(
        slot,
        Decision {
            ballot: Ballot::new(1, ServerId(0)),
            command: Command::Client(invented),
        },
    );
    observations.observe(seq + 1_000_000, 0, &NodeState::Server(state));
    assert_finding(
        check_observable(base(), &observations),
        Check::Observable,
        Kind::NotSubmitted,
        seq as usize + 1_000_000,
    );
}

#[test]
fn a_digest_only_recording_passes_checks_1_to_3() {
    let mut digests = base().clone();
    for e in &mut digests.events {
        if let EventKind::Step(step) = &mut e.kind {
            if let Some(before) = &mut step.before {
                before.state = None;
            }
            step.after.state = None;
            for o in &mut step.outputs {
                *o = o.normalized();
            }
        }
    }
    let report = check(&digests);
    assert!(report.passed(), "{report}");
}

fn replay_binary(file: &std::path::Path) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_replay"))
        .arg(file)
        .output()
        .expect("the replay binary runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), text)
}

#[test]
fn the_replay_binary_passes_a_good_file_and_fails_a_doctored_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jsonl");
    base().write(&good).unwrap();
    let read = Recording::read(&good).unwrap();
    assert_eq!(read.events, base().events, "the file round-trips");
    let (ok, text) = replay_binary(&good);
    assert!(ok, "{text}");
    assert!(text.contains("check 3 (observable) passed"), "{text}");

    let mut doctored = base().clone();
    let i = follower_election(&doctored).expect("a follower's election timeout");
    step_mut(&mut doctored, i).input = Input::Timeout {
        timer: Timer::Heartbeat,
    };
    let bad = dir.path().join("bad.jsonl");
    doctored.write(&bad).unwrap();
    let (ok, text) = replay_binary(&bad);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!(
            "check 1 (replay through the step functions) failed at event #{i}"
        )),
        "{text}"
    );
}

/// The base recording's crash: its position, the replica, and how many steps the replica took
/// since it started.
fn the_crash(recording: &Recording) -> (usize, usize, u32) {
    let (i, actor) = recording
        .events
        .iter()
        .enumerate()
        .find_map(|(i, e)| match e.kind {
            EventKind::Crash { actor, .. } => Some((i, actor)),
            _ => None,
        })
        .expect("a crash");
    let taken = steps(recording)
        .filter(|(j, s)| *j < i && s.actor == actor)
        .filter(|(_, s)| !matches!(s.input, Input::Start { .. }))
        .count();
    (i, actor, taken as u32)
}

fn set_unsaved(recording: &mut Recording, i: usize, n: u32) {
    match &mut recording.events[i].kind {
        EventKind::Crash { unsaved, .. } => *unsaved = n,
        other => panic!("event {i} is not a crash: {other:?}"),
    }
}

#[test]
fn a_crash_that_loses_the_state_of_sent_messages_is_reported() {
    // The crash says every step of the replica lost its save: its messages, delivered long
    // before, left before the state they report was durable.
    let mut doctored = base().clone();
    let (i, actor, taken) = the_crash(&doctored);
    set_unsaved(&mut doctored, i, taken);
    let from_actor = |e: &&paxos_impl::record::Event, deliveries_only: bool| match &e.kind {
        EventKind::Step(s) => matches!(&s.input, Input::Deliver { src, .. } if *src == actor),
        EventKind::Dropped { src, .. } | EventKind::Duplicated { src, .. } => {
            !deliveries_only && *src == actor
        }
        _ => false,
    };
    let first = |deliveries_only| {
        doctored
            .events
            .iter()
            .find(|e| from_actor(e, deliveries_only))
            .map(|e| e.seq as usize)
            .expect("a message from the crashed replica")
    };
    assert_finding(
        replayed(&doctored),
        Check::Replay,
        Kind::SentBeforeSaved,
        first(false),
    );
    assert_finding(
        check_path(&doctored),
        Check::Path,
        Kind::SentBeforeSaved,
        first(true),
    );
}

#[test]
fn a_crash_that_loses_more_steps_than_were_taken_is_reported() {
    let mut doctored = base().clone();
    let (i, _, taken) = the_crash(&doctored);
    set_unsaved(&mut doctored, i, taken + 1);
    assert_finding(replayed(&doctored), Check::Replay, Kind::BadCrash, i);
    assert_finding(check_path(&doctored), Check::Path, Kind::BadCrash, i);
}
