//! An actor's timers on the real clock: one deadline per set timer, its duration drawn from the
//! range the step asked for with the actor's seeded generator.
//!
//! As in stateright, setting a set timer restarts it, cancelling removes it, and a timer that
//! fires is removed unless the handler sets it again.

use paxos_model::msg::Timer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::ops::Range;
use std::time::{Duration, Instant};

/// The deadlines of an actor's set timers.
#[derive(Debug)]
pub(crate) struct Timers {
    deadlines: BTreeMap<Timer, Instant>,
    rng: ChaCha8Rng,
}

impl Timers {
    /// No timer set; durations drawn from a generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Timers {
            deadlines: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Sets (or restarts) `timer`; returns the duration drawn.
    pub(crate) fn set(&mut self, timer: Timer, range: Range<Duration>) -> Duration {
        let duration = if range.start < range.end {
            self.rng.random_range(range)
        } else {
            range.start
        };
        self.deadlines.insert(timer, Instant::now() + duration);
        duration
    }

    /// Cancels `timer` if it is set.
    pub(crate) fn cancel(&mut self, timer: Timer) {
        self.deadlines.remove(&timer);
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }

    /// Removes and returns the timer with the earliest deadline, if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        let (timer, deadline) = self.deadlines.iter().min_by_key(|(_, at)| **at)?;
        let timer = *timer;
        (*deadline <= now).then(|| {
            self.deadlines.remove(&timer);
            timer
        })
    }
}
