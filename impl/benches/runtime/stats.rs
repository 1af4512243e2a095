//! What one point of the bench measured, and the clock every driver measures it by.
//!
//! The clock starts at the first completed command (so a leader election before it is not
//! counted as throughput), skips a warm-up, then measures for a fixed duration: throughput is
//! the commands completed in that window divided by its length, latencies are those of the
//! commands completed in it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Limit: points of a latency CDF kept in the report and drawn.
pub const CDF_POINTS_MAX: usize = 200;
/// Completions kept per chunk (a chunk is never reallocated: a long point costs no copies).
const CHUNK: usize = 1 << 16;

/// When a point measures: from the first completion, after a warm-up, for a duration. With
/// `ops_max` (`BENCH_OPS`), a point also ends after that many completions, whatever the time:
/// for counting instructions per command (`valgrind --tool=callgrind`), where two runs that
/// differ only in `ops_max` differ only in the commands they ran.
#[derive(Debug)]
pub struct Clock {
    first: OnceLock<Instant>,
    pub warmup: Duration,
    pub duration: Duration,
    pub ops_max: Option<u64>,
    completed: AtomicU64,
}

impl Clock {
    pub fn new(warmup: Duration, duration: Duration, ops_max: Option<u64>) -> Clock {
        Clock {
            first: OnceLock::new(),
            warmup,
            duration,
            ops_max,
            completed: AtomicU64::new(0),
        }
    }

    /// Notes a completion at `now` (the first one starts the clock).
    pub fn completed(&self, now: Instant) {
        self.first.get_or_init(|| now);
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    /// The measured window, once the clock started.
    pub fn window(&self) -> Option<(Instant, Instant)> {
        let start = *self.first.get()? + self.warmup;
        Some((start, start + self.duration))
    }

    /// Whether the window is over at `now` (or `ops_max` commands completed).
    pub fn over(&self, now: Instant) -> bool {
        self.ops_max
            .is_some_and(|max| self.completed.load(Ordering::Relaxed) >= max)
            || self.window().is_some_and(|(_, end)| now >= end)
    }
}

/// Every completion a driver saw: when, and how long the command took.
#[derive(Debug, Default)]
pub struct Completions {
    chunks: Vec<Vec<(Instant, Duration)>>,
}

impl Completions {
    pub fn push(&mut self, at: Instant, latency: Duration) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push((at, latency)),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push((at, latency));
                self.chunks.push(chunk);
            }
        }
    }

    /// The number of completions.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    fn iter(&self) -> impl Iterator<Item = &(Instant, Duration)> {
        self.chunks.iter().flatten()
    }
}

/// One measured point.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Commands completed in the measured window.
    pub ops: u64,
    /// Commands completed in the whole point, warm-up included.
    pub ops_total: u64,
    pub ops_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// `(latency in µs, fraction of commands at or below it)`, at most [`CDF_POINTS_MAX`].
    pub cdf: Vec<(f64, f64)>,
    /// Messages sent per completed command (whole run, election included).
    pub msgs_per_op: f64,
    /// fsyncs (fdatasync or fsync calls) per completed command, with disk storage.
    pub syncs_per_op: f64,
    /// CPU time of the whole process per completed command (every thread), in µs.
    pub cpu_us_per_op: f64,
    /// Voluntary context switches (a thread blocked, to be woken) per completed command.
    pub switches_per_op: f64,
}

impl Sample {
    /// The completions inside `clock`'s window.
    pub fn of(clock: &Clock, completions: &Completions) -> Sample {
        let Some((start, end)) = clock.window() else {
            return Sample::default();
        };
        let mut latencies: Vec<Duration> = completions
            .iter()
            .filter(|(at, _)| *at >= start && *at < end)
            .map(|(_, l)| *l)
            .collect();
        latencies.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let pct = |p: f64| {
            if latencies.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
            us(latencies[rank.clamp(1, latencies.len()) - 1])
        };
        let n = latencies.len();
        let step = n.div_ceil(CDF_POINTS_MAX).max(1);
        let mut cdf: Vec<(f64, f64)> = (0..n)
            .step_by(step)
            .map(|i| (us(latencies[i]), (i + 1) as f64 / n as f64))
            .collect();
        if let Some(last) = latencies.last() {
            cdf.push((us(*last), 1.0));
        }
        Sample {
            ops: n as u64,
            ops_total: completions.len() as u64,
            ops_per_s: n as f64 / clock.duration.as_secs_f64(),
            p50_us: pct(50.0),
            p99_us: pct(99.0),
            cdf,
            msgs_per_op: 0.0,
            syncs_per_op: 0.0,
            cpu_us_per_op: 0.0,
            switches_per_op: 0.0,
        }
    }
}
