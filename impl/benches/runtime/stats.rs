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

/// The latencies of the completions inside a clock's window, counted in buckets of
/// [`BUCKET_NS`] (a latency is kept to 10 ns, below the 0.1 µs the report prints) up to
/// [`BUCKETS`] buckets, longer ones one by one. Counting, not keeping every completion: a
/// point of millions of commands wrote 32 bytes per command to fresh memory, and the page
/// faults that zeroed it (huge pages, on this virtual machine) were a tenth of the driving
/// thread's samples in perf, which the driver of a fast point (lease reads) pays and a slow
/// one (writes, bound by the leader) hides: the bench's own cost bent the ratio.
pub const BUCKET_NS: u64 = 10;
/// Limit: buckets of [`BUCKET_NS`] (20 ms in all; the untouched ones cost no memory).
const BUCKETS: usize = 2_000_000;

/// Every completion a driver saw: how many, and the latencies of those in the window.
#[derive(Debug)]
pub struct Completions {
    total: u64,
    /// Completions in the window per bucket of [`BUCKET_NS`].
    buckets: Vec<u32>,
    /// Completions in the window slower than every bucket, exact.
    slow: Vec<Duration>,
    in_window: u64,
}

impl Default for Completions {
    fn default() -> Self {
        Completions {
            total: 0,
            buckets: vec![0; BUCKETS],
            slow: Vec::new(),
            in_window: 0,
        }
    }
}

impl Completions {
    /// A completion at `at` that took `latency`; counted in the latencies if `at` lies in
    /// `clock`'s window.
    pub fn push(&mut self, clock: &Clock, at: Instant, latency: Duration) {
        self.total += 1;
        let Some((start, end)) = clock.window() else {
            return;
        };
        if at < start || at >= end {
            return;
        }
        self.in_window += 1;
        let bucket = (latency.as_nanos() / BUCKET_NS as u128) as usize;
        match self.buckets.get_mut(bucket) {
            Some(n) => *n += 1,
            None => self.slow.push(latency),
        }
    }

    /// Adds `other`'s completions (another driver thread's, measured by the same clock).
    pub fn merge(&mut self, other: Completions) {
        self.total += other.total;
        self.in_window += other.in_window;
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
        self.slow.extend(other.slow);
    }

    /// The number of completions.
    pub fn len(&self) -> usize {
        self.total as usize
    }

    /// The latencies in the window, in increasing order (each to [`BUCKET_NS`]).
    fn sorted(&self) -> impl Iterator<Item = Duration> + '_ {
        let mut slow = self.slow.clone();
        slow.sort_unstable();
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .flat_map(|(i, n)| {
                std::iter::repeat_n(Duration::from_nanos(i as u64 * BUCKET_NS), *n as usize)
            })
            .chain(slow)
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
        if clock.window().is_none() {
            return Sample::default();
        }
        let n = completions.in_window as usize;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        // The ranks asked for: p50, p99, every CDF point, the last one.
        let rank = |p: f64| ((p / 100.0) * n as f64).ceil() as usize;
        let (p50_rank, p99_rank) = (rank(50.0).clamp(1, n.max(1)), rank(99.0).clamp(1, n.max(1)));
        let step = n.div_ceil(CDF_POINTS_MAX).max(1);
        let (mut p50_us, mut p99_us) = (0.0, 0.0);
        let mut cdf: Vec<(f64, f64)> = Vec::new();
        let mut last = None;
        for (i, latency) in completions.sorted().enumerate() {
            if i + 1 == p50_rank {
                p50_us = us(latency);
            }
            if i + 1 == p99_rank {
                p99_us = us(latency);
            }
            if i % step == 0 {
                cdf.push((us(latency), (i + 1) as f64 / n as f64));
            }
            last = Some(latency);
        }
        if let Some(last) = last {
            cdf.push((us(last), 1.0));
        }
        Sample {
            ops: n as u64,
            ops_total: completions.len() as u64,
            ops_per_s: n as f64 / clock.duration.as_secs_f64(),
            p50_us,
            p99_us,
            cdf,
            msgs_per_op: 0.0,
            syncs_per_op: 0.0,
            cpu_us_per_op: 0.0,
            switches_per_op: 0.0,
        }
    }
}
