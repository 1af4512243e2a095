//! Check 1: every step the runtime took replays through the model's step functions.
//!
//! Each actor is followed from its `Start` (or, after a crash, its `Recover`) through every
//! later step. For each step the replay checks, in this order:
//!
//! - that the input was possible: the actor was running; a delivered message is a copy that was
//!   sent (or duplicated by the network) earlier and not yet delivered or dropped; a timer that
//!   fired was set and not cancelled or fired since; a client submitted exactly what its caller
//!   invoked; a restart began from the last state the replica saved before it crashed;
//! - that the recorded state before the step is the state the replay says the actor was in;
//! - that the model's step function (`Node::start` or `Node::step`: the very functions the
//!   checker explores), run on that state and input through the runtime's own dispatch
//!   ([`Input::run`]), gives the recorded state after the step and the recorded outputs
//!   ([`Output::of`] of each effect), in order.
//!
//! A crash inside a batch's save (`CrashPoint::MidSave`) says how many of the replica's last
//! steps lost their save (`unsaved_steps`). Those steps are replayed like any other, but their
//! saves do not count (the restart must begin from the save before them) and their messages
//! were never sent: a delivery of one is a message that left before the state it reports was
//! durable ([`Kind::SentBeforeSaved`]).
//!
//! The first step that fails any of these is reported ([`Finding`]) with both sides of the
//! comparison. Drops and duplications by the network are accounted for (a drop consumes a copy,
//! a duplication adds one), and so are client invocations and returns: each `Return` must be the
//! reply that the client's previous step took.

use crate::finding::{Check, Finding, Kind};
use crate::recording::Recording;
use paxos_impl::record::{digest, EventKind, Input, Output, StateDetail, StateRecord, Step};
use paxos_model::durable::Durable;
use paxos_model::msg::{Msg, Timer};
use paxos_model::node::NodeState;
use paxos_model::output::{Effect, Output as StepOutput};
use paxos_model::types::{Op, OpResult, RequestId};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;

/// What a successful replay went through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Events in the recording.
    pub events: usize,
    /// Steps replayed (all kinds).
    pub steps: usize,
    /// Message deliveries.
    pub deliveries: usize,
    /// Timer firings.
    pub timeouts: usize,
    /// Client submissions.
    pub submits: usize,
    /// Restarts from storage.
    pub recoveries: usize,
    /// Crashes.
    pub crashes: usize,
    /// Crashes inside a batch's I/O (at a crash point).
    pub crash_points: usize,
    /// Steps whose save a crash lost.
    pub unsaved_steps: usize,
    /// Copies the network dropped.
    pub drops: usize,
    /// Copies the network duplicated.
    pub duplicates: usize,
    /// Client operations that returned.
    pub returns: usize,
}

/// The last state a replica saved.
#[derive(Clone, Debug)]
struct Saved {
    digest: u64,
    durable: Durable,
}

/// What the replay knows of one actor.
#[derive(Default)]
struct Tracked {
    started: bool,
    /// The current state; `None` before the start and while crashed.
    state: Option<NodeState>,
    timers: BTreeSet<Timer>,
    saved: Option<Saved>,
    /// A client's invocation whose `Submit` step has not come yet.
    invoked: Option<Op>,
    /// A reply a client's step took, whose `Return` event has not come yet.
    taken: Option<(RequestId, Op, OpResult)>,
}

/// Compares a recorded state with the replay's; `None` when they agree.
pub(crate) fn state_difference(record: &StateRecord, state: &NodeState) -> Option<String> {
    if let Some(recorded) = &record.state {
        if recorded != state {
            return Some(format!(
                "recorded state:\n    {recorded:?}\n  model state:\n    {state:?}"
            ));
        }
    }
    let model = digest(state);
    (record.digest != model).then(|| {
        format!(
            "recorded state digest {:#018x}, model state digest {model:#018x} (model state: {state:?})",
            record.digest
        )
    })
}

/// Runs `f`, turning a panic (a failed assertion in a step function) into a finding.
pub(crate) fn catch<T>(
    check: Check,
    seq: u64,
    actor: usize,
    f: impl FnOnce() -> T,
) -> Result<T, Finding> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with a non-string payload".into());
        Finding::new(
            check,
            Kind::HandlerPanic,
            format!("the step function panicked: {message}"),
        )
        .at(seq)
        .actor(actor)
    })
}

/// The model's outputs as the recording writes them, for comparison.
pub(crate) fn normalized(out: &StepOutput) -> Vec<Output> {
    out.effects()
        .iter()
        .map(|e| Output::of(e, StateDetail::Digest).normalized())
        .collect()
}

/// Replays `recording` (check 1). `observe` sees every replica's state after each of its steps
/// (as the model computed it, which the check found equal to the recorded one).
pub fn replay(
    recording: &Recording,
    mut observe: impl FnMut(u64, usize, &NodeState),
) -> Result<ReplayStats, Finding> {
    let unsaved = unsaved_steps(recording, Check::Replay)?;
    let mut replay = Replayer {
        recording,
        actors: BTreeMap::new(),
        in_flight: BTreeMap::new(),
        stats: ReplayStats {
            events: recording.events.len(),
            unsaved_steps: unsaved.len(),
            ..ReplayStats::default()
        },
        unsaved,
        unsent: BTreeMap::new(),
    };
    for (i, event) in recording.events.iter().enumerate() {
        let seq = event.seq;
        if seq != i as u64 {
            return Err(Finding::new(
                Check::Replay,
                Kind::OutOfOrder,
                format!("event number {i} of the file carries sequence number {seq}"),
            )
            .at(seq));
        }
        replay.event(seq, &event.kind, &mut observe)?;
    }
    Ok(replay.stats)
}

/// A copy in flight: sender, destination, message.
type Wire = (usize, usize, Msg);

struct Replayer<'r> {
    recording: &'r Recording,
    actors: BTreeMap<usize, Tracked>,
    in_flight: BTreeMap<Wire, u64>,
    stats: ReplayStats,
    /// The steps whose save a crash lost.
    unsaved: BTreeSet<u64>,
    /// Messages those steps output, which were never sent, and the step of each.
    unsent: BTreeMap<Wire, u64>,
}

/// The steps whose save a crash lost, by sequence number: each `Crash`'s `unsaved` last steps
/// of its replica (since its last start). `check` is the check that asks.
pub(crate) fn unsaved_steps(recording: &Recording, check: Check) -> Result<BTreeSet<u64>, Finding> {
    let mut since_start: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    let mut unsaved = BTreeSet::new();
    for event in &recording.events {
        match &event.kind {
            EventKind::Step(step) => {
                let steps = since_start.entry(step.actor).or_default();
                match step.input {
                    Input::Start { .. } | Input::Recover { .. } => steps.clear(),
                    _ => steps.push(event.seq),
                }
            }
            EventKind::Crash {
                actor, unsaved: n, ..
            } => {
                let steps = since_start.remove(actor).unwrap_or_default();
                let n = *n as usize;
                if n > steps.len() {
                    return Err(Finding::new(
                        check,
                        Kind::BadCrash,
                        format!(
                            "the crash says the replica's last {n} steps lost their save, but it \
                             took {} since it started",
                            steps.len()
                        ),
                    )
                    .at(event.seq)
                    .actor(*actor));
                }
                unsaved.extend(&steps[steps.len() - n..]);
            }
            _ => {}
        }
    }
    Ok(unsaved)
}

fn fail(kind: Kind, seq: u64, actor: usize, detail: impl Into<String>) -> Finding {
    Finding::new(Check::Replay, kind, detail)
        .at(seq)
        .actor(actor)
}

impl Replayer<'_> {
    fn take_copy(&mut self, seq: u64, actor: usize, copy: Wire, what: &str) -> Result<(), Finding> {
        match self.in_flight.get_mut(&copy) {
            Some(n) if *n > 0 => {
                *n -= 1;
                Ok(())
            }
            _ if self.unsent.contains_key(&copy) => Err(fail(
                Kind::SentBeforeSaved,
                seq,
                actor,
                format!(
                    "{what} {:?} from {} to {}, output by step #{} of {}, whose save a crash \
                     lost: the message left before the state it reports was durable, and the \
                     replica restarted without that state",
                    copy.2, copy.0, copy.1, self.unsent[&copy], copy.0
                ),
            )),
            _ => Err(fail(
                Kind::NeverSent,
                seq,
                actor,
                format!(
                    "{what} {:?} from {} to {}, but no such copy is in flight (it was never \
                     sent, or every copy sent was already delivered or dropped)",
                    copy.2, copy.0, copy.1
                ),
            )),
        }
    }

    fn event(
        &mut self,
        seq: u64,
        kind: &EventKind,
        observe: &mut impl FnMut(u64, usize, &NodeState),
    ) -> Result<(), Finding> {
        match kind {
            EventKind::Step(step) => self.step(seq, step, observe),
            EventKind::Crash { actor, point, .. } => {
                let tracked = self.actors.entry(*actor).or_default();
                if !self.recording.config.is_server(*actor) || tracked.state.is_none() {
                    return Err(fail(
                        Kind::NotRunning,
                        seq,
                        *actor,
                        "a crash of an actor that is not a running replica",
                    ));
                }
                tracked.state = None;
                tracked.timers.clear();
                self.stats.crashes += 1;
                self.stats.crash_points += usize::from(point.is_some());
                Ok(())
            }
            EventKind::Failed { actor, error } => Err(fail(
                Kind::RuntimeFailure,
                seq,
                *actor,
                format!("the replica stopped on its own in the runtime: {error}"),
            )),
            EventKind::Dropped { src, dst, msg, .. } => {
                self.stats.drops += 1;
                self.take_copy(seq, *dst, (*src, *dst, msg.clone()), "the network drops")
            }
            EventKind::Duplicated { src, dst, msg } => {
                let copy = (*src, *dst, msg.clone());
                self.take_copy(seq, *dst, copy.clone(), "the network duplicates")?;
                *self.in_flight.entry(copy).or_default() += 2;
                self.stats.duplicates += 1;
                Ok(())
            }
            EventKind::Partition { .. } | EventKind::Heal => Ok(()),
            EventKind::Invoke {
                client,
                request,
                op,
            } => {
                let window = self.recording.config.client_window as u32;
                let tracked = self.actors.entry(*client).or_default();
                let room = tracked
                    .state
                    .as_ref()
                    .and_then(NodeState::as_client)
                    .is_some_and(|c| c.can_submit(window) && c.submitted == request.0);
                if !room || tracked.invoked.is_some() || tracked.taken.is_some() {
                    return Err(fail(
                        Kind::BadClientEvent,
                        seq,
                        *client,
                        format!(
                            "an invocation of {op:?} as {request:?} on a client that is not \
                             running with room in its window of {window} for that request \
                             (state {:?}, invoked {:?}, reply taken but not returned {:?})",
                            tracked.state, tracked.invoked, tracked.taken
                        ),
                    ));
                }
                tracked.invoked = Some(*op);
                Ok(())
            }
            EventKind::Return {
                client,
                request,
                op,
                result,
            } => {
                let tracked = self.actors.entry(*client).or_default();
                let returned = Some((*request, *op, *result));
                if tracked.taken != returned {
                    return Err(fail(
                        Kind::BadClientEvent,
                        seq,
                        *client,
                        format!(
                            "a return of {returned:?} (request, op, result), but the reply the \
                             client's steps took is {:?}",
                            tracked.taken
                        ),
                    ));
                }
                tracked.taken = None;
                self.stats.returns += 1;
                Ok(())
            }
        }
    }

    fn step(
        &mut self,
        seq: u64,
        step: &Step,
        observe: &mut impl FnMut(u64, usize, &NodeState),
    ) -> Result<(), Finding> {
        let a = step.actor;
        let is_server = self.recording.config.is_server(a);
        self.stats.steps += 1;
        // The input must have been possible.
        match &step.input {
            Input::Start { storage } => {
                let tracked = self.actors.entry(a).or_default();
                if tracked.started || (!is_server && storage.is_some()) {
                    return Err(fail(
                        Kind::BadStart,
                        seq,
                        a,
                        "a second start (or a client started from storage)",
                    ));
                }
                tracked.started = true;
                if let Some(durable) = storage {
                    tracked.saved = Some(Saved {
                        digest: digest(durable),
                        durable: durable.clone(),
                    });
                }
            }
            Input::Recover { storage } => {
                let tracked = self.actors.entry(a).or_default();
                if !is_server || !tracked.started || tracked.state.is_some() {
                    return Err(fail(
                        Kind::BadStart,
                        seq,
                        a,
                        "a restart of an actor that is not a crashed replica",
                    ));
                }
                let last = tracked.saved.as_ref();
                let same = match (storage, last) {
                    (None, None) => true,
                    (Some(d), Some(saved)) => digest(d) == saved.digest && *d == saved.durable,
                    _ => false,
                };
                if !same {
                    return Err(fail(
                        Kind::StaleStorage,
                        seq,
                        a,
                        format!(
                            "the replica restarted from\n    {storage:?}\n  but the last state it \
                             saved is\n    {:?}",
                            last.map(|s| &s.durable)
                        ),
                    ));
                }
                self.stats.recoveries += 1;
            }
            Input::Deliver { src, dst, msg } => {
                if *dst != a {
                    return Err(fail(
                        Kind::NeverSent,
                        seq,
                        a,
                        format!("actor {a} takes a copy of {msg:?} addressed to {dst}"),
                    ));
                }
                self.running(seq, a)?;
                self.take_copy(seq, a, (*src, *dst, msg.clone()), "delivers")?;
                self.stats.deliveries += 1;
            }
            Input::Timeout { timer } => {
                self.running(seq, a)?;
                let tracked = self.actors.get_mut(&a).expect("running");
                if !tracked.timers.remove(timer) {
                    return Err(fail(
                        Kind::TimerNotSet,
                        seq,
                        a,
                        format!(
                            "timer {timer:?} fired, but the set timers are {:?}",
                            tracked.timers
                        ),
                    ));
                }
                self.stats.timeouts += 1;
            }
            Input::Submit { op } => {
                self.running(seq, a)?;
                let tracked = self.actors.get_mut(&a).expect("running");
                if is_server || tracked.invoked != Some(*op) {
                    return Err(fail(
                        Kind::BadSubmit,
                        seq,
                        a,
                        format!(
                            "a submit of {op:?}, but the invocation waiting for it is {:?}",
                            tracked.invoked
                        ),
                    ));
                }
                tracked.invoked = None;
                self.stats.submits += 1;
            }
        }
        let tracked = self.actors.get_mut(&a).expect("tracked above");
        let starting = matches!(step.input, Input::Start { .. } | Input::Recover { .. });
        // The state before.
        match (&step.before, tracked.state.as_ref()) {
            (None, None) if starting => {}
            (Some(before), Some(state)) if !starting => {
                if let Some(difference) = state_difference(before, state) {
                    return Err(fail(
                        Kind::BeforeMismatch,
                        seq,
                        a,
                        format!(
                            "the state before {:?} is not the one the actor was in: {difference}",
                            step.input
                        ),
                    ));
                }
            }
            (before, state) => {
                return Err(fail(
                    Kind::BeforeMismatch,
                    seq,
                    a,
                    format!("recorded before-state {before:?}, replayed state {state:?}"),
                ))
            }
        }
        // The step function.
        let node = self.recording.config.node(a);
        let (next, out) = catch(Check::Replay, seq, a, || {
            step.input.run(&node, a, tracked.state.clone())
        })?;
        if let Some(difference) = state_difference(&step.after, &next) {
            return Err(fail(
                Kind::AfterMismatch,
                seq,
                a,
                format!(
                    "the step function, given {:?}, computes another state: {difference}",
                    step.input
                ),
            ));
        }
        let recorded: Vec<Output> = step.outputs.iter().map(Output::normalized).collect();
        let model = normalized(&out);
        if recorded != model {
            return Err(fail(
                Kind::OutputsMismatch,
                seq,
                a,
                format!(
                    "given {:?}, the step function outputs\n    {model:?}\n  but the runtime \
                     recorded\n    {recorded:?}",
                    step.input
                ),
            ));
        }
        // A client that takes the reply to its pending command returns next.
        if let (Input::Deliver { msg, .. }, Some(before)) = (&step.input, tracked.state.as_ref()) {
            let awaited = |state: &NodeState, request| {
                state.as_client().and_then(|c| c.awaiting(request)).cloned()
            };
            let taken = match msg {
                Msg::Reply { request, .. } => {
                    awaited(before, *request).filter(|_| awaited(&next, *request).is_none())
                }
                _ => None,
            };
            if let (Msg::Reply { request, result }, Some(pending)) = (msg, taken) {
                if tracked.taken.is_some() {
                    return Err(fail(
                        Kind::BadClientEvent,
                        seq,
                        a,
                        format!(
                            "a second reply taken before the return of {:?}",
                            tracked.taken
                        ),
                    ));
                }
                tracked.taken = Some((*request, pending.op, *result));
            }
        }
        // Its effects; a step whose save a crash lost neither saved nor sent.
        if starting {
            tracked.timers.clear();
        }
        let unsaved = self.unsaved.contains(&seq);
        for effect in out {
            match effect {
                Effect::SetTimer(timer, _) => {
                    tracked.timers.insert(timer);
                }
                Effect::CancelTimer(timer) => {
                    tracked.timers.remove(&timer);
                }
                Effect::Send(dst, msg) if unsaved => {
                    self.unsent.insert((a, dst.index(), msg), seq);
                }
                Effect::Send(dst, msg) => {
                    *self.in_flight.entry((a, dst.index(), msg)).or_default() += 1;
                }
                Effect::Persist(_) if unsaved => {}
                Effect::Persist(durable) => {
                    tracked.saved = Some(Saved {
                        digest: digest(&durable),
                        durable,
                    });
                }
                Effect::Complete { .. } => {}
            }
        }
        if is_server {
            observe(seq, a, &next);
        }
        tracked.state = Some(next);
        Ok(())
    }

    fn running(&mut self, seq: u64, actor: usize) -> Result<(), Finding> {
        let running = self
            .actors
            .get(&actor)
            .is_some_and(|tracked| tracked.state.is_some());
        if running {
            Ok(())
        } else {
            Err(fail(
                Kind::NotRunning,
                seq,
                actor,
                "a step of an actor that is not running (never started, or crashed)",
            ))
        }
    }
}
