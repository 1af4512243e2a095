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

/// What applying a slot did for a client command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A no-op, or a client command older than that client's latest executed one: nothing to say.
    Nothing,
    /// The command ran now, or had already run (a duplicate): this is its result.
    Reply(ClientCommand, OpResult),
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

    /// Applies the command decided for `next_slot` and moves to the next slot. A client command
    /// that already ran is not run again: its cached result is returned instead.
    pub fn apply(&mut self, command: &Command) -> Applied {
        self.next_slot = self.next_slot.next();
        let Command::Client(command) = command else {
            return Applied::Nothing;
        };
        if self.has_executed(command) {
            return match self.result_of(command) {
                Some(result) => Applied::Reply(*command, result),
                None => Applied::Nothing,
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
        Applied::Reply(*command, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(client: u32, request: u32, op: Op) -> Command {
        Command::Client(ClientCommand {
            client: ClientId(client),
            request: RequestId(request),
            op,
        })
    }

    #[test]
    fn commands_run_in_order_and_reads_see_writes() {
        let mut s = AppliedState::default();
        assert_eq!(s.apply(&Command::NoOp), Applied::Nothing);
        let w = cmd(3, 0, Op::Write(Value(7)));
        let r = cmd(4, 0, Op::Read);
        assert!(matches!(s.apply(&w), Applied::Reply(_, OpResult::WriteOk)));
        assert!(matches!(
            s.apply(&r),
            Applied::Reply(_, OpResult::ReadOk(Value(7)))
        ));
        assert_eq!(s.next_slot, Slot(3));
    }

    #[test]
    fn a_duplicate_runs_once_and_replays_its_result() {
        let mut s = AppliedState::default();
        let r = cmd(4, 0, Op::Read);
        s.apply(&r);
        s.apply(&cmd(3, 0, Op::Write(Value(9))));
        // The read is decided a second time (a retry proposed in another slot): it must not run
        // again, and its first result (the initial value) is what the client gets.
        assert_eq!(
            s.apply(&r),
            Applied::Reply(
                ClientCommand {
                    client: ClientId(4),
                    request: RequestId(0),
                    op: Op::Read
                },
                OpResult::ReadOk(Value(0))
            )
        );
        assert_eq!(s.register, Value(9));
    }

    #[test]
    fn an_older_request_is_ignored() {
        let mut s = AppliedState::default();
        s.apply(&cmd(3, 1, Op::Write(Value(2))));
        assert_eq!(s.apply(&cmd(3, 0, Op::Write(Value(1)))), Applied::Nothing);
        assert_eq!(s.register, Value(2));
    }
}
