//! The `paxos-impl run` command line: exit codes, summary, output files.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paxos-impl"))
        .arg("run")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn invalid_arguments_exit_2_with_one_line() {
    for args in [
        &["--replicas", "0"][..],
        &["--loss", "1.5"],
        &["--dup", "-0.1"],
        &["--read-ratio", "2"],
        &["--delay-ms", "5..1"],
        &["--delay-ms", "a..b"],
        &["--duration", "forever"],
        &["--clients", "0"],
        &["--ops", "0"],
        &["--bogus"],
        &["--bug", "no-such-bug"],
        &["--storage", "tape"],
        &["--ops", "5", "--duration", "1s"],
        &["--op-timeout", "0s"],
    ] {
        let out = run(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
    let out = run(&["--op-timeout", "0s"]);
    assert_eq!(
        text(&out.stderr).trim_end(),
        "error: --op-timeout must be more than 0s"
    );
}

#[test]
fn a_run_reports_and_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let trace = dir.path().join("trace.jsonl");
    let out = run(&[
        "--replicas",
        "3",
        "--clients",
        "2",
        "--ops",
        "200",
        "--seed",
        "5",
        "--storage",
        "memory",
        "--history",
        history.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for needle in [
        "commands:          200 completed",
        "throughput:",
        "latency:           p50",
        "leader changes:",
        "per command:       ",
        "agreement:         ok",
        "seed 5",
    ] {
        assert!(
            stdout.contains(needle),
            "{needle:?} missing from:\n{stdout}"
        );
    }
    let history = paxos_impl::record::read_events(&history).unwrap();
    assert_eq!(history.len(), 400, "200 invocations and 200 returns");
    assert!(paxos_impl::record::read_events(&trace).unwrap().len() > history.len());
}

#[test]
fn a_run_with_leader_crashes_on_disk_changes_leaders_and_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "--replicas",
        "3",
        "--clients",
        "3",
        "--duration",
        "2s",
        "--crash-leader-every",
        "500ms",
        "--partition-every",
        "700ms",
        "--loss",
        "0.02",
        "--seed",
        "6",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("agreement:         ok"), "{stdout}");
    let changes: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("leader changes:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a leader changes line");
    assert!(changes >= 1, "{stdout}");
    assert!(dir.path().join("replica-0.durable").exists());
}

#[test]
fn client_bench_bad_options_exit_2_with_one_line() {
    for args in [
        &["--clients", "0"][..],
        &["--clients", "1,5000"],
        &["--clients", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"],
        &["--secs", "0"],
        &["--read-ratio", "1.5"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_paxos-impl"))
            .args(["client", "--cluster", "127.0.0.1:1", "--id", "100", "bench"])
            .args(args)
            .output()
            .expect("the binary runs");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
}
