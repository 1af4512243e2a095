//! The checked model: stateright's `Model` for [`PaxosModel`]. Its states and actions are the
//! wrapped `ActorModel`'s; after each step it updates the ghost record and it drops the actions
//! that leave the fault bounds (see [`super::system`]).

use super::clock;
use super::config::NetworkKind;
use super::ghost::CheckQuorumEvent;
use super::properties;
use super::reduction;
use super::system::{acting, Action, PaxosModel, State};
use crate::actor;
use crate::coverage::Situation;
use crate::msg::Msg;
use crate::msg::Timer;
use crate::server::{Role, ServerState};
use crate::types::ServerId;
use stateright::actor::{
    is_no_op, is_no_op_with_timer, Actor, ActorModelAction, Envelope, Network, Out, RandomChoices,
    Timers,
};
use stateright::{Model, Path, Property};
use std::borrow::Cow;
use std::sync::Arc;

impl Model for PaxosModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let mut states = self.inner.init_states();
        for state in &mut states {
            for actor in 0..self.cfg.servers {
                self.observe(state, actor);
            }
            if self.forget_dead {
                // The invariant `forget_dead_messages_after_step` rests on: no dead message.
                reduction::forget_dead_messages(state);
            }
            self.intern_ghost(state);
        }
        states
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.inner.actions(state, actions);
        let crash_budget_left = (state.history.crashes as usize) < self.cfg.crashes;
        let election_budget_left = state.history.elections < self.cfg.elections;
        actions.retain(|action| match action {
            ActorModelAction::Crash(id) => crash_budget_left && self.is_server(usize::from(*id)),
            ActorModelAction::Timeout(_, Timer::Election) => election_budget_left,
            // The clock assumption of lease reads (`checking::clock`).
            ActorModelAction::Timeout(id, Timer::LeaseGrant) => {
                clock::grant_may_expire(self, state, usize::from(*id))
            }
            _ => true,
        });
        if self.forget_dead {
            clock::expire_grants_first(actions);
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let actor = acting(&action);
        let step = StepKind::of(&action);
        let heard = LeaderContact::of(&action);
        let answer = check_quorum_event(&action);
        let mut next = match &action {
            ActorModelAction::Crash(_) => {
                let mut next = self.inner.next_state(last, action)?;
                next.history.crashes += 1;
                next
            }
            ActorModelAction::Recover(id) => {
                let mut next = self.inner.next_state(last, action.clone())?;
                next.history.recovered.insert(ServerId(actor::node(*id).0));
                next
            }
            ActorModelAction::Timeout(id, Timer::Election) => {
                let mut next = match self.inner.next_state(last, action.clone()) {
                    Some(next) => next,
                    // A check that changes nothing at the leader is still a check, which the
                    // ghost's record sees (`idle_step_changes_ghost`).
                    None if self.idle_step_changes_ghost(last, &action) => last.clone(),
                    None => return None,
                };
                let me = ServerId(actor::node(*id).0);
                let promised = |s: &State| {
                    s.actor_states[me.index()]
                        .as_server()
                        .map(|s| s.durable.promised)
                };
                // A campaign: the server promised a ballot of its own, above its old promise.
                let campaign = promised(&next) > promised(last)
                    && promised(&next).is_some_and(|b| b.leader == me);
                // With pre-vote: a pre-vote started (a leader's firing is a check-quorum).
                let was_leader = last.actor_states[me.index()]
                    .as_server()
                    .is_some_and(|s| s.is_leader());
                let pre_vote = !was_leader
                    && next.actor_states[me.index()]
                        .as_server()
                        .is_some_and(|s| s.pre_vote.is_some());
                if campaign || pre_vote {
                    next.history.elections += 1;
                }
                next
            }
            ActorModelAction::Deliver {
                msg: Msg::PreVoteGranted { .. },
                ..
            } => {
                let mut next = self.inner.next_state(last, action.clone())?;
                let majority = crate::types::majority(self.cfg.servers) as u32;
                let unsettled = |g: &u16| *g != u16::MAX && g.count_ones() >= majority;
                if next.history.pre_vote_grants.values().any(unsettled) {
                    next.history.settle_grants(self.cfg.servers);
                }
                next
            }
            ActorModelAction::Deliver {
                src,
                dst,
                msg: msg @ Msg::HeartbeatAck { .. },
            } => match self.inner.next_state(last, action.clone()) {
                Some(next) => next,
                // An answer the leader ignores (it counts its sender already) is still an
                // answer, which the ghost's record sees (`idle_step_changes_ghost`): delivered
                // as a step of the ghost alone.
                None if self.idle_step_changes_ghost(last, &action) => {
                    let mut next = last.clone();
                    consume(
                        &mut next.network,
                        &Envelope {
                            src: *src,
                            dst: *dst,
                            msg: msg.clone(),
                        },
                    );
                    next
                }
                None => return None,
            },
            _ => self.inner.next_state(last, action)?,
        };
        if self.is_server(actor) {
            if self.cfg.pre_vote {
                track_leader_heard(last, heard, &mut next, actor);
            }
            if self.cfg.check_quorum {
                track_heard_since_check(last, answer, &mut next, actor, self.cfg.servers);
            }
            self.observe(&mut next, actor);
            if !Arc::ptr_eq(&last.actor_states[actor], &next.actor_states[actor]) {
                let server = Arc::clone(&next.actor_states[actor]);
                if let Some(s) = server.as_server() {
                    let me = ServerId(actor as u32);
                    if !next.history.knows_votes(me, s.durable.accepted.iter()) {
                        next.history.record_votes(me, s.durable.accepted.iter());
                    }
                }
            }
            self.count_situations(last, step, &next, actor);
        }
        if self.forget_dead {
            reduction::forget_dead_messages_after_step(&mut next, actor);
            reduction::settle_votes(&mut next, self.cfg.servers);
        }
        if let Network::UnorderedDuplicating(_, last_delivered) = &mut next.network {
            // stateright remembers the last envelope delivered so that a delivery that changes
            // nothing still yields a new state. Nothing reads it (actions come from the set of
            // envelopes), so it only multiplies states: forget it.
            *last_delivered = None;
        }
        release_emptied_tables(last, &mut next, actor);
        // After every change this step made to the ghost (its digest is computed here once).
        self.intern_ghost(&mut next);
        Some(next)
    }

    fn format_action(&self, action: &Action) -> String {
        self.inner.format_action(action)
    }

    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        self.inner.format_step(last, action)
    }

    fn as_svg(&self, path: Path<State, Action>) -> Option<String> {
        self.inner.as_svg(path)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::all(&self.cfg)
    }
}

impl PaxosModel {
    /// Whether `action` changes anything in `state`: exactly when [`Model::next_state`] returns
    /// a state, decided as stateright's `ActorModel::next_state` decides it (a delivery to a
    /// crashed actor, or a delivery or timeout whose step changes nothing and emits nothing, is
    /// no step; on the ordered network every delivery is one; every other action is), but
    /// without building the next state, and on the actors that count no rules: a property
    /// that asks is not exploring a transition. `tests::acts_is_next_state_is_some` checks the
    /// equivalence on every state and action of two small configurations.
    pub(super) fn acts(&self, state: &State, action: &Action) -> bool {
        match action {
            ActorModelAction::Deliver { src, dst, msg } => {
                let index = usize::from(*dst);
                let Some(actor_state) = state.actor_states.get(index) else {
                    return false;
                };
                if state.crashed[index] {
                    return false;
                }
                if self.cfg.network == NetworkKind::Ordered {
                    return true;
                }
                let mut actor_state = Cow::Borrowed(&**actor_state);
                let mut out = Out::new();
                self.quiet[index].on_msg(*dst, &mut actor_state, *src, msg.clone(), &mut out);
                !is_no_op(&actor_state, &out) || self.idle_step_changes_ghost(state, action)
            }
            ActorModelAction::Timeout(id, timer) => {
                let index = usize::from(*id);
                let mut actor_state = Cow::Borrowed(&*state.actor_states[index]);
                let mut out = Out::new();
                self.quiet[index].on_timeout(*id, &mut actor_state, timer, &mut out);
                !is_no_op_with_timer(&actor_state, &out, timer)
                    || self.idle_step_changes_ghost(state, action)
            }
            ActorModelAction::Drop(_)
            | ActorModelAction::Crash(_)
            | ActorModelAction::Recover(_)
            | ActorModelAction::SelectRandom { .. } => true,
        }
    }

    /// With check-quorum: whether `action`, if the step it makes of its server in `state`
    /// changes nothing (stateright drops such a step as a no-op), changes the ghost's
    /// check-quorum record all the same. Two such steps are steps of the ghost alone: the
    /// firing of a leader's election timer that leaves it leading with its `heard` as it was
    /// (the check forgets the answers the record had, or the leader passed unheard), and a
    /// `HeartbeatAck` of its ballot that it ignores, from a server it counts already but the
    /// record has not heard from since the last check. In the correct protocol neither
    /// happens with two servers or more (the record is the leader's `heard`, a leader that
    /// passes with answers clears it, and one without answers steps down), so no state is
    /// added; a leader whose `heard` is wrong cannot hide a check, or an answer, from the
    /// record. (An `Accepted` the leader ignores is for a decided slot, or a vote counted
    /// already: not an answer the leader counts, so the record does not count it either.)
    fn idle_step_changes_ghost(&self, state: &State, action: &Action) -> bool {
        let actor = acting(action);
        if !self.cfg.check_quorum || !self.is_server(actor) || state.crashed[actor] {
            return false;
        }
        let event = match action {
            ActorModelAction::Timeout(_, Timer::Election) => CheckQuorumEvent::Check,
            ActorModelAction::Deliver {
                msg: Msg::HeartbeatAck { .. },
                ..
            } => check_quorum_event(action),
            _ => return false,
        };
        let Some(ballot) = state.actor_states[actor]
            .as_server()
            .and_then(|s| s.leadership())
            .map(|l| l.ballot)
        else {
            return false;
        };
        let me = ServerId(actor as u32);
        let ghost = &state.history;
        let after = ghost.heard_after(me, Some(ballot), Some(ballot), event, self.cfg.servers);
        after != (ghost.answered_since_check(me), ghost.passed_check_unheard)
    }

    /// Counts the situations of `specs/multipaxos.md`, "Rule coverage", that server `actor`'s
    /// step from `last` to `next` shows.
    fn count_situations(&self, last: &State, step: StepKind, next: &State, actor: usize) {
        let (Some(before), Some(after)) = (
            last.actor_states[actor].as_server(),
            next.actor_states[actor].as_server(),
        ) else {
            return;
        };
        let me = ServerId(actor as u32);
        let coverage = &self.coverage;
        if !before.is_leader() {
            if let Some(l) = after.leadership() {
                if l.ballot.round.0 >= 2 {
                    coverage.situation(Situation::LeaderElectedAgain);
                }
            }
        }
        match step {
            StepKind::ElectionTimeout if after.durable.promised > before.durable.promised => {
                let led_before = before.learned.values().any(|d| d.ballot.leader == me)
                    || before
                        .durable
                        .accepted
                        .values()
                        .any(|e| e.ballot.leader == me);
                if led_before {
                    coverage.situation(Situation::FormerLeaderCampaigns);
                }
            }
            StepKind::Recover if !after.durable.accepted.is_empty() => {
                coverage.situation(Situation::RecoveryWithVotes);
            }
            StepKind::PromiseWithVotes(from)
                if next.history.recovered.contains(&from)
                    && !voted(before, from)
                    && (voted(after, from) || (after.is_leader() && !before.is_leader())) =>
            {
                coverage.situation(Situation::RecoveredVoteReported);
            }
            _ => {}
        }
    }
}

/// Takes delivered envelope `env` out of `network`, as stateright's own delivery of a step does
/// (its `Network::on_deliver` is private): one copy on the non-duplicating network, none on the
/// duplicating one (its messages can always be delivered again).
fn consume(network: &mut Network<Msg>, env: &Envelope<Msg>) {
    match network {
        Network::UnorderedNonDuplicating(copies) => match copies.get_mut(env) {
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                copies.remove(env);
            }
            None => panic!("delivered {env:?}, which is not in flight"),
        },
        Network::UnorderedDuplicating(..) => {}
        Network::Ordered(_) => {
            unreachable!("on the ordered network every delivery is a step: {env:?}")
        }
    }
}

/// Gives back the memory of `actor`'s timer set and random choices if the step emptied them.
/// A hash table keeps its capacity when emptied, and a copy of it allocates as much: stateright
/// copies every actor's tables for every successor it generates, so a client whose choice was
/// taken, or a server whose timer was cancelled, would cost an allocation and a free in every
/// state after. (An empty table with no capacity is equal and hashes alike: nothing else
/// changes.)
fn release_emptied_tables(last: &State, next: &mut State, actor: usize) {
    let had_timers = last
        .timers_set
        .get(actor)
        .is_some_and(|timers| timers.iter().next().is_some());
    if let Some(timers) = next.timers_set.get_mut(actor) {
        if had_timers && timers.iter().next().is_none() {
            *timers = Timers::new();
        }
    }
    if let Some(choices) = next.random_choices.get_mut(actor) {
        if choices.map.is_empty() && choices.map.capacity() > 0 {
            *choices = RandomChoices::default();
        }
    }
}

/// What an action means for the ghost's record of which servers heard from a leader since
/// their election timer last fired (taken before the action is consumed).
#[derive(Clone, Copy)]
enum LeaderContact {
    /// A leader's `Heartbeat`, `Accept`, `ReadConfirm` or `LeaseRequest` of this ballot is
    /// delivered.
    Message(crate::types::Ballot),
    /// The election timer fires.
    ElectionTimeout,
    /// A crash or a recovery: volatile state is gone.
    Restart,
    Other,
}

impl LeaderContact {
    fn of(action: &Action) -> LeaderContact {
        match action {
            ActorModelAction::Deliver {
                msg:
                    Msg::Heartbeat { ballot, .. }
                    | Msg::Accept { ballot, .. }
                    | Msg::ReadConfirm { ballot, .. }
                    | Msg::LeaseRequest { ballot, .. },
                ..
            } => LeaderContact::Message(*ballot),
            ActorModelAction::Timeout(_, Timer::Election) => LeaderContact::ElectionTimeout,
            ActorModelAction::Crash(_) | ActorModelAction::Recover(_) => LeaderContact::Restart,
            _ => LeaderContact::Other,
        }
    }
}

/// Keeps `Ghost::leader_heard` from the actions alone, apart from the servers' own flag
/// (`specs/multipaxos.md`, "Pre-vote and check-quorum"): server `actor` heard from a leader when
/// it admits (at or above its promise) a leader's message; its election timer's firing (at a
/// server that does not lead: a leader's is a check-quorum) and a restart forget it.
fn track_leader_heard(last: &State, contact: LeaderContact, next: &mut State, actor: usize) {
    let Some(before) = last.actor_states[actor].as_server() else {
        return;
    };
    let bit = 1u16 << actor;
    let heard = next.history.leader_heard;
    let updated = match contact {
        LeaderContact::Message(ballot) if ballot >= before.durable.promised => heard | bit,
        LeaderContact::ElectionTimeout if !before.is_leader() => heard & !bit,
        LeaderContact::Restart => heard & !bit,
        _ => heard,
    };
    if updated != heard {
        next.history.leader_heard = updated;
    }
}

/// What an action means for the ghost's check-quorum record (taken before the action is
/// consumed).
fn check_quorum_event(action: &Action) -> CheckQuorumEvent {
    match action {
        ActorModelAction::Deliver {
            src,
            msg: Msg::HeartbeatAck { ballot } | Msg::Accepted { ballot, .. },
            ..
        } => CheckQuorumEvent::Answer {
            from: ServerId(actor::node(*src).0),
            ballot: *ballot,
        },
        ActorModelAction::Timeout(_, Timer::Election) => CheckQuorumEvent::Check,
        _ => CheckQuorumEvent::Other,
    }
}

/// Keeps the ghost's check-quorum record (`Ghost::heard_since_check`,
/// `Ghost::passed_check_unheard`) from the actions alone, apart from the leaders' own `heard`
/// (`specs/multipaxos.md`, "Pre-vote and check-quorum"): see [`Ghost::heard_after`]. An answer
/// counts when its delivery is a step of the leader (one the leader ignores is no step: it
/// stays in flight, or the dead-message reduction forgets it), so in the correct protocol the
/// record is exactly the leader's `heard`, and it adds no state.
fn track_heard_since_check(
    last: &State,
    event: CheckQuorumEvent,
    next: &mut State,
    actor: usize,
    servers: usize,
) {
    let (Some(before), Some(after)) = (
        last.actor_states[actor].as_server(),
        next.actor_states[actor].as_server(),
    ) else {
        return;
    };
    let me = ServerId(actor as u32);
    let lead = |s: &ServerState| s.leadership().map(|l| l.ballot);
    let ghost = &next.history;
    let (answered, unheard) = ghost.heard_after(me, lead(before), lead(after), event, servers);
    if (answered, unheard) == (ghost.answered_since_check(me), ghost.passed_check_unheard) {
        return;
    }
    let ghost = &mut *next.history;
    if answered == 0 {
        ghost.heard_since_check.remove(&me);
    } else {
        ghost.heard_since_check.insert(me, answered);
    }
    ghost.passed_check_unheard = unheard;
}

/// Whether `from`'s promise is counted in `s`'s Phase 1.
fn voted(s: &ServerState, from: ServerId) -> bool {
    let tally = match &s.role {
        Role::Candidate(t) => Some(t),
        Role::Leader(l) => l.reprepare.as_ref(),
        Role::Follower => None,
    };
    tally.is_some_and(|t| t.voters.contains(&from))
}

/// What `count_situations` needs to know of an action (taken before the action is consumed).
#[derive(Clone, Copy)]
enum StepKind {
    ElectionTimeout,
    Recover,
    /// A `Promise` that reports votes, from this server.
    PromiseWithVotes(ServerId),
    Other,
}

impl StepKind {
    fn of(action: &Action) -> StepKind {
        match action {
            ActorModelAction::Timeout(_, Timer::Election) => StepKind::ElectionTimeout,
            ActorModelAction::Recover(_) => StepKind::Recover,
            ActorModelAction::Deliver {
                src,
                msg: Msg::Promise { accepted, .. },
                ..
            } if !accepted.is_empty() => StepKind::PromiseWithVotes(ServerId(actor::node(*src).0)),
            _ => StepKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checking::CheckConfig;
    use std::collections::{HashSet, VecDeque};

    fn digest(state: &State) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(state)
    }

    /// Explores up to `limit` states of `cfg` breadth-first and checks, for every action of
    /// every state, that `acts` says what `next_state` does. Returns (states, no-op actions).
    fn compare(cfg: CheckConfig, limit: usize) -> (usize, usize) {
        let model = PaxosModel::new(cfg);
        let mut seen = HashSet::new();
        let mut queue: VecDeque<State> = model.init_states().into();
        let mut no_ops = 0;
        while let Some(state) = queue.pop_front() {
            if seen.len() >= limit || !seen.insert(digest(&state)) {
                continue;
            }
            let mut actions = Vec::new();
            model.actions(&state, &mut actions);
            for action in actions {
                let acts = model.acts(&state, &action);
                let next = model.next_state(&state, action.clone());
                assert_eq!(acts, next.is_some(), "{action:?} in {state:#?}");
                match next {
                    Some(next) => queue.push_back(next),
                    None => no_ops += 1,
                }
            }
        }
        (seen.len(), no_ops)
    }

    #[test]
    fn acts_is_next_state_is_some() {
        let base = CheckConfig {
            clients: 1,
            elections: 2,
            client_retries: 1,
            ..CheckConfig::default()
        };
        let mut total_no_ops = 0;
        for cfg in [
            // Three elections: with the dead-message reduction two reach fewer states than
            // the comparison needs.
            CheckConfig {
                elections: 3,
                ..base.clone()
            },
            CheckConfig {
                crashes: 1,
                network: NetworkKind::UnorderedDuplicating,
                forget_dead_messages: false,
                heartbeats: true,
                ..base.clone()
            },
            CheckConfig {
                network: NetworkKind::Ordered,
                lossy: true,
                ..base.clone()
            },
            // Steps that change only the ghost (`idle_step_changes_ghost`).
            CheckConfig {
                check_quorum: true,
                heartbeats: true,
                network: NetworkKind::UnorderedDuplicating,
                bug: Some(crate::bug::Bug::CheckQuorumKeepsStaleAcks),
                ..base
            },
        ] {
            let (states, no_ops) = compare(cfg, 20_000);
            assert!(states >= 10_000, "{states} states");
            total_no_ops += no_ops;
        }
        // Both answers occur (not with the dead-message reduction, which leaves no message
        // whose delivery is a no-op): the comparison is not between two constants.
        assert!(total_no_ops > 0);
    }
}
