//! A Multi-Paxos server: proposer, acceptor and learner in one actor.
//!
//! The handlers are split by role, one file each: [`acceptor`] (Phase 1b and 2b),
//! [`proposer`] (elections, takeover and Phase 2), [`learner`] (deciding, applying, compacting
//! and catching up) and [`requests`] (client commands). Each handler opens with guards that drop
//! stale or irrelevant input quietly (normal in an asynchronous network), then changes the state.
//!
//! Handlers read the state through [`ServerStep::s`] and only take a mutable copy
//! ([`ServerStep::s_mut`]) when they change it: a step that changes nothing and sends nothing is
//! a no-op, which the model checker prunes.

mod acceptor;
mod learner;
mod proposer;
mod requests;

use crate::actor::{Effects, PaxosState};
use crate::bug::Bug;
use crate::config::ServerConfig;
use crate::durable::{AcceptedEntry, Durable};
use crate::msg::{Msg, Timer};
use crate::state_machine::Snapshot;
use crate::types::{majority, Ballot, ClientCommand, ClientId, Command, ServerId, Slot};
use serde::{Deserialize, Serialize};
use stateright::actor::Id;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A server's whole state. Only `durable` survives a crash.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServerState {
    /// The acceptor's promise and votes, and the compacted snapshot: persisted.
    pub durable: Durable,
    /// Follower, candidate or leader.
    pub role: Role,
    /// The learner's state machine: every slot below `applied.next_slot` applied.
    pub applied: Snapshot,
    /// The slots this server learned were decided since it (re)started, with the ballot whose
    /// majority decided it: all of them in the model (`ServerConfig::keep_log`), those since the
    /// previous compaction in a real cluster. Kept for observers (the model's ghost record, the
    /// runtime's agreement check); the protocol only reads slots at and above
    /// `applied.next_slot`.
    pub log: BTreeMap<Slot, Decision>,
    /// Client commands waiting for this server to be able to propose them (bounded).
    pub pending: Vec<ClientCommand>,
    /// The last `Prepare` this acceptor answered: a duplicate of it is ignored (candidates never
    /// re-send a `Prepare`; they campaign again with a higher ballot).
    pub answered_prepare: Option<(Ballot, Slot)>,
}

/// A decided slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Decision {
    /// The ballot whose majority decided it.
    pub ballot: Ballot,
    /// The decided value.
    pub command: Command,
}

/// What a server is doing about leadership.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Not leading; passes client requests on to the leader it knows.
    Follower,
    /// Running Phase 1 for its ballot.
    Candidate(Tally),
    /// Won Phase 1: proposes with Phase 2 alone.
    Leader(Leadership),
}

/// The promises gathered by a Phase 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tally {
    /// The ballot being prepared.
    pub ballot: Ballot,
    /// Phase 1 covers every slot from here on.
    pub first_slot: Slot,
    /// The acceptors that promised (sorted; one vote each).
    pub voters: Vec<ServerId>,
    /// Per slot, the accepted entry with the highest ballot among the promises.
    pub accepted: BTreeMap<Slot, AcceptedEntry>,
    /// The most advanced applied state among the promises, if ahead of `first_slot`.
    pub snapshot: Option<Snapshot>,
}

/// A leader's Phase 2 state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Leadership {
    /// The ballot this server leads.
    pub ballot: Ballot,
    /// The next slot to propose into.
    pub next_slot: Slot,
    /// Proposals not decided yet.
    pub proposals: BTreeMap<Slot, Proposal>,
    /// New client commands proposed and decided since the last Phase 1 completed. Two or more
    /// means Prepare-skip happened.
    pub fresh_decided: u32,
    /// Whether a new command may be proposed without running Phase 1 first. Always true with
    /// Prepare-skip; without it, spent by each new command.
    pub prepared: bool,
    /// A repeated Phase 1 in progress (only without Prepare-skip).
    pub reprepare: Option<Tally>,
}

/// A value proposed in a slot and the acceptors that accepted it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Proposal {
    /// The value.
    pub command: Command,
    /// Acceptors that accepted it (sorted; one vote each).
    pub voters: Vec<ServerId>,
    /// A new client command (not a value recovered by Phase 1, nor a no-op).
    pub fresh: bool,
}

impl ServerState {
    /// The state a server starts in, from its durable state if it has one (recovery).
    pub fn recover(durable: Option<&Durable>) -> ServerState {
        let durable = durable.cloned().unwrap_or_default();
        ServerState {
            applied: durable.snapshot.clone(),
            durable,
            role: Role::Follower,
            log: BTreeMap::new(),
            pending: Vec::new(),
            answered_prepare: None,
        }
    }

    /// The ballot this server campaigns for or leads, if any.
    pub fn own_ballot(&self) -> Option<Ballot> {
        match &self.role {
            Role::Follower => None,
            Role::Candidate(t) => Some(t.ballot),
            Role::Leader(l) => Some(l.ballot),
        }
    }

    /// The leadership, if this server leads.
    pub fn leadership(&self) -> Option<&Leadership> {
        match &self.role {
            Role::Leader(l) => Some(l),
            _ => None,
        }
    }

    /// Whether this server is the leader of a ballot that won Phase 1.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }
}

/// Records `voter` in a sorted vote list. Returns whether the vote is new.
pub(crate) fn add_vote(cfg: &ServerConfig, voters: &mut Vec<ServerId>, voter: ServerId) -> bool {
    match voters.binary_search(&voter) {
        Ok(at) if cfg.has(Bug::CountMessages) => {
            // BUG(count-messages): counts this message as one more vote although `voter` already
            // voted. Correct: a quorum is a set of distinct acceptors; a duplicated message (or a
            // retransmission) must not count twice, or a minority can look like a majority.
            voters.insert(at, voter);
            true
        }
        Ok(_) => false,
        Err(at) => {
            voters.insert(at, voter);
            true
        }
    }
}

/// One step of a server: its configuration, a lazily cloned state and the outputs so far.
pub(crate) struct ServerStep<'a, 'c> {
    pub(crate) cfg: &'a ServerConfig,
    pub(crate) me: ServerId,
    state: &'a mut Cow<'c, PaxosState>,
    pub(crate) fx: Effects,
}

impl<'a, 'c> ServerStep<'a, 'c> {
    pub(crate) fn new(cfg: &'a ServerConfig, me: Id, state: &'a mut Cow<'c, PaxosState>) -> Self {
        ServerStep {
            cfg,
            me: ServerId::from(me),
            state,
            fx: Effects::default(),
        }
    }

    /// The state, read-only (does not clone).
    pub(crate) fn s(&self) -> &ServerState {
        match &**self.state {
            PaxosState::Server(s) => s,
            PaxosState::Client(_) => unreachable!("server step on a client state"),
        }
    }

    /// The state, mutable (clones it the first time in a model-checking step).
    pub(crate) fn s_mut(&mut self) -> &mut ServerState {
        match self.state.to_mut() {
            PaxosState::Server(s) => s,
            PaxosState::Client(_) => unreachable!("server step on a client state"),
        }
    }

    /// The number of distinct acceptors that make a quorum.
    pub(crate) fn quorum(&self) -> usize {
        if self.cfg.has(Bug::HalfQuorum) {
            // BUG(half-quorum): n/2 rounded down. Correct: a majority (n/2 + 1), so that any two
            // quorums share an acceptor, which is what carries a decided value into every later
            // ballot.
            return self.cfg.servers / 2;
        }
        majority(self.cfg.servers)
    }

    /// Every other server.
    pub(crate) fn peers(&self) -> impl Iterator<Item = ServerId> + 'static {
        let me = self.me;
        (0..self.cfg.servers as u32)
            .map(ServerId)
            .filter(move |s| *s != me)
    }

    /// Sends `msg` to every other server.
    pub(crate) fn broadcast(&mut self, msg: Msg) {
        for peer in self.peers() {
            self.fx.send(peer.id(), msg.clone());
        }
    }

    /// Replies to a client.
    pub(crate) fn reply(&mut self, client: ClientId, msg: Msg) {
        self.fx.send(client.id(), msg);
    }

    /// Asks for the durable state to be saved before this step's messages leave.
    pub(crate) fn persist(&mut self) {
        self.fx.persist();
    }

    /// The round of this server's next campaign, if the bounds allow one.
    fn next_round(&self) -> Option<u32> {
        let round = self.s().durable.promised.round.0 + 1;
        match self.cfg.max_round {
            Some(max) if round > max => None,
            _ => Some(round),
        }
    }

    /// Sets the election timer if this server may campaign (now or later) and is not leading;
    /// cancels it otherwise. Setting a set timer restarts it (in the runtime; the model treats
    /// any set timer as able to fire).
    pub(crate) fn refresh_election_timer(&mut self) {
        let may = self.cfg.may_campaign && self.next_round().is_some() && !self.s().is_leader();
        if may {
            let range = self.cfg.timing.election_timeout.clone();
            self.fx.set_timer(Timer::Election, range);
        } else {
            self.fx.cancel_timer(Timer::Election);
        }
    }

    /// Handles a message.
    pub(crate) fn on_msg(&mut self, src: Id, msg: Msg) {
        let from = ServerId::from(src);
        let from_server = from.index() < self.cfg.servers;
        match msg {
            Msg::Request(command) => self.on_request(command, false),
            Msg::Forward(command) if from_server => self.on_request(command, true),
            Msg::Prepare { ballot, first_slot } if from_server => {
                self.on_prepare(from, ballot, first_slot)
            }
            Msg::Promise {
                ballot,
                first_slot,
                accepted,
                snapshot,
            } if from_server => self.on_promise(from, ballot, first_slot, accepted, snapshot),
            Msg::Accept {
                ballot,
                slot,
                command,
            } if from_server => self.on_accept(from, ballot, slot, command),
            Msg::Accepted { ballot, slot } if from_server => self.on_accepted(from, ballot, slot),
            Msg::Nack { ballot, promised } if from_server => self.on_nack(ballot, promised),
            Msg::Decide {
                ballot,
                slot,
                command,
            } if from_server => self.on_decide(ballot, slot, command),
            Msg::Heartbeat { ballot, commit } if from_server => {
                self.on_heartbeat(from, ballot, commit)
            }
            Msg::CatchUp { next_slot } if from_server => self.on_catch_up(from, next_slot),
            Msg::Snapshot(snapshot) if from_server => self.on_snapshot(snapshot),
            // Replies are for clients; anything else from a non-server is malformed: ignored.
            _ => {}
        }
    }

    /// Handles a timer.
    pub(crate) fn on_timeout(&mut self, timer: Timer) {
        match timer {
            Timer::Election => self.on_election_timeout(),
            Timer::Heartbeat => self.on_heartbeat_timeout(),
            Timer::ClientRetry => {}
        }
    }

    /// Emits this step's outputs: the durable state first, then timers, then messages.
    pub(crate) fn finish(self, out: &mut stateright::actor::Out<crate::actor::PaxosActor>) {
        let durable = match &**self.state {
            PaxosState::Server(s) => &s.durable,
            PaxosState::Client(_) => unreachable!("server step on a client state"),
        };
        let mut save = self.fx.persist_requested().then_some(durable);
        if self.cfg.has(Bug::VolatileAcceptor) {
            // BUG(volatile-acceptor): never saves. Correct: the promise and the accepted entries
            // reach stable storage before the Promise or Accepted that reports them; an acceptor
            // that forgets them after a crash can promise a lower ballot or vote against a value
            // a quorum (counting its old vote) already decided.
            save = None;
        }
        self.fx.flush(save, out);
    }
}
