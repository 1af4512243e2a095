//! `paxos-impl client --cluster ... bench`: a closed-loop load on a `serve` cluster over TCP.
//!
//! For each number of clients in `--clients`, that many clients (one thread and one session
//! each, with their own connections to every replica, exactly what `paxos-impl client` uses)
//! first run one unmeasured operation each (connections, a leader), then, together, one
//! operation after another for `--secs`. Throughput is the operations completed in that window
//! over its length; latencies are those of the operations it completed. A client whose
//! operation fails (a timeout) stops and is counted: a benchmark with errors says so.
//! Client ids are consecutive from the first one, which is random unless `--id` is given.

use super::args::BenchArgs;
use paxos_impl::kv::{Kv, KvOp};
use paxos_impl::Client;
use paxos_model::types::ClientId;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Limit: clients of one run.
const CLIENTS_MAX: usize = 1024;
/// Limit: runs (numbers in `--clients`).
const RUNS_MAX: usize = 16;
/// Limit: measured seconds of one run.
const SECS_MAX: u64 = 3600;

/// One number of clients, measured.
#[derive(Debug, Serialize)]
struct Row {
    clients: usize,
    secs: f64,
    ops: u64,
    ops_per_sec: f64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    errors: u64,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    what: &'static str,
    cluster: &'a [SocketAddr],
    read_ratio: f64,
    rows: &'a [Row],
}

/// Checks the options (an error is a usage error).
pub fn validate(args: &BenchArgs) -> Result<(), String> {
    if args.clients.len() > RUNS_MAX {
        return Err(format!(
            "--clients: at most {RUNS_MAX} numbers (got {})",
            args.clients.len()
        ));
    }
    if let Some(bad) = args.clients.iter().find(|&&c| c == 0 || c > CLIENTS_MAX) {
        return Err(format!(
            "--clients {bad}: each number must be between 1 and {CLIENTS_MAX}"
        ));
    }
    if args.secs == 0 || args.secs > SECS_MAX {
        return Err(format!("--secs must be between 1 and {SECS_MAX}"));
    }
    if !(0.0..=1.0).contains(&args.read_ratio) {
        return Err(format!(
            "--read-ratio {} is not between 0 and 1",
            args.read_ratio
        ));
    }
    Ok(())
}

/// Runs the benchmark for each number of clients; prints a table, writes `--json`.
pub fn run(
    cluster: &[SocketAddr],
    first_id: Option<u32>,
    timeout: Duration,
    args: &BenchArgs,
) -> Result<(), String> {
    let window = Duration::from_secs(args.secs);
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>10} {:>7}",
        "clients", "ops/s", "p50", "p99", "max", "errors"
    );
    let mut rows = Vec::new();
    let mut next_id = first_id;
    for &clients in &args.clients {
        let row = measure(cluster, next_id, clients, timeout, window, args.read_ratio)?;
        next_id = next_id.map(|id| id + clients as u32); // In range: checked by the caller.
        println!(
            "{:>8} {:>10.0} {:>10} {:>10} {:>10} {:>7}",
            row.clients,
            row.ops_per_sec,
            us(row.p50_us),
            us(row.p99_us),
            us(row.max_us),
            row.errors
        );
        rows.push(row);
    }
    if let Some(path) = &args.json {
        let report = Report {
            what: "paxos-impl client bench: closed-loop clients over TCP",
            cluster,
            read_ratio: args.read_ratio,
            rows: &rows,
        };
        write_json(path, &report)?;
        println!("wrote {}", path.display());
    }
    match rows.iter().map(|r| r.errors).sum::<u64>() {
        0 => Ok(()),
        errors => Err(format!("{errors} operation(s) failed")),
    }
}

fn write_json(path: &Path, report: &Report<'_>) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(report).expect("a report serializes");
    std::fs::write(path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

fn us(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.1}ms", us as f64 / 1000.0)
    } else {
        format!("{us}us")
    }
}

/// What one client thread measured.
#[derive(Default)]
struct ClientResult {
    latencies: Vec<Duration>,
    errors: u64,
}

/// `clients` clients (with ids from `first_id`, or new ids from the replicas), measured for
/// `window`.
fn measure(
    cluster: &[SocketAddr],
    first_id: Option<u32>,
    clients: usize,
    timeout: Duration,
    window: Duration,
    read_ratio: f64,
) -> Result<Row, String> {
    let mut handles = Vec::new();
    for i in 0..clients {
        let client = match first_id {
            Some(first) => {
                let id = ClientId(first + i as u32);
                Client::<Kv>::over_tcp(id, cluster, timeout, u64::from(id.0))
            }
            None => Client::<Kv>::connect(cluster, timeout, i as u64),
        }
        .map_err(|e| format!("client {i}: {e}"))?;
        handles.push(client);
    }
    let start = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(i, mut client)| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(i as u64);
                let mut result = ClientResult::default();
                let mut seq = 0u64;
                // Each client on a key of its own.
                let key = format!("bench-{i}");
                let mut op = || {
                    seq += 1;
                    if rng.random_bool(read_ratio) {
                        KvOp::Get { key: key.clone() }
                    } else {
                        KvOp::Put {
                            key: key.clone(),
                            value: seq.to_string(),
                        }
                    }
                };
                // The warm-up operation: connections and a leader.
                let warm = client.execute(op()).is_ok();
                start.wait();
                if !warm {
                    result.errors += 1;
                    return result;
                }
                // Only operations completed inside the window count.
                let end = Instant::now() + window;
                loop {
                    let began = Instant::now();
                    if began >= end {
                        break;
                    }
                    match client.execute(op()) {
                        Ok(_) if Instant::now() <= end => result.latencies.push(began.elapsed()),
                        Ok(_) => break,
                        Err(_) => {
                            result.errors += 1;
                            break;
                        }
                    }
                }
                result
            })
        })
        .collect();
    start.wait();
    let secs = window.as_secs_f64();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for thread in threads {
        let result = thread.join().map_err(|_| "a client thread panicked")?;
        latencies.extend(result.latencies);
        errors += result.errors;
    }
    latencies.sort_unstable();
    let pct = |p: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies[rank.clamp(1, latencies.len()) - 1].as_micros() as u64
    };
    let ops = latencies.len() as u64;
    Ok(Row {
        clients,
        secs,
        ops,
        ops_per_sec: ops as f64 / secs,
        p50_us: pct(50.0),
        p99_us: pct(99.0),
        max_us: pct(100.0),
        errors,
    })
}
