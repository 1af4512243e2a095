//! Helpers shared by the integration tests.
#![allow(dead_code)]

use paxos_impl::{Client, Cluster, ClusterConfig};
use paxos_model::types::Value;
use std::time::{Duration, Instant};

/// `paxos-impl init --data-dir DIR --id ID --cluster CLUSTER`, which must succeed.
pub fn init_data_dir(dir: &std::path::Path, id: usize, cluster: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paxos-impl"))
        .args(["init", "--data-dir"])
        .arg(dir)
        .args(["--id", &id.to_string(), "--cluster", cluster])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// Longest wait for one client operation in a test that expects progress.
pub const OP_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts a cluster of `replicas` with `tweak` applied to the default configuration.
pub fn start(replicas: usize, seed: u64, tweak: impl FnOnce(&mut ClusterConfig)) -> Cluster {
    let mut cfg = ClusterConfig::new(replicas);
    cfg.seed = seed;
    cfg.client_timeout = OP_TIMEOUT;
    tweak(&mut cfg);
    Cluster::start(cfg).expect("the cluster starts")
}

/// Writes `values` one after another, then reads back the last one.
pub fn write_all(client: &mut Client, values: impl IntoIterator<Item = u64>) -> Value {
    let mut last = None;
    for v in values {
        client
            .write(Value(v))
            .unwrap_or_else(|e| panic!("write {v}: {e}"));
        last = Some(Value(v));
    }
    let read = client.read().expect("read");
    if let Some(last) = last {
        assert_eq!(read, last, "a read after the last acknowledged write");
    }
    read
}

/// `clients` concurrent clients, each writing `ops` unique values; panics on any failure.
pub fn concurrent_writes(cluster: &Cluster, clients: usize, ops: u64) {
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let mut client = cluster.client().expect("a client");
            std::thread::spawn(move || {
                for i in 0..ops {
                    let v = (c as u64 + 1) * 1_000_000 + i;
                    client
                        .write(Value(v))
                        .unwrap_or_else(|e| panic!("client {c} write {i}: {e}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
}

/// Waits until `check` holds, at most `timeout`.
pub fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
