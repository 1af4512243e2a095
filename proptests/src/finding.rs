//! What a check reports when a recording fails it: which check, what kind of failure, and the
//! first event where it shows.

use std::fmt;

/// The three checks a recording goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// Check 1: every step replays through the model's step functions.
    Replay,
    /// Check 2: the run is a path of the stateright model, and its safety properties hold.
    Path,
    /// Check 3: what clients and replicas observed is safe (agreement, validity, exactly-once,
    /// linearizability).
    Observable,
}

impl Check {
    /// The check's number and name.
    pub fn title(self) -> &'static str {
        match self {
            Check::Replay => "check 1 (replay through the step functions)",
            Check::Path => "check 2 (path of the model)",
            Check::Observable => "check 3 (observable safety)",
        }
    }
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Events are not numbered `0, 1, 2, ...` in order.
    OutOfOrder,
    /// A step of an actor that is not running (never started, or crashed).
    NotRunning,
    /// A `Start` of an actor already started, or a `Recover` of one that did not crash.
    BadStart,
    /// A delivery (or drop, or duplication) of a copy that was never sent, or of more copies
    /// than were sent.
    NeverSent,
    /// A timer fired that was not set.
    TimerNotSet,
    /// A client submitted something it was not asked to (no matching `Invoke`), or a submit the
    /// model does not offer.
    BadSubmit,
    /// A replica restarted from something other than its last saved state.
    StaleStorage,
    /// The recorded state before a step is not the state the actor was in.
    BeforeMismatch,
    /// The recorded state after a step is not what the step function computes.
    AfterMismatch,
    /// The recorded outputs of a step are not what the step function computes.
    OutputsMismatch,
    /// A client `Invoke`/`Return` that does not match the client's steps.
    BadClientEvent,
    /// A replica stopped on its own in the runtime (storage failure or panic).
    RuntimeFailure,
    /// A crash says more of its replica's steps lost their save than the replica took since it
    /// started.
    BadCrash,
    /// A message left from a step whose save a crash lost: it went out before the state it
    /// reports was durable (persist before send violated).
    SentBeforeSaved,
    /// A step function panicked during the replay.
    HandlerPanic,
    /// The model refused a step the runtime took (a no-op in the model, a real step in the run).
    Refused,
    /// An always-property of the model is violated (its name).
    Property(&'static str),
    /// The recording cannot be mapped onto the model.
    Unsupported,
    /// Two replicas decided different commands for one slot.
    Disagreement,
    /// A decided command that no client submitted.
    NotSubmitted,
    /// A replica's state machine differs from executing the agreed log exactly once.
    NotExactlyOnce,
    /// A client got a result that executing the agreed log does not give (or for a command
    /// never decided).
    WrongResult,
    /// The client history is not linearizable.
    NotLinearizable,
}

/// A failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Which check.
    pub check: Check,
    /// What kind of failure.
    pub kind: Kind,
    /// The first event (by `seq`) where it shows, if it is tied to one.
    pub seq: Option<u64>,
    /// The actor concerned, if one is.
    pub actor: Option<usize>,
    /// Everything a reader needs: expected and actual values.
    pub detail: String,
}

impl Finding {
    /// A finding of `check`.
    pub fn new(check: Check, kind: Kind, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            kind,
            seq: None,
            actor: None,
            detail: detail.into(),
        }
    }

    /// Ties the finding to an event.
    pub fn at(mut self, seq: u64) -> Finding {
        self.seq = Some(seq);
        self
    }

    /// Ties the finding to an actor.
    pub fn actor(mut self, actor: usize) -> Finding {
        self.actor = Some(actor);
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.check.title())?;
        if let Some(seq) = self.seq {
            write!(f, " at event #{seq}")?;
        }
        if let Some(actor) = self.actor {
            write!(f, " (actor {actor})")?;
        }
        write!(f, ": {:?}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for Finding {}
