//! `make bench`: the runtime next to its bound, side by side in one process.
//!
//! For each storage (memory, then fsync'd disk) and each number of clients (1, 32, 256), it
//! first runs the **bound** ([`bound`]: the runtime's threads and channels passing the
//! runtime's messages, batched with the runtime's limits, with no protocol work) and the
//! **per-command bound** (the same with one slot per command: 8 messages per command), then the
//! **runtime** with Prepare-skip on and off, all writes and all reads (ReadIndex reads; with
//! Prepare-skip, lease reads too). Every point is measured the same way ([`stats::Clock`]): from
//! the first completed command, after a warm-up, for a fixed duration. Each runtime point is
//! compared with the bound measured just before it, on the same machine under the same load.
//!
//! Output: a table on stdout, `target/bench/report.json`, and SVG charts in `target/bench`
//! (throughput against clients; latency CDFs). `BENCH_SAVE=1` also copies the charts and the
//! report to `impl/benches/results/` (the copy the README shows).
//!
//! Environment: `BENCH_SECS` (measured seconds per point, default 1), `BENCH_WARMUP_MS`
//! (default 250), `BENCH_CLIENTS` (default `1,32,256`), `BENCH_STORAGE` (default
//! `memory,disk`), `BENCH_KINDS` (the per-command bound and the runtime points, default
//! `bound-per-command,skip-writes,skip-reads,skip-lease-reads,no-skip-writes,no-skip-reads`),
//! `BENCH_DRIVERS` (client driver threads the sessions are spread over, in the bound and the
//! runtime alike; default 1), `BENCH_ONLY` (`bound` or `runtime`,
//! for profiling one side), `BENCH_SAVE`; for counting instructions under valgrind,
//! `BENCH_OPS=N` (each point also ends after N completed commands) and `BENCH_TIMER_SCALE=X`
//! (the runtime's timers X times longer, so that a slowed-down cluster does not retry or
//! campaign more than a fast one).
//!
//! Besides throughput and latency, each row shows what a command cost the whole process: CPU
//! time (user and system, all threads) and voluntary context switches (a thread blocked and was
//! woken again), both from `/proc`.

mod bound;
mod chart;
mod counters;
mod runtime;
mod stats;

use chart::Series;
use runtime::Point;
use serde_json::json;
use stats::{Clock, Sample};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The allocator of the `paxos-impl` binary (src/main.rs), for the runtime and the bound alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The targets, checked at the end (memory unless said).
const TARGET_ONE_CLIENT_OPS: f64 = 50_000.0;
const TARGET_ONE_CLIENT_RATIO: f64 = 0.6;
const TARGET_256_CLIENTS_OPS: f64 = 1_000_000.0;
const TARGET_DISK_256_CLIENTS_OPS: f64 = 50_000.0;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// One row of the report.
struct Row {
    storage: String,
    clients: usize,
    /// `bound` (batched), `bound per-command`, `runtime`, or `runtime-lease` (lease reads).
    what: &'static str,
    prepare_skip: bool,
    reads: bool,
    sample: Sample,
    /// The bound's sample this row is compared with.
    bound_ops: f64,
    bound_p50: f64,
}

impl Row {
    fn label(&self) -> String {
        match self.what {
            "runtime" => format!(
                "runtime {} {}",
                if self.prepare_skip { "skip" } else { "no-skip" },
                if self.reads { "reads" } else { "writes" }
            ),
            "runtime-lease" => "runtime skip lease-reads".into(),
            bound => bound.into(),
        }
    }

    fn commands_per_fsync(&self) -> Option<f64> {
        (self.sample.syncs_per_op > 0.0).then(|| 1.0 / self.sample.syncs_per_op)
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "storage": self.storage, "clients": self.clients, "what": self.what,
            "prepare_skip": self.prepare_skip, "reads": self.reads,
            "ops": self.sample.ops, "ops_total": self.sample.ops_total,
            "ops_per_s": self.sample.ops_per_s,
            "p50_us": self.sample.p50_us, "p99_us": self.sample.p99_us,
            "ratio_to_bound": self.sample.ops_per_s / self.bound_ops.max(1e-9),
            "p50_ratio_to_bound": self.sample.p50_us / self.bound_p50.max(1e-9),
            "msgs_per_op": self.sample.msgs_per_op,
            "commands_per_fsync": self.commands_per_fsync(),
            "cpu_us_per_op": self.sample.cpu_us_per_op,
            "switches_per_op": self.sample.switches_per_op,
            "cdf_us": self.sample.cdf,
        })
    }
}

fn print_header() {
    println!(
        "{:<7} {:>7}  {:<24} {:>10} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "storage",
        "clients",
        "what",
        "ops/s",
        "p50 us",
        "p99 us",
        "x bound",
        "msgs/op",
        "cmd/sync",
        "cpu us/op",
        "wake/op"
    );
}

fn print_row(row: &Row) {
    let s = &row.sample;
    println!(
        "{:<7} {:>7}  {:<24} {:>10.0} {:>9.1} {:>9.1} {:>8.3} {:>8.2} {:>8} {:>8.2} {:>8.2}",
        row.storage,
        row.clients,
        row.label(),
        s.ops_per_s,
        s.p50_us,
        s.p99_us,
        s.ops_per_s / row.bound_ops.max(1e-9),
        s.msgs_per_op,
        row.commands_per_fsync()
            .map_or("-".into(), |c| format!("{c:.2}")),
        s.cpu_us_per_op,
        s.switches_per_op
    );
}

fn fresh_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a bench data directory");
    dir
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("runtime: bench");
        return;
    }
    let secs: f64 = env("BENCH_SECS", 1.0);
    let ops_max: Option<u64> = std::env::var("BENCH_OPS").ok().map(|n| {
        n.parse()
            .expect("BENCH_OPS: a number of commands per point")
    });
    let timer_scale: u32 = env("BENCH_TIMER_SCALE", 1);
    let warmup = Duration::from_millis(env("BENCH_WARMUP_MS", 250));
    let duration = Duration::from_secs_f64(secs.max(0.05));
    let clients: Vec<usize> = env_list("BENCH_CLIENTS", "1,32,256")
        .iter()
        .map(|c| c.parse().expect("BENCH_CLIENTS: numbers"))
        .collect();
    let storages = env_list("BENCH_STORAGE", "memory,disk");
    // Client driver threads, for the bound and the runtime alike (at most one per session).
    let drivers: usize = env("BENCH_DRIVERS", 1);
    // For profiling: `bound` or `runtime` alone (the ratios then read against nothing).
    let only = std::env::var("BENCH_ONLY").ok();
    let kinds = env_list(
        "BENCH_KINDS",
        "bound-per-command,skip-writes,skip-reads,skip-lease-reads,no-skip-writes,no-skip-reads",
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let out = target.join("bench");
    std::fs::create_dir_all(&out).expect("create target/bench");
    let data = out.join("data");

    println!(
        "3 replicas, clean network, closed-loop clients on {drivers} client driver thread(s); {secs}s measured per point after {} ms of warm-up from the first completed command",
        warmup.as_millis()
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut fsyncs_alone = None;
    print_header();
    for storage in &storages {
        let disk = storage == "disk";
        if disk {
            let dir = fresh_dir(&data, "fsync");
            let rate = bound::fsyncs_per_s(&dir, duration.min(Duration::from_secs(1)));
            println!("disk: this machine's fdatasyncs per second, measured alone: {rate:.0}");
            fsyncs_alone = Some(rate);
        }
        for &n in &clients {
            let mut bound_row = None;
            for kind in [bound::Kind::Batched, bound::Kind::PerCommand] {
                let wanted = match kind {
                    bound::Kind::Batched => true,
                    bound::Kind::PerCommand => kinds.iter().any(|k| k == "bound-per-command"),
                };
                if only.as_deref() == Some("runtime") || !wanted {
                    continue;
                }
                let dir = disk.then(|| fresh_dir(&data, &format!("bound-{n}")));
                let clock = Clock::new(warmup, duration, ops_max);
                let measured = bound::run(kind, n, drivers, dir.as_deref(), &clock);
                let mut b = Sample::of(&clock, &measured.completions);
                let ops = measured.completions.len().max(1) as f64;
                b.msgs_per_op = measured.msgs as f64 / ops;
                b.cpu_us_per_op = measured.cpu_us_per_op;
                b.switches_per_op = measured.switches_per_op;
                b.syncs_per_op = measured.syncs as f64 / ops;
                let (ratio_ops, ratio_p50) = match &bound_row {
                    Some((ops, p50)) => (*ops, *p50),
                    None => (b.ops_per_s, b.p50_us),
                };
                let row = Row {
                    storage: storage.clone(),
                    clients: n,
                    what: kind.label(),
                    prepare_skip: true,
                    reads: false,
                    bound_ops: ratio_ops,
                    bound_p50: ratio_p50,
                    sample: b,
                };
                print_row(&row);
                bound_row.get_or_insert((row.sample.ops_per_s, row.sample.p50_us));
                rows.push(row);
            }
            let (bound_ops, bound_p50) = bound_row.unwrap_or((0.0, 0.0));
            for prepare_skip in [true, false] {
                for reads in [false, true] {
                    let kind = format!(
                        "{}-{}",
                        if prepare_skip { "skip" } else { "no-skip" },
                        if reads { "reads" } else { "writes" }
                    );
                    // With Prepare-skip, reads are measured twice: ReadIndex, then lease reads
                    // (`skip-lease-reads` alone runs the lease reads alone, for profiling).
                    let lease =
                        prepare_skip && reads && kinds.iter().any(|k| k == "skip-lease-reads");
                    let plain = kinds.contains(&kind);
                    if only.as_deref() == Some("bound") || !(plain || lease) {
                        continue;
                    }
                    for lease_reads in [false, true] {
                        if (lease_reads && !lease) || (!lease_reads && !plain) {
                            continue;
                        }
                        let point = Point {
                            sessions: n,
                            drivers,
                            prepare_skip,
                            reads,
                            lease_reads,
                            timer_scale,
                        };
                        let dir = disk.then(|| fresh_dir(&data, &format!("runtime-{n}")));
                        let clock = Clock::new(warmup, duration, ops_max);
                        let sample = runtime::run(point, dir.as_deref(), 1 + n as u64, &clock);
                        let row = Row {
                            storage: storage.clone(),
                            clients: n,
                            what: if lease_reads {
                                "runtime-lease"
                            } else {
                                "runtime"
                            },
                            prepare_skip,
                            reads,
                            sample,
                            bound_ops,
                            bound_p50,
                        };
                        print_row(&row);
                        rows.push(row);
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&data);
    targets(&rows);
    let report = json!({
        "secs_per_point": secs,
        "client_driver_threads": drivers,
        "warmup_ms": warmup.as_millis() as u64,
        "fsyncs_per_s_alone": fsyncs_alone,
        "rows": rows.iter().map(Row::json).collect::<Vec<_>>(),
    });
    let report_path = out.join("report.json");
    std::fs::write(
        &report_path,
        serde_json::to_string_pretty(&report).expect("json"),
    )
    .expect("write report.json");
    let charts = draw_charts(&out, &rows, &storages);
    println!("wrote {}", report_path.display());
    for chart in &charts {
        println!("wrote {}", chart.display());
    }
    if std::env::var_os("BENCH_SAVE").is_some() {
        let results = root.join("impl/benches/results");
        std::fs::create_dir_all(&results).expect("create impl/benches/results");
        for file in charts.iter().chain([&report_path]) {
            let name = file.file_name().expect("a file name");
            std::fs::copy(file, results.join(name)).expect("copy a result");
        }
        println!("copied the charts and the report to {}", results.display());
    }
}

fn find<'a>(
    rows: &'a [Row],
    storage: &str,
    clients: usize,
    what: &str,
    skip: bool,
    reads: bool,
) -> Option<&'a Row> {
    rows.iter().find(|r| {
        r.storage == storage
            && r.clients == clients
            && r.what == what
            && (what != "runtime" || (r.prepare_skip == skip && r.reads == reads))
    })
}

/// The acceptance targets, each with the number reached.
fn targets(rows: &[Row]) {
    println!("\ntargets (issue 11):");
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let w = |storage, n| find(rows, storage, n, "runtime", true, false);
    if let Some(r) = w("memory", 1) {
        let (ops, ratio) = (r.sample.ops_per_s, r.sample.ops_per_s / r.bound_ops);
        let p50 = r.sample.p50_us / r.bound_p50;
        println!(
            "  memory, 1 client, writes: {ops:.0} ops/s (>= {TARGET_ONE_CLIENT_OPS:.0}: {}), {ratio:.2}x the bound (>= {TARGET_ONE_CLIENT_RATIO}: {}), p50 {p50:.2}x the bound's (<= 2: {})",
            verdict(ops >= TARGET_ONE_CLIENT_OPS),
            verdict(ratio >= TARGET_ONE_CLIENT_RATIO),
            verdict(p50 <= 2.0)
        );
    }
    if let Some(r) = w("memory", 256) {
        let ops = r.sample.ops_per_s;
        println!(
            "  memory, 256 clients, writes: {ops:.0} ops/s (>= {TARGET_256_CLIENTS_OPS:.0}: {})",
            verdict(ops >= TARGET_256_CLIENTS_OPS)
        );
        if let Some(r32) = w("memory", 32) {
            println!(
                "  memory, writes, 32 -> 256 clients: {:.0} -> {ops:.0} ops/s (not falling: {})",
                r32.sample.ops_per_s,
                verdict(ops >= r32.sample.ops_per_s)
            );
        }
    }
    if let (Some(wr), Some(rd)) = (
        w("memory", 32),
        find(rows, "memory", 32, "runtime", true, true),
    ) {
        let x = rd.sample.ops_per_s / wr.sample.ops_per_s;
        println!(
            "  memory, 32 clients: ReadIndex reads {x:.2}x writes (>= 3: {})",
            verdict(x >= 3.0)
        );
    }
    if let (Some(wr), Some(rd)) = (
        w("memory", 32),
        find(rows, "memory", 32, "runtime-lease", true, true),
    ) {
        let x = rd.sample.ops_per_s / wr.sample.ops_per_s;
        println!(
            "  memory, 32 clients: lease reads {x:.2}x writes (>= 3: {})",
            verdict(x >= 3.0)
        );
    }
    if let (Some(skip), Some(no)) = (
        w("memory", 32),
        find(rows, "memory", 32, "runtime", false, false),
    ) {
        let x = skip.sample.ops_per_s / no.sample.ops_per_s;
        println!(
            "  memory, 32 clients, writes: Prepare-skip {x:.2}x no-skip (>= 1.8: {})",
            verdict(x >= 1.8)
        );
    }
    if let Some(r) = w("disk", 256) {
        let ops = r.sample.ops_per_s;
        println!(
            "  disk, 256 clients, writes: {ops:.0} ops/s (>= {TARGET_DISK_256_CLIENTS_OPS:.0}: {}), {} commands per fsync",
            verdict(ops >= TARGET_DISK_256_CLIENTS_OPS),
            r.commands_per_fsync().map_or("-".into(), |c| format!("{c:.2}"))
        );
    }
}

fn draw_charts(out: &Path, rows: &[Row], storages: &[String]) -> Vec<PathBuf> {
    let mut written = Vec::new();
    let mut throughput = Vec::new();
    for storage in storages {
        for (what, skip, reads) in [
            ("bound", true, false),
            ("bound per-command", true, false),
            ("runtime", true, false),
            ("runtime", true, true),
            ("runtime-lease", true, true),
            ("runtime", false, false),
        ] {
            let points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| &r.storage == storage && r.what == what)
                .filter(|r| what != "runtime" || (r.prepare_skip == skip && r.reads == reads))
                .map(|r| (r.clients as f64, r.sample.ops_per_s.max(1.0)))
                .collect();
            if let Some(r) = rows
                .iter()
                .find(|r| &r.storage == storage && r.what == what)
            {
                let mut label = Row {
                    prepare_skip: skip,
                    reads,
                    storage: r.storage.clone(),
                    clients: 0,
                    what,
                    sample: Sample::default(),
                    bound_ops: 0.0,
                    bound_p50: 0.0,
                }
                .label();
                label = format!("{storage}: {label}");
                throughput.push(Series { label, points });
            }
        }
    }
    let path = out.join("throughput.svg");
    chart::draw(
        &path,
        "Throughput against clients (3 replicas, closed loop)",
        "clients",
        "commands per second",
        true,
        &throughput,
    )
    .expect("draw throughput.svg");
    written.push(path);
    for storage in storages {
        let series: Vec<Series> = rows
            .iter()
            .filter(|r| &r.storage == storage)
            .filter(|r| r.what != "runtime-lease")
            .filter(|r| r.what != "runtime" || (r.prepare_skip && !r.reads))
            .map(|r| Series {
                label: format!("{}, {} clients", r.label(), r.clients),
                points: r.sample.cdf.clone(),
            })
            .collect();
        let path = out.join(format!("latency-cdf-{storage}.svg"));
        chart::draw(
            &path,
            &format!("Latency CDF, {storage} storage, writes with Prepare-skip"),
            "latency (microseconds)",
            "fraction of commands",
            false,
            &series,
        )
        .expect("draw a latency CDF");
        written.push(path);
    }
    written
}
