//! Clients in this process: each a thread with one [`Client`] session of the key-value service
//! over TCP, running gets and puts of unique values on [`KEYS`] keys one after another, with a drawn pause between two, recording
//! each in the [`History`]. A client whose operation gets no answer in time records it as
//! indeterminate and is replaced by a fresh session with a new id (the old one's command may
//! still run, at most once: it stays in flight in the history).

use super::history::{History, Key, Outcome, Record};
use paxos_impl::kv::{Kv, KvOp, KvOutput};
use paxos_impl::{Client, ClientError};
use paxos_model::types::{Op, OpResult, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Seeds of the clients' sessions (each new session takes the next).
const FIRST_CLIENT_SEED: u32 = 1000;
/// A new session waits at most this long for a replica to hand out its id.
const CONNECT_MAX: Duration = Duration::from_secs(30);
/// The keys the clients work on (each operation on one drawn at random).
pub const KEYS: u64 = 3;

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
            next_id: Arc::new(AtomicU32::new(FIRST_CLIENT_SEED)),
            next_value: Arc::new(AtomicU64::new(1)),
            failed: Arc::new(AtomicUsize::new(0)),
            threads: Vec::new(),
            addrs: addrs.to_vec(),
            op_timeout,
        }
    }

    /// A fresh session with a new id, handed out by a replica (`paxos_impl::client_ids`: the
    /// ids must stay unique across `kill -9`s, which the checkers would notice otherwise: a
    /// reused id is answered from another client's session). A replica that is down or paused
    /// is skipped; every replica is tried again until one answers.
    pub fn client(&self) -> Client<Kv> {
        let seed = u64::from(self.next_id.fetch_add(1, Ordering::SeqCst));
        let deadline = std::time::Instant::now() + CONNECT_MAX;
        loop {
            match Client::connect(&self.addrs, self.op_timeout, seed) {
                Ok(client) => return client,
                Err(e) if std::time::Instant::now() < deadline => {
                    eprintln!("no client id yet: {e}");
                }
                Err(e) => panic!("no replica handed out a client id in {CONNECT_MAX:?}: {e}"),
            }
        }
    }

    /// Runs `op` (in register form) on `key` with `client`, recorded; `None` when it got no
    /// answer in `timeout`.
    pub fn run(
        &self,
        client: &mut Client<Kv>,
        key: Key,
        op: Op,
        timeout: Duration,
    ) -> Option<Record> {
        let invoked = self.history.now();
        let kv_op = match op {
            Op::Write(Value(v)) => KvOp::Put {
                key: key.name(),
                value: v.to_string(),
            },
            Op::Read => KvOp::Get { key: key.name() },
        };
        let result = client.execute_timeout(kv_op, timeout);
        let outcome = match result {
            Ok(output) => Outcome::Returned {
                at: self.history.now(),
                result: register_result(output),
            },
            Err(ClientError::Timeout { .. }) => Outcome::Indeterminate,
            Err(e) => {
                eprintln!("client {:?}: {e}", client.id());
                self.failed.fetch_add(1, Ordering::SeqCst);
                Outcome::Indeterminate
            }
        };
        let record = Record {
            key,
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
                    let key = Key(rng.random_range(0..KEYS));
                    let op = if rng.random_bool(0.5) {
                        Op::Read
                    } else {
                        me.fresh_write()
                    };
                    if me.run(&mut client, key, op, me.op_timeout).is_none() {
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

/// A key-value output in register form: a put is a write, a get returns the value written (a
/// number: every value the workload writes is one), and a missing key reads as the initial
/// value.
fn register_result(output: KvOutput) -> OpResult {
    match output {
        KvOutput::Put => OpResult::WriteOk,
        KvOutput::Value(None) => OpResult::ReadOk(Value::default()),
        KvOutput::Value(Some(v)) => OpResult::ReadOk(Value(
            v.parse()
                .unwrap_or_else(|e| panic!("a get returned {v:?}, not a number: {e}")),
        )),
        other => panic!("a put or a get returned {other:?}"),
    }
}
