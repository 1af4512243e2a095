//! The written protocol and the front door name what the code counts: every rule and situation
//! of the coverage list in `specs/multipaxos.md` (with the count it states), every known-bad
//! variant in `specs/bugs.md`, every property a configuration checks in the README's table, and
//! the counts the README and the spec give for them. Adding a rule, a variant or a property
//! without writing it down fails here.

use paxos_model::bug::Bug;
use paxos_model::checking::suite::suite;
use paxos_model::checking::{properties, CheckConfig};
use paxos_model::coverage::Situation;
use paxos_model::rules::Rule;
use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

fn read(path: &str) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The names in `text` written as code (between backticks).
fn quoted(text: &str) -> BTreeSet<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn missing<'a>(names: impl IntoIterator<Item = &'a str>, text: &str) -> Vec<&'a str> {
    let quoted = quoted(text);
    names.into_iter().filter(|n| !quoted.contains(n)).collect()
}

#[test]
fn the_spec_names_every_rule_and_situation_and_counts_them() {
    let spec = read("specs/multipaxos.md");
    let rules = Rule::ALL.iter().map(|r| r.name());
    assert_eq!(missing(rules, &spec), Vec::<&str>::new(), "rules");
    let situations = Situation::ALL.iter().map(|s| s.name());
    assert_eq!(missing(situations, &spec), Vec::<&str>::new(), "situations");
    let count = format!(
        "every path through every handler, {} in all",
        Rule::ALL.len()
    );
    assert!(spec.contains(&count), "the spec says `{count}`");
    let all_taken = format!(
        "{} entries, {} rules and {} situations all taken, the {} known-bad variants",
        suite().len(),
        Rule::ALL.len(),
        Situation::ALL.len(),
        Bug::ALL.len()
    );
    assert!(
        spec.replace('\n', " ").contains(&all_taken),
        "the spec says `{all_taken}`"
    );
}

#[test]
fn the_readme_counts_the_rules_situations_entries_and_variants() {
    let readme = read("README.md").replace('\n', " ");
    let coverage = format!(
        "({} rules, {} situations)",
        Rule::ALL.len(),
        Situation::ALL.len()
    );
    assert!(readme.contains(&coverage), "the README says `{coverage}`");
    let suite = format!(
        "for the {} configurations and the {} variants",
        suite().len(),
        Bug::ALL.len()
    );
    assert!(readme.contains(&suite), "the README says `{suite}`");
}

#[test]
fn specs_bugs_names_every_known_bad_variant() {
    let bugs = read("specs/bugs.md");
    let names = Bug::ALL.iter().map(|b| b.name());
    assert_eq!(missing(names, &bugs), Vec::<&str>::new());
}

/// Every property of every switch's configuration is in the README's table of properties.
#[test]
fn the_readme_table_lists_every_property() {
    let readme = read("README.md");
    let table: String = readme
        .lines()
        .skip_while(|l| !l.starts_with("| Property | Kind | Meaning |"))
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').nth(1).unwrap_or("").to_string())
        .collect();
    assert!(!table.is_empty(), "the README has a table of properties");
    let d = CheckConfig::default;
    let configs = [
        d(),
        CheckConfig { crashes: 1, ..d() },
        CheckConfig { batch: 2, ..d() },
        CheckConfig {
            pre_vote: true,
            ..d()
        },
        CheckConfig {
            check_quorum: true,
            ..d()
        },
        CheckConfig {
            read_index: true,
            lease_reads: true,
            ..d()
        },
    ];
    let mut names = BTreeSet::new();
    for cfg in &configs {
        cfg.validate().expect("a valid configuration");
        names.extend(properties::all(cfg).iter().map(|p| p.name));
    }
    assert!(names.len() > 20, "{names:?}");
    assert_eq!(missing(names, &table), Vec::<&str>::new());
}
