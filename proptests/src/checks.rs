//! The three checks, run together on one recording.

use crate::finding::{Check, Finding, Kind};
use crate::observable::{check_observable, ObservableStats, Observations};
use crate::path::{check_path, PathStats};
use crate::recording::Recording;
use crate::replay::{replay, ReplayStats};
use std::fmt;

/// The outcome of checks 1–3 on one recording.
#[derive(Clone, Debug)]
pub struct Report {
    /// Check 1.
    pub replay: Result<ReplayStats, Finding>,
    /// Check 2.
    pub path: Result<PathStats, Finding>,
    /// Check 3.
    pub observable: Result<ObservableStats, Finding>,
}

impl Report {
    /// Every failed check, in check order.
    pub fn findings(&self) -> Vec<&Finding> {
        [
            self.replay.as_ref().err(),
            self.path.as_ref().err(),
            self.observable.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.findings().is_empty()
    }

    /// The finding of `check`, if it failed.
    pub fn finding(&self, check: Check) -> Option<&Finding> {
        self.findings().into_iter().find(|f| f.check == check)
    }

    /// Whether a safety check (the model's properties on the path, or observable safety)
    /// failed, as opposed to the runtime diverging from the model.
    pub fn safety_violated(&self) -> bool {
        let path = matches!(&self.path, Err(f) if matches!(f.kind, Kind::Property(_)));
        path || self.observable.is_err()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.replay {
            Ok(s) => writeln!(
                f,
                "check 1 (replay) passed: {} events, {} steps ({} deliveries, {} timeouts, {} \
                 submits, {} restarts), {} crashes ({} at a crash point, {} steps lost their \
                 save), {} drops, {} duplicates",
                s.events,
                s.steps,
                s.deliveries,
                s.timeouts,
                s.submits,
                s.recoveries,
                s.crashes,
                s.crash_points,
                s.unsaved_steps,
                s.drops,
                s.duplicates
            )?,
            Err(e) => writeln!(f, "{e}")?,
        }
        match &self.path {
            Ok(s) => writeln!(
                f,
                "check 2 (path) passed: {} actions, {} no-op steps, {:?} held in {} states",
                s.actions, s.stutters, s.properties, s.states
            )?,
            Err(e) => writeln!(f, "{e}")?,
        }
        match &self.observable {
            Ok(s) => write!(
                f,
                "check 3 (observable) passed: {} slots agreed ({} batches), {} commands \
                 executed once, {} invocations, {} returns, linearizable",
                s.slots, s.batched_slots, s.executed, s.invocations, s.returns
            ),
            Err(e) => write!(f, "{e}"),
        }
    }
}

/// Runs checks 1–3 on `recording`. Check 3 judges the replicas' states as check 1 replayed
/// them; when check 1 fails, it uses the recorded states if the recording holds them in full.
pub fn check(recording: &Recording) -> Report {
    let mut observations = Observations::default();
    let replayed = replay(recording, |seq, replica, state| {
        observations.observe(seq, replica, state)
    });
    let path = check_path(recording);
    let observations = if replayed.is_ok() {
        Some(observations)
    } else {
        Observations::from_recorded_states(recording)
    };
    let observable = match observations {
        Some(observations) => check_observable(recording, &observations),
        None => Err(Finding::new(
            Check::Observable,
            Kind::Unsupported,
            "not run: check 1 failed and the recording holds state digests only",
        )),
    };
    Report {
        replay: replayed,
        path,
        observable,
    }
}
