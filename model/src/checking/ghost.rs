//! The ghost record: auxiliary state the properties need but no server keeps
//! (`specs/multipaxos.md`, "Properties").
//!
//! - What clients observed, for linearizability: an invocation when a client sends a request for
//!   the first time (not a retry), a return when the client takes the reply (the same rule as the
//!   client's own, [`crate::client::takes_reply`]: a reply to a request it awaits), so a
//!   duplicate reply the client ignores is never recorded.
//! - Every value ever decided for every slot, by any server, including servers that crashed
//!   since: current server states alone can forget.
//! - Crashes and recoveries, to bound them and to see a decision after a recovery.
//! - With pre-vote, the grants that reached each pre-vote's owner and who heard from a leader;
//!   with check-quorum, who answered each leader since its last check, and whether a leader
//!   passed a check without a majority's answers. The checked model keeps these from the
//!   actions (`checking::model`), apart from the servers' own flags and lists.

use crate::digest::Shared;
use crate::msg::Msg;
use crate::state_machine::{ClientCommand, Command};
use crate::types::{Ballot, ClientId, Op, OpResult, RequestId, ServerId, Slot, Value};
use stateright::actor::Envelope;
use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::collections::{BTreeMap, BTreeSet};

/// The linearizability tester over the replicated register. Its threads are client requests:
/// a client with several requests outstanding (its window) runs them concurrently, and the
/// tester orders each request after every one that returned before it was invoked, so a
/// client's program order is kept wherever it holds.
pub type Tester = LinearizabilityTester<(ClientId, RequestId), Register<Value>>;

/// One slot's votes: per (ballot, value), the acceptors that voted for it (a bit per server).
pub type Votes = BTreeMap<(Ballot, Command), u16>;

/// Auxiliary state carried in stateright's `ActorModelState::history`.
///
/// Its larger parts are [`Shared`] (hashed once, copied only when changed): a step that
/// changes one part (a client's reply changes `in_flight` and the tester, a vote `votes`)
/// copies and hashes that part alone, and the new ghost shares the others with the old one.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Ghost {
    /// Client invocations and returns (shared: votes and decisions change far more often, and
    /// a copy of the ghost then shares the tester; the `linearizable` verdict is memoized on it).
    pub tester: Shared<Tester>,
    /// The commands clients await replies for.
    pub in_flight: BTreeSet<ClientCommand>,
    /// Per slot, every value any server ever decided for it (more than one: agreement broken).
    pub decided: Shared<BTreeMap<Slot, BTreeSet<Command>>>,
    /// The ballot of the first decision, and whether another ballot decided something since.
    pub first_deciding_ballot: Option<Ballot>,
    /// A second ballot decided something: a new leader decided after an earlier one.
    pub later_ballot_decided: bool,
    /// Server crashes so far.
    pub crashes: u32,
    /// Election attempts so far, by any server (bounded by `CheckConfig::elections`):
    /// campaigns, and with pre-vote the pre-votes started (a pre-vote won then campaigns
    /// without another attempt).
    pub elections: u32,
    /// Every vote any acceptor ever cast, crashed or compacted ones included: per slot, per
    /// (ballot, value), the acceptors that voted for it (a bit per server).
    pub votes: Shared<BTreeMap<Slot, Votes>>,
    /// Values chosen (a majority voted for them in one ballot) whose votes were folded away
    /// by the vote reduction (`checking::reduction::settle_votes`).
    pub settled: Shared<BTreeMap<Slot, BTreeSet<Command>>>,
    /// Servers that recovered at least once.
    pub recovered: BTreeSet<ServerId>,
    /// Pre-vote: per ballot, the servers whose grant of its pre-vote reached the ballot's
    /// owner (a bit per server); all bits once a majority's did (only that fact matters).
    pub pre_vote_grants: BTreeMap<Ballot, u16>,
    /// Pre-vote: the servers that admitted a live leader's message (a `Heartbeat`, `Accept` or
    /// `ReadConfirm` at or above their promise) since their election timer last fired or they
    /// last restarted (a bit per server), kept by the checked model from the actions alone.
    pub leader_heard: u16,
    /// Pre-vote: a server granted a pre-vote while its bit of `leader_heard` was set.
    pub granted_while_leader_heard: bool,
    /// Check-quorum: per leader, the servers whose `HeartbeatAck` or `Accepted` of its ballot
    /// it took (a delivery that was a step of it) since its election timer last fired or it
    /// became leader (a bit per server; no entry: none), kept by the checked model from the
    /// actions alone, apart from the leader's own `heard`. Only with check-quorum.
    pub heard_since_check: BTreeMap<ServerId, u16>,
    /// Check-quorum: a leader kept leading when its election timer fired although its entry
    /// of `heard_since_check`, with itself, was no majority.
    pub passed_check_unheard: bool,
}

impl Default for Ghost {
    fn default() -> Self {
        Ghost {
            tester: Shared::new(LinearizabilityTester::new(Register(Value::default()))),
            in_flight: BTreeSet::new(),
            decided: Shared::default(),
            first_deciding_ballot: None,
            later_ballot_decided: false,
            crashes: 0,
            elections: 0,
            votes: Shared::default(),
            settled: Shared::default(),
            recovered: BTreeSet::new(),
            pre_vote_grants: BTreeMap::new(),
            leader_heard: 0,
            granted_while_leader_heard: false,
            heard_since_check: BTreeMap::new(),
            passed_check_unheard: false,
        }
    }
}

/// What a server's step means for the ghost's check-quorum record ([`Ghost::heard_after`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckQuorumEvent {
    /// A `HeartbeatAck` or an `Accepted` of `ballot` from server `from` is delivered.
    Answer {
        /// The answering server.
        from: ServerId,
        /// The ballot it answers.
        ballot: Ballot,
    },
    /// The server's election timer fires.
    Check,
    /// Anything else.
    Other,
}

/// A client operation as stateright's register operation (for the linearizability tester).
pub fn register_op(op: Op) -> RegisterOp<Value> {
    match op {
        Op::Write(v) => RegisterOp::Write(v),
        Op::Read => RegisterOp::Read,
    }
}

/// A client result as stateright's register return (for the linearizability tester).
pub fn register_ret(result: OpResult) -> RegisterRet<Value> {
    match result {
        OpResult::WriteOk => RegisterRet::WriteOk,
        OpResult::ReadOk(v) => RegisterRet::ReadOk(v),
    }
}

impl Ghost {
    /// `record_msg_out`: a client's first send of a request is its invocation; a pre-vote
    /// granted by a server that heard from a leader since its election timer fired is noted.
    pub fn on_send(_: &(), ghost: &Ghost, env: Envelope<&Msg>) -> Option<Ghost> {
        if let Msg::PreVoteGranted { .. } = env.msg {
            let granter = 1u16 << usize::from(env.src);
            if ghost.leader_heard & granter == 0 || ghost.granted_while_leader_heard {
                return None;
            }
            let mut next = ghost.clone();
            next.granted_while_leader_heard = true;
            return Some(next);
        }
        let Msg::Request(command) = env.msg else {
            return None;
        };
        if env.src != crate::actor::id(command.client) || ghost.in_flight.contains(command) {
            return None; // Not from the client itself, or a retry.
        }
        let mut next = ghost.clone();
        // An error marks the history invalid, which the `linearizable` property reports.
        let _ = next
            .tester
            .on_invoke((command.client, command.request), register_op(command.op));
        next.in_flight.insert(*command);
        Some(next)
    }

    /// `record_msg_in`: a reply the client takes is the return of its invocation; a pre-vote
    /// grant that reaches its ballot's owner is recorded.
    pub fn on_deliver(_: &(), ghost: &Ghost, env: Envelope<&Msg>) -> Option<Ghost> {
        if let Msg::PreVoteGranted { ballot } = env.msg {
            return ghost.with_grant(*ballot, crate::actor::node(env.src).0);
        }
        let Msg::Reply { request, result } = env.msg else {
            return None;
        };
        let client = ClientId(crate::actor::node(env.dst).0);
        let awaited = ghost
            .in_flight
            .iter()
            .find(|c| c.client == client && c.request == *request)?;
        let mut next = ghost.clone();
        let _ = next
            .tester
            .on_return((client, *request), register_ret(*result));
        next.in_flight.remove(&awaited.clone());
        Some(next)
    }

    /// The ghost with `granter`'s grant of `ballot`'s pre-vote recorded, if that changes it.
    fn with_grant(&self, ballot: Ballot, granter: u32) -> Option<Ghost> {
        let known = self.pre_vote_grants.get(&ballot).copied().unwrap_or(0);
        let grants = known | 1u16 << ballot.leader.0 | 1u16 << granter;
        if grants == known {
            return None;
        }
        let mut next = self.clone();
        next.pre_vote_grants.insert(ballot, grants);
        Some(next)
    }

    /// Marks every pre-vote a majority of `servers` granted as won (all bits): who else
    /// grants it changes nothing then. Whether it changed anything.
    pub fn settle_grants(&mut self, servers: usize) -> bool {
        let majority = crate::types::majority(servers) as u32;
        let mut changed = false;
        for grants in self.pre_vote_grants.values_mut() {
            if *grants != u16::MAX && grants.count_ones() >= majority {
                *grants = u16::MAX;
                changed = true;
            }
        }
        changed
    }

    /// Whether a majority of `servers` granted `ballot`'s pre-vote (its owner included) and
    /// their grants reached the owner.
    pub fn pre_voted(&self, servers: usize, ballot: Ballot) -> bool {
        let majority = crate::types::majority(servers) as u32;
        let grants = self.pre_vote_grants.get(&ballot).copied().unwrap_or(0);
        (grants | 1u16 << ballot.leader.0).count_ones() >= majority
    }

    /// Check-quorum: the servers whose answers leader `me` took since its last check (a bit
    /// each; see [`Ghost::heard_since_check`]).
    pub fn answered_since_check(&self, me: ServerId) -> u16 {
        self.heard_since_check.get(&me).copied().unwrap_or(0)
    }

    /// Check-quorum: the record after a step of server `me` that led ballot `led` before it
    /// and leads `leads` after it (`None`: it did not lead): who answered it since its last
    /// check, and whether a leader passed a check unheard. An answer of its ballot adds its
    /// sender; the firing of its election timer is a check, which it passes if it still leads
    /// the same ballot after it: that needs a majority of `servers`, itself included, among
    /// those that answered; then (pass or not) the count starts again. A server that does not
    /// lead after the step, or leads another ballot (a new leadership), has heard nothing yet.
    pub fn heard_after(
        &self,
        me: ServerId,
        led: Option<Ballot>,
        leads: Option<Ballot>,
        event: CheckQuorumEvent,
        servers: usize,
    ) -> (u16, bool) {
        let answered = self.answered_since_check(me);
        let passed_unheard = self.passed_check_unheard;
        match (led, leads) {
            (Some(before), Some(after)) if before == after => match event {
                CheckQuorumEvent::Answer { from, ballot } if ballot == after => {
                    (answered | 1u16 << from.0, passed_unheard)
                }
                CheckQuorumEvent::Check => {
                    let majority = crate::types::majority(servers) as u32;
                    let heard = (answered | 1u16 << me.0).count_ones() >= majority;
                    (0, passed_unheard || !heard)
                }
                _ => (answered, passed_unheard),
            },
            _ => (0, passed_unheard),
        }
    }

    /// Whether [`Ghost::record_votes`] of these votes of `server` would leave the ghost as it
    /// is: each is recorded already, or its value is chosen already. (Most steps change no
    /// vote: asking first spares copying the ghost, which a state shares with its parent.)
    pub fn knows_votes<'a>(
        &self,
        server: ServerId,
        mut accepted: impl Iterator<Item = (&'a Slot, &'a crate::durable::AcceptedEntry)>,
    ) -> bool {
        let bit = 1u16 << server.0;
        accepted.all(|(slot, entry)| {
            let chosen = || {
                self.settled
                    .get(slot)
                    .is_some_and(|chosen| chosen.contains(&entry.command))
            };
            let voted = || {
                self.votes.get(slot).is_some_and(|votes| {
                    votes.iter().any(|((ballot, command), voters)| {
                        *ballot == entry.ballot && *command == entry.command && voters & bit != 0
                    })
                })
            };
            chosen() || voted()
        })
    }

    /// Records the votes `server`'s acceptor holds now (each vote is recorded once; a vote
    /// that compaction or a crash removes later stays recorded).
    pub fn record_votes<'a>(
        &mut self,
        server: ServerId,
        accepted: impl Iterator<Item = (&'a Slot, &'a crate::durable::AcceptedEntry)>,
    ) {
        let bit = 1u16 << server.0;
        for (slot, entry) in accepted {
            if self
                .settled
                .get(slot)
                .is_some_and(|chosen| chosen.contains(&entry.command))
            {
                continue; // Chosen already: more votes for it change nothing.
            }
            let voters = self
                .votes
                .entry(*slot)
                .or_default()
                .entry((entry.ballot, entry.command.clone()))
                .or_default();
            *voters |= bit;
        }
    }

    /// Per slot, the values a majority of `servers` acceptors voted for in one ballot.
    pub fn chosen(&self, servers: usize) -> BTreeMap<Slot, BTreeSet<Command>> {
        let majority = crate::types::majority(servers) as u32;
        let mut chosen: BTreeMap<Slot, BTreeSet<Command>> = (*self.settled).clone();
        for (slot, votes) in self.votes.iter() {
            let values = chosen.entry(*slot).or_default();
            values.extend(
                votes
                    .iter()
                    .filter(|(_, voters)| voters.count_ones() >= majority)
                    .map(|((_, command), _)| command.clone()),
            );
        }
        chosen.retain(|_, values| !values.is_empty());
        chosen
    }

    /// Records decisions seen in a server's log.
    pub fn record<'a>(
        &mut self,
        decisions: impl Iterator<Item = (&'a Slot, &'a crate::server::Decision)>,
    ) {
        for (slot, decision) in decisions {
            self.decided
                .entry(*slot)
                .or_default()
                .insert(decision.command.clone());
            match self.first_deciding_ballot {
                None => self.first_deciding_ballot = Some(decision.ballot),
                Some(first) if first != decision.ballot => self.later_ballot_decided = true,
                Some(_) => {}
            }
        }
    }
}
