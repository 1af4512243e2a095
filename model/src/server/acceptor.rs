//! The acceptor: Phase 1b (`Prepare` → `Promise`) and Phase 2b (`Accept` → `Accepted`).
//!
//! An acceptor never goes back on its word: it promises only ballots at least as high as its
//! promise, accepts only in such ballots, and persists the promise and the accepted entry before
//! the reply that reports them leaves (`specs/multipaxos.md`, "Acceptor").

use super::{Role, ServerStep};
use crate::bug::Bug;
use crate::config::HeartbeatMode;
use crate::durable::AcceptedEntry;
use crate::msg::{Msg, Timer};
use crate::rules::Rule;
use crate::state_machine::Command;
use crate::state_machine::StateMachine;
use crate::types::{Ballot, ServerId, Slot};

impl<M: StateMachine> ServerStep<'_, '_, M> {
    /// Whether this acceptor may promise or accept `ballot`, given its promise.
    pub(crate) fn admits(&self, ballot: Ballot) -> bool {
        let promised = self.s().durable.promised;
        if self.cfg.has(Bug::BallotWithoutLeader) {
            // BUG(ballot-without-leader): compares rounds only, so (1,S0) and (1,S1) look equal
            // and both candidates win promises from the same acceptor. Correct: ballots are
            // (round, leader) pairs, totally ordered, owned by exactly one server.
            return ballot.round >= promised.round;
        }
        ballot >= promised
    }

    /// Raises the promise to `ballot` and asks for it to be persisted. A candidate or leader of a
    /// lower ballot steps down (its own acceptor no longer admits it), unless the new ballot is its
    /// own next campaign. The caller refreshes the
    /// election timer.
    pub(crate) fn raise_promise(&mut self, ballot: Ballot) {
        if ballot <= self.s().durable.promised {
            return;
        }
        let me = self.me;
        let s = self.s_mut();
        s.durable.promised = ballot;
        s.pre_vote = None; // A pre-vote is for the ballot just above the promise.
        self.drop_lease_grant_below(ballot);
        let s = self.s_mut();
        if ballot.leader != me && s.own_ballot().is_some_and(|own| own < ballot) {
            self.fx.took(Rule::StepDownOnHigherBallot);
            let s = self.s_mut();
            let was_leader = s.is_leader();
            s.role = Role::Follower;
            s.pending.clear(); // Their clients retry with the new leader.
            if was_leader && self.cfg.heartbeat != HeartbeatMode::Off {
                // A dead timer would only fire into nothing (and split model states).
                self.fx.cancel_timer(Timer::Heartbeat);
            }
            self.lease_lost(); // A candidate's or a leader's.
        }
        self.persist();
    }

    /// Phase 1b.
    pub(crate) fn on_prepare(&mut self, from: ServerId, ballot: Ballot, first_slot: Slot) {
        if self.s().answered_prepare == Some((ballot, first_slot)) {
            self.fx.took(Rule::PrepareDuplicateIgnored);
            return; // A duplicate: answered already.
        }
        if !self.admits(ballot) {
            self.fx.took(Rule::PrepareRejected);
            let promised = self.s().durable.promised;
            self.fx.send(from, Msg::Nack { ballot, promised });
            return;
        }
        if self.lease_grant_refuses(ballot) {
            return; // Promises no other ballot while it holds a lease grant.
        }
        self.fx.took(Rule::PrepareAnswered);
        self.raise_promise(ballot);
        self.refresh_election_timer();
        self.s_mut().answered_prepare = Some((ballot, first_slot));
        self.grant_lease_with_promise(ballot);
        if self.s().applied.next_slot > first_slot {
            self.fx.took(Rule::PromiseCarriesAppliedState);
        }
        let s = self.s();
        let applied = (s.applied.next_slot > first_slot).then(|| Box::new(s.applied.clone()));
        let promise = Msg::Promise {
            ballot,
            first_slot,
            accepted: s.durable.accepted_from(first_slot).into(),
            applied,
        };
        self.fx.send(from, promise);
    }

    /// Phase 2b. An `Accept` below the promise is ignored without an answer: its leader was
    /// deposed and learns so from the new leader's `Prepare`, `Accept` or heartbeat (answering
    /// every stale `Accept` would only add messages; `specs/multipaxos.md`, "Acceptor").
    pub(crate) fn on_accept(
        &mut self,
        from: ServerId,
        ballot: Ballot,
        slot: Slot,
        command: Command<M>,
        decided_below: Slot,
    ) {
        let below_promise = !self.admits(ballot);
        if below_promise && self.cfg.has(Bug::AcceptBelowPromise) {
            // BUG(accept-below-promise): accepts anyway. Correct: a promise to ballot b is a
            // promise not to accept anything below b; that is what lets the leader of b trust
            // that the values its promises reported are the only ones that can have been
            // decided below b.
        } else if below_promise {
            self.fx.took(Rule::AcceptBelowPromiseIgnored);
            return;
        }
        if !self.cfg.has(Bug::AcceptKeepsPromise) {
            // BUG(accept-keeps-promise) skips this. Correct: a vote in ballot b is a promise of
            // b too; an acceptor that votes in b and then promises a lower ballot can vote again
            // below b, replacing a vote that may be part of a choice.
            self.raise_promise(ballot);
        }
        let entry = AcceptedEntry { ballot, command };
        if self.s().durable.accepted.get(&slot) != Some(&entry) {
            self.fx.took(Rule::AcceptVoted);
            self.s_mut().durable.accepted.insert(slot, entry);
            self.persist();
        } else {
            self.fx.took(Rule::AcceptRepeated);
        }
        self.leader_alive(); // Restarts the election timer.
        self.fx.send(from, Msg::Accepted { ballot, slot });
        self.learn_below_commit_point(ballot, decided_below);
    }
}
