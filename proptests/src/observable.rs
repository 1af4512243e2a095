//! Check 3: what the replicas decided and what the clients saw is safe, judged from the outside,
//! without the model's ghost record.
//!
//! - **Agreement**: no slot was decided with two different commands, by any replicas, in any of
//!   their incarnations (every decision in every replica's log after every step).
//! - **Validity**: every decided client command is one its client invoked: the `k`-th
//!   invocation of that client, with the same operation.
//! - **Exactly once**: executing the agreed log in slot order, each command at its first slot
//!   only, gives a reference state machine. Every replica's applied state (register and
//!   sessions), whenever it changes, must equal the reference at the same slot: a replica that
//!   executed a command twice, skipped one, or applied a slot no replica decided, differs.
//!   Every result a client got must be the reference result of its command: a reply to a
//!   command that was never decided (or decided but executed differently) is caught here.
//! - **Linearizability**: the recorded `Invoke`/`Return` history of a `Register` has a
//!   linearization (operations still in flight at the end may or may not have taken effect).
//!   Two independent judges: todc-utils' `WGLChecker` (Wing and Gong's search with Lowe's
//!   memoization, fast on long and highly concurrent histories) judges every history;
//!   stateright's `LinearizabilityTester` (a search without memoization, exponential in the
//!   operations in flight at once) judges those where at most [`STATERIGHT_IN_FLIGHT_MAX`]
//!   operations overlapped, and where both judge they must agree.

use crate::finding::{Check, Finding, Kind};
use crate::recording::Recording;
use paxos_impl::record::{Event, EventKind};
use paxos_model::checking::ghost::{register_op, register_ret};
use paxos_model::node::NodeState;
use paxos_model::state_machine::AppliedState;
use paxos_model::state_machine::{ClientCommand, Command};
use paxos_model::types::{ClientId, Op, OpResult, RequestId, Slot, Value};
use stateright::semantics::register::Register;
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::collections::{BTreeMap, BTreeSet};
use todc_utils::linearizability::history::{Action, History as WglHistory};
use todc_utils::linearizability::WGLChecker;
use todc_utils::specifications::register::{RegisterOperation, RegisterSpecification};

/// Limit: stateright's linearizability tester judges a history only if at most this many of its
/// operations were in flight at once (it searches without memoization: a pipelined history of
/// 2 x 16 operations with windows of 4 took it minutes). Every history is judged by the
/// Wing-Gong-Lowe checker.
pub const STATERIGHT_IN_FLIGHT_MAX: usize = 4;

/// What the replicas' states showed over the run.
#[derive(Clone, Debug, Default)]
pub struct Observations {
    /// Per slot, every command decided for it, with the first event and replica that had it.
    decided: BTreeMap<Slot, BTreeMap<Command, (u64, usize)>>,
    /// Each replica's applied state whenever it changed: event, replica, state.
    applied: Vec<(u64, usize, AppliedState)>,
    last_applied: BTreeMap<usize, AppliedState>,
}

impl Observations {
    /// Notes a replica's state after a step.
    pub fn observe(&mut self, seq: u64, replica: usize, state: &NodeState) {
        let Some(server) = state.as_server() else {
            return;
        };
        for (slot, decision) in &server.learned {
            self.decided
                .entry(*slot)
                .or_default()
                .entry(decision.command.clone())
                .or_insert((seq, replica));
        }
        if self.last_applied.get(&replica) != Some(&server.applied) {
            self.applied.push((seq, replica, server.applied.clone()));
            self.last_applied.insert(replica, server.applied.clone());
        }
    }

    /// The observations of a recording that holds full states; `None` for a digest-only one.
    pub fn from_recorded_states(recording: &Recording) -> Option<Observations> {
        let mut observations = Observations::default();
        for event in &recording.events {
            if let EventKind::Step(step) = &event.kind {
                if recording.config.is_server(step.actor) {
                    observations.observe(event.seq, step.actor, step.after.state.as_ref()?);
                }
            }
        }
        Some(observations)
    }
}

/// What a successful check 3 saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservableStats {
    /// Slots decided.
    pub slots: usize,
    /// Slots decided with a batch of two or more client commands.
    pub batched_slots: usize,
    /// Client commands executed (exactly once each) in the agreed log.
    pub executed: usize,
    /// Client invocations.
    pub invocations: usize,
    /// Client returns.
    pub returns: usize,
}

fn fail(kind: Kind, detail: impl Into<String>) -> Finding {
    Finding::new(Check::Observable, kind, detail)
}

/// The reference state machine after a prefix of the agreed log.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reference {
    register: Value,
    /// Per client, what its session must hold: its executed requests above its highest one
    /// minus the window, with their results, by request id.
    sessions: BTreeMap<ClientId, Vec<(RequestId, OpResult)>>,
}

/// Checks what the replicas decided and the clients saw (check 3).
pub fn check_observable(
    recording: &Recording,
    observations: &Observations,
) -> Result<ObservableStats, Finding> {
    let mut stats = ObservableStats::default();

    // Agreement: the conflict that showed first is reported.
    let mut agreed: BTreeMap<Slot, Command> = BTreeMap::new();
    let mut conflicts = Vec::new();
    for (slot, commands) in &observations.decided {
        let (first, _) = commands.iter().next().expect("a command per slot");
        if commands.len() > 1 {
            let (second_seq, _) = commands.values().copied().max().expect("two commands");
            conflicts.push((second_seq, *slot, commands));
        }
        agreed.insert(*slot, first.clone());
    }
    if let Some((seq, slot, commands)) = conflicts.into_iter().min_by_key(|c| c.0) {
        return Err(fail(
            Kind::Disagreement,
            format!("slot {slot:?} was decided as {commands:?} (command: (first event, replica))"),
        )
        .at(seq));
    }
    stats.slots = agreed.len();
    stats.batched_slots = agreed
        .values()
        .filter(|c| matches!(c, Command::Batch(_)))
        .count();

    // Validity.
    let mut invoked: BTreeMap<(usize, RequestId), Op> = BTreeMap::new();
    for event in &recording.events {
        if let EventKind::Invoke {
            client,
            request,
            op,
        } = &event.kind
        {
            invoked.insert((*client, *request), *op);
            stats.invocations += 1;
        }
    }
    for (slot, command) in &agreed {
        for c in command.client_commands() {
            let submitted = invoked.get(&(c.client.0 as usize, c.request));
            if submitted != Some(&c.op) {
                let (seq, replica) = observations.decided[slot][command];
                return Err(fail(
                    Kind::NotSubmitted,
                    format!(
                        "slot {slot:?} decided {c:?}, but that client's invocation number {} is \
                         {submitted:?} (first seen at replica {replica})",
                        c.request.0
                    ),
                )
                .at(seq));
            }
        }
    }

    // Exactly once: the reference execution of the contiguous decided prefix.
    let window = recording.config.client_window as u64;
    let mut reference = vec![Reference {
        register: Value::default(),
        sessions: BTreeMap::new(),
    }];
    let mut results: BTreeMap<(ClientId, RequestId), (Slot, Op, OpResult)> = BTreeMap::new();
    let mut slot = Slot(0);
    while let Some(command) = agreed.get(&slot) {
        let mut next = reference.last().expect("a state").clone();
        for c in command.client_commands() {
            execute_once(&mut next, &mut results, slot, c, window);
        }
        reference.push(next);
        slot = slot.next();
    }
    stats.executed = results.len();
    for (seq, replica, applied) in &observations.applied {
        let at = applied.next_slot.0 as usize;
        let Some(expected) = reference.get(at) else {
            return Err(fail(
                Kind::NotExactlyOnce,
                format!(
                    "the replica applied every slot below {:?}, but no replica was ever seen \
                     deciding slot {slot:?}",
                    applied.next_slot
                ),
            )
            .at(*seq)
            .actor(*replica));
        };
        let actual = Reference {
            register: applied.machine.value,
            sessions: applied
                .sessions
                .iter()
                .map(|(c, s)| {
                    let mut kept = s.earlier.clone();
                    kept.push((s.request, s.result));
                    (*c, kept)
                })
                .collect(),
        };
        if actual != *expected {
            return Err(fail(
                Kind::NotExactlyOnce,
                format!(
                    "after applying slots below {:?} the replica holds {actual:?}, but executing \
                     the agreed log exactly once gives {expected:?} (agreed log: {:?})",
                    applied.next_slot,
                    agreed.range(..applied.next_slot).collect::<Vec<_>>()
                ),
            )
            .at(*seq)
            .actor(*replica));
        }
    }

    // Client results, and linearizability.
    // A thread per request: a pipelining client's requests are concurrent.
    let mut tester: LinearizabilityTester<(usize, RequestId), Register<Value>> =
        LinearizabilityTester::new(Register(Value::default()));
    let mut history: Vec<String> = Vec::new();
    let (mut in_flight, mut in_flight_max) = (0usize, 0usize);
    for event in &recording.events {
        match &event.kind {
            EventKind::Invoke {
                client,
                request,
                op,
            } => {
                history.push(format!(
                    "#{} C{client} r{} invokes {op:?}",
                    event.seq, request.0
                ));
                in_flight += 1;
                in_flight_max = in_flight_max.max(in_flight);
                if let Err(e) = tester.on_invoke((*client, *request), register_op(*op)) {
                    return Err(fail(Kind::NotLinearizable, e).at(event.seq).actor(*client));
                }
            }
            EventKind::Return {
                client,
                request,
                op,
                result,
            } => {
                stats.returns += 1;
                in_flight = in_flight.saturating_sub(1);
                history.push(format!(
                    "#{} C{client} r{} returns {result:?}",
                    event.seq, request.0
                ));
                let key = (ClientId(*client as u32), *request);
                let executed = results.get(&key);
                // A ReadIndex read takes no slot: its value is judged by linearizability alone.
                let read_index_read = (recording.config.read_index || recording.config.lease_reads)
                    && *op == Op::Read
                    && executed.is_none();
                if !read_index_read
                    && executed.map(|(_, op, result)| (op, result)) != Some((op, result))
                {
                    return Err(fail(
                        Kind::WrongResult,
                        format!(
                            "the client got {result:?} for request {request:?} ({op:?}), but in \
                             the agreed log that command {}",
                            match executed {
                                Some((slot, op, result)) => format!(
                                    "ran as {op:?} in slot {slot:?} and returned {result:?}"
                                ),
                                None => "was never executed (never decided)".into(),
                            }
                        ),
                    )
                    .at(event.seq)
                    .actor(*client));
                }
                if let Err(e) = tester.on_return((*client, *request), register_ret(*result)) {
                    return Err(fail(Kind::NotLinearizable, e).at(event.seq).actor(*client));
                }
            }
            _ => {}
        }
    }
    let linearizable = wgl_linearizable(&recording.events);
    if in_flight_max <= STATERIGHT_IN_FLIGHT_MAX {
        let stateright = tester.serialized_history().is_some();
        assert_eq!(
            stateright,
            linearizable,
            "the two linearizability checkers disagree (stateright's, Wing-Gong-Lowe's) on:\n    {}",
            history.join("\n    ")
        );
    }
    if !linearizable {
        return Err(fail(
            Kind::NotLinearizable,
            format!(
                "no linearization of the client history for a register starting at {:?}:\n    {}",
                Value::default(),
                history.join("\n    ")
            ),
        ));
    }
    Ok(stats)
}

/// todc-utils' Wing-Gong-Lowe checker over the recorded client history, a process per request
/// (a pipelining client's requests are concurrent). A write still in flight at the end may have
/// taken effect: it is answered after everything else. A read still in flight changes nothing:
/// it is left out.
fn wgl_linearizable(events: &[Event]) -> bool {
    let returned: BTreeSet<(usize, RequestId)> = events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Return {
                client, request, ..
            } => Some((*client, *request)),
            _ => None,
        })
        .collect();
    let mut processes: BTreeMap<(usize, RequestId), usize> = BTreeMap::new();
    let mut actions = Vec::new();
    let mut unanswered_writes = Vec::new();
    for event in events {
        match &event.kind {
            EventKind::Invoke {
                client,
                request,
                op,
            } => {
                let key = (*client, *request);
                let answered = returned.contains(&key);
                let operation = match op {
                    Op::Read if !answered => continue,
                    Op::Read => RegisterOperation::Read(None),
                    Op::Write(Value(v)) => RegisterOperation::Write(*v),
                };
                let next = processes.len();
                let process = *processes.entry(key).or_insert(next);
                actions.push((process, Action::Call(operation)));
                if !answered {
                    unanswered_writes.push((process, Action::Response(operation)));
                }
            }
            EventKind::Return {
                client,
                request,
                op,
                result,
            } => {
                let Some(&process) = processes.get(&(*client, *request)) else {
                    unreachable!(
                        "a return without its invocation is refused by stateright's tester"
                    )
                };
                let operation = match (op, result) {
                    (Op::Read, OpResult::ReadOk(Value(v))) => RegisterOperation::Read(Some(*v)),
                    (Op::Write(Value(v)), OpResult::WriteOk) => RegisterOperation::Write(*v),
                    // A result of another kind than its operation: no register returns it.
                    _ => return false,
                };
                actions.push((process, Action::Response(operation)));
            }
            _ => {}
        }
    }
    actions.extend(unanswered_writes);
    if actions.is_empty() {
        return true;
    }
    assert_eq!(
        u64::default(),
        Value::default().0,
        "todc's register starts at the default, as the model's"
    );
    WGLChecker::<RegisterSpecification<u64>>::is_linearizable(WglHistory::from_actions(actions))
}

/// Runs `c` on `state` unless it already ran, and keeps in its client's reference session the
/// executed requests above its highest one minus `window`.
///
/// Deliberately written independently of `AppliedState::apply`: this is the oracle the replicas'
/// applied states are compared with, so a bug in the model's state machine shows up here. It
/// runs each command where it is first decided, whatever the window; the replicas skip a
/// command below the window unrun, which is the same thing as long as clients keep to their
/// window (a client sends request `r` only after the replies to every request up to
/// `r − window`, so those ran already).
fn execute_once(
    state: &mut Reference,
    results: &mut BTreeMap<(ClientId, RequestId), (Slot, Op, OpResult)>,
    slot: Slot,
    c: &ClientCommand,
    window: u64,
) {
    if results.contains_key(&(c.client, c.request)) {
        return;
    }
    let result = match c.op {
        Op::Write(value) => {
            state.register = value;
            OpResult::WriteOk
        }
        Op::Read => OpResult::ReadOk(state.register),
    };
    let session = state.sessions.entry(c.client).or_default();
    session.push((c.request, result));
    session.sort_unstable_by_key(|(request, _)| *request);
    let highest = session
        .last()
        .map_or(0, |(request, _)| u64::from(request.0));
    session.retain(|(request, _)| u64::from(request.0) + window > highest);
    results.insert((c.client, c.request), (slot, c.op, result));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client event: `(client, request, ...)`.
    enum H {
        Invoke(usize, u32, Op),
        Return(usize, u32, Op, OpResult),
    }

    fn events(history: &[H]) -> Vec<Event> {
        history
            .iter()
            .enumerate()
            .map(|(seq, h)| Event {
                seq: seq as u64,
                at_us: seq as u64,
                kind: match *h {
                    H::Invoke(client, request, op) => EventKind::Invoke {
                        client,
                        request: RequestId(request),
                        op,
                    },
                    H::Return(client, request, op, result) => EventKind::Return {
                        client,
                        request: RequestId(request),
                        op,
                        result,
                    },
                },
            })
            .collect()
    }

    const W1: Op = Op::Write(Value(1));
    const W2: Op = Op::Write(Value(2));

    #[test]
    fn wgl_accepts_and_refuses_what_it_must() {
        use H::*;
        let ok = OpResult::WriteOk;
        let read = |v| OpResult::ReadOk(Value(v));
        // Sequential: write 1, then a read of 1.
        let good = [
            Invoke(0, 1, W1),
            Return(0, 1, W1, ok),
            Invoke(1, 1, Op::Read),
            Return(1, 1, Op::Read, read(1)),
        ];
        assert!(wgl_linearizable(&events(&good)));
        // A stale read after the write returned.
        let stale = [
            Invoke(0, 1, W1),
            Return(0, 1, W1, ok),
            Invoke(1, 1, Op::Read),
            Return(1, 1, Op::Read, read(0)),
        ];
        assert!(!wgl_linearizable(&events(&stale)));
        // A pipelining client: two concurrent writes of one client, then reads that saw 2
        // and then 1: the writes may have taken effect in either order, but not both ways.
        let both_orders = [
            Invoke(0, 1, W1),
            Invoke(0, 2, W2),
            Return(0, 2, W2, ok),
            Return(0, 1, W1, ok),
            Invoke(1, 1, Op::Read),
            Return(1, 1, Op::Read, read(2)),
            Invoke(1, 2, Op::Read),
            Return(1, 2, Op::Read, read(1)),
        ];
        assert!(!wgl_linearizable(&events(&both_orders)));
        let one_order = [
            Invoke(0, 1, W1),
            Invoke(0, 2, W2),
            Return(0, 2, W2, ok),
            Return(0, 1, W1, ok),
            Invoke(1, 1, Op::Read),
            Return(1, 1, Op::Read, read(1)),
        ];
        assert!(wgl_linearizable(&events(&one_order)));
        // A write never answered may have taken effect, later than everything else; a read
        // never answered changes nothing.
        let late_write = [
            Invoke(0, 1, W1),
            Invoke(2, 1, Op::Read),
            Invoke(1, 1, Op::Read),
            Return(1, 1, Op::Read, read(1)),
        ];
        assert!(wgl_linearizable(&events(&late_write)));
        // A read that returned a write's result.
        let wrong_kind = [Invoke(1, 1, Op::Read), Return(1, 1, Op::Read, ok)];
        assert!(!wgl_linearizable(&events(&wrong_kind)));
    }

    /// A long history of 3 clients with 4 requests in flight each (480 operations, 12 at once),
    /// whose reads each see the write just before them: judged (stateright's tester is not
    /// asked of such histories: more than `STATERIGHT_IN_FLIGHT_MAX` operations overlap).
    #[test]
    fn wgl_judges_a_long_pipelined_history_quickly() {
        let mut history = Vec::new();
        let mut value = 0;
        for round in 0..40u32 {
            let mut invoked = Vec::new();
            for client in 0..3 {
                for k in 0..4 {
                    let request = round * 4 + k + 1;
                    let op = if k % 2 == 0 {
                        value += 1;
                        Op::Write(Value(value))
                    } else {
                        Op::Read
                    };
                    history.push(H::Invoke(client, request, op));
                    invoked.push((client, request, op));
                }
            }
            // Everything of this round overlaps; the writes take effect in invocation order,
            // each read right after the write before it.
            let mut last = Value(0);
            for (client, request, op) in invoked {
                let result = match op {
                    Op::Write(v) => {
                        last = v;
                        OpResult::WriteOk
                    }
                    Op::Read => OpResult::ReadOk(last),
                };
                history.push(H::Return(client, request, op, result));
            }
        }
        assert!(wgl_linearizable(&events(&history)));
        // A stale read in the last round: refused.
        let last_read = history
            .iter()
            .rposition(|h| matches!(h, H::Return(_, _, Op::Read, _)))
            .expect("a read");
        if let H::Return(c, r, op, _) = history[last_read] {
            history[last_read] = H::Return(c, r, op, OpResult::ReadOk(Value(0)));
        }
        assert!(!wgl_linearizable(&events(&history)));
    }
}
