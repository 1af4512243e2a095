//! What one step asks its driver to do: a plain, ordered list of [`Effect`]s.
//!
//! A step function never performs I/O. It returns an [`Output`], and the driver (the model
//! checker's adapter, the threaded runtime, a replay) executes the effects **front to back**.
//! The order is fixed by construction (`Outbox::finish`), so that a driver which executes
//! them in order can never let a message leave before the state it depends on is durable
//! (`specs/multipaxos.md`, "Durable state"):
//!
//! 1. [`Effect::Persist`], at most once, first: the server's durable state after the step.
//!    The driver must not go on until it is on stable storage.
//! 2. Timer changes ([`Effect::SetTimer`], [`Effect::CancelTimer`]), in the order issued.
//! 3. Messages ([`Effect::Send`]), in the order sent. A `Promise` or `Accepted` among them
//!    reports state that (1) made durable.
//! 4. For a client, [`Effect::Complete`]: the reply it took, for its caller.
//!
//! A driver may delay the sends of several steps and persist once for all of them (group
//! commit), as long as no send overtakes the persist of its own step.

use crate::durable::Durable;
use crate::msg::{Msg, Timer};
use crate::rules::{Rule, Rules};
use crate::state_machine::{Register, StateMachine};
use crate::types::{NodeId, RequestId};
use std::ops::Range;
use std::time::Duration;

/// One thing a step asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect<M: StateMachine = Register> {
    /// Save this durable state to stable storage before executing anything after it.
    Persist(Durable<M>),
    /// Set (or restart) a timer to fire after a duration drawn from the range. The model
    /// checker ignores the range: a set timer may fire at any moment.
    SetTimer(Timer, Range<Duration>),
    /// Cancel a timer (nothing happens if it is not set).
    CancelTimer(Timer),
    /// Send a message.
    Send(NodeId, Msg<M>),
    /// A client took the reply to its pending request: the operation completed with `result`.
    Complete {
        /// The request that completed.
        request: RequestId,
        /// Its result.
        result: M::Output,
    },
}

/// The effects of one step, in the order a driver must execute them.
#[must_use = "a step's effects must be executed, persist first"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output<M: StateMachine = Register> {
    effects: Vec<Effect<M>>,
    rules: Rules,
}

impl<M: StateMachine> Output<M> {
    /// The effects, in execution order.
    pub fn effects(&self) -> &[Effect<M>] {
        &self.effects
    }

    /// The protocol rules the step took (for coverage; drivers need not look).
    pub fn rules(&self) -> Rules {
        self.rules
    }

    /// Whether the step did nothing a driver could see.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }

    /// The durable state to save, if the step changed it.
    pub fn persist(&self) -> Option<&Durable<M>> {
        match self.effects.first() {
            Some(Effect::Persist(durable)) => Some(durable),
            _ => None,
        }
    }

    /// The messages, in the order sent.
    pub fn sends(&self) -> impl Iterator<Item = (NodeId, &Msg<M>)> {
        self.effects.iter().filter_map(|e| match e {
            Effect::Send(to, msg) => Some((*to, msg)),
            _ => None,
        })
    }

    /// The effects, in execution order, as a vector: a driver that executes them by draining
    /// it can hand the emptied vector to the node's next step ([`crate::node::Node::step_reusing`]),
    /// so that no step allocates one.
    pub fn into_effects(self) -> Vec<Effect<M>> {
        self.effects
    }

    /// The result a client took in this step, if it took one.
    pub fn completed(&self) -> Option<(RequestId, M::Output)> {
        self.effects.iter().find_map(|e| match e {
            Effect::Complete { request, result } => Some((*request, result.clone())),
            _ => None,
        })
    }
}

impl<M: StateMachine> Default for Output<M> {
    fn default() -> Self {
        Output {
            effects: Vec::new(),
            rules: Rules::default(),
        }
    }
}

impl<M: StateMachine> IntoIterator for Output<M> {
    type Item = Effect<M>;
    type IntoIter = std::vec::IntoIter<Effect<M>>;
    fn into_iter(self) -> Self::IntoIter {
        self.effects.into_iter()
    }
}

/// Collects a step's effects while the handlers run; [`Outbox::finish`] puts them in the order
/// of the module docs.
#[derive(Debug)]
pub(crate) struct Outbox<M: StateMachine = Register> {
    persist: bool,
    /// Timer changes, in the order issued, then messages, in the order issued: a timer change
    /// goes in after the last one (before the messages), so the vector is always in the order
    /// of the module docs and `finish` sorts nothing. One vector, not one per kind: a step is
    /// short, and the model checker runs millions of them.
    effects: Vec<Effect<M>>,
    /// How many timer changes lead `effects`.
    timers: usize,
    complete: Option<(RequestId, M::Output)>,
    rules: Rules,
}

/// Where an effect goes in a step's output: timers before messages (a persist is first and a
/// completion last anyway).
fn rank<M: StateMachine>(effect: &Effect<M>) -> u8 {
    match effect {
        Effect::Persist(_) => 0,
        Effect::SetTimer(..) | Effect::CancelTimer(_) => 1,
        Effect::Send(..) => 2,
        Effect::Complete { .. } => 3,
    }
}

impl<M: StateMachine> Default for Outbox<M> {
    fn default() -> Self {
        Outbox {
            persist: false,
            effects: Vec::new(),
            timers: 0,
            complete: None,
            rules: Rules::default(),
        }
    }
}

impl<M: StateMachine> Outbox<M> {
    /// An empty outbox that collects the effects in `effects` (emptied first), reusing its
    /// allocation.
    pub(crate) fn reusing(mut effects: Vec<Effect<M>>) -> Self {
        effects.clear();
        Outbox {
            effects,
            ..Outbox::default()
        }
    }

    /// Notes that the step took `rule`.
    pub(crate) fn took(&mut self, rule: Rule) {
        self.rules.insert(rule);
    }

    /// Queues a message.
    pub(crate) fn send(&mut self, to: impl Into<NodeId>, msg: Msg<M>) {
        self.effects.push(Effect::Send(to.into(), msg));
    }

    /// Asks for the durable state to be saved before any message of this step leaves.
    pub(crate) fn persist(&mut self) {
        self.persist = true;
    }

    /// Whether this step changed the durable state.
    pub(crate) fn persist_requested(&self) -> bool {
        self.persist
    }

    /// Sets (or restarts) a timer.
    pub(crate) fn set_timer(&mut self, timer: Timer, range: Range<Duration>) {
        self.timer_change(Effect::SetTimer(timer, range));
    }

    /// Cancels a timer.
    pub(crate) fn cancel_timer(&mut self, timer: Timer) {
        self.timer_change(Effect::CancelTimer(timer));
    }

    /// A timer change goes after the earlier ones, before every message.
    fn timer_change(&mut self, effect: Effect<M>) {
        self.effects.insert(self.timers, effect);
        self.timers += 1;
    }

    /// A client's pending request completed.
    pub(crate) fn complete(&mut self, request: RequestId, result: M::Output) {
        self.complete = Some((request, result));
    }

    /// The effects in execution order: `save` (when given) first, then timers, then messages,
    /// then the client's completion.
    pub(crate) fn finish(self, save: Option<&Durable<M>>) -> Output<M> {
        let mut effects = self.effects;
        debug_assert!(
            effects.is_sorted_by_key(rank),
            "timer changes lead the messages: {effects:?}"
        );
        if let Some(durable) = save {
            effects.insert(0, Effect::Persist(durable.clone()));
        }
        effects.extend(
            self.complete
                .map(|(request, result)| Effect::Complete { request, result }),
        );
        Output {
            effects,
            rules: self.rules,
        }
    }
}
