//! Data directories across processes: `paxos-impl init`, and the refusals of a directory that
//! is not initialized, belongs to someone else, or is held by another process (exit 2, one
//! line). The refusals of `DataDir::open` itself are unit tests in `storage/data_dir.rs`.

use paxos_impl::storage::{data_dir, DataDir, Identity};
use paxos_impl::DiskStorage;
use std::path::Path;
use std::process::{Command, Output};

fn paxos_impl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paxos-impl"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn one_line_exit_2(out: &Output, what: &str, contains: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: {stderr}");
    assert!(stderr.starts_with("error: "), "{what}: {stderr}");
    assert!(stderr.contains(contains), "{what}: {stderr}");
}

fn init(dir: &Path, id: &str, cluster: &str) -> Output {
    paxos_impl(&[
        "init",
        "--data-dir",
        dir.to_str().unwrap(),
        "--id",
        id,
        "--cluster",
        cluster,
    ])
}

#[test]
fn init_writes_an_identity_once() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("deep/r1");
    let out = init(&dir, "1", "alpha");
    assert!(out.status.success(), "{out:?}");
    let identity = data_dir::read_identity(&dir).unwrap().unwrap();
    assert_eq!(
        identity,
        Identity {
            cluster: "alpha".into(),
            replica: 1
        }
    );
    DataDir::open(&dir, &identity).unwrap();

    one_line_exit_2(
        &init(&dir, "1", "alpha"),
        "second init",
        "already initialized",
    );
    one_line_exit_2(
        &init(&dir, "2", "beta"),
        "init over another",
        "already initialized",
    );
    let other = root.path().join("r2");
    one_line_exit_2(&init(&other, "2", "a b"), "bad cluster id", "is invalid");
    one_line_exit_2(
        &init(&other, "99", "alpha"),
        "bad replica id",
        "out of range",
    );
    assert!(!other.join(data_dir::IDENTITY_FILE).exists());
}

#[test]
fn run_refuses_a_locked_or_replica_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("run");
    let path = dir.to_str().unwrap();
    let run = |path: &str| paxos_impl(&["run", "--ops", "5", "--data-dir", path]);

    // Another process (this test) holds the directory: the run refuses it.
    let held = DiskStorage::<paxos_model::state_machine::Register>::open(&dir).unwrap();
    one_line_exit_2(&run(path), "locked", "locked by another process");
    drop(held);
    let out = run(path);
    assert!(out.status.success(), "{out:?}");

    // One replica's directory of a real deployment: never an in-process cluster's.
    let replica = root.path().join("r0");
    assert!(init(&replica, "0", "alpha").status.success());
    one_line_exit_2(
        &run(replica.to_str().unwrap()),
        "replica directory",
        "not to an in-process cluster",
    );
}
