//! Configuration mistakes are errors, never panics.

use paxos_impl::{Cluster, ClusterConfig, ClusterError, ConfigError, FaultConfig, StorageChoice};
use std::time::Duration;

fn start_err(tweak: impl FnOnce(&mut ClusterConfig)) -> ClusterError {
    let mut cfg = ClusterConfig::new(3);
    tweak(&mut cfg);
    Cluster::start(cfg).expect_err("an invalid configuration")
}

#[test]
fn invalid_configurations_are_reported() {
    let e = start_err(|c| c.replicas = 0);
    assert!(
        matches!(e, ClusterError::Config(ConfigError::NoReplicas)),
        "{e}"
    );
    let e = start_err(|c| c.replicas = 100);
    assert!(
        matches!(e, ClusterError::Config(ConfigError::TooManyReplicas { .. })),
        "{e}"
    );
    let e = start_err(|c| c.faults.loss = 1.5);
    assert!(
        matches!(e, ClusterError::Config(ConfigError::Probability { .. })),
        "{e}"
    );
    let e = start_err(|c| c.faults.dup = f64::NAN);
    assert!(
        matches!(e, ClusterError::Config(ConfigError::Probability { .. })),
        "{e}"
    );
    let e = start_err(|c| c.faults.dup = 1.0);
    assert!(
        matches!(e, ClusterError::Config(ConfigError::DupRateOne(_))),
        "{e}"
    );
    let e = start_err(|c| {
        c.faults = FaultConfig {
            delay: Duration::from_millis(5)..Duration::from_millis(1),
            ..FaultConfig::default()
        }
    });
    assert!(
        matches!(e, ClusterError::Config(ConfigError::DelayRange { .. })),
        "{e}"
    );

    let file = tempfile::NamedTempFile::new().unwrap();
    let under_a_file = file.path().join("data");
    let e = start_err(|c| c.storage = StorageChoice::Disk(under_a_file));
    assert!(
        matches!(e, ClusterError::Config(ConfigError::DataDir { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("data directory"), "{e}");
}

#[test]
fn a_shut_down_cluster_refuses_work() {
    let cluster = Cluster::start(ClusterConfig::new(3)).unwrap();
    let mut client = cluster.client().unwrap();
    cluster.shutdown().unwrap();
    cluster.shutdown().unwrap(); // Idempotent.
    assert!(matches!(cluster.client(), Err(ClusterError::Shutdown)));
    assert!(matches!(cluster.crash(0), Err(ClusterError::Shutdown)));
    assert!(matches!(
        client.read(),
        Err(paxos_impl::ClientError::Shutdown)
    ));
}
