//! Check 2: the recorded run is a path of the stateright model ([`PaxosModel`]), and every
//! always-property of the model holds at every state on it: `agreement`, `validity`,
//! `linearizable`, `chosen`, `exactly-once` and `progress` (liveness, judged only in terminal
//! states; the path's network loses nothing, so it is never omitted here).
//!
//! The recording is mapped onto stateright actions (`specs/runtime.md`, "Events and actions"):
//! a delivery is `Deliver`, a timer firing `Timeout`, a client's submit `SelectRandom` under
//! [`paxos_model::actor::SUBMIT`] (the model client's next scripted op, offered by the adapter
//! as a random choice), a crash `Crash` and a restart `Recover`. The steps whose save a crash
//! lost (a crash in the middle of a save, `crate::replay::unsaved_steps`) map to nothing: their
//! inputs are lost as a network loses a message or a crash a timer, their state is gone, and
//! none of their messages was sent, so the run is the model's run without them. Network drops and partitions
//! map to nothing: the model's network is unordered and duplicating, where a lost message is one
//! that is never delivered, and a duplicated one is delivered twice.
//!
//! stateright's `next_state` trusts its caller: it delivers any envelope and fires any timer it
//! is given. So before each action this check asks the state itself whether the action is
//! enabled (the envelope is in the network, the timer is set, the submit is offered, a restart
//! follows a crash and begins from the saved storage), and after it compares the successor's
//! state of the acting actor with the recorded one. `next_state` returns `None` for a step that
//! changes nothing and emits nothing (or only re-sets the timer that fired); that is accepted
//! only if the recorded step did exactly that.
//!
//! The model is built from the runtime's own nodes (`ClusterConfig::node`), each wrapped in the
//! model's stateright adapter, [`PaxosActor`]. Clients get the operations they submitted, in
//! order, as their script: that is what lets the model's `validity` property tell a submitted
//! command from an invented one, and it changes no client state (only the `SelectRandom`
//! choices the model offers).

use crate::finding::{Check, Finding, Kind};
use crate::recording::Recording;
use crate::replay::{catch, state_difference, unsaved_steps};
use paxos_impl::record::{EventKind, Input, Output, Step};
use paxos_model::actor::PaxosActor;
use paxos_model::actor::SUBMIT;
use paxos_model::checking::acting;
use paxos_model::checking::properties::is_safety;
use paxos_model::checking::{Action, CheckConfig, NetworkKind, PaxosModel, State};
use paxos_model::types::Op;
use stateright::actor::{ActorModelAction, Envelope, Id, Network};
use stateright::{Model, Property};
use std::collections::BTreeMap;

/// What a successful path check went through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathStats {
    /// Actions the model took.
    pub actions: usize,
    /// Recorded steps the model treats as no-ops (it stays in the same state).
    pub stutters: usize,
    /// Recorded steps whose save a crash lost (no action).
    pub unsaved: usize,
    /// States whose always-properties were evaluated (the initial one included).
    pub states: usize,
    /// The always-properties evaluated.
    pub properties: Vec<&'static str>,
}

/// The model of the recorded cluster: its actors, clients scripted with what they submitted.
pub fn model_of(recording: &Recording) -> PaxosModel {
    let cfg = &recording.config;
    let mut scripts: BTreeMap<usize, Vec<Op>> = BTreeMap::new();
    let mut last_actor = None;
    let mut crashes = 0;
    for event in &recording.events {
        let actor = match &event.kind {
            EventKind::Step(step) => {
                if let Input::Submit { op } = step.input {
                    scripts.entry(step.actor).or_default().push(op);
                }
                step.actor
            }
            EventKind::Invoke { client, .. } | EventKind::Return { client, .. } => *client,
            EventKind::Crash { actor, .. } => {
                crashes += 1;
                *actor
            }
            _ => continue,
        };
        last_actor = last_actor.max(Some(actor));
    }
    let servers = cfg.replicas;
    let clients = last_actor.map_or(0, |a| (a + 1).saturating_sub(servers));
    let actors = (0..servers + clients)
        .map(|id| {
            let mut actor = PaxosActor::new(cfg.node(id));
            actor.script = scripts.remove(&id).unwrap_or_default();
            actor
        })
        .collect();
    let check = CheckConfig {
        servers,
        clients,
        ops_per_client: 1,
        network: NetworkKind::UnorderedDuplicating,
        lossy: false,
        literal_loss: false,
        // Only bounds the actions the checker enumerates; `next_state` ignores it.
        crashes: crashes.max(servers),
        prepare_skip: cfg.prepare_skip,
        read_index: cfg.read_index,
        lease_reads: cfg.lease_reads,
        pre_vote: cfg.pre_vote,
        check_quorum: cfg.check_quorum,
        campaigners: servers,
        // A real run campaigns as often as its timers fire: no election budget.
        elections: u32::MAX,
        // The runtime delivers stale and duplicate messages: the model must keep them in flight
        // (the dead-message reduction would forget them, and a delivery would look unsent).
        forget_dead_messages: false,
        bug: cfg.bug,
        ..CheckConfig::default()
    };
    PaxosModel::from_actors(check, actors)
}

fn fail(kind: Kind, seq: u64, actor: usize, detail: impl Into<String>) -> Finding {
    Finding::new(Check::Path, kind, detail).at(seq).actor(actor)
}

/// Checks that `recording` is a path of its model (check 2).
pub fn check_path(recording: &Recording) -> Result<PathStats, Finding> {
    let model = model_of(recording);
    let properties: Vec<Property<PaxosModel>> =
        model.properties().into_iter().filter(is_safety).collect();
    let mut stats = PathStats {
        properties: properties.iter().map(|p| p.name).collect(),
        ..PathStats::default()
    };
    let mut inits = model.init_states();
    assert_eq!(inits.len(), 1, "an actor model has one initial state");
    let mut state = inits.pop().expect("one initial state");
    check_properties(&model, &properties, &state, None)?;
    stats.states += 1;
    let unsaved = unsaved_steps(recording, Check::Path)?;
    // The messages the unsaved steps output (never sent), and the step of each.
    let mut unsent = BTreeMap::new();
    for event in &recording.events {
        let seq = event.seq;
        let action = match &event.kind {
            EventKind::Step(step) if unsaved.contains(&seq) => {
                for output in &step.outputs {
                    if let Output::Send { dst, msg } = output {
                        unsent.insert((step.actor, *dst, msg.clone()), seq);
                    }
                }
                stats.unsaved += 1;
                continue;
            }
            EventKind::Step(step) => match enabled(&state, seq, step) {
                Ok(Some(action)) => action,
                Ok(None) => continue, // A first start: the model's initial state covers it.
                Err(finding) => return Err(sent_before_saved(finding, step, &unsent)),
            },
            EventKind::Crash { actor, .. } => {
                if *actor >= model.cfg.servers || state.crashed[*actor] {
                    return Err(fail(
                        Kind::NotRunning,
                        seq,
                        *actor,
                        "the model has no running replica to crash",
                    ));
                }
                ActorModelAction::Crash(Id::from(*actor))
            }
            EventKind::Failed { actor, error } => {
                return Err(fail(
                    Kind::RuntimeFailure,
                    seq,
                    *actor,
                    format!("the replica stopped on its own in the runtime: {error}"),
                ))
            }
            // Loss, partitions and inbox drops: the message is simply never delivered (see
            // the module docs); duplication: it stays in the duplicating network; client
            // invocations and returns: the model's history records them from the steps.
            EventKind::Dropped { .. }
            | EventKind::Duplicated { .. }
            | EventKind::Partition { .. }
            | EventKind::Heal
            | EventKind::Invoke { .. }
            | EventKind::Return { .. } => continue,
        };
        let step = match &event.kind {
            EventKind::Step(step) => Some(&**step),
            _ => None,
        };
        let actor = acting(&action);
        let next = catch(Check::Path, seq, actor, || {
            model.next_state(&state, action.clone())
        })?;
        match (next, step) {
            (Some(next), step) => {
                if let Some(step) = step {
                    if let Some(difference) =
                        state_difference(&step.after, &next.actor_states[actor])
                    {
                        return Err(fail(
                            Kind::AfterMismatch,
                            seq,
                            actor,
                            format!(
                                "the model's successor under {} differs from the recorded \
                                 state: {difference}",
                                model.format_action(&action)
                            ),
                        ));
                    }
                }
                state = next;
                stats.actions += 1;
                check_properties(&model, &properties, &state, Some(seq))?;
                stats.states += 1;
            }
            (None, Some(step)) if is_stutter(step) => stats.stutters += 1,
            (None, _) => {
                return Err(fail(
                    Kind::Refused,
                    seq,
                    actor,
                    format!(
                        "the model ignores {} as a no-op, but the runtime's step changed the \
                         state or output something: {event:?}",
                        model.format_action(&action)
                    ),
                ))
            }
        }
    }
    Ok(stats)
}

/// A delivery the model's network does not hold, of a message that a step whose save a crash
/// lost output: that message left before the state it reports was durable.
fn sent_before_saved(
    finding: Finding,
    step: &Step,
    unsent: &BTreeMap<(usize, usize, paxos_model::msg::Msg), u64>,
) -> Finding {
    let Input::Deliver { src, dst, msg } = &step.input else {
        return finding;
    };
    match unsent.get(&(*src, *dst, msg.clone())) {
        Some(sent) if finding.kind == Kind::NeverSent => Finding {
            kind: Kind::SentBeforeSaved,
            detail: format!(
                "{}: it was output by step #{sent}, whose save a crash lost, so it left before \
                 the state it reports was durable",
                finding.detail
            ),
            ..finding
        },
        _ => finding,
    }
}

/// A recorded step that stateright's `next_state` ignores: nothing changed and nothing was
/// output, except that a timer that fired may have been set again (`is_no_op_with_timer`).
fn is_stutter(step: &Step) -> bool {
    let unchanged = step
        .before
        .as_ref()
        .is_some_and(|b| b.digest == step.after.digest && b.state == step.after.state);
    let quiet = match (&step.input, step.outputs.as_slice()) {
        (_, []) => true,
        (Input::Timeout { timer }, [Output::SetTimer { timer: set, .. }]) => set == timer,
        _ => false,
    };
    unchanged && quiet
}

/// The action a step maps to, after checking that the model's state enables it. `None` for
/// an actor's first start, which the model's initial state already took (after checking that
/// it agrees).
fn enabled(state: &State, seq: u64, step: &Step) -> Result<Option<Action>, Finding> {
    let a = step.actor;
    if a >= state.actor_states.len() {
        return Err(fail(
            Kind::Unsupported,
            seq,
            a,
            "a step of an actor the model does not have",
        ));
    }
    let id = Id::from(a);
    let action = match &step.input {
        Input::Start { storage } => {
            if storage.is_some() {
                return Err(fail(
                    Kind::Unsupported,
                    seq,
                    a,
                    "a first start from stored state: the model starts every replica empty",
                ));
            }
            if let Some(difference) = state_difference(&step.after, &state.actor_states[a]) {
                return Err(fail(
                    Kind::AfterMismatch,
                    seq,
                    a,
                    format!(
                        "the model's initial state differs from the recorded start: {difference}"
                    ),
                ));
            }
            return Ok(None);
        }
        Input::Recover { storage } => {
            if !state.crashed[a] {
                return Err(fail(
                    Kind::BadStart,
                    seq,
                    a,
                    "a restart of a replica the model has not crashed",
                ));
            }
            let saved = state
                .actor_storages
                .get(a)
                .and_then(Option::as_deref)
                .cloned();
            if *storage != saved {
                return Err(fail(
                    Kind::StaleStorage,
                    seq,
                    a,
                    format!(
                        "the replica restarted from\n    {storage:?}\n  but the model's storage \
                         holds\n    {saved:?}"
                    ),
                ));
            }
            return Ok(Some(ActorModelAction::Recover(id)));
        }
        Input::Deliver { src, dst, msg } => {
            let envelope = Envelope {
                src: Id::from(*src),
                dst: Id::from(*dst),
                msg: msg.clone(),
            };
            let in_network = match &state.network {
                Network::UnorderedDuplicating(set, _) => set.contains(&envelope),
                _ => unreachable!("the path check uses the unordered duplicating network"),
            };
            if *dst != a || !in_network {
                return Err(fail(
                    Kind::NeverSent,
                    seq,
                    a,
                    format!("{msg:?} from {src} to {dst} is not in the model's network"),
                ));
            }
            ActorModelAction::Deliver {
                src: envelope.src,
                dst: envelope.dst,
                msg: envelope.msg,
            }
        }
        Input::Timeout { timer } => {
            if !state.timers_set[a].iter().any(|t| t == timer) {
                return Err(fail(
                    Kind::TimerNotSet,
                    seq,
                    a,
                    format!(
                        "timer {timer:?} is not set in the model (set: {:?})",
                        state.timers_set[a].iter().collect::<Vec<_>>()
                    ),
                ));
            }
            ActorModelAction::Timeout(id, *timer)
        }
        Input::Submit { op } => {
            let offered = state.random_choices[a].map.get(SUBMIT);
            if !offered.is_some_and(|ops| ops.contains(op)) {
                return Err(fail(
                    Kind::BadSubmit,
                    seq,
                    a,
                    format!("a submit of {op:?}, but the model offers {offered:?}"),
                ));
            }
            ActorModelAction::SelectRandom {
                actor: id,
                key: SUBMIT.to_string(),
                random: *op,
            }
        }
    };
    if state.crashed[a] {
        return Err(fail(
            Kind::NotRunning,
            seq,
            a,
            "a step of a replica the model has crashed",
        ));
    }
    if let Some(before) = &step.before {
        if let Some(difference) = state_difference(before, &state.actor_states[a]) {
            return Err(fail(
                Kind::BeforeMismatch,
                seq,
                a,
                format!(
                    "the model's state of the actor differs from the recorded one: {difference}"
                ),
            ));
        }
    }
    Ok(Some(action))
}

/// Evaluates every always-property on `state`.
fn check_properties(
    model: &PaxosModel,
    properties: &[Property<PaxosModel>],
    state: &State,
    seq: Option<u64>,
) -> Result<(), Finding> {
    for property in properties {
        if !(property.condition)(model, state) {
            let ghost = &state.history;
            let conflicts: Vec<_> = ghost
                .decided
                .iter()
                .filter(|(_, values)| values.len() > 1)
                .collect();
            let mut finding = Finding::new(
                Check::Path,
                Kind::Property(property.name),
                format!(
                    "the model's always-property `{}` is violated{}; slots decided two ways: \
                     {conflicts:?}; client history: {:?}",
                    property.name,
                    seq.map_or(" in the initial state".into(), |s| format!(
                        " after event #{s}"
                    )),
                    ghost.tester
                ),
            );
            finding.seq = seq;
            return Err(finding);
        }
    }
    Ok(())
}
