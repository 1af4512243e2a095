//! The replicated state machine, and the client sessions that make every command run at most
//! once (`specs/multipaxos.md`, "Applying and replying").
//!
//! The protocol is generic over the state machine it replicates: anything that implements
//! [`StateMachine`] (its commands, their outputs, and its state, which is also its snapshot).
//! The model checker checks the protocol with the [`Register`] (one value, read and written:
//! the object stateright's linearizability tester knows); the runtime also serves a key-value
//! map (`paxos_impl::kv`). Nothing in the protocol looks inside a command except through this
//! trait.
//!
//! An [`AppliedState`] is the state machine after applying every slot below `next_slot`. Three
//! things are one: a learner's *applied state* (`ServerState::applied`), the *stored snapshot*
//! an acceptor persists when it compacts its log (`Durable::snapshot`), and the state carried
//! by a `Promise` or a `StateTransfer` message to a server that is behind.

use crate::types::{ClientId, Op, OpResult, RequestId, Slot, Value};
use crate::vec_map::VecMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fmt::Debug;
use std::hash::Hash;

/// What every part of a replicated state machine must be: cloned into messages and snapshots,
/// compared and hashed by the model checker, serialized by the runtime.
pub trait Data:
    Clone
    + Debug
    + PartialEq
    + Eq
    + PartialOrd
    + Ord
    + Hash
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
}

impl<T> Data for T where
    T: Clone + Debug + Eq + Ord + Hash + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

/// A deterministic state machine that the protocol replicates. Its state is also its snapshot:
/// it is persisted with the acceptor's state when the log is compacted, and sent whole to a
/// server that is behind.
///
/// Determinism is the contract: the same commands applied in the same order to
/// `Self::default()` must give equal states and outputs on every replica (no clock, no
/// randomness, no iteration over a `HashMap`).
pub trait StateMachine: Data + Default {
    /// A command clients submit (one entry of the log, or of a batch).
    type Op: Data;
    /// What a command returns to its client.
    type Output: Data;

    /// Runs `op`, changing the state, and returns its output.
    fn apply(&mut self, op: &Self::Op) -> Self::Output;

    /// Whether `op` only reads: it changes nothing, so a leader may answer it from its applied
    /// state without a slot once it has confirmed it still leads (ReadIndex,
    /// `specs/multipaxos.md`, "Reads").
    fn is_read_only(op: &Self::Op) -> bool;

    /// The output of a read-only `op` on this state, without changing it.
    ///
    /// The default clones the state and applies `op` to the copy; override it for a large state.
    fn read(&self, op: &Self::Op) -> Self::Output {
        debug_assert!(
            Self::is_read_only(op),
            "read() of a command that writes: {op:?}"
        );
        self.clone().apply(op)
    }
}

/// The replicated register: one value, written and read. The state machine the model checker
/// checks (stateright's `LinearizabilityTester` is given its sequential specification).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Register {
    /// The register's value: `Value(0)` at first.
    pub value: Value,
}

impl StateMachine for Register {
    type Op = Op;
    type Output = OpResult;

    fn apply(&mut self, op: &Op) -> OpResult {
        match *op {
            Op::Write(value) => {
                self.value = value;
                OpResult::WriteOk
            }
            Op::Read => OpResult::ReadOk(self.value),
        }
    }

    fn is_read_only(op: &Op) -> bool {
        matches!(op, Op::Read)
    }

    fn read(&self, op: &Op) -> OpResult {
        debug_assert_eq!(*op, Op::Read);
        OpResult::ReadOk(self.value)
    }
}

/// A client's command: what the client asked for, and the ids that make it unique.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ClientCommand<M: StateMachine = Register> {
    /// Who asked (and who gets the reply).
    pub client: ClientId,
    /// Makes the command unique with `client`; retries reuse it, so a command runs at most once.
    pub request: RequestId,
    /// What to do.
    pub op: M::Op,
}

impl Copy for ClientCommand<Register> {}

impl<M: StateMachine> fmt::Debug for ClientCommand<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}{:?}:{:?}", self.client, self.request, self.op)
    }
}

/// What a slot of the log holds once decided.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Command<M: StateMachine = Register> {
    /// A hole filled by a new leader (`specs/multipaxos.md`, "Takeover").
    NoOp,
    /// A client's command.
    Client(ClientCommand<M>),
    /// Two or more client commands decided together in one slot, run in this order
    /// (`ServerConfig::batch_commands_max`, `specs/multipaxos.md`, "Batching").
    Batch(Batch<M>),
}

impl<M: StateMachine> Command<M> {
    /// The value a leader proposes for these new client commands: the command alone, or a batch
    /// of two or more.
    ///
    /// # Panics
    /// If `commands` is empty: a leader never proposes an empty batch.
    pub fn of(mut commands: Vec<ClientCommand<M>>) -> Command<M> {
        match commands.len() {
            0 => panic!("an empty batch of client commands"),
            1 => Command::Client(commands.pop().expect("one command")),
            _ => Command::Batch(Batch(commands.into())),
        }
    }

    /// The client commands this value runs, in order (none for a no-op).
    pub fn client_commands(&self) -> &[ClientCommand<M>] {
        match self {
            Command::NoOp => &[],
            Command::Client(c) => std::slice::from_ref(c),
            Command::Batch(b) => &b.0,
        }
    }
}

impl<M: StateMachine> fmt::Debug for Command<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::NoOp => write!(f, "NoOp"),
            Command::Client(c) => c.fmt(f),
            Command::Batch(b) => f.debug_list().entries(b.0.iter()).finish(),
        }
    }
}

/// Two or more client commands decided in one slot (shared: a batch is copied into every
/// `Accept`, vote and decision, and never changed).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Batch<M: StateMachine = Register>(std::sync::Arc<[ClientCommand<M>]>);

impl<M: StateMachine> Batch<M> {
    /// The commands, in the order they run.
    pub fn commands(&self) -> &[ClientCommand<M>] {
        &self.0
    }
}

impl<M: StateMachine> Serialize for Batch<M> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, M: StateMachine> Deserialize<'de> for Batch<M> {
    /// Refuses a batch of fewer than two commands (malformed: a single command is
    /// [`Command::Client`]).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let commands = Vec::<ClientCommand<M>>::deserialize(deserializer)?;
        if commands.len() < 2 {
            return Err(serde::de::Error::invalid_length(
                commands.len(),
                &"a batch of two or more client commands",
            ));
        }
        Ok(Batch(commands.into()))
    }
}

/// A client's session: its highest executed request and the results of its executed requests
/// still inside its window, replayed to a retrying client.
///
/// A client keeps at most `window` requests outstanding: it submits request `r` only once it
/// has the replies of every request up to `r − window` (`crate::client`). So once request `m`
/// ran, every request `≤ m − window` was answered, and only the results of requests in
/// `(m − window, m]` can still be asked for again. Those are all a session keeps: the rest is
/// garbage (`specs/multipaxos.md`, "Sessions and the window").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Session<M: StateMachine = Register> {
    /// The client's highest executed request.
    pub request: RequestId,
    /// What it returned.
    pub result: M::Output,
    /// The other executed requests of the window (above `request − window`, below `request`)
    /// and their results, by request id. Empty with a window of 1, and then it allocates
    /// nothing.
    #[serde(default)]
    pub earlier: Vec<(RequestId, M::Output)>,
}

impl<M: StateMachine> Session<M> {
    /// A session whose only executed request is `request`.
    pub fn new(request: RequestId, result: M::Output) -> Session<M> {
        Session {
            request,
            result,
            earlier: Vec::new(),
        }
    }

    /// The result of `request`, if it ran and its result is kept.
    pub fn result_of(&self, request: RequestId) -> Option<&M::Output> {
        if self.request == request {
            return Some(&self.result);
        }
        self.earlier
            .iter()
            .find(|(r, _)| *r == request)
            .map(|(_, result)| result)
    }

    /// Whether `request` ran, or is so old that it must have: at or below the highest request
    /// minus `window` (its client had its reply before it sent the highest one).
    pub fn covers(&self, request: RequestId, window: u32) -> bool {
        below_window(request, self.request, window) || self.result_of(request).is_some()
    }

    /// Records that `request`, not covered yet, ran and returned `result`; drops whatever falls
    /// below the window. Whether it is below the highest request (an earlier request of the
    /// window, run after a later one).
    pub fn record(&mut self, request: RequestId, result: M::Output, window: u32) -> bool {
        debug_assert!(!self.covers(request, window), "{request:?} recorded twice");
        if request < self.request {
            let at = self.earlier.partition_point(|(r, _)| *r < request);
            self.earlier.insert(at, (request, result));
            return true;
        }
        let previous = std::mem::replace(&mut self.result, result);
        let previous = (std::mem::replace(&mut self.request, request), previous);
        if window > 1 {
            self.earlier.push(previous);
        }
        let highest = self.request;
        self.earlier
            .retain(|(r, _)| !below_window(*r, highest, window));
        false
    }
}

/// The state machine after applying slots `0..next_slot` in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct AppliedState<M: StateMachine = Register> {
    /// The first slot not yet applied.
    pub next_slot: Slot,
    /// The state machine's state.
    pub machine: M,
    /// Per client, its session: the executed requests of its window and their results.
    pub sessions: VecMap<ClientId, Session<M>>,
}

/// What applying a slot did for one of its client commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied<R = OpResult> {
    /// The command ran now and returned this; it is its client's highest executed request.
    Ran(R),
    /// The command ran now and returned this, below a later request of its client that ran
    /// already (a client with several requests outstanding; still inside its window).
    RanEarlier(R),
    /// The command had run already (it was decided again, in another slot): its first result.
    Duplicate(R),
    /// The command is at or below its client's highest executed request minus the window: its
    /// client had its reply before it sent that request, so it does not run, and its result is
    /// no longer kept.
    Older,
}

impl<R> Applied<R> {
    /// The result to reply with, if any.
    pub fn result(self) -> Option<R> {
        match self {
            Applied::Ran(result) | Applied::RanEarlier(result) | Applied::Duplicate(result) => {
                Some(result)
            }
            Applied::Older => None,
        }
    }
}

impl<M: StateMachine> AppliedState<M> {
    /// The result of `command` if this state machine already executed it and still keeps its
    /// result; `None` if it did not execute it, or if it is out of its client's window.
    pub fn result_of(&self, command: &ClientCommand<M>) -> Option<M::Output> {
        let session = self.sessions.get(&command.client)?;
        session.result_of(command.request).cloned()
    }

    /// Whether `command` already ran here, or is so old that it must have (at or below its
    /// client's highest executed request minus `window`, the clients' window: see [`Session`]).
    pub fn has_executed(&self, command: &ClientCommand<M>, window: u32) -> bool {
        self.sessions
            .get(&command.client)
            .is_some_and(|s| s.covers(command.request, window))
    }

    /// Applies the value decided for `next_slot` and moves to the next slot: each of its client
    /// commands in order (none for a no-op; several for a batch), telling `each` what became of
    /// it. A client command that already ran is not run again: its cached result is returned
    /// instead. `window` is the clients' window ([`Session`]).
    pub fn apply(
        &mut self,
        command: &Command<M>,
        window: u32,
        mut each: impl FnMut(&ClientCommand<M>, Applied<M::Output>),
    ) {
        self.next_slot = self.next_slot.next();
        for command in command.client_commands() {
            let applied = self.run(command, window);
            each(command, applied);
        }
    }

    /// Runs one client command, at most once.
    fn run(&mut self, command: &ClientCommand<M>, window: u32) -> Applied<M::Output> {
        if self.has_executed(command, window) {
            return match self.result_of(command) {
                Some(result) => Applied::Duplicate(result),
                None => Applied::Older,
            };
        }
        let result = self.machine.apply(&command.op);
        let Some(session) = self.sessions.get_mut(&command.client) else {
            let session = Session::new(command.request, result.clone());
            self.sessions.insert(command.client, session);
            return Applied::Ran(result);
        };
        if session.record(command.request, result.clone(), window) {
            Applied::RanEarlier(result) // Pipelined: decided after a later request.
        } else {
            Applied::Ran(result)
        }
    }
}

/// Whether `request` is at or below `highest − window`: its client had its reply before it
/// sent `highest` (see [`Session`]).
fn below_window(request: RequestId, highest: RequestId, window: u32) -> bool {
    u64::from(request.0) + u64::from(window) <= u64::from(highest.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(client: u32, request: u32, op: Op) -> Command {
        Command::Client(client_cmd(client, request, op))
    }

    fn client_cmd(client: u32, request: u32, op: Op) -> ClientCommand {
        ClientCommand {
            client: ClientId(client),
            request: RequestId(request),
            op,
        }
    }

    /// Applies `command`, returning what became of each of its client commands.
    fn apply(s: &mut AppliedState, command: &Command) -> Vec<Applied> {
        let mut applied = Vec::new();
        s.apply(command, 1, |_, a| applied.push(a));
        applied
    }

    #[test]
    fn commands_run_in_order_and_reads_see_writes() {
        let mut s = AppliedState::default();
        assert_eq!(apply(&mut s, &Command::NoOp), []);
        let w = cmd(3, 0, Op::Write(Value(7)));
        let r = cmd(4, 0, Op::Read);
        assert_eq!(apply(&mut s, &w), [Applied::Ran(OpResult::WriteOk)]);
        assert_eq!(
            apply(&mut s, &r),
            [Applied::Ran(OpResult::ReadOk(Value(7)))]
        );
        assert_eq!(s.next_slot, Slot(3));
    }

    #[test]
    fn a_batch_runs_its_commands_in_order_in_one_slot() {
        let mut s = AppliedState::default();
        let batch = Command::of(vec![
            client_cmd(4, 0, Op::Read),
            client_cmd(3, 0, Op::Write(Value(5))),
            client_cmd(5, 0, Op::Read),
        ]);
        assert!(matches!(batch, Command::Batch(_)));
        assert_eq!(
            apply(&mut s, &batch),
            [
                Applied::Ran(OpResult::ReadOk(Value(0))),
                Applied::Ran(OpResult::WriteOk),
                Applied::Ran(OpResult::ReadOk(Value(5))),
            ]
        );
        assert_eq!(s.next_slot, Slot(1));
        // Decided again in a later slot, with one new command: only the new one runs.
        let again = Command::of(vec![
            client_cmd(3, 0, Op::Write(Value(5))),
            client_cmd(6, 0, Op::Write(Value(8))),
        ]);
        assert_eq!(
            apply(&mut s, &again),
            [
                Applied::Duplicate(OpResult::WriteOk),
                Applied::Ran(OpResult::WriteOk)
            ]
        );
        assert_eq!((s.machine.value, s.next_slot), (Value(8), Slot(2)));
    }

    #[test]
    fn a_single_command_is_never_a_batch_and_a_short_batch_is_malformed() {
        assert!(matches!(
            Command::of(vec![client_cmd(3, 0, Op::Read)]),
            Command::Client(_)
        ));
        let one = serde_json::to_string(&[client_cmd(3, 0, Op::Read)]).unwrap();
        let err = serde_json::from_str::<crate::state_machine::Batch>(&one).unwrap_err();
        assert!(err.to_string().contains("two or more"), "{err}");
    }

    #[test]
    fn a_duplicate_runs_once_and_replays_its_result() {
        let mut s = AppliedState::default();
        let r = cmd(4, 0, Op::Read);
        apply(&mut s, &r);
        apply(&mut s, &cmd(3, 0, Op::Write(Value(9))));
        // The read is decided a second time (a retry proposed in another slot): it must not run
        // again, and its first result (the initial value) is what the client gets.
        assert_eq!(
            apply(&mut s, &r),
            [Applied::Duplicate(OpResult::ReadOk(Value(0)))]
        );
        assert_eq!(s.machine.value, Value(9));
    }

    #[test]
    fn an_older_request_is_ignored() {
        let mut s = AppliedState::default();
        apply(&mut s, &cmd(3, 1, Op::Write(Value(2))));
        assert_eq!(
            apply(&mut s, &cmd(3, 0, Op::Write(Value(1)))),
            [Applied::Older]
        );
        assert_eq!(s.machine.value, Value(2));
    }

    /// Applies `command` with a session window of `window`.
    fn apply_in(s: &mut AppliedState, window: u32, command: &Command) -> Vec<Applied> {
        let mut applied = Vec::new();
        s.apply(command, window, |_, a| applied.push(a));
        applied
    }

    #[test]
    fn an_earlier_request_of_the_window_decided_later_still_runs_once() {
        let mut s = AppliedState::default();
        // Client 3 has requests 0 and 1 outstanding (window 2); 1 is decided first.
        let (w0, w1) = (
            cmd(3, 0, Op::Write(Value(1))),
            cmd(3, 1, Op::Write(Value(2))),
        );
        assert_eq!(apply_in(&mut s, 2, &w1), [Applied::Ran(OpResult::WriteOk)]);
        assert_eq!(
            apply_in(&mut s, 2, &w0),
            [Applied::RanEarlier(OpResult::WriteOk)]
        );
        assert_eq!(s.machine.value, Value(1));
        // Both are answered from the session if decided again.
        assert_eq!(
            apply_in(&mut s, 2, &w0),
            [Applied::Duplicate(OpResult::WriteOk)]
        );
        assert_eq!(
            apply_in(&mut s, 2, &w1),
            [Applied::Duplicate(OpResult::WriteOk)]
        );
        assert_eq!(s.machine.value, Value(1));
    }

    #[test]
    fn the_session_keeps_the_window_and_forgets_what_falls_below_it() {
        let mut s = AppliedState::default();
        let window = 3;
        for request in [0, 2, 1, 3] {
            apply_in(
                &mut s,
                window,
                &cmd(3, request, Op::Write(Value(u64::from(request) + 10))),
            );
        }
        let session = &s.sessions.get(&ClientId(3)).unwrap();
        assert_eq!(session.request, RequestId(3));
        // 0 is at 3 − 3: its client had its reply before it sent 3.
        let kept: Vec<_> = session.earlier.iter().map(|(r, _)| r.0).collect();
        assert_eq!(kept, [1, 2]);
        for request in 0..4 {
            assert!(s.has_executed(&client_cmd(3, request, Op::Read), window));
        }
        assert!(!s.has_executed(&client_cmd(3, 4, Op::Read), window));
        assert_eq!(
            apply_in(&mut s, window, &cmd(3, 0, Op::Read)),
            [Applied::Older]
        );
        // Request 5 skips 4 (outstanding still): 4 has not run, and runs later.
        apply_in(&mut s, window, &cmd(3, 5, Op::Read));
        assert!(!s.has_executed(&client_cmd(3, 4, Op::Read), window));
        assert_eq!(
            apply_in(&mut s, window, &cmd(3, 4, Op::Write(Value(9)))),
            [Applied::RanEarlier(OpResult::WriteOk)]
        );
        let kept: Vec<_> = s
            .sessions
            .get(&ClientId(3))
            .unwrap()
            .earlier
            .iter()
            .map(|(r, _)| r.0)
            .collect();
        assert_eq!(kept, [3, 4]);
    }

    #[test]
    fn with_a_window_of_one_a_session_holds_the_latest_request_alone() {
        let mut s = AppliedState::default();
        apply_in(&mut s, 1, &cmd(3, 0, Op::Write(Value(1))));
        apply_in(&mut s, 1, &cmd(3, 1, Op::Write(Value(2))));
        assert!(s.sessions.get(&ClientId(3)).unwrap().earlier.is_empty());
        assert_eq!(apply_in(&mut s, 1, &cmd(3, 0, Op::Read)), [Applied::Older]);
    }
}
