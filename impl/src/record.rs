//! The recording: every step any actor takes, every crash, every fault the network injects and
//! every client invocation and response, in one global order consistent with causality.
//!
//! # Order
//! Every event takes its sequence number and is written under one lock ([`Recorder`]). A step is
//! recorded as soon as its step function returned, *before* its state is saved and before any of
//! its messages is handed to the network; a message is delivered (and its `Deliver` step recorded)
//! only after it was handed over. So a message's `Deliver` always comes after the step that sent
//! it, a `Dropped`/`Duplicated` after the send too, a replica's `Crash` after its last step and
//! before its `Recover`, and a client's `Invoke` before its `Submit` step, its `Return` after the
//! step that took the reply. Timestamps (`at_us`, microseconds since the recorder was created) are
//! for reading; the order is `seq`.
//!
//! # Replaying
//! Each [`Step`] names the actor, its [`Input`] (enough to run the step through the core again with
//! [`Input::run`]: the message with its source and destination, the timer, the operation, the
//! storage recovered from), its [`Output`]s (each effect in recorded form, [`Output::of`]) and the
//! resulting state, as a [`digest`] and, with [`StateDetail::Full`], in full. A replayer starts
//! each actor from its `Start`/`Recover` step and checks every later step against the model's step
//! functions. Several steps of one replica may share one physical save (group commit, see the crate
//! docs): each step still lists its own `Save` output, and a replica that restarts after a `Crash`
//! recovers exactly the state of its last recorded `Save` outside the crash's `unsaved` last steps
//! (a crash point in the middle of a save loses the batch's steps from the first that persisted
//! on; any other crash loses none). Only a replica that `Failed` (its save itself failed) may
//! have recorded a `Save` whose fate is unknown.

use crate::crash_point::CrashPoint;
use crate::error::ConfigError;
use paxos_model::durable::Durable;
use paxos_model::msg::{Msg, Timer};
use paxos_model::node::{self, Node, NodeState};
use paxos_model::output::{Effect, Output as StepOutput};
use paxos_model::state_machine::{Register, StateMachine};
use paxos_model::types::{NodeId, RequestId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A stable 64-bit digest of a value's [`Hash`] (FNV-1a): the same in every process of the
/// same build, so a replayer can compare its states with the recorded ones.
pub fn digest<T: Hash>(value: &T) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Event<M: StateMachine = Register> {
    /// Position in the global order, from 0.
    pub seq: u64,
    /// Microseconds since the recorder was created.
    pub at_us: u64,
    /// What happened.
    pub kind: EventKind<M>,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum EventKind<M: StateMachine = Register> {
    /// An actor took a step.
    Step(Box<Step<M>>),
    /// A replica crashed: its volatile state, timers and inbox are gone.
    Crash {
        /// The replica.
        actor: usize,
        /// Where inside a batch's I/O it crashed (`None`: between two batches).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        point: Option<CrashPoint>,
        /// How many of the replica's last steps lost their save: the crash came before their
        /// batch's save was durable (`MidSave`). A restart does not see them, and none of their
        /// messages may have left. 0 for a crash between batches.
        #[serde(default, skip_serializing_if = "is_zero")]
        unsaved: u32,
    },
    /// A replica stopped on its own (storage failure or a panic).
    Failed {
        /// The replica.
        actor: usize,
        /// What happened.
        error: String,
    },
    /// The network lost a message.
    Dropped {
        /// Sender.
        src: usize,
        /// Destination.
        dst: usize,
        /// The message.
        msg: Msg<M>,
        /// Why.
        reason: DropReason,
    },
    /// The network will deliver one more copy of a message.
    Duplicated {
        /// Sender.
        src: usize,
        /// Destination.
        dst: usize,
        /// The message.
        msg: Msg<M>,
    },
    /// Replicas in different groups stop hearing each other (clients are not affected).
    Partition {
        /// Every replica's group, by replica index.
        groups: Vec<u32>,
    },
    /// Every replica hears every other again.
    Heal,
    /// A client handle was asked to run `op` (its `Submit` step follows).
    Invoke {
        /// The client actor.
        client: usize,
        /// The request id its submit step gives the command (the client's count of submitted
        /// commands): what its `Return` names, when the client has several outstanding.
        request: RequestId,
        /// The operation.
        op: M::Op,
    },
    /// A client took the reply to one of its pending commands.
    Return {
        /// The client actor.
        client: usize,
        /// The request answered.
        request: RequestId,
        /// The operation it ran.
        op: M::Op,
        /// What it returned.
        result: M::Output,
    },
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Why the network lost a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropReason {
    /// Random loss.
    Loss,
    /// Sender and destination were on different sides of a partition.
    Partition,
    /// The destination was crashed (or its inbox was lost in a crash).
    DestinationDown,
}

/// One step of one actor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Step<M: StateMachine = Register> {
    /// The actor (servers `0..n`, clients from `n`).
    pub actor: usize,
    /// What the step was run on.
    pub input: Input<M>,
    /// The state before (absent for `Start`/`Recover`).
    pub before: Option<StateRecord<M>>,
    /// The state after.
    pub after: StateRecord<M>,
    /// The effects the step returned, in order, in recorded form ([`Output::of`]).
    pub outputs: Vec<Output<M>>,
}

/// A step's input, as recorded; [`Input::run`] turns it into a call of the core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Input<M: StateMachine = Register> {
    /// First start of the actor (`Node::start`); `storage` is set when a data directory
    /// already held a state for it.
    Start {
        /// What `Node::start` recovered from.
        storage: Option<Durable<M>>,
    },
    /// Restart after a crash (`Node::start` with the stored state).
    Recover {
        /// What `Node::start` recovered from.
        storage: Option<Durable<M>>,
    },
    /// A message delivered (`node::Input::Deliver`).
    Deliver {
        /// Sender.
        src: usize,
        /// Destination (the acting actor).
        dst: usize,
        /// The message.
        msg: Msg<M>,
    },
    /// A timer fired (`node::Input::Timeout`).
    Timeout {
        /// The timer.
        timer: Timer,
    },
    /// A client handle submitted an operation (`node::Input::Submit`, the client's submit
    /// step).
    Submit {
        /// The operation.
        op: M::Op,
    },
}

impl<M: StateMachine> Input<M> {
    /// Runs this input through the core: `node.start` for `Start`/`Recover`, `node.step`
    /// otherwise ([`Input::step`], on a copy of the input), on `state` (the actor's state before
    /// the step; unused by a start). With [`Input::step`], this is the one place a recorded
    /// input meets a step function: the replay of a recording calls this, the runtime's hosts
    /// call [`Input::step`] (in place, no copy of the state or the message).
    ///
    /// # Panics
    /// If a step other than a start has no state to step from.
    pub fn run(
        &self,
        node: &Node,
        actor: usize,
        state: Option<NodeState<M>>,
    ) -> (NodeState<M>, StepOutput<M>) {
        if let Input::Start { storage } | Input::Recover { storage } = self {
            return node.start(NodeId(actor as u32), storage.as_ref());
        }
        let state = state.unwrap_or_else(|| panic!("actor {actor}: {self:?} before its start"));
        let mut cow = Cow::Owned(state);
        let output = self.clone().step(node, actor, &mut cow);
        (cow.into_owned(), output)
    }

    /// Runs this input (`Deliver`, `Timeout` or `Submit`) through `node.step` on `state`, in
    /// place: an owned state is changed without a copy, and the message is moved in.
    ///
    /// # Panics
    /// On `Start` or `Recover`, which are not steps ([`Input::run`] starts a node).
    pub fn step(
        self,
        node: &Node,
        actor: usize,
        state: &mut Cow<'_, NodeState<M>>,
    ) -> StepOutput<M> {
        self.step_reusing(node, actor, state, Vec::new())
    }

    /// [`Input::step`], the effects collected in `effects` (emptied first: the vector of an
    /// earlier step's effects, handed back so that this step allocates none;
    /// `Node::step_reusing`).
    ///
    /// # Panics
    /// On `Start` or `Recover`, which are not steps ([`Input::run`] starts a node).
    pub fn step_reusing(
        self,
        node: &Node,
        actor: usize,
        state: &mut Cow<'_, NodeState<M>>,
        effects: Vec<Effect<M>>,
    ) -> StepOutput<M> {
        let input = match self {
            Input::Start { .. } | Input::Recover { .. } => {
                panic!("actor {actor}: {self:?} is a start, not a step")
            }
            Input::Deliver { src, msg, .. } => node::Input::Deliver {
                from: NodeId(src as u32),
                msg,
            },
            Input::Timeout { timer } => node::Input::Timeout(timer),
            Input::Submit { op } => node::Input::Submit(op),
        };
        node.step_reusing(NodeId(actor as u32), state, input, effects)
    }
}

/// A state, by digest and optionally in full.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct StateRecord<M: StateMachine = Register> {
    /// [`digest`] of the state.
    pub digest: u64,
    /// The state itself, with [`StateDetail::Full`].
    pub state: Option<NodeState<M>>,
}

/// One effect of a step's output ([`Effect`]), in the serializable form a recording keeps
/// ([`Output::of`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Output<M: StateMachine = Register> {
    /// Persist the durable state ([`Effect::Persist`]; before any `Send` of the step leaves).
    Save {
        /// [`digest`] of the state saved.
        digest: u64,
        /// The state saved, with [`StateDetail::Full`].
        durable: Option<Durable<M>>,
    },
    /// Set (or restart) a timer.
    SetTimer {
        /// The timer.
        timer: Timer,
        /// The range asked for, in microseconds.
        range_us: (u64, u64),
        /// The duration drawn from it, in microseconds.
        drawn_us: u64,
    },
    /// Cancel a timer.
    CancelTimer {
        /// The timer.
        timer: Timer,
    },
    /// Send a message.
    Send {
        /// Destination.
        dst: usize,
        /// The message.
        msg: Msg<M>,
    },
    /// A client took the reply to its pending request.
    Complete {
        /// The request.
        request: RequestId,
        /// Its result.
        result: M::Output,
    },
}

impl<M: StateMachine> Output<M> {
    /// The effect as a step function outputs it: a `SetTimer` with `drawn_us` 0 (the runtime
    /// draws it) and a `Save` with its durable state only under [`StateDetail::Full`].
    pub fn of(effect: &Effect<M>, detail: StateDetail) -> Output<M> {
        match effect {
            Effect::Persist(durable) => Output::Save {
                digest: digest(durable),
                durable: (detail == StateDetail::Full).then(|| durable.clone()),
            },
            Effect::SetTimer(timer, range) => Output::SetTimer {
                timer: *timer,
                range_us: (range.start.as_micros() as u64, range.end.as_micros() as u64),
                drawn_us: 0,
            },
            Effect::CancelTimer(timer) => Output::CancelTimer { timer: *timer },
            Effect::Send(dst, msg) => Output::Send {
                dst: dst.index(),
                msg: msg.clone(),
            },
            Effect::Complete { request, result } => Output::Complete {
                request: *request,
                result: result.clone(),
            },
        }
    }

    /// The output without what only the runtime knows (the drawn timer duration) or what only
    /// some recordings keep (a saved state beyond its digest): for comparing a replayed step's
    /// outputs with the recorded ones.
    pub fn normalized(&self) -> Output<M> {
        match self {
            Output::Save { digest, .. } => Output::Save {
                digest: *digest,
                durable: None,
            },
            Output::SetTimer {
                timer, range_us, ..
            } => Output::SetTimer {
                timer: *timer,
                range_us: *range_us,
                drawn_us: 0,
            },
            other => other.clone(),
        }
    }
}

/// How much of each state a recording keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StateDetail {
    /// Digests only (cheap enough for long runs).
    #[default]
    Digest,
    /// Full states and saved durable states (for short runs and replay tests).
    Full,
}

/// Where a recording goes.
#[derive(Debug, Default)]
pub struct RecorderConfig {
    /// Keep every event in memory ([`Recorder::events`]).
    pub in_memory: bool,
    /// Write every event as a JSON line to this file.
    pub trace: Option<std::path::PathBuf>,
    /// Write client `Invoke`/`Return` events as JSON lines to this file.
    pub history: Option<std::path::PathBuf>,
    /// How much of each state to keep.
    pub detail: StateDetail,
}

struct Sinks<M: StateMachine> {
    seq: u64,
    memory: Option<Vec<Event<M>>>,
    trace: Option<BufWriter<File>>,
    history: Option<BufWriter<File>>,
    write_error: Option<std::io::Error>,
}

struct Shared<M: StateMachine> {
    start: Instant,
    detail: StateDetail,
    wants_steps: bool,
    sinks: Mutex<Sinks<M>>,
}

/// The global, causally ordered event log. Cheap to clone (shared).
#[derive(Clone)]
pub struct Recorder<M: StateMachine = Register> {
    shared: Arc<Shared<M>>,
}

impl<M: StateMachine> std::fmt::Debug for Recorder<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("detail", &self.shared.detail)
            .finish_non_exhaustive()
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, ConfigError> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|source| ConfigError::OutputFile {
            path: path.to_path_buf(),
            source,
        })
}

impl<M: StateMachine> Recorder<M> {
    /// A recorder with the given sinks.
    pub fn new(cfg: RecorderConfig) -> Result<Recorder<M>, ConfigError> {
        let trace = cfg.trace.as_deref().map(create).transpose()?;
        let history = cfg.history.as_deref().map(create).transpose()?;
        let wants_steps = cfg.in_memory || trace.is_some();
        Ok(Recorder {
            shared: Arc::new(Shared {
                start: Instant::now(),
                detail: cfg.detail,
                wants_steps,
                sinks: Mutex::new(Sinks {
                    seq: 0,
                    memory: cfg.in_memory.then(Vec::new),
                    trace,
                    history,
                    write_error: None,
                }),
            }),
        })
    }

    /// A recorder that keeps every event in memory.
    pub fn in_memory(detail: StateDetail) -> Recorder<M> {
        Recorder::new(RecorderConfig {
            in_memory: true,
            detail,
            ..RecorderConfig::default()
        })
        .expect("no file to create")
    }

    /// How much of each state is kept.
    pub fn detail(&self) -> StateDetail {
        self.shared.detail
    }

    /// Whether steps and network events are wanted (not only client history).
    pub fn wants_steps(&self) -> bool {
        self.shared.wants_steps
    }

    /// Appends an event; returns its sequence number.
    pub fn record(&self, kind: EventKind<M>) -> u64 {
        let at_us = self.shared.start.elapsed().as_micros() as u64;
        let mut sinks = self.shared.sinks.lock().expect("recorder lock");
        let seq = sinks.seq;
        sinks.seq += 1;
        let event = Event { seq, at_us, kind };
        let client_event = matches!(
            event.kind,
            EventKind::Invoke { .. } | EventKind::Return { .. }
        );
        let Sinks {
            memory,
            trace,
            history,
            write_error,
            ..
        } = &mut *sinks;
        let mut write = |w: &mut BufWriter<File>| {
            let result = serde_json::to_writer(&mut *w, &event)
                .map_err(std::io::Error::other)
                .and_then(|()| w.write_all(b"\n"));
            if let Err(e) = result {
                write_error.get_or_insert(e);
            }
        };
        if let Some(w) = trace {
            write(w);
        }
        if client_event {
            if let Some(w) = history {
                write(w);
            }
        }
        if let Some(memory) = memory {
            memory.push(event);
        }
        seq
    }

    /// Records a state according to [`Recorder::detail`].
    pub fn state(&self, state: &NodeState<M>) -> StateRecord<M> {
        StateRecord {
            digest: digest(state),
            state: (self.detail() == StateDetail::Full).then(|| state.clone()),
        }
    }

    /// Every event so far (empty unless kept in memory).
    pub fn events(&self) -> Vec<Event<M>> {
        let sinks = self.shared.sinks.lock().expect("recorder lock");
        sinks.memory.clone().unwrap_or_default()
    }

    /// How many events were recorded.
    pub fn len(&self) -> u64 {
        self.shared.sinks.lock().expect("recorder lock").seq
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flushes the files; reports the first write error of the whole recording, if any.
    pub fn flush(&self) -> std::io::Result<()> {
        let mut sinks = self.shared.sinks.lock().expect("recorder lock");
        if let Some(e) = sinks.write_error.take() {
            return Err(e);
        }
        if let Some(w) = &mut sinks.trace {
            w.flush()?;
        }
        if let Some(w) = &mut sinks.history {
            w.flush()?;
        }
        Ok(())
    }
}

/// Reads a recording written as JSON lines.
pub fn read_events(path: &Path) -> std::io::Result<Vec<Event>> {
    use std::io::BufRead;
    let file = std::io::BufReader::new(File::open(path)?);
    file.lines()
        .filter(|line| !matches!(line, Ok(l) if l.trim().is_empty()))
        .map(|line| serde_json::from_str(&line?).map_err(std::io::Error::other))
        .collect()
}
