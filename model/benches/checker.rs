//! The model checker's speed and memory next to stateright's own Paxos example, side by side.
//!
//! `cargo bench -p paxos-model --bench checker` (or `make bench-checker`). It builds
//! stateright 0.31's `examples/paxos.rs` from the crate's source in cargo's registry (copied to
//! `target/bench-checker/stateright`, built there in release mode), then, in each of
//! `BENCH_ROUNDS` rounds (default 3), runs alternately (which goes first alternates too, so the
//! machine's noise hits both alike):
//!
//! - stateright's `paxos check-dfs 3` (3 servers, 3 clients, DFS), and
//! - ours, `paxos-model check --checker dfs --threads 2 --json` (the default configuration),
//!
//! both with 2 checker threads (the example takes `num_cpus`, so on a machine with more than 2
//! CPUs both run under `taskset` on 2). Then `BENCH_BFS_ROUNDS` rounds (default 1) of their
//! BFS (`paxos check 3`, ours `--checker bfs`) measure memory.
//!
//! How each figure is measured, the same way for both programs:
//! - **check seconds**: from spawning the process to the exit of its last checker thread
//!   (stateright names them `checker-N`; `/proc/<pid>/task/*/comm` is polled every 2 ms). It
//!   includes start-up and building the model, not printing the report. (The example's
//!   `WriteReporter` polls every second, so its own `sec=` and its process' wall time round up
//!   to the next second; the process wall time is printed too.)
//! - **unique states**: what each program reports (stateright's `Done. … unique=N`, our JSON's
//!   `unique_states`); **unique/s** is unique states over check seconds, median of the rounds.
//! - **generated states**: every state each checker generated, seen before or not (stateright's
//!   `states=`, our JSON's `total_states`): one per successor computed. **generated/s** is the
//!   cost per successor; **per uniq**, generated per unique state, is the average number of
//!   actions that change something in a state: the shape of the model's state graph. unique/s
//!   is the one over the other, and the table shows both, so a ratio below 1 says which it is.
//! - **peak RSS**: the process' maximum resident set size (`wait4`'s `ru_maxrss`), divided by
//!   the unique states of the BFS run: bytes per state of a breadth-first search, whose queue
//!   holds whole states.
//!
//! Results are printed as a table and written to `target/bench/checker.json`. `BENCH_OURS=<path>`
//! measures another build of `paxos-model` in place of this one (an older commit's, say).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Checker threads, for both programs.
const THREADS: usize = 2;

/// One run of one program.
#[derive(Clone, Debug)]
struct Run {
    unique: u64,
    /// Every state the checker generated, a state seen before included (stateright's
    /// `state_count`): one per successor computed.
    generated: u64,
    check_s: f64,
    wall_s: f64,
    cpu_s: f64,
    max_rss_bytes: u64,
}

/// A program under test: how to run it and how to read its state count.
struct Program {
    name: &'static str,
    command: Vec<String>,
    /// Unique and generated states, from the program's output.
    parse_counts: fn(&str) -> Option<(u64, u64)>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the model crate is in the workspace")
        .to_path_buf()
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Builds stateright's Paxos example from the registry's copy of the crate; returns its path.
fn build_stateright_example(target: &Path) -> PathBuf {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cargo"));
    let dir = target.join("bench-checker/stateright");
    if !dir.join("Cargo.toml").exists() {
        let source = fs::read_dir(home.join("registry/src"))
            .expect("cargo's registry sources")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("stateright-0.31.0"))
            .find(|p| p.join("examples/paxos.rs").exists())
            .expect("stateright-0.31.0 in cargo's registry (a dependency of this crate)");
        copy_dir(&source, &dir);
        // Not a member of our workspace (it sits inside it): its own workspace of one.
        let manifest = dir.join("Cargo.toml");
        let mut text = fs::read_to_string(&manifest).unwrap();
        text.push_str("\n[workspace]\n");
        fs::write(&manifest, text).unwrap();
    }
    eprintln!(
        "building stateright 0.31's examples/paxos.rs in {}",
        dir.display()
    );
    let build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "--example", "paxos"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .expect("cargo runs");
    // Its warnings are not ours to read; its errors are.
    assert!(
        build.status.success(),
        "building stateright's paxos example failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    dir.join("target/release/examples/paxos")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// `taskset -c <two CPUs>` if this machine has more than two (so that stateright's example,
/// which starts one thread per CPU, runs as many as ours), else nothing.
fn pin_to_two_cpus() -> Vec<String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus > THREADS {
        vec!["taskset".into(), "-c".into(), "0,1".into()]
    } else {
        if cpus < THREADS {
            eprintln!("warning: {cpus} CPU(s): stateright's example runs {cpus} thread(s)");
        }
        Vec::new()
    }
}

/// The process' stateright checker threads (named `checker-<n>`; the main thread, whose name
/// is the program's, is never one, even between `fork` and `exec` when it bears ours).
fn checker_threads(pid: i32) -> usize {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter(|t| t.file_name().to_str() != Some(pid.to_string().as_str()))
        .filter(|t| {
            fs::read_to_string(t.path().join("comm")).is_ok_and(|c| {
                c.trim_end()
                    .strip_prefix("checker-")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .count()
}

/// Runs `program`, timing its checker threads; panics if it fails or reports no state count.
fn run(program: &Program, out_dir: &Path) -> Run {
    let stdout_path = out_dir.join(format!("{}.out", program.name));
    let stdout = fs::File::create(&stdout_path).unwrap();
    let start = Instant::now();
    #[allow(clippy::zombie_processes)] // Reaped below by `wait4`, which also gives its rusage.
    let child = Command::new(&program.command[0])
        .args(&program.command[1..])
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.command.join(" ")));
    let pid = child.id() as i32;
    let mut seen_checkers = false;
    let mut check_s = None;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: plain syscall on our own child; `usage` is a valid out-parameter.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            break (status, usage);
        }
        assert!(
            reaped == 0,
            "wait4 failed: {}",
            std::io::Error::last_os_error()
        );
        if check_s.is_none() {
            let checkers = checker_threads(pid);
            if checkers > 0 {
                seen_checkers = true;
            } else if seen_checkers {
                check_s = Some(start.elapsed().as_secs_f64());
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall_s = start.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{} failed (status {status})",
        program.command.join(" ")
    );
    let text = fs::read_to_string(&stdout_path).unwrap();
    let (unique, generated) = (program.parse_counts)(&text)
        .unwrap_or_else(|| panic!("no state count in the output of {}", program.name));
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        unique,
        generated,
        // Exited before a poll saw its checker threads: count the whole run.
        check_s: check_s.unwrap_or(wall_s),
        wall_s,
        cpu_s: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
    }
}

/// stateright's `WriteReporter`: `Done. states=2420477, unique=1194428, depth=28, sec=3`.
fn stateright_counts(text: &str) -> Option<(u64, u64)> {
    let done = text.lines().find(|l| l.starts_with("Done."))?;
    let field = |name: &str| -> Option<u64> {
        let value = done.split(name).nth(1)?;
        value.split(',').next()?.trim().parse().ok()
    };
    Some((field("unique=")?, field("states=")?))
}

/// Our `--json`: `"unique_states": N, "total_states": M`.
fn our_counts(text: &str) -> Option<(u64, u64)> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    Some((
        json["unique_states"].as_u64()?,
        json["total_states"].as_u64()?,
    ))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// Medians over the runs of one program.
struct Summary {
    unique: u64,
    generated: u64,
    check_s: f64,
    wall_s: f64,
    cpu_s: f64,
    unique_per_s: f64,
    max_rss_bytes: f64,
    runs: Vec<Run>,
}

fn summarize(runs: Vec<Run>) -> Summary {
    let unique = runs[0].unique;
    assert!(
        runs.iter().all(|r| r.unique == unique),
        "the state count differs between runs: {runs:?}"
    );
    // With several threads a state may be generated twice before either sees the other's
    // copy: the generated count may vary a little between runs.
    let generated = median(runs.iter().map(|r| r.generated as f64).collect()) as u64;
    let of = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
    Summary {
        unique,
        generated,
        check_s: of(|r| r.check_s),
        wall_s: of(|r| r.wall_s),
        cpu_s: of(|r| r.cpu_s),
        unique_per_s: of(|r| r.unique as f64 / r.check_s),
        max_rss_bytes: of(|r| r.max_rss_bytes as f64),
        runs,
    }
}

fn runs_json(s: &Summary) -> serde_json::Value {
    s.runs
        .iter()
        .map(|r| {
            serde_json::json!({
                "unique_states": r.unique, "generated_states": r.generated,
                "check_seconds": r.check_s, "wall_seconds": r.wall_s,
                "cpu_seconds": r.cpu_s, "max_rss_bytes": r.max_rss_bytes,
            })
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we do not have.
    let rounds = env("BENCH_ROUNDS", 3).max(1);
    let bfs_rounds = env("BENCH_BFS_ROUNDS", 1).max(1);
    let root = workspace();
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let out_dir = target.join("bench");
    fs::create_dir_all(&out_dir).unwrap();
    let theirs = build_stateright_example(&target);
    // BENCH_OURS: another build of paxos-model to measure instead (an older commit's, say);
    // a relative path is taken from the workspace root, where `make` runs.
    let ours = std::env::var("BENCH_OURS")
        .map(|p| root.join(p))
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_BIN_EXE_paxos-model")));
    let pin = pin_to_two_cpus();
    let command = |exe: &Path, args: &[&str]| -> Vec<String> {
        let mut c = pin.clone();
        c.push(exe.display().to_string());
        c.extend(args.iter().map(|a| a.to_string()));
        c
    };
    let threads = THREADS.to_string();
    let programs = |checker: &str, theirs_cmd: &str| {
        [
            Program {
                name: if checker == "dfs" {
                    "stateright-dfs"
                } else {
                    "stateright-bfs"
                },
                command: command(&theirs, &[theirs_cmd, "3"]),
                parse_counts: stateright_counts,
            },
            Program {
                name: if checker == "dfs" {
                    "ours-dfs"
                } else {
                    "ours-bfs"
                },
                command: command(
                    &ours,
                    &[
                        "check",
                        "--checker",
                        checker,
                        "--threads",
                        &threads,
                        "--json",
                    ],
                ),
                parse_counts: our_counts,
            },
        ]
    };

    let side_by_side = |pair: &[Program; 2], rounds: usize| -> [Vec<Run>; 2] {
        let mut runs = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let r = run(&pair[i], &out_dir);
                eprintln!(
                    "round {}/{rounds}: {:<15} {:>9} unique in {:.2} s (wall {:.2} s, rss {} MB)",
                    round + 1,
                    pair[i].name,
                    r.unique,
                    r.check_s,
                    r.wall_s,
                    r.max_rss_bytes >> 20
                );
                runs[i].push(r);
            }
        }
        runs
    };

    let dfs = programs("dfs", "check-dfs");
    let [their_dfs, our_dfs] = side_by_side(&dfs, rounds).map(summarize);
    let bfs = programs("bfs", "check");
    let [their_bfs, our_bfs] = side_by_side(&bfs, bfs_rounds).map(summarize);

    let ratio = our_dfs.unique_per_s / their_dfs.unique_per_s;
    // unique/s = generated/s / (generated per unique state): the first is the checker's cost
    // per successor, the second the shape of the model's state graph (the average number of
    // actions that change something, per state).
    let per_unique = |s: &Summary| s.generated as f64 / s.unique as f64;
    let generated_per_s = |s: &Summary| s.generated as f64 / s.check_s;
    let generated_ratio = generated_per_s(&our_dfs) / generated_per_s(&their_dfs);
    let bytes = |s: &Summary| s.max_rss_bytes / s.unique as f64;
    let memory_ratio = bytes(&our_bfs) / bytes(&their_bfs);

    println!();
    println!(
        "DFS, {THREADS} threads, median of {rounds} rounds (check s: spawn to exit of the last checker thread)"
    );
    println!(
        "{:<44} {:>10} {:>8} {:>10} {:>8} {:>8} {:>11} {:>11} {:>9}",
        "",
        "unique",
        "check s",
        "unique/s",
        "wall s",
        "cpu s",
        "generated",
        "generated/s",
        "per uniq"
    );
    for (label, s) in [
        ("stateright examples/paxos.rs check-dfs 3", &their_dfs),
        ("paxos-model check --checker dfs (default)", &our_dfs),
    ] {
        println!(
            "{:<44} {:>10} {:>8.2} {:>10.0} {:>8.2} {:>8.2} {:>11} {:>11.0} {:>9.2}",
            label,
            s.unique,
            s.check_s,
            s.unique_per_s,
            s.wall_s,
            s.cpu_s,
            s.generated,
            generated_per_s(s),
            per_unique(s)
        );
    }
    println!("ratio ours/theirs, unique states per second: {ratio:.2}");
    println!(
        "  = generated states per second {generated_ratio:.2} (the cost per successor) x \
         {:.2} / {:.2} (their generated per unique state / ours: the state graphs' shapes)",
        per_unique(&their_dfs),
        per_unique(&our_dfs)
    );
    println!();
    println!(
        "BFS, {THREADS} threads, median of {bfs_rounds} round(s) (peak RSS from wait4 ru_maxrss)"
    );
    println!(
        "{:<44} {:>10} {:>10} {:>12}",
        "", "unique", "peak MB", "bytes/state"
    );
    for (label, s) in [
        ("stateright examples/paxos.rs check 3", &their_bfs),
        ("paxos-model check --checker bfs (default)", &our_bfs),
    ] {
        println!(
            "{:<44} {:>10} {:>10.0} {:>12.0}",
            label,
            s.unique,
            s.max_rss_bytes / 1e6,
            bytes(s)
        );
    }
    println!("ratio ours/theirs, BFS bytes per state: {memory_ratio:.2}");

    let summary = |s: &Summary| {
        serde_json::json!({
            "unique_states": s.unique, "check_seconds": s.check_s, "wall_seconds": s.wall_s,
            "cpu_seconds": s.cpu_s, "unique_per_second": s.unique_per_s,
            "generated_states": s.generated, "generated_per_second": generated_per_s(s),
            "generated_per_unique_state": per_unique(s),
            "max_rss_bytes": s.max_rss_bytes, "bytes_per_state": bytes(s), "runs": runs_json(s),
        })
    };
    let report = serde_json::json!({
        "threads": THREADS,
        "rounds": rounds,
        "bfs_rounds": bfs_rounds,
        "measured": {
            "check_seconds": "spawn to the exit of the last `checker-N` thread (/proc polled every 2 ms)",
            "unique_per_second": "median over rounds of unique states / check seconds",
            "generated_states": "every state generated, seen before or not (one per successor computed; median over rounds)",
            "max_rss_bytes": "wait4 ru_maxrss of the process",
            "bytes_per_state": "BFS max_rss_bytes / unique states",
        },
        "dfs": {
            "stateright": { "command": dfs[0].command.join(" "), "result": summary(&their_dfs) },
            "ours": { "command": dfs[1].command.join(" "), "result": summary(&our_dfs) },
            "ratio_unique_per_second": ratio,
            "ratio_generated_per_second": generated_ratio,
        },
        "bfs": {
            "stateright": { "command": bfs[0].command.join(" "), "result": summary(&their_bfs) },
            "ours": { "command": bfs[1].command.join(" "), "result": summary(&our_bfs) },
            "ratio_bytes_per_state": memory_ratio,
        },
    });
    let path = out_dir.join("checker.json");
    fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("\nwritten to {}", path.display());
}
