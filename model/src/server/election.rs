//! Pre-vote and check-quorum (`specs/multipaxos.md`, "Pre-vote and check-quorum"): two
//! switches on the election timer's path, off by default, that change who may raise a ballot
//! and when a leader stands down. Neither touches what an acceptor promises or votes, so
//! neither can break safety; they are about not disturbing a leader that works and not keeping
//! one that does not.
//!
//! - **Pre-vote** (`ServerConfig::pre_vote`). A server whose election timer fires does not raise
//!   its ballot. It asks every other server whether it would promise its next ballot
//!   (`PreVote`), and campaigns only once a majority, itself included, said yes
//!   (`PreVoteGranted`). A server says yes only if it would promise that ballot and it neither
//!   leads nor heard from a leader since its own election timer last fired (`leader_heard`).
//!   A pre-vote persists nothing and changes no promise. So a server cut off from the
//!   majority never raises its ballot, and when it comes back its pre-votes are refused by
//!   servers that hear from the leader: it cannot depose a leader a majority still hears from.
//! - **Check-quorum** (`ServerConfig::check_quorum`). A leader keeps its election timer. When
//!   it fires, the leader must have heard from a majority (itself included) since the
//!   previous firing: a `HeartbeatAck` (followers answer each heartbeat they admit) or a
//!   counted `Accepted`. Otherwise it steps down: a leader cut off from the majority stops
//!   proposing and heartbeating, and its clients retry elsewhere.
//!
//! Timers are abstract in the model (a set timer may fire at any moment), so "heard from a
//! leader within an election timeout" is modelled as a flag set by every admitted message of a
//! leader (the ones that restart the election timer as a sign of life) and cleared by the
//! election timer's firing, which in the runtime means a whole election timeout passed since
//! the last restart.

use super::{add_vote, PreVote, Role, ServerStep};
use crate::bug::Bug;
use crate::config::HeartbeatMode;
use crate::msg::{Msg, Timer};
use crate::rules::Rule;
use crate::state_machine::StateMachine;
use crate::types::{Ballot, ServerId};

impl<M: StateMachine> ServerStep<'_, '_, M> {
    /// The election timer fired: at a leader with check-quorum, check it; at any other server
    /// with pre-vote, ask for pre-votes; otherwise campaign.
    pub(crate) fn on_election_timer(&mut self) {
        if self.lease_grant_defers_campaign() {
            return; // Promises no other ballot, its own included, while it holds a grant.
        }
        if self.s().is_leader() && self.cfg.check_quorum {
            self.check_quorum();
        } else if self.cfg.pre_vote && !self.s().is_leader() {
            self.start_pre_vote();
        } else {
            self.on_election_timeout();
        }
    }

    /// Asks every other server whether it would promise this server's next ballot. A candidate
    /// stays one meanwhile (its campaign may still win); a pre-vote that is already running
    /// starts again, from this server's own vote.
    fn start_pre_vote(&mut self) {
        let me = self.me;
        let ballot = Ballot::new(self.next_round(), me);
        self.fx.took(Rule::PreVoteStarted);
        let fresh = PreVote {
            ballot,
            voters: vec![me],
        };
        if self.s().leader_heard || self.s().pre_vote.as_ref() != Some(&fresh) {
            let s = self.s_mut();
            s.leader_heard = false; // A whole election timeout without a word from a leader.
            s.pre_vote = Some(fresh);
        }
        self.refresh_election_timer(); // Ask again if this one stalls.
        self.broadcast(Msg::PreVote { ballot });
        self.check_pre_vote_quorum();
    }

    /// Would this server promise `ballot`, and has it not heard from a leader lately? A refusal
    /// is silence: the asker learns of the leader from the leader itself.
    pub(crate) fn on_pre_vote(&mut self, from: ServerId, ballot: Ballot) {
        if !self.admits(ballot) {
            self.fx.took(Rule::PreVoteRefusedStale);
            return; // Below the promise: the asker missed a newer ballot.
        }
        // BUG(pre-vote-ignores-leader) skips `leader_heard`. Correct: a server that heard from a
        // leader within an election timeout refuses; otherwise a server that was cut off wins a
        // pre-vote as soon as it is back, and its campaign deposes a leader that works.
        let heard = self.s().leader_heard && !self.cfg.has(Bug::PreVoteIgnoresLeader);
        if self.s().is_leader() || heard {
            self.fx.took(Rule::PreVoteRefusedLeaderAlive);
            return; // A leader is alive: the asker is the one cut off.
        }
        self.fx.took(Rule::PreVoteGranted);
        if self.cfg.has(Bug::PreVotePromises) {
            // BUG(pre-vote-promises): the grant is also a promise. Correct: a pre-vote changes
            // nothing at the acceptor; promising a ballot nobody campaigned for makes the
            // acceptor refuse the leader it follows, so a pre-vote that never wins (the asker
            // is cut off from the majority) still deposes that leader.
            self.raise_promise(ballot);
            self.refresh_election_timer();
        }
        self.fx.send(from, Msg::PreVoteGranted { ballot });
    }

    /// A pre-vote grant arrives: count it if it is for this server's pre-vote.
    pub(crate) fn on_pre_vote_granted(&mut self, from: ServerId, ballot: Ballot) {
        let counts = self
            .s()
            .pre_vote
            .as_ref()
            .is_some_and(|p| p.ballot == ballot && !p.voters.contains(&from));
        if !counts {
            self.fx.took(Rule::PreVoteGrantIgnored);
            return; // For a pre-vote that ended (the promise rose), or counted already.
        }
        self.fx.took(Rule::PreVoteGrantCounted);
        let cfg = self.cfg;
        let pre_vote = self.s_mut().pre_vote.as_mut().expect("checked above");
        add_vote(cfg, &mut pre_vote.voters, from);
        self.check_pre_vote_quorum();
    }

    /// Campaigns if a majority granted the pre-vote.
    fn check_pre_vote_quorum(&mut self) {
        let quorum = self.quorum();
        let Some(pre_vote) = &self.s().pre_vote else {
            return;
        };
        if pre_vote.voters.len() < quorum {
            return;
        }
        debug_assert_eq!(
            pre_vote.ballot,
            Ballot::new(self.next_round(), self.me),
            "{:?} won a pre-vote for a ballot that is not the one above its promise {:?}",
            self.me,
            self.s().durable.promised
        );
        self.fx.took(Rule::PreVoteWon);
        // Campaign exactly as an election timeout does without pre-vote: with the ballot above
        // the promise, which is the pre-vote's. Raising the promise ends the pre-vote.
        self.on_election_timeout();
        debug_assert!(self.s().pre_vote.is_none(), "{:?}", self.me);
    }

    /// A message of a live leader was admitted (its `Heartbeat`, `Accept` or `ReadConfirm`):
    /// restart the election timer and, with pre-vote, refuse pre-votes until it fires, and
    /// give up a pre-vote of its own (there is a leader; grants that come later are ignored).
    pub(crate) fn leader_alive(&mut self) {
        if self.cfg.pre_vote && (!self.s().leader_heard || self.s().pre_vote.is_some()) {
            let s = self.s_mut();
            s.leader_heard = true;
            s.pre_vote = None;
        }
        self.refresh_election_timer();
    }

    /// A heartbeat of `ballot` from `from` was admitted: the leader is alive; with
    /// check-quorum, tell it that it was heard.
    pub(crate) fn heartbeat_admitted(&mut self, from: ServerId, ballot: Ballot) {
        self.leader_alive();
        if self.cfg.check_quorum {
            self.fx.send(from, Msg::HeartbeatAck { ballot });
        }
    }

    /// A follower answered a heartbeat: count it towards this leader's next check.
    pub(crate) fn on_heartbeat_ack(&mut self, from: ServerId, ballot: Ballot) {
        let counts = self
            .s()
            .leadership()
            .is_some_and(|l| l.ballot == ballot && !l.heard.contains(&from));
        if !counts {
            self.fx.took(Rule::HeartbeatAckIgnored);
            return; // Another ballot, or heard from already since the last check.
        }
        self.fx.took(Rule::HeartbeatAckCounted);
        self.heard_from(from);
    }

    /// Check-quorum: `from` answered this leader since its last check (a `HeartbeatAck`, or an
    /// `Accepted` it counted).
    pub(crate) fn heard_from(&mut self, from: ServerId) {
        if !self.cfg.check_quorum {
            return;
        }
        let heard = self.s().leadership().map(|l| l.heard.binary_search(&from));
        if let Some(Err(at)) = heard {
            if let Role::Leader(l) = &mut self.s_mut().role {
                l.heard.insert(at, from);
            }
        }
    }

    /// The election timer fired at a leader with check-quorum: keep leading only if a
    /// majority, this server included, was heard from since the previous firing.
    fn check_quorum(&mut self) {
        let quorum = self.quorum();
        let Some(l) = self.s().leadership() else {
            unreachable!("check_quorum at a server that does not lead");
        };
        let heard = l.heard.len();
        if heard + 1 >= quorum {
            self.fx.took(Rule::CheckQuorumPassed);
            // BUG(check-quorum-keeps-stale-acks) keeps `heard`. Correct: the next check counts
            // only answers that come after this one; otherwise one answer counts for every later
            // check, and a leader cut off from the majority leads on, holding its clients'
            // requests, for as long as it is cut off.
            if heard > 0 && !self.cfg.has(Bug::CheckQuorumKeepsStaleAcks) {
                if let Role::Leader(l) = &mut self.s_mut().role {
                    l.heard.clear(); // The next check counts from now.
                }
            }
            self.refresh_election_timer();
            return;
        }
        self.fx.took(Rule::CheckQuorumStepDown);
        let s = self.s_mut();
        s.role = Role::Follower;
        s.pending.clear(); // Their clients retry elsewhere.
        if self.cfg.heartbeat != HeartbeatMode::Off {
            self.fx.cancel_timer(Timer::Heartbeat);
        }
        self.lease_lost();
        self.refresh_election_timer(); // A follower's now: it may campaign again.
    }
}
