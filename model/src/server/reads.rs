//! Reads without log writes (ReadIndex, `ServerConfig::read_index`; `specs/multipaxos.md`,
//! "Reads"). A read at the leader takes no slot and writes nothing to disk:
//!
//! 1. its *read index* is the leader's next slot when it arrives: every value chosen before the
//!    read began sits in a slot below it (the leader's Phase 1 took over every slot that could
//!    hold one, and it has proposed every later one itself);
//! 2. a confirmation round that begins after the read arrived gets a majority of acceptors to
//!    confirm the leader's ballot: no higher ballot had won a majority of promises before those
//!    confirmations, so no newer leader decided anything the read must see;
//! 3. once the leader has applied every slot below the read index, it answers from its applied
//!    state.
//!
//! Writes completed before the read began are then all visible to it, which is what makes it
//! linearizable (checked by the model: `linearizable`).

use super::{add_vote, ServerStep};
use crate::bug::Bug;
use crate::msg::Msg;
use crate::rules::Rule;
use crate::state_machine::StateMachine;
use crate::state_machine::{ClientCommand, Session};
use crate::types::{Ballot, ServerId};

impl<M: StateMachine> ServerStep<'_, '_, M> {
    /// A read at the leader: joins the next confirmation round (now, if none is in flight).
    /// The caller checked that this server leads and that the read is not in progress.
    pub(crate) fn read_at_leader(&mut self, command: ClientCommand<M>) {
        let Some(l) = self.s().leadership() else {
            unreachable!("read_at_leader at a server that does not lead");
        };
        let window = self.session_window();
        if let Some(answered) = l.reads.answered.get(&command.client) {
            if let Some(result) = answered.result_of(command.request) {
                let reply = Msg::Reply {
                    request: command.request,
                    result: result.clone(),
                };
                self.fx.took(Rule::ReadAnsweredAgain);
                self.reply(command.client, reply);
                return;
            }
            if answered.covers(command.request, window) {
                self.fx.took(Rule::ReadOlderDropped);
                return;
            }
        }
        let read_index = l.next_slot;
        if l.reads.confirming.is_empty() {
            self.fx.took(Rule::ReadRoundStarted);
            self.start_read_round(vec![(command, read_index)]);
        } else {
            self.fx.took(Rule::ReadQueued);
            self.leadership_mut()
                .reads
                .queued
                .push((command, read_index));
        }
    }

    /// Starts confirmation round `round + 1` for `reads`, counting this server's own acceptor
    /// (which promised the leader's ballot).
    fn start_read_round(&mut self, reads: Vec<(ClientCommand<M>, crate::types::Slot)>) {
        let me = self.me;
        let l = self.leadership_mut();
        let ballot = l.ballot;
        l.reads.round += 1;
        l.reads.confirming = reads;
        l.reads.acks = vec![me];
        let round = l.reads.round;
        self.broadcast(Msg::ReadConfirm { ballot, round });
        self.confirm_if_quorum();
    }

    /// Re-sends the current round's `ReadConfirm` to the acceptors that have not confirmed it,
    /// if it is unconfirmed (on the heartbeat timer).
    pub(crate) fn resend_read_confirm(&mut self) {
        let Some(l) = self.s().leadership() else {
            return;
        };
        if l.reads.confirming.is_empty() {
            return;
        }
        let (ballot, round) = (l.ballot, l.reads.round);
        let missing: Vec<ServerId> = self
            .peers()
            .filter(|peer| !l.reads.acks.contains(peer))
            .collect();
        for peer in missing {
            self.fx.took(Rule::ReadConfirmResent);
            self.fx.send(peer, Msg::ReadConfirm { ballot, round });
        }
    }

    /// An acceptor asked to confirm `ballot`: it does if it admits it, raising its promise to it
    /// (persisted before the answer, as for an `Accept`); otherwise it tells the leader of the
    /// higher ballot it promised.
    pub(crate) fn on_read_confirm(&mut self, from: ServerId, ballot: Ballot, round: u32) {
        if !self.admits(ballot) {
            self.fx.took(Rule::ReadConfirmRejected);
            let promised = self.s().durable.promised;
            self.fx.send(from, Msg::Nack { ballot, promised });
            return;
        }
        self.fx.took(Rule::ReadConfirmAcked);
        self.raise_promise(ballot);
        self.leader_alive(); // Restarts the election timer.
        self.fx.send(from, Msg::ReadAck { ballot, round });
    }

    /// An acceptor confirmed round `round` of `ballot`.
    pub(crate) fn on_read_ack(&mut self, from: ServerId, ballot: Ballot, round: u32) {
        let current = self.s().leadership().is_some_and(|l| {
            l.ballot == ballot && l.reads.round == round && !l.reads.confirming.is_empty()
        });
        if !current {
            self.fx.took(Rule::ReadAckStaleIgnored);
            return; // Another ballot, an older round, or a round confirmed already.
        }
        let cfg = self.cfg;
        let l = self.leadership_mut();
        if !add_vote(cfg, &mut l.reads.acks, from) {
            self.fx.took(Rule::ReadAckStaleIgnored);
            return; // A duplicate.
        }
        self.confirm_if_quorum();
    }

    /// If a majority confirmed the current round: its reads wait for their read index, the
    /// ready ones are answered, and the queued reads start the next round.
    fn confirm_if_quorum(&mut self) {
        let quorum = self.quorum();
        let Some(l) = self.s().leadership() else {
            return;
        };
        if l.reads.acks.len() < quorum || l.reads.confirming.is_empty() {
            return;
        }
        self.fx.took(Rule::ReadRoundConfirmed);
        let l = self.leadership_mut();
        let confirmed = std::mem::take(&mut l.reads.confirming);
        l.reads.confirmed.extend(confirmed);
        let queued = std::mem::take(&mut l.reads.queued);
        self.answer_reads();
        if !queued.is_empty() {
            self.fx.took(Rule::ReadRoundStarted);
            self.start_read_round(queued);
        }
    }

    /// Answers every confirmed read whose read index the applied state has reached.
    pub(crate) fn answer_reads(&mut self) {
        let Some(l) = self.s().leadership() else {
            return;
        };
        let applied = self.s().applied.next_slot;
        let skip_wait = self.cfg.has(Bug::ReadBeforeApplied);
        // BUG(read-before-applied): answers a confirmed read at once. Correct: wait until every
        // slot below the read index is applied; a new leader may still be re-proposing a write
        // an earlier leader decided and acknowledged, and the read must see it.
        if !l
            .reads
            .confirmed
            .iter()
            .any(|(_, at)| *at <= applied || skip_wait)
        {
            return;
        }
        // In place, in arrival order: each ready read is answered (its answer noted, then its
        // reply sent), the waiting ones stay. No vector is allocated: a lease read at a busy
        // leader comes here once per read.
        let mut confirmed = std::mem::take(&mut self.leadership_mut().reads.confirmed);
        confirmed.retain(|(command, at)| {
            let ready = *at <= applied || skip_wait;
            if ready {
                self.answer_read(command);
            }
            !ready
        });
        self.leadership_mut().reads.confirmed = confirmed;
    }

    /// Answers one confirmed read from the applied state, and notes the answer for the client's
    /// repeats of it.
    fn answer_read(&mut self, command: &ClientCommand<M>) {
        let result = self.s().applied.machine.read(&command.op);
        let window = self.session_window();
        let l = self.leadership_mut();
        match l.reads.answered.get_mut(&command.client) {
            None => {
                let session = Session::new(command.request, result.clone());
                l.reads.answered.insert(command.client, session);
            }
            Some(answered) if !answered.covers(command.request, window) => {
                answered.record(command.request, result.clone(), window);
            }
            // Answered already (a read in two rounds), or below the window.
            Some(_) => {}
        }
        self.fx.took(Rule::ReadAnswered);
        let reply = Msg::Reply {
            request: command.request,
            result,
        };
        self.reply(command.client, reply);
    }

    /// The leadership, mutable. Only called while leading.
    fn leadership_mut(&mut self) -> &mut super::Leadership<M> {
        match &mut self.s_mut().role {
            super::Role::Leader(l) => l,
            _ => unreachable!("leadership_mut at a server that does not lead"),
        }
    }
}
