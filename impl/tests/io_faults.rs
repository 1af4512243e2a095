//! Faults inside a step's I/O: crashes at each crash point (after the save, between two sends, in
//! the middle of a save: a torn log record) and saves that fail. Whatever the point, a replica
//! restarts from its storage without breaking agreement or losing an acknowledged write; a
//! replica whose save fails stops and never sends what depended on it.

mod common;

use common::*;
use paxos_impl::record::{EventKind, Input, Output, StateDetail};
use paxos_impl::{
    Cluster, ClusterConfig, CrashPoint, DiskStorage, FaultyStorage, Recorder, StorageChoice,
    StorageFault,
};
use paxos_model::msg::Msg;
use paxos_model::types::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Limit: how long a test waits for a replica to reach a crash point under load.
const POINT_WAIT: Duration = Duration::from_secs(3);

/// `writers` clients writing until `stop`, so that replicas have batches that save and send.
fn load(
    cluster: &Cluster,
    writers: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..writers)
        .map(|w| {
            let mut client = cluster.client().expect("a client");
            let stop = Arc::clone(stop);
            std::thread::spawn(move || {
                let mut v = (w as u64 + 1) * 1_000_000;
                while !stop.load(Ordering::SeqCst) {
                    v += 1;
                    // A write may be cut off by a crash and time out: the next one goes on.
                    let _ = client.write(Value(v));
                }
            })
        })
        .collect()
}

fn disk(dir: &Path) -> impl Fn(&mut ClusterConfig) + '_ {
    move |cfg: &mut ClusterConfig| cfg.storage = StorageChoice::Disk(dir.into())
}

#[test]
fn every_crash_point_on_the_leader_and_a_follower_keeps_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(3, 51, disk(dir.path()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers = load(&cluster, 3, &stop);
    let mut client = cluster.client().unwrap();
    for point in CrashPoint::ALL {
        for leader in [true, false] {
            let leading = cluster.wait_for_leader(OP_TIMEOUT).expect("a leader");
            let target = if leader { leading } else { (leading + 1) % 3 };
            let at = cluster.crash_at(target, point, POINT_WAIT).unwrap();
            assert_eq!(
                at,
                Some(point),
                "replica {target} (leader: {leader}) reached {point:?}"
            );
            // The others go on; the crashed replica comes back from its file and catches up.
            client.write(Value(1)).unwrap();
            cluster.restart(target).unwrap();
            client.write(Value(2)).unwrap();
            let now = cluster.leader().map(|l| cluster.status(l).applied);
            eventually(OP_TIMEOUT, "the restarted replica catches up", || {
                now.is_none_or(|slot| cluster.status(target).applied >= slot)
            });
        }
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    write_all(&mut client, [3]);
    cluster.check_agreement().expect("agreement");
    cluster.shutdown().unwrap();
}

#[test]
fn a_save_torn_by_a_crash_is_cut_off_at_restart_and_nothing_acknowledged_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(3, 52, disk(dir.path()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers = load(&cluster, 2, &stop);
    let mut client = cluster.client().unwrap();
    let mut torn = 0;
    for crash in 0..8 {
        let leading = cluster.wait_for_leader(OP_TIMEOUT).expect("a leader");
        let target = (leading + crash % 3) % 3;
        let file = dir.path().join(format!("replica-{target}.durable"));
        let at = cluster
            .crash_at(target, CrashPoint::MidSave, POINT_WAIT)
            .unwrap();
        assert_eq!(at, Some(CrashPoint::MidSave));
        let crashed_len = std::fs::metadata(&file).unwrap().len();
        cluster.restart(target).unwrap();
        // The restart read the log and cut a torn tail (if the cut left any byte).
        torn += usize::from(std::fs::metadata(&file).unwrap().len() < crashed_len);
        client.write(Value(crash as u64)).unwrap();
    }
    assert!(
        torn >= 4,
        "only {torn} of 8 crashes left a torn tail to cut"
    );
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    let last = write_all(&mut client, [99]);
    cluster.check_agreement().expect("agreement");
    cluster.shutdown().unwrap();
    drop(cluster);
    // A new process on the same files: every acknowledged write is there.
    let cluster = start(3, 53, disk(dir.path()));
    let mut client = cluster.client().unwrap();
    assert_eq!(client.read().unwrap(), last);
}

#[test]
fn a_failed_save_stops_the_replica_and_nothing_that_depended_on_it_leaves() {
    for (fault, seed) in [(StorageFault::Fsync, 54), (StorageFault::Write, 55)] {
        let dir = tempfile::tempdir().unwrap();
        let inner = Arc::new(
            DiskStorage::<paxos_model::state_machine::Register>::open(dir.path()).unwrap(),
        );
        let faulty = Arc::new(FaultyStorage::new(inner, seed));
        let recorder = Recorder::in_memory(StateDetail::Digest);
        let cluster = start(3, seed, |cfg| {
            cfg.storage = StorageChoice::Shared(faulty.clone());
            cfg.recorder = Some(recorder.clone());
        });
        let mut client = cluster.client().unwrap();
        write_all(&mut client, 1..=3);
        let leader = cluster.leader().expect("a leader");
        let follower = (leader + 1) % 3;
        faulty.fail_next_save(follower, fault);
        // Its next save is a vote: it fails, and the other two carry on.
        write_all(&mut client, 4..=10);
        eventually(OP_TIMEOUT, "the follower stops", || {
            cluster.status(follower).failure.is_some()
        });
        let status = cluster.status(follower);
        let failure = status.failure.clone().unwrap();
        assert!(!status.up, "{status:?}");
        assert!(
            failure.contains(&format!("injected {} failure", fault_name(fault))),
            "{failure}"
        );
        assert_eq!(faulty.injected(), 1);

        // The recording: the failure, no step of the follower after it, and the vote whose save
        // failed never reached anyone (each vote is unique: its ballot and slot).
        let events = recorder.events();
        let failed = events
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Failed { actor, .. } if *actor == follower))
            .expect("a Failed event");
        assert!(!events[failed..]
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Step(s) if s.actor == follower)));
        let last_vote = events[..failed]
            .iter()
            .rev()
            .find_map(|e| match &e.kind {
                EventKind::Step(s)
                    if s.actor == follower
                        && s.outputs.iter().any(|o| matches!(o, Output::Save { .. })) =>
                {
                    Some(s.outputs.clone())
                }
                _ => None,
            })
            .expect("the step whose save failed");
        let unsent: BTreeSet<Msg> = last_vote
            .into_iter()
            .filter_map(|o| match o {
                Output::Send { msg, .. } => Some(msg),
                _ => None,
            })
            .collect();
        assert!(
            unsent.iter().any(|m| matches!(m, Msg::Accepted { .. })),
            "{unsent:?}"
        );
        let left: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Step(s) => match &s.input {
                    Input::Deliver { src, msg, .. } if *src == follower => Some(msg),
                    _ => None,
                },
                EventKind::Dropped { src, msg, .. } | EventKind::Duplicated { src, msg, .. }
                    if *src == follower =>
                {
                    Some(msg)
                }
                _ => None,
            })
            .filter(|msg| unsent.contains(msg))
            .collect();
        assert!(
            left.is_empty(),
            "messages of the failed save left: {left:?}"
        );

        // It stays down until restarted, then reads its file again and catches up.
        std::thread::sleep(Duration::from_millis(100));
        assert!(!cluster.status(follower).up);
        cluster.restart(follower).unwrap();
        write_all(&mut client, [11]);
        eventually(OP_TIMEOUT, "the restarted replica catches up", || {
            cluster.register(follower) == Value(11)
        });
        cluster.check_agreement().expect("agreement");
        cluster.shutdown().unwrap();
    }
}

fn fault_name(fault: StorageFault) -> &'static str {
    match fault {
        StorageFault::Write => "write",
        StorageFault::Fsync => "fsync",
    }
}
