//! The replicated state machine: a register, plus the client sessions that make every command
//! run at most once (`specs/multipaxos.md`, "Applying and replying").
//!
//! An [`AppliedState`] is the state machine after applying every slot below `next_slot`. Three
//! things are one: a learner's *applied state* (`ServerState::applied`), the *stored snapshot*
//! an acceptor persists when it compacts its log (`Durable::snapshot`), and the state carried
//! by a `Promise` or a `StateTransfer` message to a server that is behind.

use crate::types::{ClientCommand, ClientId, Command, Op, OpResult, RequestId, Slot, Value};
use crate::vec_map::VecMap;
use serde::{Deserialize, Serialize};

/// The last command a client had executed, and its result (replayed to a retrying client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Session {
    /// The client's latest executed request.
    pub request: RequestId,
    /// What it returned.
    pub result: OpResult,
}

/// The state machine after applying slots `0..next_slot` in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AppliedState {
    /// The first slot not yet applied.
    pub next_slot: Slot,
    /// The register's value.
    pub register: Value,
    /// Per client, the latest executed request.
    pub sessions: VecMap<ClientId, Session>,
}

/// What applying a slot did for one of its client commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The command ran now and returned this.
    Ran(OpResult),
    /// The command had run already (it was decided again, in another slot): its first result.
    Duplicate(OpResult),
    /// The command is older than its client's latest executed request: it does not run, and
    /// its result is no longer kept.
    Older,
}

impl Applied {
    /// The result to reply with, if any.
    pub fn result(self) -> Option<OpResult> {
        match self {
            Applied::Ran(result) | Applied::Duplicate(result) => Some(result),
            Applied::Older => None,
        }
    }
}

impl AppliedState {
    /// The result of `command` if this state machine already executed it; `None` if it did not,
    /// or if it is older than the client's latest request (whose result is no longer kept).
    pub fn result_of(&self, command: &ClientCommand) -> Option<OpResult> {
        self.sessions
            .get(&command.client)
            .filter(|s| s.request == command.request)
            .map(|s| s.result)
    }

    /// Whether `command` already ran here (or an even later request of the same client did).
    pub fn has_executed(&self, command: &ClientCommand) -> bool {
        self.sessions
            .get(&command.client)
            .is_some_and(|s| s.request >= command.request)
    }

    /// Applies the value decided for `next_slot` and moves to the next slot: each of its client
    /// commands in order (none for a no-op; several for a batch), telling `each` what became of
    /// it. A client command that already ran is not run again: its cached result is returned
    /// instead.
    pub fn apply(&mut self, command: &Command, mut each: impl FnMut(&ClientCommand, Applied)) {
        self.next_slot = self.next_slot.next();
        for command in command.client_commands() {
            let applied = self.run(command);
            each(command, applied);
        }
    }

    /// Runs one client command, at most once.
    fn run(&mut self, command: &ClientCommand) -> Applied {
        if self.has_executed(command) {
            return match self.result_of(command) {
                Some(result) => Applied::Duplicate(result),
                None => Applied::Older,
            };
        }
        let result = match command.op {
            Op::Write(value) => {
                self.register = value;
                OpResult::WriteOk
            }
            Op::Read => OpResult::ReadOk(self.register),
        };
        self.sessions.insert(
            command.client,
            Session {
                request: command.request,
                result,
            },
        );
        Applied::Ran(result)
    }
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
        s.apply(command, |_, a| applied.push(a));
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
        assert_eq!((s.register, s.next_slot), (Value(8), Slot(2)));
    }

    #[test]
    fn a_single_command_is_never_a_batch_and_a_short_batch_is_malformed() {
        assert!(matches!(
            Command::of(vec![client_cmd(3, 0, Op::Read)]),
            Command::Client(_)
        ));
        let one = serde_json::to_string(&[client_cmd(3, 0, Op::Read)]).unwrap();
        let err = serde_json::from_str::<crate::types::Batch>(&one).unwrap_err();
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
        assert_eq!(s.register, Value(9));
    }

    #[test]
    fn an_older_request_is_ignored() {
        let mut s = AppliedState::default();
        apply(&mut s, &cmd(3, 1, Op::Write(Value(2))));
        assert_eq!(
            apply(&mut s, &cmd(3, 0, Op::Write(Value(1)))),
            [Applied::Older]
        );
        assert_eq!(s.register, Value(2));
    }
}
