//! `paxos-model`: model-check the Multi-Paxos, serve stateright's Explorer, list known bugs.

use clap::{Args, Parser, Subcommand};
use paxos_model::bug::Bug;
use paxos_model::checking::{
    self, CheckConfig, CheckerKind, NetworkKind, Outcome, RunOptions, Status, Verdict,
};
use paxos_model::coverage::Situation;
use paxos_model::rules::Rule;
use stateright::Model;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

/// The checker allocates and frees small blocks (states, maps, messages) millions of times a
/// second from every checker thread; mimalloc does it faster than glibc's malloc: 15% off a
/// depth-first check, 25% off a breadth-first one (`make bench-checker`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Model-check a Multi-Paxos exhaustively with stateright, or explore its states in a browser.
#[derive(Parser)]
#[command(name = "paxos-model", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Model-check a configuration and report every property.
    #[command(after_help = CHECK_EXIT_STATUS)]
    Check(CheckArgs),
    /// Serve stateright's Explorer for a configuration (blocks until interrupted).
    Explore(ExploreArgs),
    /// Check every configuration of the full suite (`make check-full`), then report the rules
    /// none of them took; with --bugs, also check that each known-bad variant is caught.
    Suite {
        /// Also run every known-bad variant on the suite configuration that catches it.
        #[arg(long)]
        bugs: bool,
        /// Checker threads [default: the number of CPUs].
        #[arg(long)]
        threads: Option<usize>,
        /// Run only the entries whose name contains this.
        #[arg(long)]
        only: Option<String>,
    },
    /// List the known-bad protocol variants and the configuration that catches each.
    Bugs {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Print only the flags of the configuration that catches NAME, on one line (used by
        /// `make explore BUG=NAME`).
        #[arg(long, value_name = "NAME", conflicts_with = "json")]
        flags: Option<Bug>,
    },
}

/// The end of `check --help`: what a run's exit status and statuses mean.
const CHECK_EXIT_STATUS: &str = "\
Exit status:
  0  complete run: every always-property holds and every sometimes-property was found
  1  an always-property was violated, or a complete run found a sometimes-property unreachable
  2  invalid arguments
  3  incomplete run (--timeout, --max-depth, --checker simulation) with no violation: nothing
     is proved; an always-property reads \"no violation found\" (JSON: \"no-violation-found\"),
     a sometimes-property not reached \"not found yet\" (JSON: \"not-found-yet\")
";

/// The model: cluster, workload, faults, bounds and reductions.
#[derive(Args, Clone)]
struct ModelArgs {
    /// Number of servers (1 to 7).
    #[arg(long, default_value_t = 3)]
    servers: usize,
    /// Number of clients (1 to 4).
    #[arg(long, default_value_t = 2)]
    clients: usize,
    /// Commands per client (up to --client-window of them at a time); writes and reads
    /// alternate (1 to 4).
    #[arg(long, default_value_t = 1)]
    ops_per_client: usize,
    /// Campaigns in total, by any servers, including ones that voted or were deposed (1 to 6).
    #[arg(long, default_value_t = 3)]
    elections: u32,
    /// Network semantics: unordered-nonduplicating, unordered-duplicating or ordered.
    #[arg(long, default_value = "unordered-nonduplicating")]
    network: NetworkKind,
    /// Messages may be lost.
    #[arg(long)]
    lossy: bool,
    /// With --lossy on an unordered network: explore each loss as a Drop action (by default
    /// omitted there, since an unordered network may hold a message forever anyway).
    #[arg(long, requires = "lossy")]
    literal_loss: bool,
    /// Server crashes allowed in total; a crashed server may recover from its durable state.
    #[arg(long, default_value_t = 0)]
    crashes: usize,
    /// Run Phase 1 before every new slot, one slot at a time (classic per-instance Paxos; with --batch a slot holds a batch) instead of Prepare-skip.
    #[arg(long)]
    no_prepare_skip: bool,
    /// ReadIndex reads at the leader (no slot, no disk write) instead of reads through the log.
    #[arg(long)]
    read_index: bool,
    /// Lease reads: a leader holding a lease from a majority answers reads without a
    /// confirmation round (ReadIndex reads otherwise; implies --read-index).
    #[arg(long)]
    lease_reads: bool,
    /// Batching: a slot decides up to N client commands (1 to 4; 1: no batching).
    #[arg(long, value_name = "N", default_value_t = 1)]
    batch: usize,
    /// The pipelining window: a leader keeps at most N undecided slots in flight (1 to 4)
    /// [default: no window].
    #[arg(long, value_name = "N")]
    window: Option<usize>,
    /// Pre-vote: a server campaigns only after a majority granted it a pre-vote.
    #[arg(long)]
    pre_vote: bool,
    /// Check-quorum: a leader that heard from no majority within an election timeout steps down.
    #[arg(long)]
    check_quorum: bool,
    /// The commit point on Accepts and heartbeats: servers learn decided slots from their own
    /// votes in the leader's ballot, without Decide messages.
    #[arg(long)]
    commit_point: bool,
    /// The leader sends its Accepts before its own vote is durable, and counts that vote once
    /// written.
    #[arg(long)]
    parallel_leader_write: bool,
    /// Reduction: only servers 0..K have election timers [default: min(2, servers)].
    #[arg(long, value_name = "K")]
    campaigners: Option<usize>,
    /// Leaders announce each decision to every server (off by default: a reduction).
    #[arg(long)]
    announce_decisions: bool,
    /// One leader heartbeat per leadership, with retransmission and catch-up (off by default).
    #[arg(long)]
    heartbeats: bool,
    /// Times a client may re-send a request after a timeout (0 to 3).
    #[arg(long, default_value_t = 0)]
    client_retries: u32,
    /// Requests each client keeps outstanding (1 to 4; also the servers' session window).
    #[arg(long, value_name = "N", default_value_t = 1)]
    client_window: u32,
    /// Servers compact their log every K applied slots (1 to 4).
    #[arg(long, value_name = "K", default_value_t = 1)]
    compact_every: u64,
    /// Reduction off: keep messages whose delivery can never change anything again.
    #[arg(long)]
    keep_dead_messages: bool,
    /// Turn on one known-bad protocol variant (see `paxos-model bugs`).
    #[arg(long, value_name = "NAME")]
    bug: Option<Bug>,
}

impl ModelArgs {
    fn config(&self) -> CheckConfig {
        CheckConfig {
            servers: self.servers,
            clients: self.clients,
            ops_per_client: self.ops_per_client,
            elections: self.elections,
            network: self.network,
            lossy: self.lossy,
            literal_loss: self.literal_loss,
            crashes: self.crashes,
            prepare_skip: !self.no_prepare_skip,
            read_index: self.read_index || self.lease_reads,
            lease_reads: self.lease_reads,
            batch: self.batch,
            window: self.window,
            pre_vote: self.pre_vote,
            check_quorum: self.check_quorum,
            commit_point: self.commit_point,
            parallel_leader_write: self.parallel_leader_write,
            campaigners: self.campaigners.unwrap_or(self.servers.min(2)),
            announce_decisions: self.announce_decisions,
            heartbeats: self.heartbeats,
            client_retries: self.client_retries,
            client_window: self.client_window,
            compact_every: self.compact_every,
            forget_dead_messages: !self.keep_dead_messages,
            bug: self.bug,
        }
    }
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Checker: dfs (fast, little memory), bfs (shortest counterexamples) or simulation.
    #[arg(long, default_value = "dfs")]
    checker: CheckerKind,
    /// Checker threads [default: the number of CPUs].
    #[arg(long)]
    threads: Option<usize>,
    /// Stop after this many seconds (the run is then reported incomplete) [simulation: 30].
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// BFS only: do not explore beyond this depth, at least 1 (the run may then be incomplete).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Seed of the simulation checker's random walks.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object on stdout instead of the report.
    #[arg(long)]
    json: bool,
    /// Print how many explored transitions took each protocol rule, and the rules none took
    /// (the JSON output always has a `coverage` object).
    #[arg(long)]
    coverage: bool,
}

#[derive(Args)]
struct ExploreArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Address to serve the Explorer on.
    #[arg(long, default_value = "localhost:3000")]
    address: String,
    /// Checker threads for "Run to completion" [default: the number of CPUs].
    #[arg(long)]
    threads: Option<usize>,
}

/// A one-line usage error: exit status 2.
fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("paxos-model: error: {message}");
    ExitCode::from(2)
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            print!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            return usage_error(first.trim_start_matches("error: "));
        }
    };
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Suite {
            bugs,
            threads,
            only,
        } => run_suite(bugs, threads.unwrap_or_else(default_threads), only),
        Command::Explore(args) => run_explore(args),
        Command::Bugs { json, flags: None } => list_bugs(json),
        Command::Bugs {
            flags: Some(bug), ..
        } => {
            println!("{}", checking::bugs::known(bug).listing().flags.join(" "));
            ExitCode::SUCCESS
        }
    }
}

fn run_check(args: CheckArgs) -> ExitCode {
    let cfg = args.model.config();
    if let Err(e) = cfg.validate() {
        return usage_error(e);
    }
    if args.max_depth.is_some() && args.checker != CheckerKind::Bfs {
        return usage_error(
            "--max-depth works only with --checker bfs (a depth-bounded DFS misses states)",
        );
    }
    if args.max_depth == Some(0) {
        return usage_error("--max-depth must be at least 1");
    }
    if args.threads == Some(0) {
        return usage_error("--threads must be at least 1");
    }
    let timeout = match args.timeout {
        Some(t) if !(t > 0.0 && t.is_finite()) => {
            return usage_error(format!(
                "--timeout must be a positive number of seconds, got {t}"
            ))
        }
        Some(t) => Some(Duration::from_secs_f64(t)),
        None if args.checker == CheckerKind::Simulation => Some(Duration::from_secs(30)),
        None => None,
    };
    let options = RunOptions {
        checker: args.checker,
        threads: args.threads.unwrap_or_else(default_threads),
        timeout,
        max_depth: args.max_depth,
        seed: args.seed,
        progress: true,
    };
    if !args.json {
        println!("Checking {}", describe(&cfg));
        println!(
            "Checker: {}, {} thread(s){}",
            options.checker,
            options.threads,
            options
                .timeout
                .map(|t| format!(", timeout {:.0} s", t.as_secs_f64()))
                .unwrap_or_default()
        );
    }
    let outcome = checking::check(cfg.clone(), options);
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&outcome).expect("the outcome serializes")
        );
    } else {
        if args.coverage {
            print_coverage(&outcome);
        }
        print_report(&cfg, &outcome);
    }
    ExitCode::from(outcome.verdict().exit_status())
}

/// One line that says what is checked.
fn describe(cfg: &CheckConfig) -> String {
    let mut s = format!(
        "{} servers, {} clients x {} op(s), {} election(s), {} network{}, {} crash(es), {}",
        cfg.servers,
        cfg.clients,
        cfg.ops_per_client,
        cfg.elections,
        cfg.network,
        match (cfg.lossy, cfg.drops_explored()) {
            (false, _) => "",
            (true, true) => " (lossy)",
            (true, false) => " (lossy: subsumed by the unordered network, no Drop actions)",
        },
        cfg.crashes,
        if cfg.prepare_skip {
            "Prepare-skip"
        } else {
            "Phase 1 per slot"
        },
    );
    s += if cfg.lease_reads {
        ", lease reads"
    } else if cfg.read_index {
        ", ReadIndex reads"
    } else {
        ", reads through the log"
    };
    if cfg.batch >= 2 {
        s += &format!(", batches of up to {}", cfg.batch);
    }
    if let Some(window) = cfg.window {
        s += &format!(", a window of {window} slot(s)");
    }
    if cfg.commit_point {
        s += ", the commit point on Accepts";
    }
    if cfg.parallel_leader_write {
        s += ", the leader's own vote written in parallel";
    }
    s += &format!(
        "; {} of {} servers campaign, decisions {}announced, {}heartbeats, {} client retries",
        cfg.campaigners,
        cfg.servers,
        if cfg.announce_decisions { "" } else { "not " },
        if cfg.heartbeats { "" } else { "no " },
        cfg.client_retries
    );
    if let Some(bug) = cfg.bug {
        s += &format!("; BUG: {bug}");
    }
    s
}

/// The coverage table: every rule and situation with its count; untaken ones marked.
fn print_coverage(outcome: &Outcome) {
    let report = &outcome.coverage;
    println!("Rule coverage (explored transitions that took each rule):");
    let rules = Rule::ALL.iter().map(|r| (r.name(), r.description()));
    let situations = Situation::ALL.iter().map(|s| (s.name(), s.description()));
    for (name, description) in rules.chain(situations) {
        let n = report
            .rules
            .get(name)
            .or(report.situations.get(name))
            .copied()
            .unwrap_or(0);
        let mark = if n == 0 { "NEVER" } else { "" };
        println!("  {n:>12} {mark:<5} {name:<36} {description}");
    }
    let untaken = report.untaken();
    if untaken.is_empty() {
        println!("Every rule was taken.");
    } else {
        println!("Never taken ({}): {}", untaken.len(), untaken.join(", "));
    }
    println!();
}

fn print_report(cfg: &CheckConfig, outcome: &Outcome) {
    println!(
        "Done: {}. {} unique states, {} total, max depth {}, {:.2} s, {:.0} states/s",
        if outcome.complete {
            "complete (every reachable state explored)"
        } else {
            "INCOMPLETE (stopped before exploring every state)"
        },
        outcome.unique_states,
        outcome.total_states,
        outcome.max_depth,
        outcome.seconds,
        outcome.total_states as f64 / outcome.seconds.max(1e-9)
    );
    println!("Properties:");
    for p in &outcome.properties {
        let status = match p.status {
            Status::Holds => "holds".to_string(),
            Status::NoViolationFound => "no violation found (run incomplete)".to_string(),
            Status::Violated => "VIOLATED".to_string(),
            Status::Found => format!(
                "found (example path: {} steps)",
                p.counterexample.as_ref().map_or(0, Vec::len)
            ),
            Status::NotFound => "NOT FOUND (unreachable)".to_string(),
            Status::NotFoundYet => "not found yet (run incomplete)".to_string(),
        };
        println!("  {:<24} {:<10} {}", p.name, p.expectation, status);
        if let Some(why) = p.unreachable_because {
            println!("      why: {why}");
        }
    }
    for p in outcome
        .properties
        .iter()
        .filter(|p| p.status == Status::Violated)
    {
        let actions = p.counterexample.as_deref().unwrap_or_default();
        println!();
        println!("Counterexample for {} ({} steps):", p.name, actions.len());
        for (i, action) in actions.iter().enumerate() {
            println!("  {:>3}. {action}", i + 1);
        }
        let flags = cfg.flags().join(" ");
        println!(
            "See it in the Explorer: run `paxos-model explore {flags}` and open\n  http://localhost:3000/#/steps/{}",
            p.explorer_path.as_deref().unwrap_or("0")
        );
    }
    println!();
    let verdict = outcome.verdict();
    if verdict == Verdict::Incomplete {
        println!("No violation found, but the run was incomplete: nothing is proved.");
    }
    let unreached = outcome
        .properties
        .iter()
        .filter(|p| p.status == Status::NotFound)
        .count();
    let violated = outcome
        .properties
        .iter()
        .any(|p| p.status == Status::Violated);
    if unreached > 0 && !violated {
        println!(
            "No always-property was violated, but {unreached} sometimes-propert{} never reached \
             in these bounds: the always-properties hold only vacuously for the situations {} \
             stand{} for (specs/multipaxos.md, \"Properties\"; larger bounds may reach {}).",
            if unreached == 1 { "y was" } else { "ies were" },
            if unreached == 1 { "it" } else { "they" },
            if unreached == 1 { "s" } else { "" },
            if unreached == 1 { "it" } else { "them" },
        );
    }
    println!("{}", verdict.name());
}

fn run_explore(args: ExploreArgs) -> ExitCode {
    let cfg = args.model.config();
    if let Err(e) = cfg.validate() {
        return usage_error(e);
    }
    if let Err(e) = can_listen_on(&args.address) {
        return usage_error(format!(
            "cannot serve the Explorer on {}: {e}",
            args.address
        ));
    }
    let threads = args.threads.unwrap_or_else(default_threads).max(1);
    println!("Explorer for {}", describe(&cfg));
    println!(
        "Serving on http://{} (\"Run to completion\" checks every state; Ctrl-C stops).",
        args.address
    );
    let model = checking::PaxosModel::new(cfg);
    model
        .checker()
        .threads(threads)
        .serve(args.address.as_str());
    ExitCode::SUCCESS
}

/// Resolves `address` and binds it the way stateright's Explorer will (tiny_http binds the
/// first resolved address that accepts), then lets it go: stateright unwraps its own bind, so a
/// bad address or a port in use would otherwise panic inside it. Another process could take the
/// port between this check and stateright's bind; that race only brings the panic back.
fn can_listen_on(address: &str) -> std::io::Result<()> {
    let addresses: Vec<SocketAddr> = address.to_socket_addrs()?.collect();
    TcpListener::bind(addresses.as_slice()).map(drop)
}

fn list_bugs(json: bool) -> ExitCode {
    let listings: Vec<_> = checking::catalogue().iter().map(|k| k.listing()).collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&listings).expect("listings serialize")
        );
        return ExitCode::SUCCESS;
    }
    println!("Known-bad variants (paxos-model check --bug NAME <flags>; explore the same way):");
    for l in &listings {
        println!();
        println!("{}", l.name);
        println!("  does:     {}", l.description);
        println!("  breaks:   {}", l.rule);
        println!("  violates: {}", l.violates);
        println!(
            "  catch it: paxos-model check --checker bfs --bug {}{}{}",
            l.name,
            if l.flags.is_empty() { "" } else { " " },
            l.flags.join(" ")
        );
    }
    ExitCode::SUCCESS
}

fn run_suite(bugs: bool, threads: usize, only: Option<String>) -> ExitCode {
    use paxos_model::checking::suite::suite;
    use paxos_model::coverage::{CoverageReport, MODEL_UNREACHABLE};
    let options = |checker| RunOptions {
        checker,
        threads,
        timeout: None,
        max_depth: None,
        seed: 0,
        progress: false,
    };
    let mut failed = false;
    let mut coverage = CoverageReport::default();
    let started = std::time::Instant::now();
    let entries: Vec<_> = suite()
        .into_iter()
        .filter(|e| only.as_ref().is_none_or(|o| e.name.contains(o.as_str())))
        .collect();
    println!(
        "{:<22} {:>12} {:>6} {:>9} {:<9} {:<8} flags",
        "configuration", "unique", "depth", "seconds", "complete", "verdict"
    );
    for entry in &entries {
        let outcome = checking::check(entry.config.clone(), options(CheckerKind::Dfs));
        let verdict = outcome.verdict();
        failed |= verdict != Verdict::Pass;
        coverage.merge(&outcome.coverage);
        println!(
            "{:<22} {:>12} {:>6} {:>9.1} {:<9} {:<8} {}",
            entry.name,
            outcome.unique_states,
            outcome.max_depth,
            outcome.seconds,
            outcome.complete,
            format!("{verdict:?}").to_uppercase(),
            entry.config.flags().join(" ")
        );
        for p in outcome
            .properties
            .iter()
            .filter(|p| !matches!(p.status, Status::Holds | Status::Found))
        {
            println!("    {}: {:?}", p.name, p.status);
        }
    }
    let untaken = coverage.untaken_reachable();
    println!();
    if only.is_none() {
        if untaken.is_empty() {
            println!(
                "Coverage: every rule and situation was taken ({} rules, {} situations); \
                 model-unreachable, taken by the scenario tests: {}.",
                coverage.rules.len(),
                coverage.situations.len(),
                MODEL_UNREACHABLE
                    .iter()
                    .map(|(r, _)| r.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        } else {
            failed = true;
            println!(
                "Coverage: NEVER TAKEN by any configuration: {}",
                untaken.join(", ")
            );
        }
    }
    if bugs {
        println!();
        let catalogue = checking::catalogue();
        // Columns as wide as their longest entry, so that no two run together.
        let width = |names: &mut dyn Iterator<Item = &str>, title: &str| {
            names.map(str::len).chain([title.len()]).max().unwrap_or(0)
        };
        let w_bug = width(
            &mut catalogue.iter().map(|k| k.bug.name()),
            "known-bad variant",
        );
        let w_entry = width(
            &mut catalogue.iter().map(|k| checking::bugs::catching(k.bug).0),
            "caught by",
        );
        let w_violates = width(&mut catalogue.iter().map(|k| k.violates), "violates");
        println!(
            "{:<w_bug$} {:<w_entry$} {:<w_violates$} {:>6} {:>8}",
            "known-bad variant", "caught by", "violates", "steps", "seconds"
        );
        for known in catalogue {
            let (entry, _) = checking::bugs::catching(known.bug);
            if only.as_ref().is_some_and(|o| !entry.contains(o.as_str())) {
                continue;
            }
            let outcome = checking::check(known.config.clone(), options(CheckerKind::Bfs));
            let caught = outcome.property(known.violates);
            let steps = caught
                .and_then(|p| p.counterexample.as_ref())
                .map_or(0, Vec::len);
            let ok = caught.is_some_and(|p| p.status == Status::Violated);
            failed |= !ok;
            println!(
                "{:<w_bug$} {:<w_entry$} {:<w_violates$} {:>6} {:>8.1}{}",
                known.bug.name(),
                entry,
                known.violates,
                steps,
                outcome.seconds,
                if ok { "" } else { "  NOT CAUGHT" }
            );
        }
    }
    println!();
    println!("Suite: {:.0} s in all.", started.elapsed().as_secs_f64());
    if failed {
        println!("FAIL");
        ExitCode::from(1)
    } else {
        println!("PASS");
        ExitCode::SUCCESS
    }
}
