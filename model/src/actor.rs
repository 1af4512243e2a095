//! The one adapter between the protocol and stateright: a stateright [`Actor`] whose handlers
//! are the nodes' step functions ([`Node::start`], [`Node::step`]).
//!
//! It translates, and decides nothing:
//! - stateright's `Id` is a [`NodeId`] (the same index);
//! - a step's [`Output`] becomes [`Out`] commands in the same order (persist first, so the
//!   checker's `Save` precedes every `Send` of the step); a client's `Complete` has no command:
//!   the ghost record sees the reply being taken (`crate::checking::ghost`);
//! - the storage is a [`Shared`] [`Durable`]: stateright clones every actor's storage with
//!   every state it generates, and hashes all of them, while a step saves one at most;
//! - the actor state is a [`Shared`] [`NodeState`], interned: stateright hashes every actor's
//!   state in every state it generates, while a step changes one at most, so each is hashed
//!   once; and the many steps that make equal node states (the same server state reached by
//!   different interleavings) share one copy;
//! - a model client's script: whenever the client's window has room and operations are left,
//!   the adapter offers the next one as a stateright random choice ([`SUBMIT`]), and choosing
//!   it is the client's `submit` step. (The runtime's client handle submits what its caller
//!   passes.)

use crate::coverage::CoverageHandle;
use crate::digest::{Interner, Shared};
use crate::durable::Durable;
use crate::msg::{Msg, Timer};
use crate::node::{Input, Node, NodeState};
use crate::output::{Effect, Output};
use crate::types::{NodeId, Op};
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The random-choice key under which a model client offers its next operation.
pub const SUBMIT: &str = "submit";

/// A node as a stateright actor, with a client's script (empty for servers).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaxosActor {
    /// The node.
    pub node: Node,
    /// The operations a model client submits, in order, each once its window has room (with a
    /// window of 1: after the previous one returned).
    pub script: Vec<Op>,
    /// Where the rules each step takes are counted, if anywhere (not part of equality).
    pub coverage: CoverageHandle,
    /// Where the node states its steps make are interned, if anywhere (not part of equality).
    pub states: StateInterner,
}

/// A handle to the interner of a model's node states, shared by its actors; it takes no part
/// in the actors' equality or hashing.
#[derive(Clone, Default)]
pub struct StateInterner(pub Option<Arc<Interner<NodeState>>>);

impl PartialEq for StateInterner {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for StateInterner {}

impl std::hash::Hash for StateInterner {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl fmt::Debug for StateInterner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateInterner")
    }
}

impl PaxosActor {
    /// A server or a scriptless client.
    pub fn new(node: Node) -> PaxosActor {
        PaxosActor {
            node,
            script: Vec::new(),
            coverage: CoverageHandle::default(),
            states: StateInterner::default(),
        }
    }

    /// `state` as the checker keeps it: interned if this actor has an interner.
    fn keep(&self, state: NodeState) -> ActorState {
        let mut state = Shared::new(state);
        if let Some(states) = &self.states.0 {
            states.intern(&mut state);
        }
        state
    }

    /// The next scripted operation, if the client's window has room and it has one left.
    fn next_op(&self, state: &NodeState) -> Option<Op> {
        let client = state.as_client()?;
        let Node::Client(cfg) = &self.node else {
            return None;
        };
        if !client.can_submit(cfg.window) {
            return None;
        }
        self.script.get(client.submitted as usize).copied()
    }

    /// Emits `output` as stateright commands, then, if `offer`, the client's next operation if
    /// its window has room (after its start, a reply taken, or a submit).
    fn emit(&self, output: Output, state: &NodeState, offer: bool, out: &mut Out<Self>) {
        if let Some(coverage) = &self.coverage.0 {
            coverage.rules(output.rules());
        }
        for effect in output {
            match effect {
                Effect::Persist(durable) => out.save(Shared::new(durable)),
                Effect::SetTimer(timer, range) => out.set_timer(timer, range),
                Effect::CancelTimer(timer) => out.cancel_timer(timer),
                Effect::Send(to, msg) => out.send(id(to), msg),
                Effect::Complete { .. } => {}
            }
        }
        if offer {
            if let Some(op) = self.next_op(state) {
                out.choose_random(SUBMIT, vec![op]);
            }
        }
    }

    fn step(&self, me: Id, state: &mut Cow<ActorState>, input: Input, out: &mut Out<Self>) {
        let submit = matches!(input, Input::Submit(_));
        let mut node_state = Cow::Borrowed(&***state);
        let output = self.node.step(node(me), &mut node_state, input);
        if let Cow::Owned(next) = node_state {
            *state = Cow::Owned(self.keep(next));
        }
        // Only these steps change whether a client can submit (and what comes next).
        let offer = submit || output.completed().is_some();
        self.emit(output, state, offer, out);
    }
}

/// A node's state as the checker keeps it.
pub type ActorState = Shared<NodeState>;

/// The node with stateright id `id`.
pub fn node(id: Id) -> NodeId {
    NodeId(usize::from(id) as u32)
}

/// The stateright id of `node`.
pub fn id(node: impl Into<NodeId>) -> Id {
    Id::from(node.into().index())
}

impl Actor for PaxosActor {
    type Msg = Msg;
    type State = ActorState;
    type Timer = Timer;
    type Random = Op;
    type Storage = Shared<Durable>;

    fn on_start(
        &self,
        me: Id,
        storage: &Option<Shared<Durable>>,
        out: &mut Out<Self>,
    ) -> ActorState {
        let (state, output) = self.node.start(node(me), storage.as_deref());
        self.emit(output, &state, true, out);
        self.keep(state)
    }

    fn on_msg(&self, me: Id, state: &mut Cow<ActorState>, src: Id, msg: Msg, out: &mut Out<Self>) {
        let input = Input::Deliver {
            from: node(src),
            msg,
        };
        self.step(me, state, input, out);
    }

    fn on_timeout(&self, me: Id, state: &mut Cow<ActorState>, timer: &Timer, out: &mut Out<Self>) {
        self.step(me, state, Input::Timeout(*timer), out);
    }

    fn on_random(&self, me: Id, state: &mut Cow<ActorState>, op: &Op, out: &mut Out<Self>) {
        self.step(me, state, Input::Submit(*op), out);
    }

    fn name(&self) -> String {
        match self.node {
            Node::Server(_) => "server".into(),
            Node::Client(_) => "client".into(),
        }
    }
}
