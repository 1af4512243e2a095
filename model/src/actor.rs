//! The stateright actor whose handlers are the protocol's step functions, for servers and
//! clients alike. The model checker calls these handlers; the threaded runtime calls exactly the
//! same ones and interprets the [`Out`] commands they produce.
//!
//! Every step's outputs go through [`Effects`], whose [`Effects::flush`] emits them in a fixed
//! order: the durable state first, then timers, then messages. A runtime that executes the
//! commands in order therefore persists before anything that depends on the persisted state
//! leaves the server (`specs/multipaxos.md`, "Durable state").

use crate::client::{self, ClientState};
use crate::config::{ClientConfig, ServerConfig};
use crate::durable::Durable;
use crate::msg::{Msg, Timer};
use crate::server::{ServerState, ServerStep};
use crate::types::{ClientId, Op, ServerId};
use serde::{Deserialize, Serialize};
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;
use std::ops::Range;
use std::time::Duration;

/// A server or a client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PaxosActor {
    /// A proposer, acceptor and learner.
    Server(ServerConfig),
    /// A client of the replicated register.
    Client(ClientConfig),
}

/// The state of a server or a client. (Not boxed: stateright keeps actor states behind an
/// `Arc` already, and a box would cost an allocation on every server step.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaxosState {
    /// A server's state.
    Server(ServerState),
    /// A client's state.
    Client(ClientState),
}

impl PaxosState {
    /// The server state, if this is a server.
    pub fn as_server(&self) -> Option<&ServerState> {
        match self {
            PaxosState::Server(s) => Some(s),
            PaxosState::Client(_) => None,
        }
    }

    /// The client state, if this is a client.
    pub fn as_client(&self) -> Option<&ClientState> {
        match self {
            PaxosState::Client(c) => Some(c),
            PaxosState::Server(_) => None,
        }
    }
}

/// A timer command, in the order the step issued it.
#[derive(Debug)]
enum TimerOp {
    Set(Timer, Range<Duration>),
    Cancel(Timer),
}

/// The outputs of one step, before they become stateright [`Out`] commands.
#[derive(Debug, Default)]
pub struct Effects {
    persist: bool,
    timers: Vec<TimerOp>,
    choices: Vec<(&'static str, Vec<Op>)>,
    sends: Vec<(Id, Msg)>,
}

impl Effects {
    /// Queues a message.
    pub(crate) fn send(&mut self, to: Id, msg: Msg) {
        self.sends.push((to, msg));
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
        self.timers.push(TimerOp::Set(timer, range));
    }

    /// Cancels a timer.
    pub(crate) fn cancel_timer(&mut self, timer: Timer) {
        self.timers.push(TimerOp::Cancel(timer));
    }

    /// Offers a choice of inputs to the environment (the model's `SelectRandom`).
    pub(crate) fn choose_random(&mut self, key: &'static str, ops: Vec<Op>) {
        self.choices.push((key, ops));
    }

    /// Emits the outputs: `save` (when given) first, then timers, choices and messages.
    pub(crate) fn flush(self, save: Option<&Durable>, out: &mut Out<PaxosActor>) {
        if let Some(durable) = save {
            out.save(durable.clone());
        }
        for op in self.timers {
            match op {
                TimerOp::Set(timer, range) => out.set_timer(timer, range),
                TimerOp::Cancel(timer) => out.cancel_timer(timer),
            }
        }
        for (key, ops) in self.choices {
            out.choose_random(key, ops);
        }
        for (to, msg) in self.sends {
            out.send(to, msg);
        }
    }
}

impl PaxosActor {
    fn client_state(state: &PaxosState) -> &ClientState {
        state.as_client().expect("client step on a server state")
    }
}

impl Actor for PaxosActor {
    type Msg = Msg;
    type State = PaxosState;
    type Timer = Timer;
    type Random = Op;
    type Storage = Durable;

    fn on_start(&self, id: Id, storage: &Option<Durable>, out: &mut Out<Self>) -> PaxosState {
        match self {
            PaxosActor::Server(cfg) => {
                let mut state =
                    Cow::Owned(PaxosState::Server(ServerState::recover(storage.as_ref())));
                let mut step = ServerStep::new(cfg, id, &mut state);
                step.refresh_election_timer();
                step.finish(out);
                state.into_owned()
            }
            PaxosActor::Client(cfg) => {
                let mut fx = Effects::default();
                let state = client::start(cfg, &mut fx);
                fx.flush(None, out);
                PaxosState::Client(state)
            }
        }
    }

    fn on_msg(&self, id: Id, state: &mut Cow<PaxosState>, src: Id, msg: Msg, out: &mut Out<Self>) {
        match self {
            PaxosActor::Server(cfg) => {
                let mut step = ServerStep::new(cfg, id, state);
                step.on_msg(src, msg);
                step.finish(out);
            }
            PaxosActor::Client(cfg) => {
                let mut fx = Effects::default();
                let current = Self::client_state(state);
                if let Some((next, _result)) =
                    client::on_msg(cfg, current, ServerId::from(src), msg, &mut fx)
                {
                    *state = Cow::Owned(PaxosState::Client(next));
                }
                fx.flush(None, out);
            }
        }
    }

    fn on_timeout(&self, id: Id, state: &mut Cow<PaxosState>, timer: &Timer, out: &mut Out<Self>) {
        match self {
            PaxosActor::Server(cfg) => {
                let mut step = ServerStep::new(cfg, id, state);
                step.on_timeout(*timer);
                step.finish(out);
            }
            PaxosActor::Client(cfg) => {
                let mut fx = Effects::default();
                if *timer == Timer::ClientRetry {
                    if let Some(next) = client::on_retry(cfg, Self::client_state(state), &mut fx) {
                        *state = Cow::Owned(PaxosState::Client(next));
                    }
                }
                fx.flush(None, out);
            }
        }
    }

    fn on_random(&self, id: Id, state: &mut Cow<PaxosState>, op: &Op, out: &mut Out<Self>) {
        let PaxosActor::Client(cfg) = self else {
            return; // Servers make no random choices.
        };
        let mut fx = Effects::default();
        let me = ClientId::from(id);
        if let Some(next) = client::on_submit(cfg, me, Self::client_state(state), *op, &mut fx) {
            *state = Cow::Owned(PaxosState::Client(next));
        }
        fx.flush(None, out);
    }

    fn name(&self) -> String {
        match self {
            PaxosActor::Server(_) => "server".into(),
            PaxosActor::Client(_) => "client".into(),
        }
    }
}
