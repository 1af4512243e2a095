//! Three `paxos-impl serve` processes on loopback, serving the key-value service: puts and gets
//! over TCP on several keys, `kill -9` of the leader, the two others still answer, and the killed replica restarts from its data directory
//! and rejoins (it is then part of the only majority left). Also `serve`'s refusals: a
//! missing, foreign or locked data directory is exit 2 with one line.

mod common;

use paxos_impl::kv::Kv;
use paxos_impl::Client;
use paxos_model::types::ClientId;
use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_paxos-impl");
const CLUSTER: &str = "test-cluster";
const OP_TIMEOUT: Duration = Duration::from_secs(30);

/// Ports the system says are free now (bound and released: another process could take one in
/// between, which would fail the test loudly, not wrongly).
fn free_addrs(n: usize) -> Vec<SocketAddr> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners.iter().map(|l| l.local_addr().unwrap()).collect()
}

struct Deployment {
    root: tempfile::TempDir,
    peers: Vec<SocketAddr>,
    clients: Vec<SocketAddr>,
    procs: Vec<Option<Child>>,
}

impl Deployment {
    fn new(n: usize) -> Deployment {
        let root = tempfile::tempdir().unwrap();
        let addrs = free_addrs(2 * n);
        let d = Deployment {
            root,
            peers: addrs[..n].to_vec(),
            clients: addrs[n..].to_vec(),
            procs: (0..n).map(|_| None).collect(),
        };
        for id in 0..n {
            common::init_data_dir(&d.dir(id), id, CLUSTER);
        }
        d
    }

    fn dir(&self, id: usize) -> PathBuf {
        self.root.path().join(format!("r{id}"))
    }

    fn log(&self, id: usize, incarnation: usize) -> PathBuf {
        self.root.path().join(format!("r{id}.{incarnation}.log"))
    }

    fn serve_command(&self, id: usize, dir: &Path, cluster: &str) -> Command {
        let peers: Vec<String> = self.peers.iter().map(|a| a.to_string()).collect();
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--id",
            &id.to_string(),
            "--peers",
            &peers.join(","),
        ])
        .arg("--data-dir")
        .arg(dir)
        .args(["--cluster", cluster])
        .args([
            "--client-addr",
            &self.clients[id % self.clients.len()].to_string(),
        ]);
        cmd
    }

    fn start(&mut self, id: usize, incarnation: usize) {
        let log = File::create(self.log(id, incarnation)).unwrap();
        let child = self
            .serve_command(id, &self.dir(id), CLUSTER)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs[id] = Some(child);
    }

    fn kill(&mut self, id: usize) {
        let mut child = self.procs[id].take().expect("running");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }

    /// The replica whose log last says it became leader and has not said otherwise since.
    fn leader(&self, incarnations: &[usize]) -> Option<usize> {
        (0..self.peers.len()).find(|&id| {
            self.procs[id].is_some()
                && std::fs::read_to_string(self.log(id, incarnations[id]))
                    .unwrap_or_default()
                    .lines()
                    .rev()
                    .find(|l| {
                        l.contains("became leader")
                            || l.contains("following")
                            || l.contains("campaigning")
                    })
                    .is_some_and(|l| l.contains("became leader"))
        })
    }

    fn refused(&self, cmd: &mut Command) -> String {
        let out: Output = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        stderr
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for child in self.procs.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn three_processes_survive_kill_9_of_the_leader() {
    let mut d = Deployment::new(3);
    let mut incarnations = vec![0; 3];
    for id in 0..3 {
        d.start(id, 0);
    }
    let mut client = Client::<Kv>::over_tcp(ClientId(1000), &d.clients, OP_TIMEOUT, 1).unwrap();
    client.put("a", "1").unwrap();
    client.put("b", "x").unwrap();
    assert_eq!(client.get("a").unwrap().as_deref(), Some("1"));
    assert_eq!(client.get("missing").unwrap(), None);

    // A second `serve` on a running replica's directory: locked.
    let e = d.refused(&mut d.serve_command(0, &d.dir(0), CLUSTER));
    assert!(e.contains("locked"), "{e}");

    let deadline = Instant::now() + Duration::from_secs(10);
    let leader = loop {
        if let Some(leader) = d.leader(&incarnations) {
            break leader;
        }
        assert!(Instant::now() < deadline, "no leader in the logs");
        std::thread::sleep(Duration::from_millis(50));
    };
    d.kill(leader);
    client.put("a", "2").unwrap();
    assert_eq!(client.get("a").unwrap().as_deref(), Some("2"));
    assert_eq!(client.cas("a", Some("2"), "2b").unwrap(), Ok(()));
    assert_eq!(
        client.cas("a", Some("2"), "2c").unwrap(),
        Err(Some("2b".into()))
    );

    // The killed replica restarts from its directory (the kernel released its lock), then
    // another one is killed: the restarted replica is part of the only majority left.
    incarnations[leader] += 1;
    d.start(leader, incarnations[leader]);
    let other = (leader + 1) % 3;
    // Let the restarted replica catch up while the other two still form a majority.
    client.put("a", "3").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    d.kill(other);
    assert_eq!(client.get("a").unwrap().as_deref(), Some("3"));
    assert!(
        client.delete("b").unwrap(),
        "b was written before both kills"
    );
    client.put("a", "4").unwrap();
    let mut fresh = Client::<Kv>::over_tcp(ClientId(1001), &d.clients, OP_TIMEOUT, 2).unwrap();
    assert_eq!(fresh.get("a").unwrap().as_deref(), Some("4"));
    assert_eq!(fresh.get("b").unwrap(), None);
    let log = std::fs::read_to_string(d.log(leader, incarnations[leader])).unwrap();
    assert!(log.contains("recovered=true"), "{log}");

    // The command-line client: a put, then a get that prints the value alone on its last line;
    // a missing key, a failed cas and an oversized key are one line on stderr and exit 1 or 2.
    let clients: Vec<String> = d.clients.iter().map(|a| a.to_string()).collect();
    let cli_output = |op: &[&str]| {
        Command::new(BIN)
            .args([
                "client",
                "--cluster",
                &clients.join(","),
                "--timeout",
                "30s",
            ])
            .args(op)
            .output()
            .unwrap()
    };
    let cli = |op: &[&str]| {
        let out = cli_output(op);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(cli(&["put", "k", "v 5"]).trim_end(), "ok");
    assert_eq!(cli(&["get", "k"]).lines().last(), Some("v 5"));
    assert_eq!(cli(&["cas", "k", "v 5", "v6"]).trim_end(), "ok");
    assert_eq!(cli(&["get", "k"]).lines().last(), Some("v6"));
    for (op, code, message) in [
        (&["get", "nothing"][..], 1, "key not found: nothing"),
        (
            &["cas", "k", "v 5", "v7"][..],
            1,
            "cas failed: k holds \"v6\", not \"v 5\"",
        ),
        (&["delete", "nothing"][..], 1, "key not found: nothing"),
        (
            &["get", &"k".repeat(1025)][..],
            2,
            "a key of 1025 bytes (at most 1024)",
        ),
    ] {
        let out = cli_output(op);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{op:?}: {out:?}");
        assert_eq!(stderr.lines().count(), 1, "{op:?}: {stderr}");
        assert!(stderr.contains(message), "{op:?}: {stderr}");
    }
    assert_eq!(cli(&["delete", "k"]).trim_end(), "deleted");

    // `status`: one line per replica; the killed one does not answer (exit 1), the other two
    // have applied the last write, one of them leads.
    let out = cli_output(&["status"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[other].contains("no answer"), "{stdout}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(": leader ballot"))
            .count(),
        1,
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 3 replica(s) did not answer"));
}

#[test]
fn serve_refuses_missing_foreign_and_bad_arguments() {
    let d = Deployment::new(2);
    let missing = d.root.path().join("never-initialized");
    let e = d.refused(&mut d.serve_command(0, &missing, CLUSTER));
    assert!(e.contains("not initialized"), "{e}");
    // Replica 1's directory for replica 0, and replica 0's for another cluster.
    let e = d.refused(&mut d.serve_command(0, &d.dir(1), CLUSTER));
    assert!(e.contains("belongs to replica 1"), "{e}");
    let e = d.refused(&mut d.serve_command(0, &d.dir(0), "other-cluster"));
    assert!(e.contains("cluster 'test-cluster'"), "{e}");
    let e = d.refused(&mut d.serve_command(5, &d.dir(0), CLUSTER));
    assert!(e.contains("--id 5"), "{e}");
}

/// With no replica listening, the command-line client never over-claims: without `--id` it
/// names every replica it asked for a client id and why each gave none; with `--id`, a write
/// that timed out says its outcome is unknown (it may still run), a read does not.
#[test]
fn the_client_with_no_cluster_says_what_it_knows() {
    let addrs = free_addrs(2);
    let cluster: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    let client = |extra: &[&str], op: &[&str]| {
        let out = Command::new(BIN)
            .args(["client", "--cluster", &cluster.join(","), "--timeout", "1s"])
            .args(extra)
            .args(op)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        stderr
    };
    let e = client(&[], &["put", "k", "v"]);
    assert!(e.contains("no replica handed out a client id"), "{e}");
    for addr in &cluster {
        assert!(e.contains(addr.as_str()), "{e}");
    }
    for write in [
        &["put", "k", "v"][..],
        &["delete", "k"],
        &["cas", "k", "a", "b"],
    ] {
        let e = client(&["--id", "7"], write);
        assert!(e.contains("no reply"), "{e}");
        assert!(e.contains("its outcome is unknown"), "{e}");
    }
    let e = client(&["--id", "7"], &["get", "k"]);
    assert!(e.contains("no reply"), "{e}");
    assert!(!e.contains("outcome"), "a read changes nothing: {e}");
}
