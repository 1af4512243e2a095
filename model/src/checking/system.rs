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
use crate::actor::{PaxosActor, StateInterner};
use crate::coverage::{Coverage, CoverageHandle};
use crate::digest::{Interner, Shared};
use crate::msg::{Msg, Timer};
use crate::node::Node;
use crate::server::Decision;
use crate::types::{Op, Slot};
use stateright::actor::{
    ActorModel, ActorModelAction, ActorModelState, Envelope, LossyNetwork, Network,
};

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A state of the checked system. The ghost record is [`Shared`]: most steps leave it alone,
/// and then a state and its successor share it (stateright clones the whole state for every
/// successor, and hashes all of it); and it is interned, so that two steps that make equal
/// ghost records (two interleavings of the same client operations) share one copy.
pub type State = ActorModelState<PaxosActor, SharedGhost>;
/// The ghost record as a state carries it.
pub type SharedGhost = Shared<Ghost>;
/// The wrapped model's configuration: where equal ghost records are interned.
pub type Ghosts = Interner<Ghost>;
/// An action of the checked system.
pub type Action = ActorModelAction<Msg, Timer, Op>;

/// Sometimes-properties a checker run can stop evaluating once found (at least as many as
/// there are).
pub(super) const EXAMPLE_FLAGS: usize = 16;

/// The Multi-Paxos system under check.
pub struct PaxosModel {
    /// What is checked.
    pub cfg: CheckConfig,
    pub(super) inner: ActorModel<PaxosActor, Ghosts, SharedGhost>,
    /// Whether the dead-message reduction runs after each step.
    pub(super) forget_dead: bool,
    /// How often each rule and situation was taken so far.
    pub coverage: Arc<Coverage>,
    /// The same actors without a coverage counter or an interner: for the steps a property
    /// tries on the side (`properties::terminal`), which are not explored transitions.
    pub(super) quiet: Vec<PaxosActor>,
    /// Whether equal node states and ghost records are interned (kept once). It pays where
    /// many states are held at once (a breadth-first search's queue, the Explorer); a
    /// depth-first search holds a path's worth of states, and then interning is pure cost: a
    /// lock, a lookup and a comparison per new node state ([`PaxosModel::without_interning`]).
    pub(super) interning: bool,
    /// In a checker run, which sometimes-properties have an example already
    /// ([`PaxosModel::first_examples_only`], a flag per `properties::Sometimes`).
    pub(super) found: Option<[AtomicBool; EXAMPLE_FLAGS]>,
}

impl PaxosModel {
    /// Builds the model of a valid configuration.
    pub fn new(cfg: CheckConfig) -> PaxosModel {
        let servers = (0..cfg.servers).map(|i| PaxosActor::new(Node::Server(cfg.server(i))));
        let clients = (0..cfg.clients).map(|c| PaxosActor {
            node: Node::Client(cfg.client(c)),
            script: cfg.script(c),
            coverage: Default::default(),
            states: Default::default(),
        });
        let actors = servers.chain(clients).collect();
        PaxosModel::from_actors(cfg, actors)
    }

    /// The clients' window that the servers' sessions keep ([`crate::config::ServerConfig::session_window`];
    /// 1 without servers).
    pub fn session_window(&self) -> u32 {
        self.quiet
            .iter()
            .find_map(|a| match &a.node {
                crate::node::Node::Server(cfg) => Some(cfg.session_window),
                crate::node::Node::Client(_) => None,
            })
            .unwrap_or(1)
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
        let quiet = actors.clone();
        let coverage = Arc::new(Coverage::default());
        let states = Arc::new(Interner::default());
        for actor in &mut actors {
            actor.coverage = CoverageHandle(Some(Arc::clone(&coverage)));
            actor.states = StateInterner(Some(Arc::clone(&states)));
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
        let inner = ActorModel::new(Ghosts::default(), SharedGhost::default())
            .actors(actors)
            .init_network(network)
            .lossy_network(if cfg.drops_explored() {
                LossyNetwork::Yes
            } else {
                LossyNetwork::No
            })
            .max_crashes(cfg.crashes)
            .record_msg_out(on_send)
            .record_msg_in(on_deliver);
        PaxosModel {
            forget_dead: cfg.reduces_dead_messages(),
            cfg,
            inner,
            coverage,
            quiet,
            interning: true,
            found: None,
        }
    }

    /// The same model, whose sometimes-properties each stop being evaluated once they held in
    /// one state (for a checker run: one example is all a sometimes-property needs; the
    /// example reported is then the first found, not the last). Verdicts are the same.
    pub fn first_examples_only(mut self) -> PaxosModel {
        self.found = Some(std::array::from_fn(|_| AtomicBool::new(false)));
        self
    }

    /// The same model, interning nothing (for the depth-first and simulation checkers, which
    /// hold few states at once). States, fingerprints and verdicts are the same either way:
    /// interning only shares equal values.
    pub fn without_interning(mut self) -> PaxosModel {
        for actor in &mut self.inner.actors {
            actor.states = StateInterner(None);
        }
        self.interning = false;
        self
    }

    /// The wrapped stateright actor model.
    pub fn actor_model(&self) -> &ActorModel<PaxosActor, Ghosts, SharedGhost> {
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
    /// The ghost is copied only if the log holds a decision it does not know yet.
    pub(super) fn observe(&self, state: &mut State, actor: usize) {
        let server = Arc::clone(&state.actor_states[actor]);
        if let Some(server) = server.as_server() {
            if server
                .learned
                .iter()
                .any(|(slot, decision)| !recorded(&state.history, slot, decision))
            {
                state.history.record(server.learned.iter());
            }
        }
    }

    /// Interns the ghost if a step changed it (a no-op for a ghost interned already).
    pub(super) fn intern_ghost(&self, state: &mut State) {
        if self.interning {
            self.inner.cfg.intern(&mut state.history);
        }
    }
}

/// Whether [`Ghost::record`] of `decision` for `slot` would leave `ghost` as it is: the value
/// is among the slot's decided values, and the ballot changes neither the first deciding
/// ballot nor whether a later one decided.
fn recorded(ghost: &Ghost, slot: &Slot, decision: &Decision) -> bool {
    let value_known = ghost
        .decided
        .get(slot)
        .is_some_and(|values| values.contains(&decision.command));
    let ballot_known = match ghost.first_deciding_ballot {
        None => false,
        Some(first) => first == decision.ballot || ghost.later_ballot_decided,
    };
    value_known && ballot_known
}

/// `record_msg_out`: [`Ghost::on_send`] on the shared ghost (interned at the end of the step,
/// [`PaxosModel::intern_ghost`]).
fn on_send(_: &Ghosts, ghost: &SharedGhost, env: Envelope<&Msg>) -> Option<SharedGhost> {
    Ghost::on_send(&(), ghost, env).map(Shared::new)
}

/// `record_msg_in`: [`Ghost::on_deliver`] on the shared ghost (interned at the end of the
/// step).
fn on_deliver(_: &Ghosts, ghost: &SharedGhost, env: Envelope<&Msg>) -> Option<SharedGhost> {
    Ghost::on_deliver(&(), ghost, env).map(Shared::new)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checking::CheckConfig;
    use stateright::Model;
    use std::collections::HashSet;

    /// `observe` (and the recording of votes) skips recording exactly when recording would change
    /// nothing: in every
    /// reachable state of a small configuration, for every server, recording its log into a
    /// copy of the ghost leaves the copy equal to the ghost whenever `recorded` says so.
    #[test]
    fn observe_skips_only_what_recording_would_not_change() {
        let model = PaxosModel::new(CheckConfig {
            clients: 1,
            crashes: 1,
            ..CheckConfig::default()
        });
        let (mut seen, mut stack, mut actions) = (HashSet::new(), model.init_states(), Vec::new());
        let (mut skipped, mut voted_known) = (0, 0);
        while let Some(state) = stack.pop() {
            if !seen.insert(stateright_fingerprint(&state)) {
                continue;
            }
            for (i, server) in servers(&model, &state).enumerate() {
                // `knows_votes` is `record_votes` changing nothing, likewise.
                let me = crate::types::ServerId(i as u32);
                let knows = state
                    .history
                    .knows_votes(me, server.durable.accepted.iter());
                let mut copy: Ghost = (*state.history).clone();
                copy.record_votes(me, server.durable.accepted.iter());
                assert_eq!(knows, copy == *state.history, "{state:?}");
                voted_known += usize::from(knows && !server.durable.accepted.is_empty());
                let all_known = server
                    .learned
                    .iter()
                    .all(|(slot, d)| recorded(&state.history, slot, d));
                let mut copy: Ghost = (*state.history).clone();
                copy.record(server.learned.iter());
                assert_eq!(all_known, copy == *state.history, "{state:?}");
                skipped += usize::from(all_known && !server.learned.is_empty());
            }
            model.actions(&state, &mut actions);
            for action in actions.drain(..) {
                stack.extend(model.next_state(&state, action));
            }
        }
        assert!(
            skipped > 0,
            "no state had a server whose log the ghost knew"
        );
        assert!(
            voted_known > 0,
            "no state had a server whose votes the ghost knew"
        );
    }

    fn stateright_fingerprint(state: &State) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        state.hash(&mut h);
        h.finish()
    }
}
