//! Running a checker on a [`PaxosModel`]: progress while it runs, then an [`Outcome`] with the
//! state counts, each property's status, and every counterexample replayed and formatted.

use super::config::CheckConfig;
use super::properties::{is_safety, predicate};
use super::system::{Action, PaxosModel, State};
use crate::coverage::CoverageReport;
use serde::Serialize;
use stateright::{Checker, Expectation, HasDiscoveries, Model, Path, UniformChooser};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Which stateright checker explores the state space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckerKind {
    /// Breadth-first: exhaustive, shortest counterexamples (single-threaded), memory-hungry.
    Bfs,
    /// Depth-first: exhaustive, 2 to 3 times faster, little memory.
    Dfs,
    /// Random walks until the timeout: never complete.
    Simulation,
}

impl CheckerKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CheckerKind::Bfs => "bfs",
            CheckerKind::Dfs => "dfs",
            CheckerKind::Simulation => "simulation",
        }
    }
}

impl fmt::Display for CheckerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CheckerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bfs" => Ok(CheckerKind::Bfs),
            "dfs" => Ok(CheckerKind::Dfs),
            "simulation" => Ok(CheckerKind::Simulation),
            _ => Err(format!(
                "unknown checker '{s}' (known: bfs, dfs, simulation)"
            )),
        }
    }
}

/// How to run the checker.
#[derive(Clone, Debug, Serialize)]
pub struct RunOptions {
    /// Which checker.
    pub checker: CheckerKind,
    /// Checker threads.
    pub threads: usize,
    /// Stop after this long (the run is then incomplete).
    pub timeout: Option<Duration>,
    /// BFS only: do not explore states deeper than this (the run is then incomplete if reached).
    pub max_depth: Option<usize>,
    /// Seed of the simulation checker's random walks.
    pub seed: u64,
    /// Print progress to stderr every second.
    #[serde(skip)]
    pub progress: bool,
}

/// A property's result. Only a complete run proves anything: in an incomplete run (a timeout,
/// a depth cut, a stop at the first violation, or any simulation) an always-property with no
/// counterexample is reported `no-violation-found`, never `holds`, and a sometimes-property with
/// no example `not-found-yet`, never `not found`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    /// An always-property held in every reachable state (the run was complete).
    #[serde(rename = "holds")]
    Holds,
    /// An always-property held in every state explored, but the run was incomplete.
    #[serde(rename = "no-violation-found")]
    NoViolationFound,
    /// An always-property failed in some state.
    #[serde(rename = "violated")]
    Violated,
    /// A sometimes-property was reached.
    #[serde(rename = "found")]
    Found,
    /// A sometimes-property is unreachable (the run was complete).
    #[serde(rename = "not found")]
    NotFound,
    /// A sometimes-property was not reached in the states explored; the run was incomplete.
    #[serde(rename = "not-found-yet")]
    NotFoundYet,
}

/// What a run shows as a whole: the last line of the report and the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The run was complete, every always-property holds and every sometimes-property was
    /// found (exit status 0).
    Pass,
    /// An always-property was violated, or a complete run found a sometimes-property
    /// unreachable (exit status 1).
    Fail,
    /// The run was incomplete and found no violation: nothing is proved (exit status 3).
    Incomplete,
}

impl Verdict {
    /// The word printed as the report's last line.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Incomplete => "INCOMPLETE",
        }
    }

    /// The exit status of `paxos-model check`.
    pub fn exit_status(self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Incomplete => 3,
        }
    }
}

/// One property's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyOutcome {
    /// Stable name.
    pub name: &'static str,
    /// `always` or `sometimes`.
    pub expectation: &'static str,
    /// Result.
    pub status: Status,
    /// For a violation (or an example): the actions from the initial state, formatted.
    pub counterexample: Option<Vec<String>>,
    /// The same path as stateright Explorer action indices (`/#/steps/<path>`).
    pub explorer_path: Option<String>,
    /// For a sometimes-property a complete run never reached: which bound leaves out what it
    /// needs, where the bounds alone decide it ([`super::properties::unreachable_because`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_because: Option<&'static str>,
}

/// The result of a run, as printed by `paxos-model check --json`.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The model configuration and run options.
    pub config: ConfigReport,
    /// Which checker ran.
    pub checker: &'static str,
    /// Whether every reachable state (within the model's bounds) was explored.
    pub complete: bool,
    /// Distinct states.
    pub unique_states: usize,
    /// States generated, repeats included.
    pub total_states: usize,
    /// Deepest path explored (the initial state has depth 1).
    pub max_depth: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Every property, in declaration order.
    pub properties: Vec<PropertyOutcome>,
    /// How many explored transitions took each rule and situation (`--coverage`).
    pub coverage: CoverageReport,
}

/// Every setting of a run, flattened for JSON.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigReport {
    /// The model.
    #[serde(flatten)]
    pub model: CheckConfig,
    /// The checker.
    #[serde(flatten)]
    pub run: RunOptions,
}

impl Outcome {
    /// The run's verdict: a violation fails it whether or not it was complete; otherwise an
    /// incomplete run proves nothing, and a complete one passes if every sometimes-property was
    /// found.
    pub fn verdict(&self) -> Verdict {
        let any = |status| self.properties.iter().any(|p| p.status == status);
        if any(Status::Violated) {
            Verdict::Fail
        } else if !self.complete {
            Verdict::Incomplete
        } else if any(Status::NotFound) {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }

    /// Whether the run proved every property: complete, every always-property holds and every
    /// sometimes-property was found.
    pub fn passed(&self) -> bool {
        self.verdict() == Verdict::Pass
    }

    /// The outcome of the property called `name`.
    pub fn property(&self, name: &str) -> Option<&PropertyOutcome> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// Checks `cfg` with `options`.
pub fn check(cfg: CheckConfig, options: RunOptions) -> Outcome {
    let model = PaxosModel::new(cfg.clone()).first_examples_only();
    let model = match options.checker {
        CheckerKind::Bfs => model,
        CheckerKind::Dfs | CheckerKind::Simulation => model.without_interning(),
    };
    let mut builder = model
        .checker()
        .threads(options.threads)
        .finish_when(HasDiscoveries::AnyFailures);
    if let Some(timeout) = options.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(depth) = options.max_depth {
        builder = builder.target_max_depth(depth);
    }
    let start = Instant::now();
    match options.checker {
        CheckerKind::Bfs => finish(builder.spawn_bfs(), cfg, options, start),
        CheckerKind::Dfs => finish(builder.spawn_dfs(), cfg, options, start),
        CheckerKind::Simulation => {
            let seed = options.seed;
            finish(
                builder.spawn_simulation(seed, UniformChooser),
                cfg,
                options,
                start,
            )
        }
    }
}

/// Waits for `checker`, printing progress, and builds the outcome.
fn finish(
    checker: impl Checker<PaxosModel>,
    cfg: CheckConfig,
    options: RunOptions,
    start: Instant,
) -> Outcome {
    let mut last_report = start;
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(5));
        if options.progress && last_report.elapsed() >= Duration::from_secs(1) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "[{secs:6.1}s] {} states, {} unique, depth {}, {:.0} states/s",
                checker.state_count(),
                checker.unique_state_count(),
                checker.max_depth(),
                checker.state_count() as f64 / secs
            );
            let _ = std::io::stderr().flush();
        }
    }
    let checker = checker.join();
    let seconds = start.elapsed().as_secs_f64();
    let model = checker.model();
    let discoveries = checker.discoveries();

    let timed_out = options.timeout.is_some_and(|t| start.elapsed() >= t);
    let depth_cut = options.max_depth.is_some_and(|d| checker.max_depth() >= d);
    let stopped_early = model
        .properties()
        .iter()
        .any(|p| is_safety(p) && discoveries.contains_key(p.name));
    let complete =
        options.checker != CheckerKind::Simulation && !timed_out && !depth_cut && !stopped_early;

    let properties = outcomes(model, &discoveries, complete);
    Outcome {
        config: ConfigReport {
            model: cfg,
            run: options.clone(),
        },
        checker: options.checker.name(),
        complete,
        unique_states: checker.unique_state_count(),
        total_states: checker.state_count(),
        max_depth: checker.max_depth(),
        seconds,
        properties,
        coverage: model.coverage.report(),
    }
}

/// Each property's status (see [`Status`] for what `complete` changes), with its path replayed
/// from the initial state.
fn outcomes(
    model: &PaxosModel,
    discoveries: &HashMap<&'static str, Path<State, Action>>,
    complete: bool,
) -> Vec<PropertyOutcome> {
    model
        .properties()
        .iter()
        .map(|property| {
            let always = property.expectation == Expectation::Always;
            let found = discoveries.get(property.name);
            let status = match (always, found.is_some(), complete) {
                (true, true, _) => Status::Violated,
                (true, false, true) => Status::Holds,
                (true, false, false) => Status::NoViolationFound,
                (false, true, _) => Status::Found,
                (false, false, true) => Status::NotFound,
                (false, false, false) => Status::NotFoundYet,
            };
            let replayed = found.map(|path| replay(model, path, predicate(property), always));
            PropertyOutcome {
                name: property.name,
                expectation: if always { "always" } else { "sometimes" },
                status,
                counterexample: replayed
                    .as_ref()
                    .map(|(actions, _)| actions.iter().map(|a| model.format_action(a)).collect()),
                explorer_path: replayed.map(|(_, encoded)| encoded),
                unreachable_because: (status == Status::NotFound)
                    .then(|| super::properties::unreachable_because(&model.cfg, property.name))
                    .flatten(),
            }
        })
        .collect()
}

/// Replays a discovery's actions from the initial state (stateright's simulation checker can
/// report a path that does not replay) and checks that its last state shows the discovery.
/// Panics if it does not: a counterexample that cannot be reproduced must never be printed.
fn replay(
    model: &PaxosModel,
    path: &Path<State, Action>,
    condition: fn(&PaxosModel, &State) -> bool,
    always: bool,
) -> (Vec<Action>, String) {
    let states_and_actions = path.clone().into_vec();
    let init = states_and_actions[0].0.clone();
    let actions: Vec<Action> = states_and_actions
        .into_iter()
        .filter_map(|(_, action)| action)
        .collect();
    let replayed = Path::from_actions(model, init, actions.iter())
        .expect("a discovery's actions replay from the initial state");
    let holds = condition(model, replayed.last_state());
    assert_eq!(
        holds, !always,
        "the replayed discovery's last state does not show it"
    );
    let encoded = replayed.encode(model);
    (actions, encoded)
}
