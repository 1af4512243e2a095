//! One node of the system, server or client, and the one dispatch from an [`Input`] to its
//! handler. Every driver (the model checker's adapter, the threaded runtime, the replay of a
//! recorded run) steps nodes through [`Node::start`] and [`Node::step`] and executes the
//! returned [`Output`] front to back.

use crate::client::{self, ClientState};
use crate::config::{ClientConfig, ServerConfig};
use crate::durable::Durable;
use crate::msg::{Msg, Timer};
use crate::output::{Effect, Outbox, Output};
use crate::server::{self, ServerState};
use crate::state_machine::{Register, StateMachine};
use crate::types::{ClientId, NodeId, ServerId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A node's configuration: what kind of node it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A proposer, acceptor and learner.
    Server(ServerConfig),
    /// A client of the replicated register.
    Client(ClientConfig),
}

/// The state of a server or a client. (Not boxed: the model checker keeps node states behind
/// an `Arc` already, and a box would cost an allocation on every server step.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum NodeState<M: StateMachine = Register> {
    /// A server's state.
    Server(ServerState<M>),
    /// A client's state.
    Client(ClientState<M>),
}

/// What can happen to a started node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Input<M: StateMachine = Register> {
    /// A message from node `from`.
    Deliver {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: Msg<M>,
    },
    /// One of the node's timers fired.
    Timeout(Timer),
    /// A client's caller (or the model checker) submits the client's next operation.
    Submit(M::Op),
}

impl<M: StateMachine> NodeState<M> {
    /// The server state, if this is a server.
    pub fn as_server(&self) -> Option<&ServerState<M>> {
        match self {
            NodeState::Server(s) => Some(s),
            NodeState::Client(_) => None,
        }
    }

    /// The client state, if this is a client.
    pub fn as_client(&self) -> Option<&ClientState<M>> {
        match self {
            NodeState::Client(c) => Some(c),
            NodeState::Server(_) => None,
        }
    }
}

impl Node {
    /// Starts node `me`; a server recovers from `durable` if it has one (clients have no
    /// durable state).
    pub fn start<M: StateMachine>(
        &self,
        me: NodeId,
        durable: Option<&Durable<M>>,
    ) -> (NodeState<M>, Output<M>) {
        match self {
            Node::Server(cfg) => {
                let (state, output) = server::start(cfg, ServerId(me.0), durable);
                (NodeState::Server(state), output)
            }
            Node::Client(cfg) => (NodeState::Client(client::start(cfg)), Output::default()),
        }
    }

    /// One step of node `me` on `input`. A borrowed `state` is cloned only if the step changes
    /// it; an owned one (a runtime's) is changed in place, never copied.
    ///
    /// # Panics
    /// If `state` is not of this node's kind (a driver bug).
    pub fn step<M: StateMachine>(
        &self,
        me: NodeId,
        state: &mut Cow<NodeState<M>>,
        input: Input<M>,
    ) -> Output<M> {
        self.step_reusing(me, state, input, Vec::new())
    }

    /// [`Node::step`], its effects collected in `effects` (emptied first) when `state` is
    /// owned: a driver that steps its node many times hands back the emptied vector of the
    /// previous step's effects ([`Output::into_effects`]), so that no step allocates one (an
    /// allocation and its free were about a tenth of the instructions per command of the
    /// runtime's client driver and leader: three steps per read).
    ///
    /// # Panics
    /// If `state` is not of this node's kind (a driver bug).
    pub fn step_reusing<M: StateMachine>(
        &self,
        me: NodeId,
        state: &mut Cow<NodeState<M>>,
        input: Input<M>,
        effects: Vec<Effect<M>>,
    ) -> Output<M> {
        if let (Node::Server(cfg), Cow::Owned(NodeState::Server(owned))) = (self, &mut *state) {
            // The same handlers, on the owned server state in place.
            let me = ServerId(me.0);
            return match input {
                Input::Deliver { from, msg } => {
                    server::on_message_in_place(cfg, me, owned, from, msg, effects)
                }
                Input::Timeout(timer) => {
                    server::on_timeout_in_place(cfg, me, owned, timer, effects)
                }
                Input::Submit(_) => Output::default(), // Servers have no caller.
            };
        }
        if let (Node::Client(cfg), Cow::Owned(NodeState::Client(owned))) = (self, &mut *state) {
            // An owned client state is changed in place, not the whole (server-sized) node
            // state: moved into an owned `Cow` (so the handler's `to_mut` copies nothing: no new
            // `pending` vector per step) and back, an empty state standing in meanwhile.
            let empty = ClientState {
                submitted: 0,
                pending: Vec::new(),
                target: ServerId(0),
                retries: 0,
            };
            let mut c = Cow::Owned(std::mem::replace(owned, empty));
            let fx = Outbox::reusing(effects);
            let output = client_step(cfg, ClientId(me.0), &mut c, input, fx);
            *owned = c.into_owned();
            return output;
        }
        match (self, &**state) {
            (Node::Server(cfg), NodeState::Server(s)) => {
                let mut s = Cow::Borrowed(s);
                let output = server_step(cfg, ServerId(me.0), &mut s, input);
                if let Cow::Owned(s) = s {
                    *state = Cow::Owned(NodeState::Server(s));
                }
                output
            }
            (Node::Client(cfg), NodeState::Client(c)) => {
                let mut c = Cow::Borrowed(c);
                let output = client_step(cfg, ClientId(me.0), &mut c, input, Outbox::default());
                if let Cow::Owned(c) = c {
                    *state = Cow::Owned(NodeState::Client(c));
                }
                output
            }
            (node, state) => {
                panic!("{me:?}: a {node:?} stepped on the state of another kind: {state:?}")
            }
        }
    }

    /// Whether this is a server.
    pub fn is_server(&self) -> bool {
        matches!(self, Node::Server(_))
    }
}

/// Client `me`'s step on `input`, its effects collected in `fx`.
fn client_step<M: StateMachine>(
    cfg: &ClientConfig,
    me: ClientId,
    c: &mut Cow<ClientState<M>>,
    input: Input<M>,
    fx: Outbox<M>,
) -> Output<M> {
    match input {
        Input::Deliver { from, msg } => client::on_message_into(cfg, c, from, msg, fx),
        Input::Timeout(timer) => client::on_timeout_into(cfg, c, timer, fx),
        Input::Submit(op) => client::submit_into(cfg, me, c, op, fx),
    }
}

/// A server's step on `input`, on a state borrowed or owned.
fn server_step<M: StateMachine>(
    cfg: &ServerConfig,
    me: ServerId,
    s: &mut Cow<ServerState<M>>,
    input: Input<M>,
) -> Output<M> {
    match input {
        Input::Deliver { from, msg } => server::on_message(cfg, me, s, from, msg),
        Input::Timeout(timer) => server::on_timeout(cfg, me, s, timer),
        Input::Submit(_) => Output::default(), // Servers have no caller.
    }
}
