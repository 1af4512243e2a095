//! A Multi-Paxos server: proposer, acceptor and learner in one actor.
//!
//! The handlers are split by role, one file each: `acceptor` (Phase 1b and 2b),
//! `proposer` (elections, takeover and Phase 2), `learner` (deciding, applying, compacting
//! and catching up) and `requests` (client commands). Each handler opens with guards that drop
//! stale or irrelevant input quietly (normal in an asynchronous network), then changes the state.
//!
//! Handlers read the state through `ServerStep::s` and only take a mutable copy
//! (`ServerStep::s_mut`) when they change it: a step that changes nothing and sends nothing is
//! a no-op, which the model checker prunes.

mod acceptor;
mod election;
mod learner;
mod lease;
mod proposer;
mod reads;
mod requests;

use crate::bug::Bug;
use crate::config::ServerConfig;
use crate::durable::{AcceptedEntry, Durable};
use crate::msg::{Msg, Timer};
use crate::output::{Effect, Outbox, Output};
use crate::rules::Rule;
use crate::state_machine::{AppliedState, Register, StateMachine};
use crate::state_machine::{ClientCommand, Command};
use crate::types::{majority, Ballot, ClientId, NodeId, ServerId, Slot};
use crate::vec_map::VecMap;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

pub use lease::{Lease, LeaseGrant, LeaseStatus};

/// Starts (or, with its durable state, recovers) server `me`: the state it starts in, and the
/// effects of starting (its election timer).
pub fn start<M: StateMachine>(
    cfg: &ServerConfig,
    me: ServerId,
    durable: Option<&Durable<M>>,
) -> (ServerState<M>, Output<M>) {
    let mut state = Cow::Owned(ServerState::recover(durable));
    let mut step = ServerStep::new(cfg, me, &mut state);
    step.refresh_election_timer();
    step.hold_lease_grant_after_restart(durable.is_some());
    let output = step.finish();
    (state.into_owned(), output)
}

/// Server `me` receives `msg` from node `from`. The state is cloned only if the step changes
/// it: a step that leaves `state` borrowed and returns no effects changed nothing.
pub fn on_message<M: StateMachine>(
    cfg: &ServerConfig,
    me: ServerId,
    state: &mut Cow<ServerState<M>>,
    from: NodeId,
    msg: Msg<M>,
) -> Output<M> {
    let mut step = ServerStep::new(cfg, me, state);
    step.on_msg(from, msg);
    step.finish()
}

/// One of server `me`'s timers fired.
pub fn on_timeout<M: StateMachine>(
    cfg: &ServerConfig,
    me: ServerId,
    state: &mut Cow<ServerState<M>>,
    timer: Timer,
) -> Output<M> {
    let mut step = ServerStep::new(cfg, me, state);
    step.on_timeout(timer);
    step.finish()
}

/// [`on_message`] on a state the caller owns (a runtime's), changed in place: the same
/// handlers, with no copy of the state in or out.
/// The effects are collected in `effects` (emptied first; see [`Outbox::reusing`]).
pub(crate) fn on_message_in_place<M: StateMachine>(
    cfg: &ServerConfig,
    me: ServerId,
    state: &mut ServerState<M>,
    from: NodeId,
    msg: Msg<M>,
    effects: Vec<Effect<M>>,
) -> Output<M> {
    let mut step = ServerStep::in_place(cfg, me, state, effects);
    step.on_msg(from, msg);
    step.finish()
}

/// [`on_timeout`] on a state the caller owns, changed in place.
pub(crate) fn on_timeout_in_place<M: StateMachine>(
    cfg: &ServerConfig,
    me: ServerId,
    state: &mut ServerState<M>,
    timer: Timer,
    effects: Vec<Effect<M>>,
) -> Output<M> {
    let mut step = ServerStep::in_place(cfg, me, state, effects);
    step.on_timeout(timer);
    step.finish()
}

/// A server's whole state. Only `durable` survives a crash.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ServerState<M: StateMachine = Register> {
    /// The acceptor's promise and votes, and the compacted snapshot: persisted.
    pub durable: Durable<M>,
    /// Follower, candidate or leader.
    pub role: Role<M>,
    /// The learner's state machine: every slot below `applied.next_slot` applied.
    pub applied: AppliedState<M>,
    /// The slots this server learned were decided since it (re)started, with the ballot whose
    /// majority decided it: all of them in the model (`ServerConfig::keep_log`), those since the
    /// previous compaction in a real cluster. Kept for observers (the model's ghost record, the
    /// runtime's agreement check); the protocol only reads slots at and above
    /// `applied.next_slot`.
    pub learned: VecMap<Slot, Decision<M>>,
    /// Client commands waiting for this server to be able to propose them (bounded).
    pub pending: Vec<ClientCommand<M>>,
    /// The last `Prepare` this acceptor answered: a duplicate of it is ignored (candidates never
    /// re-send a `Prepare`; they campaign again with a higher ballot).
    pub answered_prepare: Option<(Ballot, Slot)>,
    /// The pre-vote this server runs, if any (`ServerConfig::pre_vote`): always for the ballot
    /// just above its promise, so it ends when the promise rises.
    pub pre_vote: Option<PreVote>,
    /// Pre-vote: this server heard from a leader (admitted its `Heartbeat`, `Accept` or
    /// `ReadConfirm`) since its election timer last fired, so it refuses pre-votes. Always
    /// false without pre-vote.
    pub leader_heard: bool,
    /// Lease reads: the lease this acceptor granted and still holds (until its `LeaseGrant`
    /// timer fires): it promises no other ballot meanwhile. Always none without lease reads.
    pub lease_grant: Option<LeaseGrant>,
}

/// A pre-vote in progress: the ballot this server would campaign with, and the servers that
/// granted it (sorted, starting with this server's own).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PreVote {
    /// The ballot: the round above this server's promise, and this server.
    pub ballot: Ballot,
    /// The servers that granted it (one vote each).
    pub voters: Vec<ServerId>,
}

/// A decided slot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Decision<M: StateMachine = Register> {
    /// The ballot whose majority decided it.
    pub ballot: Ballot,
    /// The decided value.
    pub command: Command<M>,
}

/// What a server is doing about leadership.
// A leader's state is the largest, and a server is a leader in most explored states: boxing it
// would add an allocation to every copy of a leading server's state (the model checker's most
// frequent copy), to save 200 bytes in the others.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Role<M: StateMachine = Register> {
    /// Not leading; passes client requests on to the leader it knows.
    Follower,
    /// Running Phase 1 for its ballot.
    Candidate(Tally<M>),
    /// Won Phase 1: proposes with Phase 2 alone.
    Leader(Leadership<M>),
}

/// The promises gathered by a Phase 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Tally<M: StateMachine = Register> {
    /// The ballot being prepared.
    pub ballot: Ballot,
    /// Phase 1 covers every slot from here on.
    pub first_slot: Slot,
    /// The acceptors that promised (sorted; one vote each).
    pub voters: Vec<ServerId>,
    /// Per slot, the accepted entry with the highest ballot among the promises.
    pub accepted: VecMap<Slot, AcceptedEntry<M>>,
    /// The most advanced applied state among the promises, if ahead of `first_slot`.
    pub applied: Option<AppliedState<M>>,
    /// Lease reads: the lease a campaign asks for with its `Prepare` (each promise grants it),
    /// `Requested` while its `Lease` timer, started by the campaign, runs.
    pub lease: LeaseStatus,
}

/// A leader's Phase 2 state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Leadership<M: StateMachine = Register> {
    /// The ballot this server leads.
    pub ballot: Ballot,
    /// The next slot to propose into.
    pub next_slot: Slot,
    /// Proposals not decided yet.
    pub proposals: VecMap<Slot, Proposal<M>>,
    /// New client commands proposed and decided since the last Phase 1 completed. Two or more
    /// means Prepare-skip happened.
    pub fresh_decided: u32,
    /// Whether a new command may be proposed without running Phase 1 first. Always true with
    /// Prepare-skip; without it, spent by each new command.
    pub prepared: bool,
    /// A repeated Phase 1 in progress (only without Prepare-skip).
    pub reprepare: Option<Tally<M>>,
    /// ReadIndex reads in progress (`ServerConfig::read_index`).
    pub reads: Reads<M>,
    /// Check-quorum: the other servers heard from (a `HeartbeatAck` or a counted `Accepted` of
    /// this ballot) since the election timer last fired at this leader (sorted).
    pub heard: Vec<ServerId>,
    /// The commit point (`ServerConfig::commit_point`): every slot from this leadership's first
    /// slot up to here was decided by this leader in its ballot. It stops at a slot learned
    /// otherwise (from another ballot's decision or an installed state), for good: only slots
    /// decided with this leader's own proposal may be vouched for.
    pub decided_below: Slot,
    /// Slots above `decided_below` this leader decided in its ballot (sorted).
    pub decided_ahead: Vec<Slot>,
    /// Parallel leader write: slots whose `Accept` left before this leader's own vote was
    /// written (sorted); the `LeaderWrite` timer writes them.
    pub unsaved: Vec<Slot>,
    /// Parallel leader write: slots whose own vote the last `LeaderWrite` wrote (durable now,
    /// sorted); its next firing counts them.
    pub written: Vec<Slot>,
    /// Lease reads: this leadership's lease (`ServerConfig::lease_reads`).
    pub lease: Lease,
}

/// A leader's ReadIndex reads. One confirmation round is in flight at a time; reads that
/// arrive meanwhile wait for the next. A read's read index is the leader's next slot when it
/// arrived: every value chosen before the read began is in a slot below it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Reads<M: StateMachine = Register> {
    /// The latest confirmation round of this leadership (0: none yet).
    pub round: u32,
    /// The reads of that round while it is unconfirmed, with their read indexes.
    pub confirming: Vec<(ClientCommand<M>, Slot)>,
    /// The acceptors that confirmed that round (sorted; one vote each).
    pub acks: Vec<ServerId>,
    /// Reads that arrived while the round was in flight: they go in the next round.
    pub queued: Vec<(ClientCommand<M>, Slot)>,
    /// Confirmed reads waiting for the applied state to reach their read index.
    pub confirmed: Vec<(ClientCommand<M>, Slot)>,
    /// Per client, the reads answered here, kept as a session is (the highest one and the
    /// others of the client's window, with what they returned): a repeat of one of them (a
    /// retry, a duplicate) gets the same answer, which is still linearizable (the read took
    /// effect between its invocation and the first answer), and one below the window is
    /// dropped. Reads leave no trace in the sessions of the applied state, which only the log
    /// changes.
    pub answered: VecMap<ClientId, crate::state_machine::Session<M>>,
}

impl<M: StateMachine> Default for Reads<M> {
    fn default() -> Self {
        Reads {
            round: 0,
            confirming: Vec::new(),
            acks: Vec::new(),
            queued: Vec::new(),
            confirmed: Vec::new(),
            answered: VecMap::new(),
        }
    }
}

impl<M: StateMachine> Reads<M> {
    /// Whether `command` is a read in progress here.
    pub fn contains(&self, command: &ClientCommand<M>) -> bool {
        [&self.confirming, &self.queued, &self.confirmed]
            .iter()
            .any(|reads| reads.iter().any(|(c, _)| c == command))
    }

    /// Whether no read is in progress.
    pub fn is_empty(&self) -> bool {
        self.confirming.is_empty() && self.queued.is_empty() && self.confirmed.is_empty()
    }
}

/// A value proposed in a slot and the acceptors that accepted it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Proposal<M: StateMachine = Register> {
    /// The value.
    pub command: Command<M>,
    /// Acceptors that accepted it (sorted; one vote each).
    pub voters: Vec<ServerId>,
    /// A new client command (not a value recovered by Phase 1, nor a no-op).
    pub fresh: bool,
}

impl<M: StateMachine> ServerState<M> {
    /// The state a server starts in, from its durable state if it has one (recovery).
    pub fn recover(durable: Option<&Durable<M>>) -> ServerState<M> {
        let durable = durable.cloned().unwrap_or_default();
        ServerState {
            applied: durable.snapshot.clone(),
            durable,
            role: Role::Follower,
            learned: VecMap::new(),
            pending: Vec::new(),
            answered_prepare: None,
            pre_vote: None,
            leader_heard: false,
            lease_grant: None,
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
    pub fn leadership(&self) -> Option<&Leadership<M>> {
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
pub(crate) struct ServerStep<'a, 'c, M: StateMachine = Register> {
    pub(crate) cfg: &'a ServerConfig,
    pub(crate) me: ServerId,
    state: StepState<'a, 'c, M>,
    pub(crate) fx: Outbox<M>,
}

/// The state a step works on: a `Cow` (the model checker's, cloned at the first change if
/// borrowed) or a state its owner lends for the step (a runtime's, changed in place; moving it
/// into a `Cow` and back cost two copies of the whole state per step).
enum StepState<'a, 'c, M: StateMachine> {
    Cow(&'a mut Cow<'c, ServerState<M>>),
    InPlace(&'a mut ServerState<M>),
}

impl<M: StateMachine> StepState<'_, '_, M> {
    fn get(&self) -> &ServerState<M> {
        match self {
            StepState::Cow(state) => state,
            StepState::InPlace(state) => state,
        }
    }

    fn to_mut(&mut self) -> &mut ServerState<M> {
        match self {
            StepState::Cow(state) => state.to_mut(),
            StepState::InPlace(state) => state,
        }
    }
}

impl<'a, 'c, M: StateMachine> ServerStep<'a, 'c, M> {
    pub(crate) fn new(
        cfg: &'a ServerConfig,
        me: ServerId,
        state: &'a mut Cow<'c, ServerState<M>>,
    ) -> Self {
        ServerStep {
            cfg,
            me,
            state: StepState::Cow(state),
            fx: Outbox::default(),
        }
    }

    /// A step on a state its owner lends (see [`StepState`]), its effects collected in
    /// `effects` ([`Outbox::reusing`]).
    pub(crate) fn in_place(
        cfg: &'a ServerConfig,
        me: ServerId,
        state: &'a mut ServerState<M>,
        effects: Vec<Effect<M>>,
    ) -> Self {
        ServerStep {
            cfg,
            me,
            state: StepState::InPlace(state),
            fx: Outbox::reusing(effects),
        }
    }

    /// The state, read-only (does not clone).
    pub(crate) fn s(&self) -> &ServerState<M> {
        self.state.get()
    }

    /// The state, mutable (clones it the first time in a step that borrowed it).
    pub(crate) fn s_mut(&mut self) -> &mut ServerState<M> {
        self.state.to_mut()
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
    pub(crate) fn broadcast(&mut self, msg: Msg<M>) {
        for peer in self.peers() {
            self.fx.send(peer, msg.clone());
        }
    }

    /// Replies to a client.
    pub(crate) fn reply(&mut self, client: ClientId, msg: Msg<M>) {
        self.fx.send(client, msg);
    }

    /// Asks for the durable state to be saved before this step's messages leave.
    pub(crate) fn persist(&mut self) {
        self.fx.persist();
    }

    /// The round of this server's next campaign: above every ballot it has promised.
    pub(crate) fn next_round(&self) -> u32 {
        self.s().durable.promised.round.0 + 1
    }

    /// Sets the election timer if this server may campaign (now or later) and is not leading,
    /// or leads with check-quorum on; cancels it otherwise. Setting a set timer restarts it (in the runtime; the model treats
    /// any set timer as able to fire).
    pub(crate) fn refresh_election_timer(&mut self) {
        // With check-quorum a leader keeps it: its firing checks that a majority was heard from.
        let may = if self.s().is_leader() {
            self.cfg.check_quorum
        } else {
            self.cfg.may_campaign
        };
        if may {
            let range = self.cfg.timing.election_timeout.clone();
            self.fx.set_timer(Timer::Election, range);
        } else {
            self.fx.cancel_timer(Timer::Election);
        }
    }

    /// Handles a message. Server-to-server messages from anyone but a server are malformed
    /// and ignored; replies are for clients.
    pub(crate) fn on_msg(&mut self, src: NodeId, msg: Msg<M>) {
        let Some(from) = src.as_server(self.cfg.servers) else {
            match msg {
                Msg::Request(command) => self.on_request(command, false),
                _ => self.fx.took(Rule::NotFromServerIgnored),
            }
            return;
        };
        match msg {
            Msg::Request(command) => self.on_request(command, false),
            Msg::Forward(command) => self.on_request(command, true),
            Msg::Prepare { ballot, first_slot } => self.on_prepare(from, ballot, first_slot),
            Msg::Promise {
                ballot,
                first_slot,
                accepted,
                applied,
            } => self.on_promise(
                from,
                ballot,
                first_slot,
                accepted.into_vec(),
                applied.map(|a| *a),
            ),
            Msg::Accept {
                ballot,
                slot,
                command,
                decided_below,
            } => self.on_accept(from, ballot, slot, command, decided_below),
            Msg::Accepted { ballot, slot } => self.on_accepted(from, ballot, slot),
            Msg::Nack { ballot, promised } => self.on_nack(ballot, promised),
            Msg::Decide {
                ballot,
                slot,
                command,
            } => self.on_decide(ballot, slot, command),
            Msg::Heartbeat {
                ballot,
                commit,
                decided_below,
            } => self.on_heartbeat(from, ballot, commit, decided_below),
            Msg::ReadConfirm { ballot, round } => self.on_read_confirm(from, ballot, round),
            Msg::ReadAck { ballot, round } => self.on_read_ack(from, ballot, round),
            Msg::CatchUp { next_slot } => self.on_catch_up(from, next_slot),
            Msg::StateTransfer(applied) => self.on_state_transfer(*applied),
            Msg::PreVote { ballot } => self.on_pre_vote(from, ballot),
            Msg::PreVoteGranted { ballot } => self.on_pre_vote_granted(from, ballot),
            Msg::HeartbeatAck { ballot } => self.on_heartbeat_ack(from, ballot),
            Msg::LeaseRequest { ballot, round } => self.on_lease_request(from, ballot, round),
            Msg::LeaseGranted { ballot, round } => self.on_lease_granted(from, ballot, round),
            Msg::Reply { .. } => {}
        }
    }

    /// Handles a timer.
    pub(crate) fn on_timeout(&mut self, timer: Timer) {
        match timer {
            Timer::Election => self.on_election_timer(),
            Timer::Heartbeat => self.on_heartbeat_timeout(),
            Timer::LeaderWrite => self.on_leader_write(),
            Timer::ClientRetry => {}
            Timer::Lease => self.on_lease_timeout(),
            Timer::LeaseGrant => self.on_lease_grant_timeout(),
        }
    }

    /// This step's effects, in the order a driver executes them: the durable state first
    /// (when the step changed it), then timers, then messages ([`crate::output`]).
    pub(crate) fn finish(self) -> Output<M> {
        let mut save = self
            .fx
            .persist_requested()
            .then_some(&self.state.get().durable);
        if self.cfg.has(Bug::VolatileAcceptor) {
            // BUG(volatile-acceptor): never saves. Correct: the promise and the accepted entries
            // reach stable storage before the Promise or Accepted that reports them; an acceptor
            // that forgets them after a crash can promise a lower ballot or vote against a value
            // a quorum (counting its old vote) already decided.
            save = None;
        }
        self.fx.finish(save)
    }
}
