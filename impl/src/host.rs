//! One node (server or client) hosted by the runtime: its configuration, its state, its
//! timers, and the interpreter of the effects its step functions return.
//!
//! [`Host::step`] runs the core for one input ([`Input::step`], the dispatch shared with the
//! replay of recordings, on the node's state in place) and executes the effects front to back, except the two kinds of I/O:
//! the persist and the sends are collected in [`Io`], which the owner performs afterwards,
//! persist first (see the crate docs on group commit). The step is recorded before the owner
//! hands any of its messages to the network.

use crate::record::{EventKind, Input, Output, Recorder, StateRecord, Step};
use crate::timers::Timers;
use paxos_model::durable::Durable;
use paxos_model::msg::Msg;
use paxos_model::msg::Timer;
use paxos_model::node::{Node, NodeState};
use paxos_model::output::{Effect, Output as StepOutput};
use paxos_model::state_machine::{Register, StateMachine};
use paxos_model::types::RequestId;
use std::borrow::Cow;
use std::ops::Range;
use std::time::{Duration, Instant};

/// The I/O a batch of steps asks for: the latest durable state to save, then messages to send.
#[derive(Debug)]
pub(crate) struct Io<M: StateMachine = Register> {
    /// The state of the last persist, if any step persisted.
    pub(crate) save: Option<Durable<M>>,
    /// `(destination, message)` in the order the steps sent them.
    pub(crate) sends: Vec<(usize, Msg<M>)>,
    /// A client's completed request, if a step took a reply.
    pub(crate) completed: Option<(RequestId, M::Output)>,
    /// Steps from the first that persisted on: what a crash before the save loses.
    pub(crate) unsaved_steps: u32,
}

/// A node's configuration and volatile state.
pub(crate) struct Host<M: StateMachine = Register> {
    id: usize,
    node: Node,
    /// Always owned: a step changes it in place.
    state: Cow<'static, NodeState<M>>,
    pub(crate) timers: Timers,
    recorder: Option<Recorder<M>>,
    last: Option<StateRecord<M>>,
    /// The vector of the last step's effects, emptied: the next step collects its effects in
    /// it, so that a step allocates none (`Node::step_reusing`).
    spare: Vec<Effect<M>>,
}

impl<M: StateMachine> Default for Io<M> {
    fn default() -> Self {
        Io {
            save: None,
            sends: Vec::new(),
            completed: None,
            unsaved_steps: 0,
        }
    }
}

impl<M: StateMachine> Host<M> {
    /// Starts the node: `input` is `Start` or `Recover` with the stored state.
    pub(crate) fn start(
        id: usize,
        node: Node,
        input: Input<M>,
        timer_seed: u64,
        recorder: Option<Recorder<M>>,
        io: &mut Io<M>,
    ) -> Host<M> {
        assert!(
            matches!(input, Input::Start { .. } | Input::Recover { .. }),
            "node {id} starts with Start or Recover, not {input:?}"
        );
        let recorder = recorder.filter(|r| r.wants_steps());
        let (state, output) = input.run(&node, id, None);
        let mut host = Host {
            id,
            node,
            state: Cow::Owned(state),
            timers: Timers::new(timer_seed),
            recorder,
            last: None,
            spare: Vec::new(),
        };
        host.finish(input, None, output, io, None);
        host
    }

    /// The node's current state.
    pub(crate) fn state(&self) -> &NodeState<M> {
        &self.state
    }

    /// The node it runs, with its configuration.
    pub(crate) fn node(&self) -> &Node {
        &self.node
    }

    /// One step: the handler for `input` (`Deliver`, `Timeout` or `Submit`), then its effects.
    pub(crate) fn step(&mut self, input: Input<M>, io: &mut Io<M>) {
        self.step_from(input, io, None);
    }

    /// [`Host::step`], with the timers it sets running from `start` instead of the moment
    /// each is set (`None`: that moment). Only for a client: a server's timers (a lease above
    /// all) must run from the real time of the step.
    pub(crate) fn step_from(&mut self, input: Input<M>, io: &mut Io<M>, start: Option<Instant>) {
        debug_assert!(
            !matches!(input, Input::Start { .. } | Input::Recover { .. }),
            "{input:?} is not a step input"
        );
        if self.recorder.is_none() {
            // Not recording: the input is moved in, and nothing is kept or copied; the effects
            // come in the vector of the last step's and go back to it, emptied.
            let spare = std::mem::take(&mut self.spare);
            let output = input.step_reusing(&self.node, self.id, &mut self.state, spare);
            let mut effects = output.into_effects();
            for effect in effects.drain(..) {
                self.execute(effect, io, start);
            }
            self.spare = effects;
        } else {
            let before = self.last.take();
            let output = input.clone().step(&self.node, self.id, &mut self.state);
            self.finish(input, before, output, io, start);
        }
        if io.save.is_some() {
            io.unsaved_steps += 1;
        }
    }

    /// Executes one effect (the persist and the sends are collected in `io`); a timer runs
    /// from `start` (`None`: now).
    fn execute(&mut self, effect: Effect<M>, io: &mut Io<M>, start: Option<Instant>) {
        match effect {
            Effect::Persist(durable) => io.save = Some(durable),
            Effect::SetTimer(timer, range) => {
                self.set_timer(timer, range, start);
            }
            Effect::CancelTimer(timer) => self.timers.cancel(timer),
            Effect::Send(dst, msg) => io.sends.push((dst.index(), msg)),
            Effect::Complete { request, result } => io.completed = Some((request, result)),
        }
    }

    fn set_timer(
        &mut self,
        timer: Timer,
        range: Range<Duration>,
        start: Option<Instant>,
    ) -> Duration {
        match start {
            Some(start) => self.timers.set_from(start, timer, range),
            None => self.timers.set(timer, range),
        }
    }

    /// Executes a step's effects in order and records the step.
    fn finish(
        &mut self,
        input: Input<M>,
        before: Option<StateRecord<M>>,
        output: StepOutput<M>,
        io: &mut Io<M>,
        start: Option<Instant>,
    ) {
        if self.recorder.is_none() {
            // Not recording: execute, and nothing else (no record, no copy of any effect).
            for effect in output {
                self.execute(effect, io, start);
            }
            return;
        }
        let recorder = self.recorder.clone();
        let detail = recorder.as_ref().map(Recorder::detail);
        let mut outputs = Vec::new();
        for effect in output {
            let mut recorded = detail.map(|detail| Output::of(&effect, detail));
            match effect {
                Effect::Persist(durable) => io.save = Some(durable),
                Effect::SetTimer(timer, range) => {
                    let drawn = self.set_timer(timer, range, start);
                    if let Some(Output::SetTimer { drawn_us, .. }) = &mut recorded {
                        *drawn_us = drawn.as_micros() as u64;
                    }
                }
                Effect::CancelTimer(timer) => self.timers.cancel(timer),
                Effect::Send(dst, msg) => io.sends.push((dst.index(), msg)),
                Effect::Complete { request, result } => io.completed = Some((request, result)),
            }
            outputs.extend(recorded);
        }
        if let Some(recorder) = recorder {
            let after = recorder.state(self.state());
            self.last = Some(after.clone());
            recorder.record(EventKind::Step(Box::new(Step {
                actor: self.id,
                input,
                before,
                after,
                outputs,
            })));
        }
    }
}
