//! The checked system: stateright's `ActorModel` of servers and clients, decorated with the ghost
//! record and the fault bounds. Its `Model` implementation is in [`super::model`].
//!
//! [`PaxosModel`] has the very same states and actions as the `ActorModel` it wraps, so paths,
//! the Explorer and its sequence diagrams are stateright's own. It adds two things after each
//! step: the ghost record (every decision any server made, crash counts, recoveries), and it
//! drops the actions that leave the bounds: crashing a client (a recovered client would re-send
//! an old request and confuse the linearizability tester), and crashing a server once the crash
//! budget is spent (or crash-recover cycles grow paths without end).

use super::config::{CheckConfig, NetworkKind};
use super::ghost::Ghost;
use crate::actor::PaxosActor;
use crate::coverage::{Coverage, CoverageHandle};
use crate::msg::{Msg, Timer};
use crate::node::Node;
use crate::types::Op;
use stateright::actor::{ActorModel, ActorModelAction, ActorModelState, LossyNetwork, Network};

use std::sync::Arc;

/// A state of the checked system.
pub type State = ActorModelState<PaxosActor, Ghost>;
/// An action of the checked system.
pub type Action = ActorModelAction<Msg, Timer, Op>;

/// The Multi-Paxos system under check.
pub struct PaxosModel {
    /// What is checked.
    pub cfg: CheckConfig,
    pub(super) inner: ActorModel<PaxosActor, (), Ghost>,
    /// Whether the dead-message reduction runs after each step.
    pub(super) forget_dead: bool,
    /// How often each rule and situation was taken so far.
    pub coverage: Arc<Coverage>,
}

impl PaxosModel {
    /// Builds the model of a valid configuration.
    pub fn new(cfg: CheckConfig) -> PaxosModel {
        let servers = (0..cfg.servers).map(|i| PaxosActor::new(Node::Server(cfg.server(i))));
        let clients = (0..cfg.clients).map(|c| PaxosActor {
            node: Node::Client(cfg.client(c)),
            script: cfg.script(c),
            coverage: Default::default(),
        });
        let actors = servers.chain(clients).collect();
        PaxosModel::from_actors(cfg, actors)
    }

    /// Builds the model of the given actors: `cfg.servers` servers, then `cfg.clients`
    /// clients, configured by the caller. This is how a recorded run of the threaded runtime,
    /// whose actors carry real-cluster configurations ([`crate::config::ServerConfig::cluster`]),
    /// is replayed in the model: `cfg` then supplies only the network, the loss and the crash
    /// budget (which bounds only the actions the checker enumerates, not `next_state`).
    ///
    /// # Panics
    /// If the actors do not match `cfg.servers` and `cfg.clients`.
    pub fn from_actors(cfg: CheckConfig, mut actors: Vec<PaxosActor>) -> PaxosModel {
        let coverage = Arc::new(Coverage::default());
        for actor in &mut actors {
            actor.coverage = CoverageHandle(Some(Arc::clone(&coverage)));
        }
        let kinds: Vec<bool> = actors.iter().map(|a| a.node.is_server()).collect();
        let expected: Vec<bool> = (0..cfg.servers + cfg.clients)
            .map(|i| i < cfg.servers)
            .collect();
        assert_eq!(
            kinds, expected,
            "actors must be {} servers then {} clients",
            cfg.servers, cfg.clients
        );
        let network = match cfg.network {
            NetworkKind::UnorderedNonduplicating => Network::new_unordered_nonduplicating([]),
            NetworkKind::UnorderedDuplicating => Network::new_unordered_duplicating([]),
            NetworkKind::Ordered => Network::new_ordered([]),
        };
        let inner = ActorModel::new((), Ghost::default())
            .actors(actors)
            .init_network(network)
            .lossy_network(if cfg.drops_explored() {
                LossyNetwork::Yes
            } else {
                LossyNetwork::No
            })
            .max_crashes(cfg.crashes)
            .record_msg_out(Ghost::on_send)
            .record_msg_in(Ghost::on_deliver);
        PaxosModel {
            forget_dead: cfg.reduces_dead_messages(),
            cfg,
            inner,
            coverage,
        }
    }

    /// The wrapped stateright actor model.
    pub fn actor_model(&self) -> &ActorModel<PaxosActor, (), Ghost> {
        &self.inner
    }

    /// The client configurations' scripts, by actor index.
    pub(crate) fn script(&self, actor: usize) -> &[Op] {
        &self.inner.actors[actor].script
    }

    /// Whether actor `index` is a server.
    pub(super) fn is_server(&self, index: usize) -> bool {
        index < self.cfg.servers
    }

    /// Records in the ghost the decisions in `actor`'s log (only the acting actor changes).
    pub(super) fn observe(&self, state: &mut State, actor: usize) {
        let server = Arc::clone(&state.actor_states[actor]);
        if let Some(server) = server.as_server() {
            state.history.record(server.learned.iter());
        }
    }
}

/// The actor an action steps.
pub fn acting(action: &Action) -> usize {
    match action {
        ActorModelAction::Deliver { dst, .. } => usize::from(*dst),
        ActorModelAction::Drop(env) => usize::from(env.dst),
        ActorModelAction::Timeout(id, _)
        | ActorModelAction::Crash(id)
        | ActorModelAction::Recover(id) => usize::from(*id),
        ActorModelAction::SelectRandom { actor, .. } => usize::from(*actor),
    }
}

/// A state's server states (crashed ones included: their last state before the crash).
pub(crate) fn servers<'a>(
    model: &PaxosModel,
    state: &'a State,
) -> impl Iterator<Item = &'a crate::server::ServerState> {
    state.actor_states[..model.cfg.servers]
        .iter()
        .filter_map(|s| s.as_server())
}

/// A state's client states with their actor indices.
pub(crate) fn clients<'a>(
    model: &PaxosModel,
    state: &'a State,
) -> impl Iterator<Item = (usize, &'a crate::client::ClientState)> {
    state
        .actor_states
        .iter()
        .enumerate()
        .skip(model.cfg.servers)
        .filter_map(|(i, s)| s.as_client().map(|c| (i, c)))
}
