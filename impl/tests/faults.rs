//! A lossy, duplicating, reordering network: every command still completes exactly once.

mod common;

use common::*;
use paxos_impl::FaultConfig;
use paxos_model::types::Value;
use std::collections::BTreeMap;
use std::time::Duration;

#[test]
fn loss_duplication_and_delay_do_not_break_agreement_or_progress() {
    let cluster = start(3, 31, |cfg| {
        cfg.faults = FaultConfig {
            loss: 0.1,
            dup: 0.1,
            delay: Duration::ZERO..Duration::from_millis(5),
        }
    });
    concurrent_writes(&cluster, 4, 40);
    let mut client = cluster.client().unwrap();
    write_all(&mut client, [99]);
    let agreement = cluster.check_agreement().expect("agreement");
    // Batches put several writes in one slot: the commands are counted below.
    assert!(agreement.slots > 0);
    let net = cluster.net_stats();
    assert!(net.dropped_loss > 0 && net.duplicated > 0, "{net:?}");

    // Retries and duplicates may decide a command in more than one slot, but the sessions run
    // it once: the register's history is exactly the writes, each once.
    let mut union = BTreeMap::new();
    for r in 0..3 {
        union.extend(cluster.decided(r));
    }
    let mut writes: Vec<_> = union
        .values()
        .flat_map(|d| d.command.client_commands().to_vec())
        .map(|c| (c.client, c.request))
        .collect();
    writes.sort();
    writes.dedup();
    // Every write, each once; the final read is a ReadIndex read and takes no slot.
    assert_eq!(writes.len(), 4 * 40 + 1, "every write decided");
    assert_eq!(client.read().unwrap(), Value(99));
    cluster.shutdown().unwrap();
}
