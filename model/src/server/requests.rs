//! Client requests at a server: answer from the session table if the command already ran,
//! propose it if leading, queue it while campaigning, pass it on once to the known leader
//! otherwise (`specs/multipaxos.md`, "Client requests").

use super::{Role, ServerStep};
use crate::bug::Bug;
use crate::msg::Msg;
use crate::rules::Rule;
use crate::state_machine::StateMachine;
use crate::state_machine::{ClientCommand, Command};

impl<M: StateMachine> ServerStep<'_, '_, M> {
    /// A client's request, sent by the client itself or forwarded once by another server.
    pub(crate) fn on_request(&mut self, command: ClientCommand<M>, forwarded: bool) {
        let s = self.s();
        if s.applied.has_executed(&command, self.session_window()) {
            if let Some(result) = s.applied.result_of(&command) {
                self.fx.took(Rule::RequestAnsweredFromSession);
                let reply = Msg::Reply {
                    request: command.request,
                    result,
                };
                self.reply(command.client, reply);
            } else {
                self.fx.took(Rule::RequestOlderThanSessionDropped);
            }
            return; // Ran already: never run a command twice.
        }
        match &s.role {
            Role::Leader(_) => {
                let read_only = M::is_read_only(&command.op);
                if read_only && self.cfg.has(Bug::LeaderLocalRead) {
                    // BUG(leader-local-read): answers from the local state machine. Correct:
                    // reads go through the log like writes. A leader cannot know locally that it
                    // is still the leader (that would need a lease); a deposed one returns a
                    // value a newer leader has already overwritten.
                    let reply = Msg::Reply {
                        request: command.request,
                        result: s.applied.machine.read(&command.op),
                    };
                    self.reply(command.client, reply);
                    return;
                }
                if read_only && self.cfg.read_index {
                    if self.in_progress(&command) {
                        self.fx.took(Rule::RequestInProgressIgnored);
                    } else if !self.read_under_lease(&command) {
                        self.read_at_leader(command);
                    }
                    return;
                }
                self.fx.took(Rule::RequestAtLeader);
                self.enqueue(command);
                self.serve_pending();
            }
            Role::Candidate(_) => {
                self.fx.took(Rule::RequestQueuedWhileCampaigning);
                self.enqueue(command);
            }
            Role::Follower => {
                let leader = s.durable.promised.known_leader();
                match leader {
                    Some(leader) if !forwarded && leader != self.me => {
                        self.fx.took(Rule::RequestForwarded);
                        self.fx.send(leader, Msg::Forward(command));
                    }
                    // No leader known, or already forwarded once: the client retries.
                    _ => self.fx.took(Rule::RequestDroppedNoLeader),
                }
            }
        }
    }

    /// The clients' window, as far as this server's sessions keep it.
    pub(crate) fn session_window(&self) -> u32 {
        if self.cfg.has(Bug::SessionKeepsLatestOnly) {
            // BUG(session-keeps-latest-only): a session keeps its client's latest executed
            // request alone, as if clients had one request outstanding. Correct: it keeps the
            // clients' whole window (`ServerConfig::session_window`); an earlier request of a
            // pipelining client, decided after a later one, must still run and be answered.
            return 1;
        }
        self.cfg.session_window
    }

    /// Queues a command until this server can propose it (bounded; duplicates ignored).
    fn enqueue(&mut self, command: ClientCommand<M>) {
        let s = self.s();
        if self.in_progress(&command) {
            self.fx.took(Rule::RequestInProgressIgnored);
            return;
        }
        if s.pending.len() >= self.cfg.pending_max {
            self.fx.took(Rule::RequestQueueFull);
            return;
        }
        self.s_mut().pending.push(command);
    }

    /// Whether `command` is already on its way: queued, proposed in this ballot, or decided in a
    /// slot not applied yet. A duplicate request for it must not be proposed again.
    pub(crate) fn in_progress(&self, command: &ClientCommand<M>) -> bool {
        self.in_progress_queued_from(command, 0)
    }

    /// [`Self::in_progress`], as if the queue's first `queued_from` commands had left it.
    pub(crate) fn in_progress_queued_from(
        &self,
        command: &ClientCommand<M>,
        queued_from: usize,
    ) -> bool {
        let s = self.s();
        let carries = |value: &Command<M>| value.client_commands().contains(command);
        s.pending[queued_from..].contains(command)
            || s.leadership().is_some_and(|l| {
                l.proposals.values().any(|p| carries(&p.command)) || l.reads.contains(command)
            })
            || s.learned
                .range(s.applied.next_slot..)
                .any(|(_, d)| carries(&d.command))
    }
}
