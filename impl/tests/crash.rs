//! Crashes and restarts: a leader crash, a whole-cluster restart from disk, and damaged storage.

mod common;

use common::*;
use paxos_impl::{ClusterConfig, ClusterError, StorageChoice, StorageError};
use paxos_model::types::Value;
use std::collections::BTreeMap;
use std::time::Duration;

#[test]
fn a_leader_crash_loses_nothing_and_the_cluster_goes_on() {
    let cluster = start(3, 11, |_| {});
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=50);
    let old = cluster.leader().expect("a leader");
    let before = cluster.decided(old);
    // The 50 writes, each in a slot of its own (one client, one command at a time); the read
    // after them is a ReadIndex read and takes no slot.
    assert!(before.len() >= 50, "{} slots", before.len());

    cluster.crash(old).unwrap();
    assert!(!cluster.status(old).up);
    write_all(&mut client, 51..=100);
    let new = cluster.leader().expect("a new leader");
    assert_ne!(new, old);
    assert!(cluster.leader_ballots().len() >= 2);

    // Every slot decided before the crash is decided, the same way, at every survivor.
    for survivor in (0..3).filter(|r| *r != old) {
        let now = cluster.decided(survivor);
        for (slot, d) in &before {
            assert_eq!(
                now.get(slot).map(|n| n.command.clone()),
                Some(d.command.clone()),
                "replica {survivor}, slot {slot:?}"
            );
        }
    }

    // The crashed leader comes back from storage and catches up.
    cluster.restart(old).unwrap();
    write_all(&mut client, 101..=110);
    let target = cluster.status(new).applied;
    eventually(
        Duration::from_secs(5),
        "the restarted replica catches up",
        || cluster.status(old).applied >= target,
    );
    assert_eq!(cluster.register(old), Value(110));
    cluster.check_agreement().expect("agreement");
    cluster.shutdown().unwrap();
}

#[test]
fn a_whole_cluster_restarts_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let disk = |cfg: &mut ClusterConfig| cfg.storage = StorageChoice::Disk(dir.path().into());
    let cluster = start(3, 12, disk);
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=80); // More than `compact_every` slots: snapshots are stored.
    let before: Vec<BTreeMap<_, _>> = (0..3).map(|r| cluster.decided(r)).collect();

    for r in 0..3 {
        cluster.crash(r).unwrap();
    }
    for r in 0..3 {
        cluster.restart(r).unwrap();
    }
    // Decided commands survive: the register still holds the last write, and new commands run.
    assert_eq!(client.read().unwrap(), Value(80));
    write_all(&mut client, 81..=90);
    cluster
        .check_agreement()
        .expect("agreement across incarnations");
    for (r, old) in before.iter().enumerate() {
        let now = cluster.decided(r);
        assert!(old.iter().all(|(slot, d)| now[slot] == *d));
    }
    cluster.shutdown().unwrap();
    drop(cluster);

    // A new process on the same data directory: new clients get fresh ids and continue.
    let cluster = start(3, 13, disk);
    let mut client = cluster.client().unwrap();
    assert_eq!(client.read().unwrap(), Value(90));
    write_all(&mut client, 91..=95);
    cluster.check_agreement().expect("agreement");
}

fn flip_last_byte(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_corrupt_storage_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let disk = |cfg: &mut ClusterConfig| cfg.storage = StorageChoice::Disk(dir.path().into());
    let cluster = start(3, 14, disk);
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=5);

    // A running replica's damaged file: restart refuses, the replica stays down.
    cluster.crash(2).unwrap();
    let file = dir.path().join("replica-2.durable");
    flip_last_byte(&file);
    let err = cluster.restart(2).unwrap_err();
    assert!(
        matches!(
            &err,
            ClusterError::Storage {
                replica: 2,
                source: StorageError::Corrupt { .. }
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("corrupt") && message.contains("replica-2.durable"));
    assert!(!cluster.status(2).up);
    assert!(cluster.status(2).failure.is_some());
    // The majority goes on without it.
    write_all(&mut client, 6..=8);
    cluster.shutdown().unwrap();
    drop(cluster);

    // A damaged file stops a whole cluster from starting.
    let mut cfg = ClusterConfig::new(3);
    disk(&mut cfg);
    let err = paxos_impl::Cluster::start(cfg).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");

    // A truncated one too.
    std::fs::write(&file, b"PAXOSDUR\x01").unwrap();
    let mut cfg = ClusterConfig::new(3);
    disk(&mut cfg);
    let err = paxos_impl::Cluster::start(cfg).unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");
}

#[test]
fn crash_and_restart_report_wrong_states() {
    let cluster = start(3, 15, |_| {});
    assert!(matches!(
        cluster.restart(0),
        Err(ClusterError::WrongState { .. })
    ));
    cluster.crash(0).unwrap();
    assert!(matches!(
        cluster.crash(0),
        Err(ClusterError::WrongState { .. })
    ));
    assert!(matches!(
        cluster.crash(7),
        Err(ClusterError::NoSuchReplica { .. })
    ));
    cluster.restart(0).unwrap();
    assert_eq!(cluster.status(0).incarnation, 2);
}
