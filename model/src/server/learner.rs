//! The learner: deciding, applying in slot order, replying, compacting the durable log, and
//! catching up from another server's snapshot (`specs/multipaxos.md`, "Learner").

use super::{Decision, Role, ServerStep};
use crate::bug::Bug;
use crate::msg::Msg;
use crate::rules::Rule;
use crate::state_machine::Command;
use crate::state_machine::StateMachine;
use crate::state_machine::{Applied, AppliedState};
use crate::types::{Ballot, ServerId, Slot};

impl<M: StateMachine> ServerStep<'_, '_, M> {
    /// A leader announces a decision.
    pub(crate) fn on_decide(&mut self, ballot: Ballot, slot: Slot, command: Command<M>) {
        self.learn(slot, Decision { ballot, command });
    }

    /// The commit point of `ballot` arrives (on an `Accept` or a heartbeat this server admitted):
    /// every slot of that leadership below `decided_below` was decided in `ballot` with the
    /// value its leader proposed in `ballot`. A vote of this server in `ballot` for such a slot
    /// is a vote for that very value (a leader proposes one value per slot in its ballot), so
    /// the slot is learned from it. A slot whose vote here is missing or from another ballot is
    /// left to catch-up: that vote may be for a value that was never chosen.
    pub(crate) fn learn_below_commit_point(&mut self, ballot: Ballot, decided_below: Slot) {
        let from = self.s().applied.next_slot;
        if decided_below <= from {
            return; // Nothing new (always so without the commit point: `#0`).
        }
        let any_ballot = self.cfg.has(Bug::CommitAnyBallot);
        for slot in (from.0..decided_below.0).map(Slot) {
            if self.s().learned.contains_key(&slot) || slot < self.s().applied.next_slot {
                continue; // Known already (or applied by learning the slots below).
            }
            let vote = self.s().durable.accepted.get(&slot);
            match vote.filter(|e| e.ballot == ballot || any_ballot).cloned() {
                Some(entry) => {
                    // BUG(commit-any-ballot) takes a vote of any ballot. Correct: only a vote in
                    // the commit point's own ballot is for the value that ballot decided; an
                    // older vote may be for a value that was never chosen.
                    self.fx.took(Rule::LearnedFromCommitPoint);
                    let decision = Decision {
                        ballot,
                        command: entry.command,
                    };
                    self.learn(slot, decision);
                }
                None => self.fx.took(Rule::CommitPointVoteMissing),
            }
        }
    }

    /// Records that `slot` is decided, then applies every slot that is now ready.
    pub(crate) fn learn(&mut self, slot: Slot, decision: Decision<M>) {
        let s = self.s();
        if slot < s.applied.next_slot || s.learned.contains_key(&slot) {
            self.fx.took(Rule::DecisionKnownIgnored);
            return; // Known already.
        }
        self.fx.took(Rule::DecisionLearned);
        let s = self.s_mut();
        s.learned.insert(slot, decision);
        if let Role::Leader(l) = &mut s.role {
            l.proposals.remove(&slot); // Settled, whoever decided it.
        }
        self.apply_ready();
    }

    /// Applies decided slots in order. The leader replies to each client whose command it
    /// applies (also for a duplicate, with the result of its first execution).
    fn apply_ready(&mut self) {
        if self.cfg.has(Bug::ApplyOutOfOrder) {
            // BUG(apply-out-of-order): jumps over undecided slots to the next learned one.
            // Correct: apply in slot order only; a slot below may still be decided otherwise.
            let next = self.s().applied.next_slot;
            if let Some((slot, _)) = self.s().learned.range(next..).next() {
                let slot = *slot;
                self.s_mut().applied.next_slot = slot;
            }
        }
        while let Some(decision) = self.s().learned.get(&self.s().applied.next_slot).cloned() {
            if let Command::Batch(_) = decision.command {
                self.fx.took(Rule::AppliedBatch);
            }
            if decision.command == Command::NoOp {
                self.fx.took(Rule::Applied);
            }
            let leads = self.s().is_leader();
            let window = self.session_window();
            let one_result = self.cfg.has(Bug::BatchOneResult);
            let mut held = Vec::new(); // Only with the bug below: no allocation otherwise.
            let fx = &mut self.fx;
            self.state
                .to_mut()
                .applied
                .apply(&decision.command, window, |command, applied| {
                    fx.took(match applied {
                        Applied::Ran(_) => Rule::Applied,
                        Applied::RanEarlier(_) => Rule::AppliedEarlierInWindow,
                        Applied::Duplicate(_) | Applied::Older => Rule::AppliedDuplicateCommand,
                    });
                    let Some(result) = applied.result().filter(|_| leads) else {
                        return;
                    };
                    if one_result {
                        held.push(command.clone());
                        return;
                    }
                    let reply = Msg::Reply {
                        request: command.request,
                        result,
                    };
                    fx.send(command.client, reply);
                });
            if let Some(last) = held.last().map(|c| self.s().applied.result_of(c)) {
                // BUG(batch-one-result): one result per slot, the batch's last. Correct: each
                // command of a batch runs on its own, and its client gets its result (a read
                // batched after a write must not be told "write ok").
                let last = last.expect("the last command of the slot just ran or ran before");
                for command in held {
                    let reply = Msg::Reply {
                        request: command.request,
                        result: last.clone(),
                    };
                    self.reply(command.client, reply);
                }
            }
        }
        self.compact(false);
        self.answer_reads();
    }

    /// Once `compact_every` slots were applied since the last compaction, the applied state
    /// becomes the durable snapshot, the accepted entries below it are dropped, and so are the
    /// log's decisions below the previous snapshot. Safe because
    /// the snapshot holds the outcome of every dropped slot, and it is persisted in the same
    /// step: a crash cannot lose a dropped vote without keeping its decision.
    /// `force` compacts whatever was applied since the last compaction (after a snapshot is
    /// installed: the server was behind and holds stale entries).
    fn compact(&mut self, force: bool) {
        let s = self.s();
        let since = s.applied.next_slot.0 - s.durable.snapshot.next_slot.0;
        if since == 0 || (!force && since < self.cfg.compact_every) {
            return;
        }
        self.fx.took(Rule::Compacted);
        if since > 1 {
            self.fx.took(Rule::CompactedSeveral);
        }
        let keep_log = self.cfg.keep_log;
        let s = self.s_mut();
        if !keep_log {
            // The log keeps the decisions since the previous compaction: each stays in it for
            // at least the step that learned it (observers read it after every step), and its
            // size stays bounded by about two compaction periods. The protocol itself never
            // reads the log below `applied.next_slot`, so pruning it changes no decision.
            s.learned = s.learned.split_off(&s.durable.snapshot.next_slot);
        }
        s.durable.snapshot = s.applied.clone();
        s.durable.accepted = s.durable.accepted.split_off(&s.applied.next_slot);
        self.persist();
    }

    /// Replaces the applied state by a more advanced one (every slot below its `next_slot` is
    /// decided, so it holds only decided outcomes).
    pub(crate) fn install_snapshot(&mut self, snapshot: AppliedState<M>) {
        if snapshot.next_slot <= self.s().applied.next_slot {
            self.fx.took(Rule::AppliedStateStaleIgnored);
            return;
        }
        self.fx.took(Rule::AppliedStateInstalled);
        let s = self.s_mut();
        s.applied = snapshot;
        let next_slot = s.applied.next_slot;
        if let Role::Leader(l) = &mut s.role {
            l.proposals = l.proposals.split_off(&next_slot);
            l.next_slot = l.next_slot.max(next_slot);
        }
        self.apply_ready();
        self.compact(true);
    }

    /// A lagging server asks for the applied state.
    pub(crate) fn on_catch_up(&mut self, from: ServerId, next_slot: Slot) {
        if self.s().applied.next_slot <= next_slot {
            self.fx.took(Rule::CatchUpIgnored);
        } else {
            self.fx.took(Rule::CatchUpAnswered);
            let snapshot = Msg::StateTransfer(Box::new(self.s().applied.clone()));
            self.fx.send(from, snapshot);
        }
    }

    /// Another server's applied state arrives.
    pub(crate) fn on_state_transfer(&mut self, snapshot: AppliedState<M>) {
        self.install_snapshot(snapshot);
    }
}
