//! Lease reads (`ServerConfig::lease_reads`; `specs/multipaxos.md`, "Lease reads"): a leader
//! that holds a lease answers a read without a confirmation round.
//!
//! - **The lease.** A campaign asks for a lease with its `Prepare` (round 0): every promise
//!   grants one, so a leader holds a lease from the moment it wins, if the `Lease` timer its
//!   campaign started before the `Prepare` left still runs. Afterwards, whenever a read finds
//!   the lease expired, the leader asks again (`LeaseRequest`, rounds 1, 2, ...), its `Lease`
//!   timer started again before the request leaves, and holds the lease once a majority (its
//!   own acceptor included) granted that round, until the timer fires.
//! - **The grant.** An acceptor that promises a campaign's ballot, or admits a leader's
//!   `LeaseRequest` (answering `LeaseGranted`), grants: until its `LeaseGrant` timer fires, it
//!   promises no other ballot. It refuses every `Prepare` of another ballot, and its own server
//!   does not campaign. A leader's own acceptor needs no timer: it cannot promise another
//!   ballot without its server stepping down (and so losing the lease) in that step. The grant
//!   is replaced only in the step in which the acceptor promises a higher ballot some other way
//!   (an `Accept`, a heartbeat, a `LeaseRequest` of a leader that won without it); that ballot's
//!   leader won Phase 1 with promises made outside every grant that a live lease counts.
//! - **The clock assumption.** No clock drifts more than `CLOCK_DRIFT_PERCENT_MAX` from real
//!   time, so a lease (`Timing::lease`, started before the request left) ends, in real time,
//!   before every grant it counts (`Timing::lease_grant`, started after the request arrived).
//!   The step functions read no clock: the assumption is an order between two timers, which the
//!   checked model imposes (`checking::clock`): an acceptor's `LeaseGrant` timer does not fire
//!   while its grant's leader runs the `Lease` timer of a round that grant covers. A restarted
//!   acceptor, which forgot its grant, holds one again for the ballot it promised, covering
//!   every round of it.
//! - **The read.** While the lease is held, a majority holds grants, so no other ballot can win
//!   Phase 1: nothing is decided that this leader does not know of, and a read arriving now is
//!   confirmed as a ReadIndex round would confirm it. It waits, like one, for its read index
//!   (the leader's next slot) to be applied. Without the lease, it is a ReadIndex read.

use super::{add_vote, Role, ServerStep};
use crate::bug::Bug;
use crate::msg::{Msg, Timer};
use crate::rules::Rule;
use crate::state_machine::{ClientCommand, StateMachine};
use crate::types::{Ballot, ServerId};
use serde::{Deserialize, Serialize};

/// A leader's lease.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lease {
    /// The latest lease round of this leadership (0: none yet).
    pub round: u32,
    /// The acceptors that granted that round, while it is requested (sorted; one vote each).
    pub acks: Vec<ServerId>,
    /// Where the round stands.
    pub status: LeaseStatus,
}

/// Where a leader's latest lease round stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeaseStatus {
    /// No `Lease` timer runs: no lease, and none asked for.
    #[default]
    Expired,
    /// The `Lease` timer runs; a majority has not granted the round yet.
    Requested,
    /// The `Lease` timer runs and a majority granted the round: reads need no round.
    Held,
}

/// A lease an acceptor granted and still holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LeaseGrant {
    /// The leader's ballot.
    pub ballot: Ballot,
    /// The latest lease round granted; none after a restart, where the grant stands in for
    /// whatever the acceptor granted before it crashed: every round.
    pub round: Option<u32>,
}

impl LeaseGrant {
    /// Whether this grant may count in `ballot`'s lease round `round`: its timer must then
    /// outlast that round's `Lease` timer.
    pub fn covers(&self, ballot: Ballot, round: u32) -> bool {
        self.ballot == ballot && self.round.is_none_or(|r| r >= round)
    }
}

impl<M: StateMachine> ServerStep<'_, '_, M> {
    /// Asks every acceptor for a lease, if lease reads are on: a new round, this server's own
    /// grant counted, the `Lease` timer started before the requests leave. The caller leads.
    pub(crate) fn request_lease(&mut self) {
        if !self.cfg.lease_reads {
            return;
        }
        let me = self.me;
        let lease = self.cfg.timing.lease;
        let Role::Leader(l) = &mut self.s_mut().role else {
            unreachable!("request_lease at a server that does not lead");
        };
        l.lease.round += 1;
        // Its own acceptor's grant: it cannot promise another ballot without this server
        // stepping down in the same step, so it needs neither a timer nor a refusal.
        l.lease.acks = vec![me];
        l.lease.status = LeaseStatus::Requested;
        let (ballot, round) = (l.ballot, l.lease.round);
        self.fx.took(Rule::LeaseRequested);
        self.fx.set_timer(Timer::Lease, lease..lease);
        self.broadcast(Msg::LeaseRequest { ballot, round });
        self.lease_if_quorum();
    }

    /// An acceptor asked for a lease: it grants if it admits the ballot (promising it,
    /// persisted before the answer), and then promises no other ballot until its grant
    /// expires; otherwise it tells the leader of the higher ballot it promised.
    pub(crate) fn on_lease_request(&mut self, from: ServerId, ballot: Ballot, round: u32) {
        if !self.admits(ballot) {
            self.fx.took(Rule::LeaseRequestRejected);
            let promised = self.s().durable.promised;
            self.fx.send(from, Msg::Nack { ballot, promised });
            return;
        }
        self.fx.took(Rule::LeaseGranted);
        self.raise_promise(ballot);
        // A late request of an earlier round restarts the timer, later than the grant it
        // repeats: the grant keeps covering the latest round.
        let covered = match self.s().lease_grant {
            Some(g) if g.ballot == ballot => g.round.map(|r| r.max(round)),
            _ => Some(round),
        };
        let grant = Some(LeaseGrant {
            ballot,
            round: covered,
        });
        if self.s().lease_grant != grant {
            self.s_mut().lease_grant = grant;
        }
        let duration = self.cfg.timing.lease_grant;
        self.fx.set_timer(Timer::LeaseGrant, duration..duration);
        self.leader_alive(); // Restarts the election timer.
        self.fx.send(from, Msg::LeaseGranted { ballot, round });
    }

    /// An acceptor granted lease round `round` of `ballot`.
    pub(crate) fn on_lease_granted(&mut self, from: ServerId, ballot: Ballot, round: u32) {
        let counts = self.s().leadership().is_some_and(|l| {
            l.ballot == ballot
                && l.lease.round == round
                && l.lease.status == LeaseStatus::Requested
                && !l.lease.acks.contains(&from)
        });
        if !counts {
            self.fx.took(Rule::LeaseGrantIgnored);
            return; // Another ballot or round, a round decided already, or a duplicate.
        }
        self.fx.took(Rule::LeaseGrantCounted);
        let cfg = self.cfg;
        if let Role::Leader(l) = &mut self.s_mut().role {
            add_vote(cfg, &mut l.lease.acks, from);
        }
        self.lease_if_quorum();
    }

    /// Holds the lease if a majority granted the requested round.
    fn lease_if_quorum(&mut self) {
        let quorum = self.quorum();
        let granted = self.s().leadership().is_some_and(|l| {
            l.lease.status == LeaseStatus::Requested && l.lease.acks.len() >= quorum
        });
        if !granted {
            return;
        }
        self.fx.took(Rule::LeaseHeld);
        if let Role::Leader(l) = &mut self.s_mut().role {
            l.lease.status = LeaseStatus::Held;
            l.lease.acks.clear();
        }
    }

    /// A campaign asks for a lease with its `Prepare` (lease reads): its `Lease` timer starts
    /// before the `Prepare` leaves, and every promise grants it. The caller just made this
    /// server a candidate.
    pub(crate) fn campaign_for_lease(&mut self) {
        if !self.cfg.lease_reads {
            return;
        }
        let lease = self.cfg.timing.lease;
        if let Role::Candidate(t) = &mut self.s_mut().role {
            t.lease = LeaseStatus::Requested;
        }
        self.fx.set_timer(Timer::Lease, lease..lease);
    }

    /// The lease a won Phase 1 leaves its leader: held, round 0, if the campaign's `Lease` timer
    /// still runs (a majority promised, and so granted); none otherwise.
    pub(crate) fn lease_won(campaign: LeaseStatus) -> Lease {
        let status = match campaign {
            LeaseStatus::Requested => LeaseStatus::Held,
            _ => LeaseStatus::Expired,
        };
        Lease {
            round: 0,
            acks: Vec::new(),
            status,
        }
    }

    /// An acceptor that promises a campaign's ballot (lease reads) grants it a lease, round 0,
    /// until its `LeaseGrant` timer fires.
    pub(crate) fn grant_lease_with_promise(&mut self, ballot: Ballot) {
        if !self.cfg.lease_reads {
            return;
        }
        self.fx.took(Rule::PromiseGrantsLease);
        let grant = Some(LeaseGrant {
            ballot,
            round: Some(0),
        });
        if self.s().lease_grant.is_none_or(|g| g.ballot != ballot) {
            self.s_mut().lease_grant = grant;
        }
        let duration = self.cfg.timing.lease_grant;
        self.fx.set_timer(Timer::LeaseGrant, duration..duration);
    }

    /// The `Lease` timer fired: the lease of the latest round (held or still requested, or the
    /// campaign's) is over.
    pub(crate) fn on_lease_timeout(&mut self) {
        let running = match &self.s().role {
            Role::Leader(l) => l.lease.status != LeaseStatus::Expired,
            Role::Candidate(t) => t.lease != LeaseStatus::Expired,
            Role::Follower => false,
        };
        if !running {
            return; // A late firing: the timer went with the leadership.
        }
        self.fx.took(Rule::LeaseExpired);
        match &mut self.s_mut().role {
            Role::Leader(l) => {
                l.lease.status = LeaseStatus::Expired;
                l.lease.acks.clear();
            }
            Role::Candidate(t) => t.lease = LeaseStatus::Expired,
            Role::Follower => {}
        }
    }

    /// A leader lost its leadership (and its lease): its `Lease` timer would fire into nothing.
    pub(crate) fn lease_lost(&mut self) {
        if self.cfg.lease_reads {
            self.fx.cancel_timer(Timer::Lease);
        }
    }

    /// The `LeaseGrant` timer fired: this acceptor may promise other ballots again.
    pub(crate) fn on_lease_grant_timeout(&mut self) {
        if self.s().lease_grant.is_none() {
            return; // A late firing: the grant was superseded.
        }
        self.fx.took(Rule::LeaseGrantExpired);
        self.s_mut().lease_grant = None;
    }

    /// The promise rose to `ballot`: a grant of a lower ballot is superseded (that ballot's
    /// leader holds no lease counting it, `specs/multipaxos.md`, "Lease reads").
    pub(crate) fn drop_lease_grant_below(&mut self, ballot: Ballot) {
        if self.s().lease_grant.is_some_and(|g| g.ballot < ballot) {
            self.fx.took(Rule::LeaseGrantSuperseded);
            self.s_mut().lease_grant = None;
            self.fx.cancel_timer(Timer::LeaseGrant);
        }
    }

    /// Whether this acceptor must refuse a `Prepare` of `ballot` (which it admits): it holds a
    /// grant of another ballot. The refusal is silent: a `Nack` would name a lower ballot.
    pub(crate) fn lease_grant_refuses(&mut self, ballot: Ballot) -> bool {
        let Some(grant) = self.s().lease_grant else {
            return false;
        };
        if grant.ballot == ballot {
            return false;
        }
        if self.cfg.has(Bug::LeaseReadAfterNewerPromise) {
            // BUG(lease-read-after-newer-promise): promises the newer ballot although its grant
            // is still held. Correct: refuse it until the grant expired; the leader counting the
            // grant may still answer reads from its lease, and the newer ballot can win Phase 1
            // and decide writes those reads do not see.
            return false;
        }
        self.fx.took(Rule::PrepareRefusedLeaseHeld);
        true
    }

    /// Whether a server that does not lead must put off its campaign (or pre-vote) because its
    /// acceptor holds a grant: its own new ballot is another ballot too. The election timer is
    /// restarted; the campaign comes when it fires after the grant expired.
    pub(crate) fn lease_grant_defers_campaign(&mut self) -> bool {
        if self.s().is_leader() || self.s().lease_grant.is_none() {
            return false;
        }
        if self.cfg.has(Bug::LeaseReadAfterNewerPromise) {
            // BUG(lease-read-after-newer-promise): campaigns, promising its own newer ballot,
            // although its grant is still held (see `lease_grant_refuses`).
            return false;
        }
        self.fx.took(Rule::CampaignDeferredLeaseHeld);
        self.refresh_election_timer();
        true
    }

    /// A restarted acceptor forgot whether it granted a lease, and to which round: it holds a
    /// grant again for the ballot it promised (unless it is its own or none), covering every
    /// round, for a whole grant's duration from now, which ends after any grant it may have
    /// held before the crash.
    pub(crate) fn hold_lease_grant_after_restart(&mut self, recovered: bool) {
        let promised = self.s().durable.promised;
        if !self.cfg.lease_reads
            || !recovered
            || promised == Ballot::ZERO
            || promised.leader == self.me
        {
            return;
        }
        self.fx.took(Rule::LeaseGrantHeldAfterRestart);
        self.s_mut().lease_grant = Some(LeaseGrant {
            ballot: promised,
            round: None,
        });
        let duration = self.cfg.timing.lease_grant;
        self.fx.set_timer(Timer::LeaseGrant, duration..duration);
    }

    /// A read at the leader with lease reads on: while the lease is held, it is confirmed by
    /// the lease (no round) and waits for its read index, the leader's next slot, to be
    /// applied; otherwise it falls back to a ReadIndex read (returns false), and an expired
    /// lease is asked for again. The caller checked that this server leads and that the read is
    /// not in progress.
    pub(crate) fn read_under_lease(&mut self, command: &ClientCommand<M>) -> bool {
        if !self.cfg.lease_reads {
            return false;
        }
        let Some(l) = self.s().leadership() else {
            unreachable!("read_under_lease at a server that does not lead");
        };
        match l.lease.status {
            LeaseStatus::Held => {
                self.fx.took(Rule::LeaseReadConfirmed);
                if let Role::Leader(l) = &mut self.s_mut().role {
                    let read_index = l.next_slot;
                    l.reads.confirmed.push((command.clone(), read_index));
                }
                self.answer_reads();
                true
            }
            LeaseStatus::Requested => {
                self.fx.took(Rule::LeaseReadFallsBack);
                false
            }
            LeaseStatus::Expired => {
                self.fx.took(Rule::LeaseReadFallsBack);
                self.request_lease();
                false
            }
        }
    }
}
