//! The recording is causally ordered, complete enough to replay, and replays exactly through
//! the model's step functions: every recorded state and output is what the model computes from
//! the recorded inputs.

mod common;

use common::*;
use paxos_impl::record::{
    digest, read_events, DropReason, Event, EventKind, Input, Output, RecorderConfig, StateDetail,
};
use paxos_impl::{ClusterConfig, FaultConfig, Recorder};
use paxos_model::actor::PaxosState;
use paxos_model::durable::Durable;
use paxos_model::msg::Msg;
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

/// Runs a small cluster under every kind of fault, recording everything.
fn record_a_run(trace: &std::path::Path) -> (ClusterConfig, Vec<Event>) {
    let recorder = Recorder::new(RecorderConfig {
        in_memory: true,
        trace: Some(trace.to_path_buf()),
        history: None,
        detail: StateDetail::Full,
    })
    .unwrap();
    let cluster = start(3, 41, |cfg| {
        cfg.faults = FaultConfig {
            loss: 0.05,
            dup: 0.05,
            delay: Duration::ZERO..Duration::from_millis(3),
        };
        cfg.recorder = Some(recorder.clone());
    });
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=10);
    let leader = cluster.leader().unwrap();
    cluster.crash(leader).unwrap();
    write_all(&mut client, 11..=15);
    cluster.restart(leader).unwrap();
    cluster.isolate(&[(leader + 1) % 3]).unwrap();
    concurrent_writes(&cluster, 2, 5);
    cluster.heal();
    write_all(&mut client, [16]);
    let cfg = cluster.config().clone();
    cluster.shutdown().unwrap();
    drop(cluster);
    (cfg, recorder.events())
}

fn outputs(out: Out<paxos_model::actor::PaxosActor>) -> Vec<Output> {
    out.iter()
        .map(|c| Output::of(c, StateDetail::Digest).normalized())
        .collect()
}

#[test]
fn the_recording_is_causal_and_replays_through_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let (cfg, events) = record_a_run(&trace);
    assert!(events.len() > 100);
    assert_eq!(
        read_events(&trace).unwrap(),
        events,
        "the JSON lines round-trip"
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64);
    }

    // Causality: every delivery and every drop consumes a copy that a step sent (or the
    // network duplicated) earlier in the order.
    let mut in_flight: BTreeMap<(usize, usize, Msg), u64> = BTreeMap::new();
    fn take(
        in_flight: &mut BTreeMap<(usize, usize, Msg), u64>,
        key: (usize, usize, Msg),
        seq: u64,
    ) {
        let n = in_flight.get_mut(&key);
        assert!(
            n.as_ref().is_some_and(|n| **n > 0),
            "event {seq} consumes {key:?}, which was never sent"
        );
        *n.unwrap() -= 1;
    }
    let mut counts = BTreeMap::new();
    for e in &events {
        match &e.kind {
            EventKind::Step(step) => {
                if let Input::Deliver { src, dst, msg } = &step.input {
                    assert_eq!(*dst, step.actor);
                    take(&mut in_flight, (*src, *dst, msg.clone()), e.seq);
                }
                for o in &step.outputs {
                    if let Output::Send { dst, msg } = o {
                        *in_flight
                            .entry((step.actor, *dst, msg.clone()))
                            .or_default() += 1;
                    }
                }
            }
            EventKind::Duplicated { src, dst, msg } => {
                *in_flight.entry((*src, *dst, msg.clone())).or_default() += 1;
            }
            EventKind::Dropped {
                src,
                dst,
                msg,
                reason,
            } => {
                take(&mut in_flight, (*src, *dst, msg.clone()), e.seq);
                *counts.entry(format!("{reason:?}")).or_insert(0) += 1;
            }
            _ => {}
        }
    }
    for reason in [
        DropReason::Loss,
        DropReason::Partition,
        DropReason::DestinationDown,
    ] {
        assert!(
            counts.contains_key(&format!("{reason:?}")),
            "no {reason:?} drop in {counts:?}"
        );
    }

    // Replay: each actor from its Start/Recover, every step through the model's handler.
    let mut states: BTreeMap<usize, PaxosState> = BTreeMap::new();
    let mut saved: BTreeMap<usize, Durable> = BTreeMap::new();
    let mut crashed = BTreeMap::new();
    let (mut steps, mut recoveries, mut returns) = (0, 0, 0);
    for e in &events {
        let step = match &e.kind {
            EventKind::Step(step) => step,
            EventKind::Crash { actor } => {
                states.remove(actor).expect("a running actor crashes");
                crashed.insert(*actor, true);
                continue;
            }
            EventKind::Return { .. } => {
                returns += 1;
                continue;
            }
            _ => continue,
        };
        steps += 1;
        let id = Id::from(step.actor);
        let actor = cfg.actor(step.actor);
        let mut out = Out::new();
        let next = match &step.input {
            Input::Start { storage } | Input::Recover { storage } => {
                assert!(step.before.is_none());
                if matches!(step.input, Input::Recover { .. }) {
                    recoveries += 1;
                    assert_eq!(crashed.remove(&step.actor), Some(true));
                    // Persist before crash: it recovers from its last recorded save.
                    assert_eq!(storage.as_ref(), saved.get(&step.actor), "event {}", e.seq);
                } else {
                    assert!(!states.contains_key(&step.actor));
                }
                actor.on_start(id, storage, &mut out)
            }
            input => {
                let state = states.get(&step.actor).expect("steps follow a start");
                let before = step.before.as_ref().expect("a before state");
                assert_eq!(before.digest, digest(state), "event {}", e.seq);
                let mut cow = Cow::Borrowed(state);
                match input {
                    Input::Deliver { src, msg, .. } => {
                        actor.on_msg(id, &mut cow, Id::from(*src), msg.clone(), &mut out)
                    }
                    Input::Timeout { timer } => actor.on_timeout(id, &mut cow, timer, &mut out),
                    Input::Submit { op } => actor.on_random(id, &mut cow, op, &mut out),
                    _ => unreachable!(),
                }
                cow.into_owned()
            }
        };
        assert_eq!(step.after.digest, digest(&next), "event {}", e.seq);
        assert_eq!(step.after.state.as_ref(), Some(&next), "event {}", e.seq);
        let recorded: Vec<Output> = step.outputs.iter().map(Output::normalized).collect();
        assert_eq!(recorded, outputs(out), "event {}", e.seq);
        for o in &step.outputs {
            if let Output::Save { durable, .. } = o {
                saved.insert(step.actor, durable.clone().expect("full detail"));
            }
        }
        states.insert(step.actor, next);
    }
    assert!(
        steps > 100 && recoveries == 1 && returns >= 27,
        "{steps} {recoveries} {returns}"
    );
}

#[test]
fn a_history_file_holds_client_events_only() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let recorder = Recorder::new(RecorderConfig {
        history: Some(history.clone()),
        ..RecorderConfig::default()
    })
    .unwrap();
    let cluster = start(3, 42, |cfg| cfg.recorder = Some(recorder));
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=3);
    cluster.shutdown().unwrap();
    let events = read_events(&history).unwrap();
    assert_eq!(events.len(), 8, "4 invocations, 4 returns");
    assert!(events
        .iter()
        .all(|e| matches!(e.kind, EventKind::Invoke { .. } | EventKind::Return { .. })));
    assert!(events.windows(2).all(|w| w[0].at_us <= w[1].at_us));
}
