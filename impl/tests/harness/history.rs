//! A history of client operations: each with its invocation and completion times (monotonic
//! time since the history began) and its outcome, keyed by the object it is on: a key of the
//! key-value service that `serve` replicates. Each key is a register (a `put` writes it, a
//! `get` reads it, a missing key reads as the initial value), so each operation is recorded in
//! register form under its key, and the checkers run once per key.

use paxos_model::types::{Op, OpResult, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The object an operation is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub u64);

impl Key {
    /// The key of the small histories written by hand in tests.
    pub const REGISTER: Key = Key(0);

    /// The key's name in the key-value service.
    pub fn name(self) -> String {
        format!("key-{}", self.0)
    }
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned this result at this time.
    Returned { at: Duration, result: OpResult },
    /// No answer (the client gave up): it may or may not have taken effect, at any time after
    /// its invocation.
    Indeterminate,
}

/// One operation of one client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub key: Key,
    /// The client (one operation at a time per client).
    pub client: u32,
    pub op: Op,
    pub invoked: Duration,
    pub outcome: Outcome,
}

/// Every operation of a run, in the order they were recorded.
#[derive(Debug)]
pub struct History {
    start: Instant,
    records: Mutex<Vec<Record>>,
}

impl History {
    pub fn new() -> History {
        History {
            start: Instant::now(),
            records: Mutex::default(),
        }
    }

    /// Now, on the history's clock.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    pub fn push(&self, record: Record) {
        self.records.lock().unwrap().push(record);
    }

    pub fn records(&self) -> Vec<Record> {
        self.records.lock().unwrap().clone()
    }
}

/// Each key's operations.
pub fn by_key(records: &[Record]) -> BTreeMap<Key, Vec<Record>> {
    let mut keys: BTreeMap<Key, Vec<Record>> = BTreeMap::new();
    for r in records {
        keys.entry(r.key).or_default().push(*r);
    }
    keys
}

/// Counts of a history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub completed: usize,
    pub indeterminate: usize,
    pub writes_acknowledged: usize,
    pub reads: usize,
}

pub fn counts(records: &[Record]) -> Counts {
    let mut c = Counts::default();
    for r in records {
        match r.outcome {
            Outcome::Returned { result, .. } => {
                c.completed += 1;
                match result {
                    OpResult::WriteOk => c.writes_acknowledged += 1,
                    OpResult::ReadOk(_) => c.reads += 1,
                }
            }
            Outcome::Indeterminate => c.indeterminate += 1,
        }
    }
    c
}

/// The values a read invoked after every operation of `records` returned may return, if no
/// acknowledged write is lost: the value of an acknowledged write that no acknowledged write
/// follows in real time (invoked after it returned), or of a write without an answer (it may
/// take effect at any time after its invocation, so after all the others); the initial value
/// only if no write was acknowledged.
pub fn allowed_final_values(records: &[Record]) -> Vec<Value> {
    let acked: Vec<(Duration, Duration, Value)> = records
        .iter()
        .filter_map(|r| match (r.op, r.outcome) {
            (Op::Write(v), Outcome::Returned { at, .. }) => Some((r.invoked, at, v)),
            _ => None,
        })
        .collect();
    let mut allowed: Vec<Value> = acked
        .iter()
        .filter(|(_, returned, _)| !acked.iter().any(|(invoked, _, _)| invoked > returned))
        .map(|(_, _, v)| *v)
        .collect();
    allowed.extend(records.iter().filter_map(|r| match (r.op, r.outcome) {
        (Op::Write(v), Outcome::Indeterminate) => Some(v),
        _ => None,
    }));
    if acked.is_empty() {
        allowed.push(Value::default());
    }
    allowed.sort();
    allowed.dedup();
    allowed
}
