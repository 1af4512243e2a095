//! Scenario tests: the protocol's stories as data-driven files with golden output, in the style
//! of etcd-io/raft's `testdata/*.txt`.
//!
//! Every `tests/scenarios/*.txt` is a list of commands, each followed by `----` and the text
//! it must print, then a blank line; lines starting with `#` are comments. Each file runs
//! against a fresh, hand-driven cluster of `Node`s (no stateright: `tests/scenario/cluster.rs`),
//! and each command's output is compared with the golden text. The commands and the output
//! format are described in `tests/scenarios/README.md`.
//!
//! **Rewriting the golden output.** After an intended change to the protocol (or to add a new
//! file: write the commands alone, without `----`), run
//!
//! ```text
//! REWRITE=1 cargo test --release -p paxos-model --test scenarios
//! ```
//!
//! which writes the actual output into the files, then review the diff (`git diff`) as you
//! would review code: it shows exactly which step now behaves differently. `SCENARIO=word` runs
//! only the files whose name contains `word`.
//!
//! A second test collects the rules (`paxos_model::rules::Rule`) the steps of all files take
//! and fails naming every rule no scenario takes, apart from an explicit allow-list.

#[path = "scenario/cluster.rs"]
mod cluster;
#[path = "scenario/syntax.rs"]
mod syntax;

use cluster::{Cluster, Failure};
use paxos_model::rules::Rule;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Rules no scenario can take, and why. A scenario uses only what a real cluster can be
/// configured with (`ServerConfig::cluster`, `ClientConfig::cluster` and their public fields);
/// these rules need a model-checking bound, which is `pub(crate)` in `config.rs` on purpose.
const UNREACHABLE: &[(Rule, &str)] = &[(
    Rule::ClientRetryBoundReached,
    "needs `retries_max` (pub(crate)): a real client retries without limit",
)];

/// One command of a file and the output it must print.
struct Case {
    /// 1-based line of the command.
    line: usize,
    command: String,
    /// `None` when the file has no `----` block yet (a new command awaiting `REWRITE=1`).
    expected: Option<String>,
}

/// A file, line by line: comments and blank lines are kept as they are when rewriting.
enum Item {
    Text(String),
    Case(Case),
}

fn parse(text: &str) -> Vec<Item> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut items = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        at += 1;
        if line.trim().is_empty() || line.starts_with('#') {
            items.push(Item::Text(line.to_string()));
            continue;
        }
        let command_line = at;
        let expected = if lines.get(at) == Some(&"----") {
            at += 1;
            let mut block = Vec::new();
            while at < lines.len() && !lines[at].trim().is_empty() {
                block.push(lines[at]);
                at += 1;
            }
            Some(block.join("\n"))
        } else {
            None
        };
        if lines.get(at).is_some_and(|l| l.trim().is_empty()) {
            at += 1; // The blank line that ends the case belongs to it.
        }
        items.push(Item::Case(Case {
            line: command_line,
            command: line.trim().to_string(),
            expected,
        }));
    }
    items
}

/// One file, run.
struct FileRun {
    path: PathBuf,
    items: Vec<Item>,
    /// Per case, in order: what the command printed.
    actual: Vec<String>,
    /// Problems that fail the test whatever the golden text says.
    errors: Vec<String>,
    rules: BTreeSet<Rule>,
}

fn run_file(path: &Path) -> FileRun {
    let text = std::fs::read_to_string(path).unwrap();
    let items = parse(&text);
    let mut cluster = Cluster::default();
    let mut actual = Vec::new();
    let mut errors = Vec::new();
    let name = display(path);
    for item in &items {
        let Item::Case(case) = item else { continue };
        let output = match cluster.run(&case.command) {
            Ok(text) => text,
            Err(Failure::Refused(why)) => format!("error: {why}"),
            Err(Failure::Usage(why)) => {
                errors.push(format!(
                    "{name}:{}: `{}`: usage error: {why}",
                    case.line, case.command
                ));
                format!("usage error: {why}")
            }
        };
        actual.push(output);
    }
    errors.extend(
        cluster
            .violations
            .iter()
            .map(|v| format!("{name}: step-function contract broken: {v}")),
    );
    FileRun {
        path: path.to_path_buf(),
        items,
        actual,
        errors,
        rules: cluster.rules,
    }
}

/// Every scenario file, run once (both tests read the results).
fn runs() -> &'static [FileRun] {
    static RUNS: OnceLock<Vec<FileRun>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
        let only = std::env::var("SCENARIO").ok();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .filter(|p| {
                only.as_ref()
                    .is_none_or(|w| p.file_name().unwrap().to_string_lossy().contains(w))
            })
            .collect();
        paths.sort();
        paths.iter().map(|p| run_file(p)).collect()
    })
}

fn display(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The file with every expected block replaced by the actual output.
fn rewritten(run: &FileRun) -> String {
    let mut text = String::new();
    let mut actual = run.actual.iter();
    for item in &run.items {
        match item {
            Item::Text(line) => {
                text += line;
                text += "\n";
            }
            Item::Case(case) => {
                let output = actual.next().unwrap();
                text += &format!("{}\n----\n{output}\n\n", case.command);
            }
        }
    }
    text.trim_end().to_string() + "\n"
}

/// A line diff of `expected` against `actual` (`-` expected only, `+` actual only).
fn diff(expected: &str, actual: &str) -> String {
    let (a, b): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
    // Longest common subsequence, by dynamic programming from the ends.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("     {}\n", a[i]);
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out += &format!("   - {}\n", a[i]);
            i += 1;
        } else {
            out += &format!("   + {}\n", b[j]);
            j += 1;
        }
    }
    out
}

#[test]
fn scenarios_print_their_golden_output() {
    let rewrite = std::env::var("REWRITE").is_ok_and(|v| v == "1");
    let runs = runs();
    assert!(!runs.is_empty(), "no scenario file found");
    let mut failures = Vec::new();
    for run in runs {
        failures.extend(run.errors.iter().cloned());
        let name = display(&run.path);
        if rewrite {
            let text = rewritten(run);
            if std::fs::read_to_string(&run.path).unwrap() != text {
                std::fs::write(&run.path, text).unwrap();
                eprintln!("rewrote {name}");
            }
            continue;
        }
        let cases = run.items.iter().filter_map(|i| match i {
            Item::Case(c) => Some(c),
            Item::Text(_) => None,
        });
        for (case, actual) in cases.zip(&run.actual) {
            let expected = case.expected.as_deref().unwrap_or("");
            if expected != actual {
                failures.push(format!(
                    "{name}:{}: `{}` printed something else (- expected, + actual):\n{}",
                    case.line,
                    case.command,
                    diff(expected, actual)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario failure(s); if the change is intended, rerun with REWRITE=1 and review \
         the diff:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_is_taken_by_some_scenario() {
    if std::env::var("SCENARIO").is_ok() {
        return; // A subset of the files says nothing about coverage.
    }
    let taken: BTreeSet<Rule> = runs()
        .iter()
        .flat_map(|r| r.rules.iter().copied())
        .collect();
    let allowed: BTreeSet<Rule> = UNREACHABLE.iter().map(|(r, _)| *r).collect();
    let missing: Vec<_> = Rule::ALL
        .iter()
        .filter(|r| !taken.contains(r) && !allowed.contains(r))
        .map(|r| format!("  {}: {}", r.name(), r.description()))
        .collect();
    assert!(
        missing.is_empty(),
        "no scenario takes these rules; add a scenario that does:\n{}",
        missing.join("\n")
    );
    let stale: Vec<_> = UNREACHABLE
        .iter()
        .filter(|(r, _)| taken.contains(r))
        .map(|(r, _)| r.name())
        .collect();
    assert!(
        stale.is_empty(),
        "allow-listed as unreachable, yet a scenario takes them: {stale:?}"
    );
}

/// The contract checks are seen to fail (`STYLE.md`, habit 14): an acceptor that never persists
/// (the known-bad variant `volatile-acceptor`) changes its durable state without a `persist`.
#[cfg(feature = "bugs")]
#[test]
fn the_persist_check_catches_a_volatile_acceptor() {
    use paxos_model::bug::Bug;
    let mut cluster = Cluster::with_bug(Bug::VolatileAcceptor);
    for command in ["servers 3", "timeout 0 election"] {
        cluster
            .run(command)
            .unwrap_or_else(|f| panic!("{command}: {f:?}"));
    }
    assert!(
        cluster
            .violations
            .iter()
            .any(|v| v.contains("durable state changed but was not persisted")),
        "{:?}",
        cluster.violations
    );
}
