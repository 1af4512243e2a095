//! Partitions: a majority keeps going without an isolated minority (or leader); with no
//! majority anywhere nothing is decided until the partition heals.

mod common;

use common::*;
use paxos_impl::ClientError;
use paxos_model::types::{Op, OpResult, Value};
use std::time::Duration;

#[test]
fn an_isolated_leader_is_replaced_and_the_majority_goes_on() {
    let cluster = start(5, 21, |_| {});
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=10);
    let old = cluster.leader().expect("a leader");
    cluster.isolate(&[old]).unwrap();
    write_all(&mut client, 11..=30);
    let new = cluster.leader().expect("a leader");
    assert_ne!(new, old, "the majority elected another leader");
    cluster.heal();
    write_all(&mut client, 31..=35);
    cluster.check_agreement().expect("agreement");
    assert!(cluster.net_stats().dropped_partition > 0);
}

#[test]
fn an_isolated_minority_does_not_stop_the_majority() {
    let cluster = start(5, 22, |_| {});
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=5);
    let leader = cluster.leader().expect("a leader");
    let minority: Vec<usize> = (0..5).filter(|r| *r != leader).take(2).collect();
    cluster.isolate(&minority).unwrap();
    write_all(&mut client, 6..=40);
    assert_eq!(
        cluster.leader(),
        Some(leader),
        "the leader kept its majority"
    );
    cluster.heal();
    // The isolated replicas catch up after the partition heals.
    write_all(&mut client, 41..=42);
    let target = cluster.status(leader).applied;
    eventually(Duration::from_secs(5), "the minority catches up", || {
        minority
            .iter()
            .all(|r| cluster.status(*r).applied >= target)
    });
    cluster.check_agreement().expect("agreement");
}

#[test]
fn without_a_majority_nothing_is_decided_until_the_partition_heals() {
    let cluster = start(5, 23, |_| {});
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=5);
    cluster
        .partition(&[vec![0, 1], vec![2, 3], vec![4]])
        .unwrap();
    let err = client
        .execute_timeout(Op::Write(Value(6)), Duration::from_millis(1500))
        .unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
    assert!(matches!(
        client.execute(Op::Read),
        Err(ClientError::Busy { .. })
    ));
    cluster.heal();
    // The command in flight runs once the partition heals, exactly once.
    assert_eq!(client.wait(OP_TIMEOUT).unwrap(), OpResult::WriteOk);
    assert_eq!(client.read().unwrap(), Value(6));
    cluster.check_agreement().expect("agreement");
}
