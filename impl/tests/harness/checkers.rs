//! Two independent linearizability checkers over a [`Record`] history, per key:
//!
//! - stateright's `LinearizabilityTester` (a depth-first search over interleavings, without
//!   memoization) against its `Register` specification;
//! - todc-utils' `WGLChecker` (Wing and Gong's algorithm with Lowe's memoization of
//!   (linearized set, state) pairs) against its `RegisterSpecification`.
//!
//! Both are fed the same events in real-time order: every invocation and every return, sorted
//! by time (an invocation before a return at the same instant: such operations count as
//! concurrent, so a tie never fails a history). An operation without an answer (a client gave
//! up) may have taken effect at any time after its invocation, or never: stateright's tester
//! takes it as an invocation that never returns (its search may place it anywhere after the
//! invocation, or leave it out); todc's checker has no such notion, so a write without an answer
//! gets its response after every other event (it may then be linearized anywhere after its
//! invocation, and linearizing it last is the same as never: nothing observes it), and a read
//! without an answer is left out (it changes nothing).

use super::history::{by_key, Outcome, Record};
use paxos_model::types::{Op, OpResult, Value};
use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use todc_utils::linearizability::history::{Action, History as TodcHistory};
use todc_utils::linearizability::WGLChecker;
use todc_utils::specifications::register::{RegisterOperation, RegisterSpecification};

/// Stack for the checkers' threads: stateright's search recurses once per operation.
const CHECKER_STACK_BYTES: usize = 1 << 30;

/// Which checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checker {
    Stateright,
    Wgl,
}

/// A history no checker needs to look at: a client with two operations at once, or a result
/// of the wrong kind.
pub fn well_formed(records: &[Record]) -> Result<(), String> {
    let mut last_by_client: BTreeMap<u32, &Record> = BTreeMap::new();
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by_key(|r| r.invoked);
    for r in sorted {
        match (r.op, r.outcome) {
            (
                Op::Write(_),
                Outcome::Returned {
                    result: OpResult::ReadOk(_),
                    ..
                },
            )
            | (
                Op::Read,
                Outcome::Returned {
                    result: OpResult::WriteOk,
                    ..
                },
            ) => return Err(format!("a result of the wrong kind: {r:?}")),
            (_, Outcome::Returned { at, .. }) if at < r.invoked => {
                return Err(format!("returned before it was invoked: {r:?}"))
            }
            _ => {}
        }
        if let Some(prev) = last_by_client.insert(r.client, r) {
            match prev.outcome {
                Outcome::Returned { at, .. } if at <= r.invoked => {}
                _ => return Err(format!("client {} overlaps: {prev:?} then {r:?}", r.client)),
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Invoke,
    Return,
}

/// The events of one key's history in real-time order: (time, kind, index into `records`).
fn events(records: &[Record]) -> Vec<(Duration, Kind, usize)> {
    let mut events = Vec::with_capacity(2 * records.len());
    for (i, r) in records.iter().enumerate() {
        events.push((r.invoked, Kind::Invoke, i));
        if let Outcome::Returned { at, .. } = r.outcome {
            events.push((at, Kind::Return, i));
        }
    }
    events.sort();
    events
}

/// Runs `checker` on every key; `Err` names the first key whose history is not linearizable.
pub fn check(checker: Checker, records: &[Record]) -> Result<(), String> {
    well_formed(records)?;
    for (key, ops) in by_key(records) {
        let linearizable = run_with_big_stack(move || match checker {
            Checker::Stateright => stateright_linearizable(&ops),
            Checker::Wgl => wgl_linearizable(&ops),
        });
        if !linearizable {
            return Err(format!(
                "{checker:?}: the history of {key:?} is not linearizable"
            ));
        }
    }
    Ok(())
}

fn run_with_big_stack(f: impl FnOnce() -> bool + Send + 'static) -> bool {
    std::thread::Builder::new()
        .name("checker".into())
        .stack_size(CHECKER_STACK_BYTES)
        .spawn(f)
        .expect("spawn a checker thread")
        .join()
        .expect("a checker does not panic")
}

/// stateright's tester. Thread ids sort clients with an unanswered operation last, so its
/// search tries them last (only the search order; the verdict is the same).
pub fn stateright_linearizable(records: &[Record]) -> bool {
    let unanswered: BTreeSet<u32> = records
        .iter()
        .filter(|r| r.outcome == Outcome::Indeterminate)
        .map(|r| r.client)
        .collect();
    let thread = |r: &Record| (unanswered.contains(&r.client), r.client);
    let mut tester = LinearizabilityTester::new(Register(Value::default()));
    for (_, kind, i) in events(records) {
        let r = &records[i];
        let fed = match kind {
            Kind::Invoke => {
                let op = match r.op {
                    Op::Write(v) => RegisterOp::Write(v),
                    Op::Read => RegisterOp::Read,
                };
                tester.on_invoke(thread(r), op).map(|_| ())
            }
            Kind::Return => {
                let Outcome::Returned { result, .. } = r.outcome else {
                    unreachable!("only returned operations have a return event")
                };
                let ret = match result {
                    OpResult::WriteOk => RegisterRet::WriteOk,
                    OpResult::ReadOk(v) => RegisterRet::ReadOk(v),
                };
                tester.on_return(thread(r), ret).map(|_| ())
            }
        };
        if let Err(e) = fed {
            panic!("stateright refused the history (not well formed?): {e}");
        }
    }
    tester.is_consistent()
}

/// todc-utils' Wing-Gong-Lowe checker.
pub fn wgl_linearizable(records: &[Record]) -> bool {
    let dense: BTreeMap<u32, usize> = records
        .iter()
        .map(|r| r.client)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c, i))
        .collect();
    let mut actions = Vec::new();
    let mut late_responses = Vec::new();
    for (_, kind, i) in events(records) {
        let r = &records[i];
        let process = dense[&r.client];
        match (kind, r.op, r.outcome) {
            // A read without an answer changes nothing: left out.
            (_, Op::Read, Outcome::Indeterminate) => {}
            (Kind::Invoke, Op::Read, _) => {
                actions.push((process, Action::Call(RegisterOperation::Read(None))))
            }
            (Kind::Invoke, Op::Write(Value(v)), outcome) => {
                actions.push((process, Action::Call(RegisterOperation::Write(v))));
                if outcome == Outcome::Indeterminate {
                    late_responses.push((process, Action::Response(RegisterOperation::Write(v))));
                }
            }
            (
                Kind::Return,
                Op::Read,
                Outcome::Returned {
                    result: OpResult::ReadOk(Value(v)),
                    ..
                },
            ) => actions.push((process, Action::Response(RegisterOperation::Read(Some(v))))),
            (Kind::Return, Op::Write(Value(v)), _) => {
                actions.push((process, Action::Response(RegisterOperation::Write(v))))
            }
            other => unreachable!("checked by well_formed: {other:?}"),
        }
    }
    actions.extend(late_responses);
    if actions.is_empty() {
        return true;
    }
    assert_eq!(
        u64::default(),
        Value::default().0,
        "todc's register starts at the default, as the model's"
    );
    WGLChecker::<RegisterSpecification<u64>>::is_linearizable(TodcHistory::from_actions(actions))
}
