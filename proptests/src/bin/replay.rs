//! `replay FILE`: runs checks 1–3 on a recording and prints what each found.
//!
//! ```text
//! cargo run --release -p paxos-proptests --bin replay -- FILE
//! cargo run --release -p paxos-proptests --bin replay -- --replicas 3 [--bug NAME] TRACE
//! ```
//!
//! `FILE` is a recording written by a failing property test (its first line describes the
//! cluster). A bare `paxos-impl run --trace` file has no such line: describe the cluster with
//! `--replicas N` and the protocol flags it ran with (`--bug NAME`, `--no-prepare-skip`,
//! `--reads-through-log`, `--batch N`, `--window N`, `--pre-vote`, `--check-quorum`,
//! `--lease-reads`, `--no-commit-point`, `--no-parallel-leader-write`; default timing).
//!
//! Exit codes: 0 when every check passed, 1 when one failed, 2 for bad arguments or an
//! unreadable file.

use paxos_impl::ClusterConfig;
use paxos_model::bug::Bug;
use paxos_proptests::recording::{Recording, RunConfig};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: replay [--replicas N [--bug NAME] [--no-prepare-skip] [--reads-through-log] [--batch N] \
     [--window N] [--pre-vote] [--check-quorum] [--lease-reads] [--no-commit-point] \
     [--no-parallel-leader-write]] FILE";

struct Args {
    file: PathBuf,
    replicas: Option<usize>,
    bug: Option<Bug>,
    prepare_skip: bool,
    reads_through_log: bool,
    batch: Option<usize>,
    window: Option<usize>,
    pre_vote: bool,
    check_quorum: bool,
    lease_reads: bool,
    commit_point: bool,
    parallel_leader_write: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut replicas = None;
    let mut bug = None;
    let mut prepare_skip = true;
    let mut reads_through_log = false;
    let (mut batch, mut window) = (None, None);
    let mut pre_vote = false;
    let mut check_quorum = false;
    let mut lease_reads = false;
    let mut commit_point = true;
    let mut parallel_leader_write = true;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--replicas" => {
                let n = args.next().ok_or("--replicas needs a number")?;
                replicas = Some(n.parse().map_err(|_| format!("bad --replicas {n:?}"))?);
            }
            "--bug" => {
                let name = args.next().ok_or("--bug needs a name")?;
                bug = Some(name.parse().map_err(|e| format!("bad --bug: {e}"))?);
            }
            "--no-prepare-skip" => prepare_skip = false,
            "--reads-through-log" => reads_through_log = true,
            "--batch" | "--window" => {
                let n = args.next().ok_or(format!("{arg} needs a number"))?;
                let n = Some(n.parse().map_err(|_| format!("bad {arg} {n:?}"))?);
                *(if arg == "--batch" {
                    &mut batch
                } else {
                    &mut window
                }) = n;
            }
            "--pre-vote" => pre_vote = true,
            "--check-quorum" => check_quorum = true,
            "--lease-reads" => lease_reads = true,
            "--no-commit-point" => commit_point = false,
            "--no-parallel-leader-write" => parallel_leader_write = false,
            "-h" | "--help" => return Err(USAGE.into()),
            _ if file.is_none() && !arg.starts_with("--") => file = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        file: file.ok_or(USAGE)?,
        replicas,
        bug,
        prepare_skip,
        reads_through_log,
        batch,
        window,
        pre_vote,
        check_quorum,
        lease_reads,
        commit_point,
        parallel_leader_write,
    })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let config = args.replicas.map(|n| {
        let mut cfg = ClusterConfig::new(n);
        cfg.bug = args.bug;
        cfg.prepare_skip = args.prepare_skip;
        cfg.read_index = !args.reads_through_log;
        cfg.batch_commands_max = args.batch.unwrap_or(cfg.batch_commands_max);
        cfg.window_slots_max = args.window.unwrap_or(cfg.window_slots_max);
        cfg.pre_vote = args.pre_vote;
        cfg.check_quorum = args.check_quorum;
        cfg.lease_reads = args.lease_reads;
        cfg.commit_point = args.commit_point;
        cfg.parallel_leader_write = args.parallel_leader_write;
        RunConfig::of(&cfg)
    });
    let recording = match Recording::read_with(&args.file, config) {
        Ok(recording) => recording,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "{}: {} events, {} replicas, bug {:?}",
        args.file.display(),
        recording.events.len(),
        recording.config.replicas,
        recording.config.bug,
    );
    if args.replicas.is_none() {
        println!("seed {}, case: {}", recording.config.seed, recording.case);
    }
    let report = paxos_proptests::check(&recording);
    println!("{report}");
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
