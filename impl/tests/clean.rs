//! A clean network: every command completes, every replica agrees and applies everything.

mod common;

use common::*;
use std::time::Duration;

fn clean_cluster(replicas: usize, seed: u64) {
    let cluster = start(replicas, seed, |_| {});
    concurrent_writes(&cluster, 4, 100);
    let mut client = cluster.client().unwrap();
    write_all(&mut client, [7, 8, 9]);
    let agreement = cluster.check_agreement().expect("agreement");
    assert!(agreement.slots >= 403, "{agreement:?}");
    // Every replica learns and applies every slot (decisions are announced to all).
    eventually(
        Duration::from_secs(5),
        "every replica applies every slot",
        || {
            cluster
                .statuses()
                .iter()
                .all(|s| s.applied.0 as usize >= agreement.slots)
        },
    );
    assert_eq!(cluster.leader_ballots().len(), 1, "one leader, no churn");
    let net = cluster.net_stats();
    assert_eq!(net.dropped(), 0);
    assert_eq!(net.duplicated, 0);
    cluster.shutdown().unwrap();
}

#[test]
fn three_replicas_agree_on_a_clean_network() {
    clean_cluster(3, 3);
}

#[test]
fn five_replicas_agree_on_a_clean_network() {
    clean_cluster(5, 5);
}

#[test]
fn classic_paxos_without_prepare_skip_also_works() {
    let cluster = start(3, 9, |cfg| cfg.prepare_skip = false);
    concurrent_writes(&cluster, 2, 20);
    cluster.check_agreement().expect("agreement");
}

#[test]
fn a_single_replica_is_a_cluster() {
    let cluster = start(1, 1, |_| {});
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=10);
    cluster.check_agreement().expect("agreement");
}
