//! An actor's timers on the real clock: one deadline per set timer, its duration drawn from the
//! range the step asked for with the actor's seeded generator.
//!
//! As in stateright, setting a set timer restarts it, cancelling removes it, and a timer that
//! fires is removed unless the handler sets it again. An actor has a handful of timers (a server
//! two, a client one), so they are kept in a small vector and searched linearly: no map, no
//! allocation after the first timer.
//!
//! A timer set for **zero duration** (a range `0..0`: the model's `LeaderWrite`) means "as soon
//! as the I/O this step asked for is done": it is not due within the batch that set it, and
//! becomes due once the replica performed that batch's save and sends
//! ([`Timers::after_io`]). Any other timer is due at its deadline, also in the middle of a
//! batch (a lease must end on time).

use paxos_model::msg::Timer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::ops::Range;
use std::time::{Duration, Instant};

/// The deadlines of an actor's set timers.
#[derive(Debug)]
pub(crate) struct Timers {
    /// `(timer, deadline, waits for the batch's I/O)`, each timer at most once, in no order.
    deadlines: Vec<(Timer, Instant, bool)>,
    /// The earliest deadline of a timer not waiting for the batch's I/O, kept up to date by
    /// every change: a replica asks whether a timer is due before every message it steps.
    next: Option<Instant>,
    rng: ChaCha8Rng,
}

impl Timers {
    /// No timer set; durations drawn from a generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Timers {
            deadlines: Vec::new(),
            next: None,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Sets (or restarts) `timer`, from now; returns the duration drawn.
    pub(crate) fn set(&mut self, timer: Timer, range: Range<Duration>) -> Duration {
        self.set_from(Instant::now(), timer, range)
    }

    /// Sets (or restarts) `timer` to run from `start`; returns the duration drawn.
    pub(crate) fn set_from(
        &mut self,
        start: Instant,
        timer: Timer,
        range: Range<Duration>,
    ) -> Duration {
        let after_io = range.end == Duration::ZERO;
        let duration = if range.start < range.end {
            // Drawn in whole nanoseconds: a draw over `Duration`s (seconds and nanoseconds
            // apart) costs several times more, and a client driver sets a retry timer for every
            // command a session submits while idle.
            Duration::from_nanos(self.rng.random_range(nanos(range.start)..nanos(range.end)))
        } else {
            range.start
        };
        let deadline = start + duration;
        match self.deadlines.iter_mut().find(|(t, _, _)| *t == timer) {
            Some((_, at, waits)) => (*at, *waits) = (deadline, after_io),
            None => self.deadlines.push((timer, deadline, after_io)),
        }
        self.update_next();
        duration
    }

    /// Cancels `timer` if it is set.
    pub(crate) fn cancel(&mut self, timer: Timer) {
        if let Some(i) = self.deadlines.iter().position(|(t, _, _)| *t == timer) {
            self.deadlines.swap_remove(i);
            self.update_next();
        }
    }

    /// The earliest deadline (of a timer not waiting for the batch's I/O).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.next
    }

    fn update_next(&mut self) {
        self.next = self
            .deadlines
            .iter()
            .filter(|(_, _, waits)| !waits)
            .map(|(_, at, _)| *at)
            .min();
    }

    /// The batch's I/O is done: the zero-duration timers it set are due now.
    pub(crate) fn after_io(&mut self) {
        for (_, _, waits) in &mut self.deadlines {
            *waits = false;
        }
        self.update_next();
    }

    /// Removes and returns the timer with the earliest deadline (of two due at the same instant,
    /// the lower timer), if it is due at `now` (and not waiting for the batch's I/O).
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.next.is_none_or(|at| at > now) {
            return None;
        }
        let (i, &(timer, deadline, _)) = self
            .deadlines
            .iter()
            .enumerate()
            .filter(|(_, (_, _, waits))| !waits)
            .min_by_key(|(_, (timer, at, _))| (*at, *timer))?;
        (deadline <= now).then(|| {
            self.deadlines.swap_remove(i);
            self.update_next();
            timer
        })
    }
}

/// `duration` in nanoseconds (saturated: `u64::MAX` ns is 584 years).
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zero-duration timer (the leader's own write) waits for its batch's I/O; the others
    /// are due at their deadline, also within a batch.
    #[test]
    fn a_zero_duration_timer_is_due_only_after_the_batch_io() {
        let mut timers = Timers::new(1);
        timers.set(Timer::LeaderWrite, Duration::ZERO..Duration::ZERO);
        timers.set(Timer::Heartbeat, Duration::ZERO..Duration::from_nanos(1));
        let later = Instant::now() + Duration::from_millis(1);
        assert_eq!(timers.pop_due(later), Some(Timer::Heartbeat));
        assert_eq!(timers.pop_due(later), None, "waits for the batch's I/O");
        assert_eq!(timers.next_deadline(), None);
        timers.after_io();
        assert!(timers.next_deadline().is_some());
        assert_eq!(timers.pop_due(later), Some(Timer::LeaderWrite));
        assert_eq!(timers.pop_due(later), None);
    }

    /// The earliest deadline follows every change: a cancelled or fired timer no longer
    /// counts, a restarted one counts at its new deadline.
    #[test]
    fn the_earliest_deadline_follows_sets_cancels_and_firings() {
        let mut timers = Timers::new(1);
        let ms = Duration::from_millis;
        timers.set(Timer::Heartbeat, ms(10)..ms(10));
        let heartbeat = timers.next_deadline().expect("set");
        timers.set(Timer::Election, ms(1000)..ms(1000));
        assert_eq!(timers.next_deadline(), Some(heartbeat));
        timers.cancel(Timer::Heartbeat);
        let election = timers.next_deadline().expect("the election timer");
        assert!(election > heartbeat);
        assert_eq!(
            timers.pop_due(heartbeat),
            None,
            "the cancelled timer is gone"
        );
        timers.set(Timer::Election, ms(1)..ms(1));
        let restarted = timers.next_deadline().expect("restarted");
        assert!(restarted < election);
        assert_eq!(timers.pop_due(restarted), Some(Timer::Election));
        assert_eq!(timers.next_deadline(), None);
    }
}
