//! Clients in this process: each a thread with one [`Client`] session over TCP, running reads
//! and writes of unique values one after another, with a drawn pause between two, recording
//! each in the [`History`]. A client whose operation gets no answer in time records it as
//! indeterminate and is replaced by a fresh session with a new id (the old one's command may
//! still run, at most once: it stays in flight in the history).

use super::history::{History, Key, Outcome, Record};
use paxos_impl::{Client, ClientError};
use paxos_model::types::{ClientId, Op, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The first client id (far above the replicas').
const FIRST_CLIENT_ID: u32 = 1000;

pub struct Workload {
    pub history: Arc<History>,
    stop: Arc<AtomicBool>,
    next_id: Arc<AtomicU32>,
    next_value: Arc<AtomicU64>,
    /// Errors other than a timeout (recorded as indeterminate too).
    pub failed: Arc<AtomicUsize>,
    threads: Vec<JoinHandle<()>>,
    addrs: Vec<SocketAddr>,
    op_timeout: Duration,
}

impl Workload {
    pub fn new(addrs: &[SocketAddr], op_timeout: Duration) -> Workload {
        Workload {
            history: Arc::new(History::new()),
            stop: Arc::new(AtomicBool::new(false)),
            next_id: Arc::new(AtomicU32::new(FIRST_CLIENT_ID)),
            next_value: Arc::new(AtomicU64::new(1)),
            failed: Arc::new(AtomicUsize::new(0)),
            threads: Vec::new(),
            addrs: addrs.to_vec(),
            op_timeout,
        }
    }

    /// A fresh session with a new id.
    pub fn client(&self) -> Client {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        Client::over_tcp(ClientId(id), &self.addrs, self.op_timeout, u64::from(id))
            .expect("a client")
    }

    /// Runs `op` on `client`, recorded; `None` when it got no answer in `timeout`.
    pub fn run(&self, client: &mut Client, op: Op, timeout: Duration) -> Option<Record> {
        let invoked = self.history.now();
        let result = client.execute_timeout(op, timeout);
        let outcome = match result {
            Ok(result) => Outcome::Returned {
                at: self.history.now(),
                result,
            },
            Err(ClientError::Timeout { .. }) => Outcome::Indeterminate,
            Err(e) => {
                eprintln!("client {:?}: {e}", client.id());
                self.failed.fetch_add(1, Ordering::SeqCst);
                Outcome::Indeterminate
            }
        };
        let record = Record {
            key: Key::REGISTER,
            client: client.id().0,
            op,
            invoked,
            outcome,
        };
        self.history.push(record);
        matches!(outcome, Outcome::Returned { .. }).then_some(record)
    }

    /// A write of a value never written before.
    pub fn fresh_write(&self) -> Op {
        Op::Write(Value(self.next_value.fetch_add(1, Ordering::SeqCst)))
    }

    /// Starts `clients` client threads: half reads, half writes, `think` between two.
    pub fn spawn(&mut self, clients: usize, think: Range<Duration>, seed: u64) {
        for c in 0..clients {
            let me = Arc::new(self.shallow());
            let think = think.clone();
            self.threads.push(std::thread::spawn(move || {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (c as u64) << 40);
                let mut client = me.client();
                while !me.stop.load(Ordering::Relaxed) {
                    let op = if rng.random_bool(0.5) {
                        Op::Read
                    } else {
                        me.fresh_write()
                    };
                    if me.run(&mut client, op, me.op_timeout).is_none() {
                        client = me.client();
                    }
                    std::thread::sleep(rng.random_range(think.clone()));
                }
            }));
        }
    }

    /// Stops the client threads and waits for them (each finishes its operation in flight).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            t.join().expect("a client thread does not panic");
        }
    }

    /// The same shared state, for a client thread.
    fn shallow(&self) -> Workload {
        Workload {
            history: Arc::clone(&self.history),
            stop: Arc::clone(&self.stop),
            next_id: Arc::clone(&self.next_id),
            next_value: Arc::clone(&self.next_value),
            failed: Arc::clone(&self.failed),
            threads: Vec::new(),
            addrs: self.addrs.clone(),
            op_timeout: self.op_timeout,
        }
    }
}
