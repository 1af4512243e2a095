//! `paxos-impl serve` processes on loopback, each on its own data directory, that a test can
//! `kill -9`, restart from their directories, pause (SIGSTOP) and resume (SIGCONT), and cut
//! off from each other (partition orders on their client addresses: `serve
//! --fault-injection`). Only processes this harness started are signalled, by their pid.

use paxos_impl::admin::{query_status, send_control, Control, RoleName, StatusReport};
use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_paxos-impl");
const CLUSTER: &str = "faults";
/// Limit: how long an admin request (status, partition order) may take.
pub const ADMIN_TIMEOUT: Duration = Duration::from_millis(500);

/// Ports the system says are free now (bound and released: another process could take one in
/// between, which fails the test loudly, not wrongly).
fn free_addrs(n: usize) -> Vec<SocketAddr> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners.iter().map(|l| l.local_addr().unwrap()).collect()
}

/// What a replica process is doing, as far as the harness knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Running,
    Paused,
    Down,
}

pub struct Processes {
    root: tempfile::TempDir,
    pub peers: Vec<SocketAddr>,
    pub clients: Vec<SocketAddr>,
    procs: Vec<Option<Child>>,
    paused: Vec<bool>,
    incarnations: Vec<usize>,
    seed: u64,
}

impl Processes {
    /// Initializes `n` data directories and starts a process on each.
    pub fn start(n: usize, seed: u64) -> Processes {
        let root = tempfile::tempdir().unwrap();
        let addrs = free_addrs(2 * n);
        let mut p = Processes {
            root,
            peers: addrs[..n].to_vec(),
            clients: addrs[n..].to_vec(),
            procs: (0..n).map(|_| None).collect(),
            paused: vec![false; n],
            incarnations: vec![0; n],
            seed,
        };
        for id in 0..n {
            crate::common::init_data_dir(&p.dir(id), id, CLUSTER);
            p.spawn(id);
        }
        p
    }

    pub fn len(&self) -> usize {
        self.procs.len()
    }

    fn dir(&self, id: usize) -> PathBuf {
        self.root.path().join(format!("r{id}"))
    }

    /// The log of the current incarnation of `id`.
    pub fn log(&self, id: usize) -> PathBuf {
        self.root
            .path()
            .join(format!("r{id}.{}.log", self.incarnations[id]))
    }

    fn spawn(&mut self, id: usize) {
        assert!(self.procs[id].is_none(), "replica {id} is running");
        let peers: Vec<String> = self.peers.iter().map(|a| a.to_string()).collect();
        let log = File::create(self.log(id)).unwrap();
        let seed = self.seed ^ ((id as u64) << 32) ^ self.incarnations[id] as u64;
        let child = Command::new(BIN)
            .args([
                "serve",
                "--id",
                &id.to_string(),
                "--peers",
                &peers.join(","),
            ])
            .arg("--data-dir")
            .arg(self.dir(id))
            .args(["--cluster", CLUSTER, "--fault-injection"])
            .args(["--client-addr", &self.clients[id].to_string()])
            .args(["--seed", &seed.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs[id] = Some(child);
        self.paused[id] = false;
    }

    pub fn state(&self, id: usize) -> State {
        match (&self.procs[id], self.paused[id]) {
            (None, _) => State::Down,
            (Some(_), true) => State::Paused,
            (Some(_), false) => State::Running,
        }
    }

    /// `kill -9`: the process dies at once, whatever it was doing (paused or not).
    pub fn kill(&mut self, id: usize) {
        let mut child = self.procs[id].take().expect("a running replica");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        self.paused[id] = false;
    }

    /// A new process on the same data directory (the kernel released the dead one's lock).
    pub fn restart(&mut self, id: usize) {
        self.incarnations[id] += 1;
        self.spawn(id);
    }

    fn signal(&self, id: usize, signal: libc::c_int) {
        let child = self.procs[id].as_ref().expect("a running replica");
        // SAFETY: kill(2) on the pid of a child this harness started and has not reaped.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill({}, {signal}) failed", child.id());
    }

    /// SIGSTOP: the process stops answering anything, its sockets stay open.
    pub fn pause(&mut self, id: usize) {
        self.signal(id, libc::SIGSTOP);
        self.paused[id] = true;
    }

    /// SIGCONT.
    pub fn resume(&mut self, id: usize) {
        self.signal(id, libc::SIGCONT);
        self.paused[id] = false;
    }

    /// Cuts `group` off from every other replica (orders to every running process: each drops
    /// what crosses the cut, both ways; one side alone would already cut it).
    pub fn partition(&self, group: &[usize]) {
        for id in (0..self.len()).filter(|id| self.state(*id) == State::Running) {
            let peers: Vec<u32> = (0..self.len())
                .filter(|p| *p != id && group.contains(p) != group.contains(&id))
                .map(|p| p as u32)
                .collect();
            send_control(self.clients[id], Control::Isolate { peers }, ADMIN_TIMEOUT)
                .unwrap_or_else(|e| panic!("partition order to replica {id}: {e}"));
        }
    }

    /// Ends every partition (orders to every running process).
    pub fn heal(&self) {
        for id in (0..self.len()).filter(|id| self.state(*id) == State::Running) {
            send_control(self.clients[id], Control::Heal, ADMIN_TIMEOUT)
                .unwrap_or_else(|e| panic!("heal order to replica {id}: {e}"));
        }
    }

    /// The status of every running process that answers.
    pub fn statuses(&self) -> Vec<StatusReport> {
        (0..self.len())
            .filter(|id| self.state(*id) == State::Running)
            .filter_map(|id| query_status(self.clients[id], ADMIN_TIMEOUT).ok())
            .collect()
    }

    /// The running replica that leads the highest ballot, waiting at most `timeout` for one.
    pub fn leader(&self, timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            let leader = self
                .statuses()
                .into_iter()
                .filter(|s| s.role == RoleName::Leader)
                .max_by_key(|s| s.ballot);
            if let Some(s) = leader {
                return Some(s.replica as usize);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every replica running and unpaused, partitions healed.
    pub fn repair(&mut self) {
        for id in 0..self.len() {
            match self.state(id) {
                State::Down => self.restart(id),
                State::Paused => self.resume(id),
                State::Running => {}
            }
        }
        // A freshly started process may not listen yet: retry the heal orders briefly.
        let deadline = Instant::now() + Duration::from_secs(10);
        while (0..self.len())
            .any(|id| send_control(self.clients[id], Control::Heal, ADMIN_TIMEOUT).is_err())
        {
            assert!(Instant::now() < deadline, "replicas do not take orders");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether some process exited on its own (a replica failure: exit 1).
    pub fn exited(&mut self) -> Vec<(usize, std::process::ExitStatus)> {
        let mut exited = Vec::new();
        for (id, child) in self.procs.iter_mut().enumerate() {
            if let Some(status) = child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                exited.push((id, status));
            }
        }
        exited
    }

    /// The current log of `id`, for a failure message.
    pub fn log_text(&self, id: usize) -> String {
        std::fs::read_to_string(self.log(id)).unwrap_or_default()
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in self.procs.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
