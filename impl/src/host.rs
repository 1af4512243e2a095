//! One actor (server or client) hosted by the runtime: its configuration, its state, its
//! timers, and the interpreter of the commands its step functions output.
//!
//! [`Host::step`] calls the model's handler for one input and executes its `Out` commands in
//! order, except the two kinds of I/O: the `Save` and the `Send`s are collected in [`Io`], which
//! the owner performs afterwards, save first (see the crate docs on group commit). The step is
//! recorded before the owner hands any of its messages to the network.

use crate::record::{EventKind, Input, Output, Recorder, StateRecord, Step};
use crate::timers::Timers;
use paxos_model::actor::{PaxosActor, PaxosState};
use paxos_model::durable::Durable;
use paxos_model::msg::Msg;
use stateright::actor::{Actor, Command, Id, Out};
use std::borrow::Cow;

/// The I/O a batch of steps asks for: the latest durable state to save, then messages to send.
#[derive(Debug, Default)]
pub(crate) struct Io {
    /// The state of the last `Save` command, if any step saved.
    pub(crate) save: Option<Durable>,
    /// `(destination, message)` in the order the steps sent them.
    pub(crate) sends: Vec<(usize, Msg)>,
}

/// An actor's configuration and volatile state.
pub(crate) struct Host {
    id: usize,
    actor: PaxosActor,
    state: Option<PaxosState>,
    pub(crate) timers: Timers,
    recorder: Option<Recorder>,
    last: Option<StateRecord>,
}

impl Host {
    /// Starts (`on_start`) the actor: `input` is `Start` or `Recover` with the stored state.
    pub(crate) fn start(
        id: usize,
        actor: PaxosActor,
        input: Input,
        timer_seed: u64,
        recorder: Option<Recorder>,
        io: &mut Io,
    ) -> Host {
        let recorder = recorder.filter(Recorder::wants_steps);
        let storage = match &input {
            Input::Start { storage } | Input::Recover { storage } => storage,
            other => unreachable!("an actor starts with Start or Recover, not {other:?}"),
        };
        let mut out = Out::new();
        let state = actor.on_start(Id::from(id), storage, &mut out);
        let mut host = Host {
            id,
            actor,
            state: Some(state),
            timers: Timers::new(timer_seed),
            recorder,
            last: None,
        };
        host.finish(Some(input), None, out, io);
        host
    }

    /// The actor's current state.
    pub(crate) fn state(&self) -> &PaxosState {
        self.state
            .as_ref()
            .expect("state is only taken during a step")
    }

    /// One step: the handler for `input` (`Deliver`, `Timeout` or `Submit`), then its commands.
    pub(crate) fn step(&mut self, input: Input, io: &mut Io) {
        let before = self.last.take();
        let id = Id::from(self.id);
        let mut out = Out::new();
        let mut state = Cow::Owned(self.state.take().expect("state present between steps"));
        let keep = self.recorder.is_some();
        let recorded = match input {
            Input::Deliver { src, dst, msg } => {
                let recorded = keep.then(|| Input::Deliver {
                    src,
                    dst,
                    msg: msg.clone(),
                });
                self.actor
                    .on_msg(id, &mut state, Id::from(src), msg, &mut out);
                recorded
            }
            Input::Timeout { timer } => {
                self.actor.on_timeout(id, &mut state, &timer, &mut out);
                keep.then_some(Input::Timeout { timer })
            }
            Input::Submit { op } => {
                self.actor.on_random(id, &mut state, &op, &mut out);
                keep.then_some(Input::Submit { op })
            }
            other => unreachable!("{other:?} is not a step input"),
        };
        self.state = Some(state.into_owned());
        self.finish(recorded, before, out, io);
    }

    /// Executes a step's commands in order and records the step.
    fn finish(
        &mut self,
        input: Option<Input>,
        before: Option<StateRecord>,
        out: Out<PaxosActor>,
        io: &mut Io,
    ) {
        let recorder = self.recorder.clone();
        let detail = recorder.as_ref().map(Recorder::detail);
        let mut outputs = Vec::new();
        for command in out {
            let mut output = detail.map(|detail| Output::of(&command, detail));
            match command {
                Command::Save(durable) => io.save = Some(durable),
                Command::SetTimer(timer, range) => {
                    let drawn = self.timers.set(timer, range);
                    if let Some(Output::SetTimer { drawn_us, .. }) = &mut output {
                        *drawn_us = drawn.as_micros() as u64;
                    }
                }
                Command::CancelTimer(timer) => self.timers.cancel(timer),
                // A cluster's clients have no script: their handle submits explicitly.
                Command::ChooseRandom(..) => {}
                Command::Send(dst, msg) => io.sends.push((usize::from(dst), msg)),
            }
            outputs.extend(output);
        }
        if let (Some(recorder), Some(input)) = (recorder, input) {
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
