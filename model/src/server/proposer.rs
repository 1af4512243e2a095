//! The proposer: elections driven by timers, Phase 1 over every open slot at once, the takeover
//! of a new leader, Phase 2, and heartbeats (`specs/multipaxos.md`, "Proposer").
//!
//! With Prepare-skip (the default), a leader that won Phase 1 for its ballot proposes every new
//! command with Phase 2 alone: `Accept` → `Accepted`, two message delays. Without it
//! (`prepare_skip: false`), it runs Phase 1 again before each new slot, one slot at a time, as
//! classic per-instance Paxos does: four message delays. A slot holds one command, or with
//! batching a batch (up to `batch_commands_max`), so Phase 1 is then paid once per batch.

use super::{add_vote, Leadership, LeaseStatus, Proposal, Role, ServerStep, Tally};
use crate::bug::Bug;
use crate::config::HeartbeatMode;
use crate::durable::AcceptedEntry;
use crate::msg::{Msg, Timer};
use crate::output::Outbox;
use crate::rules::Rule;
use crate::state_machine::AppliedState;
use crate::state_machine::StateMachine;
use crate::state_machine::{ClientCommand, Command};
use crate::types::{Ballot, ServerId, Slot};
use crate::vec_map::VecMap;

impl<M: StateMachine> Tally<M> {
    /// A Phase 1 for `ballot` over the slots from `first_slot`, with the candidate's own promise.
    fn new(
        me: ServerId,
        ballot: Ballot,
        first_slot: Slot,
        own: Vec<(Slot, AcceptedEntry<M>)>,
    ) -> Self {
        Tally {
            ballot,
            first_slot,
            voters: vec![me],
            accepted: own.into_iter().collect(),
            applied: None,
            lease: LeaseStatus::Expired,
        }
    }

    /// Adds one promise's accepted entries and snapshot.
    fn merge(
        &mut self,
        accepted: Vec<(Slot, AcceptedEntry<M>)>,
        applied: Option<AppliedState<M>>,
        adopt_any: bool,
        fx: &mut Outbox<M>,
    ) {
        for (slot, entry) in accepted {
            match self.accepted.get_mut(&slot) {
                None => {
                    self.accepted.insert(slot, entry);
                }
                Some(known) => {
                    if adopt_any {
                        // BUG(adopt-any-value): keeps the first value heard of for the slot.
                        // Correct: the value with the highest ballot. Only that one can have been
                        // decided (or be about to be): a value decided in ballot b was accepted
                        // by a quorum, and every later ballot that won Phase 1 re-proposed it.
                    } else if entry.ballot > known.ballot {
                        fx.took(Rule::TakeoverAdoptsHigherBallot);
                        *known = entry;
                    } else {
                        fx.took(Rule::TakeoverKeepsHigherBallot);
                    }
                }
            }
        }
        if let Some(applied) = applied {
            if self
                .applied
                .as_ref()
                .is_none_or(|best| applied.next_slot > best.next_slot)
            {
                self.applied = Some(applied);
            }
        }
    }
}

impl<M: StateMachine> ServerStep<'_, '_, M> {
    /// The election timer fired: campaign with a higher ballot.
    pub(crate) fn on_election_timeout(&mut self) {
        if self.s().is_leader() {
            self.fx.took(Rule::ElectionTimeoutAtLeader);
            return; // A timer set before this server won; leaders do not campaign.
        }
        let round = self.next_round();
        self.fx.took(Rule::Campaign);
        let ballot = Ballot::new(round, self.me);
        self.raise_promise(ballot); // The candidate's own acceptor promises first.
        let first_slot = self.s().applied.next_slot;
        let own = self.s().durable.accepted_from(first_slot);
        self.s_mut().role = Role::Candidate(Tally::new(self.me, ballot, first_slot, own));
        self.campaign_for_lease(); // Lease reads: the promises grant a lease.
        if self.cfg.has(Bug::SkipPhase1) {
            // BUG(skip-phase1): leads at once, as if Phase 1 had been won with nothing to
            // recover. Correct: Prepare-skip is only safe for a ballot that won Phase 1; a new
            // ballot must first learn from a quorum which values may have been decided.
            self.become_leader();
            return;
        }
        self.refresh_election_timer(); // Campaign again if this one stalls.
        self.broadcast(Msg::Prepare { ballot, first_slot });
        self.check_phase1_quorum();
    }

    /// Phase 1b arrives at a candidate, or at a leader repeating Phase 1 (no Prepare-skip).
    pub(crate) fn on_promise(
        &mut self,
        from: ServerId,
        ballot: Ballot,
        first_slot: Slot,
        accepted: Vec<(Slot, AcceptedEntry<M>)>,
        applied: Option<AppliedState<M>>,
    ) {
        let counts_twice = self.cfg.has(Bug::CountMessages);
        let tally = match &self.s().role {
            Role::Candidate(t) => Some(t),
            Role::Leader(l) => l.reprepare.as_ref(),
            Role::Follower => None,
        };
        let Some(tally) = tally else {
            self.fx.took(Rule::PromiseStaleIgnored);
            return; // Not campaigning (any more).
        };
        if tally.ballot != ballot || tally.first_slot != first_slot {
            self.fx.took(Rule::PromiseStaleIgnored);
            return; // A promise for an earlier Phase 1.
        }
        if tally.voters.contains(&from) && !counts_twice {
            self.fx.took(Rule::PromiseDuplicateIgnored);
            return; // Already counted.
        }
        self.fx.took(Rule::PromiseCounted);
        let cfg = self.cfg;
        let mut fx = std::mem::take(&mut self.fx);
        let tally = match &mut self.s_mut().role {
            Role::Candidate(t) => t,
            Role::Leader(l) => l.reprepare.as_mut().expect("checked above"),
            Role::Follower => unreachable!("checked above"),
        };
        add_vote(cfg, &mut tally.voters, from);
        tally.merge(accepted, applied, cfg.has(Bug::AdoptAnyValue), &mut fx);
        self.fx = fx;
        self.check_phase1_quorum();
    }

    /// Completes Phase 1 if a quorum promised.
    fn check_phase1_quorum(&mut self) {
        let quorum = self.quorum();
        match &self.s().role {
            Role::Candidate(t) if t.voters.len() >= quorum => self.become_leader(),
            Role::Leader(l)
                if l.reprepare
                    .as_ref()
                    .is_some_and(|t| t.voters.len() >= quorum) =>
            {
                self.finish_reprepare()
            }
            _ => {}
        }
    }

    /// Phase 1 won: catch up, take over every open slot, then serve new commands.
    fn become_leader(&mut self) {
        let Role::Candidate(tally) = std::mem::replace(&mut self.s_mut().role, Role::Follower)
        else {
            unreachable!("become_leader outside a campaign");
        };
        self.fx.took(Rule::PhaseOneWon);
        debug_assert_eq!(
            self.s().durable.promised,
            tally.ballot,
            "{:?} leads a ballot its own acceptor did not promise",
            self.me
        );
        if let Some(applied) = tally.applied {
            self.fx.took(Rule::TakeoverInstallsAppliedState);
            self.install_snapshot(applied);
        }
        let next_slot = self.s().applied.next_slot;
        self.s_mut().role = Role::Leader(Leadership {
            ballot: tally.ballot,
            next_slot,
            proposals: VecMap::new(),
            fresh_decided: 0,
            prepared: true,
            reprepare: None,
            reads: Default::default(),
            heard: Vec::new(),
            // Without the commit point it stays at #0 (no claim): the states are as before.
            decided_below: if self.cfg.commit_point {
                next_slot
            } else {
                Slot(0)
            },
            decided_ahead: Vec::new(),
            unsaved: Vec::new(),
            written: Vec::new(),
            lease: Self::lease_won(tally.lease),
        });
        self.s_mut().pre_vote = None; // Leaders do not campaign.
        self.refresh_election_timer(); // Cancels it (with check-quorum: restarts it).
        if self.cfg.heartbeat != HeartbeatMode::Off {
            let every = self.cfg.timing.heartbeat_interval;
            self.fx.set_timer(Timer::Heartbeat, every..every);
        }
        self.propose_recovered(&tally.accepted, next_slot);
        self.serve_pending();
    }

    /// Takeover: re-proposes, for every slot from `from` to the highest one any promise reported,
    /// the accepted value with the highest ballot, or a no-op where nobody accepted anything.
    fn propose_recovered(&mut self, accepted: &VecMap<Slot, AcceptedEntry<M>>, from: Slot) {
        if self.cfg.has(Bug::IgnorePromisedValues) {
            // BUG(ignore-promised-values): proposes only its own commands from `from` on.
            // Correct: a value reported in a promise may already be decided; the new leader must
            // propose it again (the highest-ballot one) before anything of its own.
            return;
        }
        let Some(last) = accepted.range(from..).next_back().map(|(slot, _)| *slot) else {
            return;
        };
        for slot in (from.0..=last.0).map(Slot) {
            let known = slot < self.s().applied.next_slot
                || self.s().learned.contains_key(&slot)
                || self
                    .s()
                    .leadership()
                    .is_some_and(|l| l.proposals.contains_key(&slot));
            if known {
                continue; // Applied or decided here, or already proposed in this ballot.
            }
            let command = match accepted.get(&slot) {
                Some(_) if self.cfg.has(Bug::NoopTakeover) => {
                    // BUG(noop-takeover): a no-op where a value was reported. Correct: the
                    // reported value with the highest ballot, which may already be chosen.
                    Command::NoOp
                }
                Some(entry) if self.cfg.has(Bug::LearnFromPromise) => {
                    // BUG(learn-from-promise): learns the reported value as decided. Correct:
                    // propose it again; one acceptor's vote is not a majority's, and the value
                    // may never have been chosen (another one may be, later).
                    let decision = super::Decision {
                        ballot: entry.ballot,
                        command: entry.command.clone(),
                    };
                    self.learn(slot, decision);
                    continue;
                }
                Some(entry) => {
                    self.fx.took(Rule::TakeoverReproposes);
                    entry.command.clone()
                }
                None if self.cfg.has(Bug::SkipHoleFill) => {
                    // BUG(skip-hole-fill): leaves the hole open. Correct: fill it with a no-op;
                    // a slot nobody decides stops every later slot from being applied.
                    continue;
                }
                None => {
                    self.fx.took(Rule::TakeoverFillsHole);
                    Command::NoOp
                }
            };
            self.propose(slot, command, false);
        }
        if let Role::Leader(l) = &mut self.s_mut().role {
            l.next_slot = l.next_slot.max(last.next());
        }
    }

    /// Proposes queued client commands, as far as Phase 1 and the window allow: each slot takes
    /// up to `batch_commands_max` of them, in arrival order.
    pub(crate) fn serve_pending(&mut self) {
        loop {
            let s = self.s();
            let Some(l) = s.leadership() else { return };
            if s.pending.is_empty() {
                return;
            }
            if !self.cfg.prepare_skip && !l.prepared {
                // Classic Paxos: one slot at a time, each after a Phase 1 of its own.
                let busy = l.reprepare.is_some() || l.proposals.values().any(|p| p.fresh);
                if !busy {
                    self.fx.took(Rule::RepeatPhaseOne);
                    self.start_reprepare();
                }
                return;
            }
            if l.proposals.len() >= self.cfg.window_slots_max {
                self.fx.took(Rule::WindowFull);
                return; // A decision opens the window (`check_phase2_quorum`).
            }
            let batch = self.take_batch();
            if !batch.is_empty() {
                self.propose_fresh(batch);
            }
        }
    }

    /// Takes the next batch off the queue: up to `batch_commands_max` commands, in arrival
    /// order, dropping those that ran or are on their way already.
    fn take_batch(&mut self) -> Vec<ClientCommand<M>> {
        let s = self.s();
        let mut batch = Vec::with_capacity(self.cfg.batch_commands_max.min(s.pending.len()));
        let mut taken = 0;
        while batch.len() < self.cfg.batch_commands_max && taken < s.pending.len() {
            let command = s.pending[taken].clone();
            taken += 1;
            // The commands taken so far leave the queue (all at once, below: one move of the
            // rest instead of one per command).
            if s.applied.has_executed(&command, self.session_window())
                || self.in_progress_queued_from(&command, taken)
            {
                continue;
            }
            batch.push(command);
        }
        if taken > 0 {
            self.s_mut().pending.drain(..taken);
        }
        batch
    }

    /// Proposes new client commands, together, in the next free slot.
    fn propose_fresh(&mut self, batch: Vec<ClientCommand<M>>) {
        let prepare_skip = self.cfg.prepare_skip;
        let Role::Leader(l) = &mut self.s_mut().role else {
            unreachable!("proposing without leading");
        };
        let slot = l.next_slot;
        if !prepare_skip {
            l.prepared = false;
        }
        // Prepare-skip: another new command of this ballot was proposed since the last Phase 1.
        let skips = l.fresh_decided > 0 || l.proposals.values().any(|p| p.fresh);
        self.fx.took(if skips {
            Rule::PrepareSkip
        } else {
            Rule::ProposeFresh
        });
        if batch.len() >= 2 {
            self.fx.took(Rule::ProposeBatch);
        }
        if self.cfg.has(Bug::ReplyBeforeDecide) {
            // What each write would return if it ran on the applied state now.
            let mut machine = self.s().applied.machine.clone();
            for command in batch.iter().filter(|c| !M::is_read_only(&c.op)) {
                // BUG(reply-before-decide): acknowledges the write as soon as it is proposed.
                // Correct: reply only after the command is decided and applied; a proposal can
                // still lose to another leader's value for the slot, and then the write the
                // client was told about never happens.
                let reply = Msg::Reply {
                    request: command.request,
                    result: machine.apply(&command.op),
                };
                self.reply(command.client, reply);
            }
        }
        self.propose(slot, Command::of(batch), true);
    }

    /// Phase 2a: the leader's own acceptor accepts (persisted before the `Accept` leaves), then
    /// every other acceptor is asked to. With the parallel leader write, the `Accept` leaves
    /// first and the leader's own vote is written and counted later ([`Self::on_leader_write`]).
    fn propose(&mut self, slot: Slot, command: Command<M>, fresh: bool) {
        if self.cfg.parallel_leader_write {
            return self.propose_before_own_write(slot, command, fresh);
        }
        let me = self.me;
        let s = self.s_mut();
        let Role::Leader(l) = &mut s.role else {
            unreachable!("proposing without leading");
        };
        let ballot = l.ballot;
        let decided_below = l.decided_below;
        debug_assert_eq!(
            s.durable.promised, ballot,
            "{me:?} proposes in {ballot:?} but promised {:?}",
            s.durable.promised
        );
        l.proposals.insert(
            slot,
            Proposal {
                command: command.clone(),
                voters: vec![me],
                fresh,
            },
        );
        l.next_slot = l.next_slot.max(slot.next());
        s.durable.accepted.insert(
            slot,
            AcceptedEntry {
                ballot,
                command: command.clone(),
            },
        );
        self.persist();
        self.broadcast(Msg::Accept {
            ballot,
            slot,
            command,
            decided_below,
        });
        self.check_phase2_quorum(slot);
    }

    /// Phase 2a with the parallel leader write (`ServerConfig::parallel_leader_write`): the
    /// `Accept` leaves now, with nothing persisted; the leader's own vote is not counted, and
    /// its write is left to the `LeaderWrite` timer (the runtime fires it right after this
    /// step's batch). Followers' votes may decide the slot before it.
    fn propose_before_own_write(&mut self, slot: Slot, command: Command<M>, fresh: bool) {
        let me = self.me;
        let counts_unsaved = self.cfg.has(Bug::LeaderCountsUnsavedVote);
        let Role::Leader(l) = &mut self.s_mut().role else {
            unreachable!("proposing without leading");
        };
        let ballot = l.ballot;
        let decided_below = l.decided_below;
        // BUG(leader-counts-unsaved-vote): counts the leader's own vote now, while it is not
        // durable. Correct: count it once written; a crash before the write loses a vote that
        // helped decide the slot, and a later majority may then choose another value.
        let voters = if counts_unsaved { vec![me] } else { Vec::new() };
        l.proposals.insert(
            slot,
            Proposal {
                command: command.clone(),
                voters,
                fresh,
            },
        );
        l.next_slot = l.next_slot.max(slot.next());
        let at = l.unsaved.binary_search(&slot).unwrap_or_else(|at| at);
        l.unsaved.insert(at, slot);
        self.fx.took(Rule::LeaderVoteDeferred);
        self.broadcast(Msg::Accept {
            ballot,
            slot,
            command,
            decided_below,
        });
        self.fx.set_timer(
            Timer::LeaderWrite,
            std::time::Duration::ZERO..std::time::Duration::ZERO,
        );
        if counts_unsaved {
            self.check_phase2_quorum(slot);
        }
    }

    /// The `LeaderWrite` timer, in two steps as a disk write and its completion are two events:
    /// first the votes written by the previous firing (durable since) are counted, then the
    /// leader's votes for the slots it proposed since are written (persisted before anything
    /// this step sends) and the timer is set again to count them. A slot the followers decided
    /// meanwhile needs no vote here. A server that stopped leading has nothing left to write or
    /// count: its deferred votes went with its leadership, and its promise may already be above
    /// their ballot.
    pub(crate) fn on_leader_write(&mut self) {
        let Some(l) = self.s().leadership() else {
            self.fx.took(Rule::LeaderVoteDropped);
            return;
        };
        if l.unsaved.is_empty() && l.written.is_empty() {
            return; // Nothing waits (a timer set twice fires once).
        }
        let me = self.me;
        let counted_already = self.cfg.has(Bug::LeaderCountsUnsavedVote);
        let Role::Leader(l) = &mut self.s_mut().role else {
            unreachable!("checked above");
        };
        // Count what the previous firing wrote.
        let mut counted = Vec::new();
        for slot in std::mem::take(&mut l.written) {
            if let Some(proposal) = l.proposals.get_mut(&slot) {
                if !counted_already {
                    let at = proposal.voters.binary_search(&me).unwrap_or_else(|at| at);
                    proposal.voters.insert(at, me);
                }
                counted.push(slot);
            }
        }
        if !counted.is_empty() {
            self.fx.took(Rule::LeaderVoteCounted);
        }
        for slot in counted {
            self.check_phase2_quorum(slot);
        }
        // Write what was proposed since.
        let s = self.s_mut();
        let Role::Leader(l) = &mut s.role else {
            unreachable!("{me:?}: counting its own votes ended its leadership");
        };
        let ballot = l.ballot;
        debug_assert_eq!(s.durable.promised, ballot, "{me:?} leads {ballot:?}");
        let mut decided_meanwhile = false;
        for slot in std::mem::take(&mut l.unsaved) {
            let Some(proposal) = l.proposals.get(&slot) else {
                decided_meanwhile = true;
                continue; // Decided by the followers' votes alone.
            };
            s.durable.accepted.insert(
                slot,
                AcceptedEntry {
                    ballot,
                    command: proposal.command.clone(),
                },
            );
            l.written.push(slot);
        }
        let wrote = !l.written.is_empty();
        if decided_meanwhile {
            self.fx.took(Rule::LeaderVoteAfterDecision);
        }
        if wrote {
            self.fx.took(Rule::LeaderVoteWritten);
            self.persist();
            self.fx.set_timer(
                Timer::LeaderWrite,
                std::time::Duration::ZERO..std::time::Duration::ZERO,
            );
        }
    }

    /// Phase 2b arrives at the leader.
    pub(crate) fn on_accepted(&mut self, from: ServerId, ballot: Ballot, slot: Slot) {
        let counts_twice = self.cfg.has(Bug::CountMessages);
        let Some(l) = self.s().leadership() else {
            self.fx.took(Rule::AcceptedStaleIgnored);
            return;
        };
        if l.ballot != ballot {
            self.fx.took(Rule::AcceptedStaleIgnored);
            return; // From an earlier ballot.
        }
        let Some(proposal) = l.proposals.get(&slot) else {
            self.fx.took(Rule::AcceptedDecidedIgnored);
            return; // Decided already.
        };
        if proposal.voters.contains(&from) && !counts_twice {
            self.fx.took(Rule::AcceptedDuplicateIgnored);
            return; // Already counted.
        }
        self.fx.took(Rule::AcceptedCounted);
        let cfg = self.cfg;
        let Role::Leader(l) = &mut self.s_mut().role else {
            unreachable!("checked above");
        };
        let proposal = l.proposals.get_mut(&slot).expect("checked above");
        add_vote(cfg, &mut proposal.voters, from);
        self.heard_from(from); // Check-quorum: a sign of life.
        self.check_phase2_quorum(slot);
    }

    /// Decides `slot` if a quorum accepted the proposal.
    fn check_phase2_quorum(&mut self, slot: Slot) {
        let quorum = self.quorum();
        let decided = self
            .s()
            .leadership()
            .and_then(|l| l.proposals.get(&slot))
            .is_some_and(|p| p.voters.len() >= quorum);
        if !decided {
            return;
        }
        let commit_point = self.cfg.commit_point;
        let Role::Leader(l) = &mut self.s_mut().role else {
            unreachable!("checked above");
        };
        let ballot = l.ballot;
        let proposal = l.proposals.remove(&slot).expect("checked above");
        if proposal.fresh {
            l.fresh_decided += 1;
        }
        let command = proposal.command;
        if commit_point {
            // Decided with this leader's own proposal: the commit point may pass it.
            let at = l.decided_ahead.binary_search(&slot).unwrap_or_else(|at| at);
            l.decided_ahead.insert(at, slot);
            while l.decided_ahead.first() == Some(&l.decided_below) {
                l.decided_ahead.remove(0);
                l.decided_below = l.decided_below.next();
            }
        }
        self.fx.took(Rule::Chosen);
        if self.cfg.announce_decisions && !self.cfg.commit_point {
            self.fx.took(Rule::DecisionAnnounced);
            self.broadcast(Msg::Decide {
                ballot,
                slot,
                command: command.clone(),
            });
        }
        self.learn(slot, super::Decision { ballot, command });
        if self.cfg.has(Bug::WindowStuck) {
            // BUG(window-stuck): the decision opened the window, but nothing is proposed until
            // the next request arrives. Correct: propose what waited for the window now; with
            // no further request (every client waits for its reply) it would wait forever.
            return;
        }
        self.serve_pending();
    }

    /// A higher ballot exists: step down.
    pub(crate) fn on_nack(&mut self, ballot: Ballot, promised: Ballot) {
        if self.s().own_ballot() != Some(ballot) || promised <= ballot {
            self.fx.took(Rule::NackStaleIgnored);
            return; // About a ballot this server no longer runs.
        }
        self.fx.took(Rule::NackStepsDown);
        self.raise_promise(promised);
        self.refresh_election_timer();
    }

    /// Repeats Phase 1 for the leader's own ballot, from its next free slot (no Prepare-skip).
    fn start_reprepare(&mut self) {
        let me = self.me;
        let s = self.s_mut();
        let Role::Leader(l) = &mut s.role else {
            unreachable!("repeating Phase 1 without leading");
        };
        let (ballot, first_slot) = (l.ballot, l.next_slot);
        let own = s.durable.accepted_from(first_slot);
        l.reprepare = Some(Tally::new(me, ballot, first_slot, own));
        self.broadcast(Msg::Prepare { ballot, first_slot });
        self.check_phase1_quorum();
    }

    /// The repeated Phase 1 is won: propose what it found, then the next command.
    fn finish_reprepare(&mut self) {
        let Role::Leader(l) = &mut self.s_mut().role else {
            unreachable!("repeating Phase 1 without leading");
        };
        let tally = l.reprepare.take().expect("checked by the caller");
        l.prepared = true;
        l.fresh_decided = 0;
        self.fx.took(Rule::RepeatPhaseOneWon);
        if let Some(applied) = tally.applied {
            self.install_snapshot(applied);
        }
        self.propose_recovered(&tally.accepted, tally.first_slot);
        self.serve_pending();
    }

    /// The heartbeat timer fired: tell followers this leader is alive and how far it applied,
    /// and re-send every `Accept` not yet answered (a lost `Accept` would stall its slot) and the
    /// `ReadConfirm` of an unconfirmed read round (a lost one would stall its reads).
    pub(crate) fn on_heartbeat_timeout(&mut self) {
        let s = self.s();
        let Some(l) = s.leadership() else {
            self.fx.took(Rule::HeartbeatTimeoutNotLeading);
            return;
        };
        let ballot = l.ballot;
        let commit = s.applied.next_slot;
        let decided_below = l.decided_below;
        let resend: Vec<_> = l
            .proposals
            .iter()
            .flat_map(|(slot, p)| {
                self.peers()
                    .filter(|peer| !p.voters.contains(peer))
                    .map(move |peer| (peer, *slot, p.command.clone()))
            })
            .collect();
        self.fx.took(Rule::HeartbeatSent);
        self.broadcast(Msg::Heartbeat {
            ballot,
            commit,
            decided_below,
        });
        for (peer, slot, command) in resend {
            self.fx.took(Rule::AcceptResent);
            let accept = Msg::Accept {
                ballot,
                slot,
                command,
                decided_below,
            };
            self.fx.send(peer, accept);
        }
        self.resend_read_confirm();
        if self.cfg.heartbeat == HeartbeatMode::Periodic {
            let every = self.cfg.timing.heartbeat_interval;
            self.fx.set_timer(Timer::Heartbeat, every..every);
        }
    }

    /// A leader's heartbeat arrives: it is alive; catch up if it applied more than we did.
    pub(crate) fn on_heartbeat(
        &mut self,
        from: ServerId,
        ballot: Ballot,
        commit: Slot,
        decided_below: Slot,
    ) {
        if !self.admits(ballot) {
            self.fx.took(Rule::HeartbeatRejected);
            let promised = self.s().durable.promised;
            self.fx.send(from, Msg::Nack { ballot, promised });
            return;
        }
        self.fx.took(Rule::HeartbeatAccepted);
        self.raise_promise(ballot);
        self.heartbeat_admitted(from, ballot); // Restarts the election timer.
        self.learn_below_commit_point(ballot, decided_below);
        let next_slot = self.s().applied.next_slot;
        if commit > next_slot {
            self.fx.took(Rule::CatchUpRequested);
            self.fx.send(from, Msg::CatchUp { next_slot });
        }
    }
}
