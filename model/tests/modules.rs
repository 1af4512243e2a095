//! The shape of the crate: the protocol modules use nothing of stateright, and no two modules
//! import each other (directly or around a circle). Read from the sources, so a new `use` that
//! breaks either rule fails here with the offending files named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The protocol: step functions and their vocabulary. Only `actor` and `checking` may speak
/// stateright.
const PROTOCOL: [&str; 11] = [
    "bug",
    "client",
    "config",
    "durable",
    "msg",
    "node",
    "output",
    "server",
    "state_machine",
    "types",
    "vec_map",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file belongs to, as a path below the crate root: `server/acceptor.rs` is
/// `["server", "acceptor"]`, `server/mod.rs` is `["server"]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// Code lines (comments dropped).
fn code(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| l.split("//").next().unwrap_or("").to_string())
        .collect()
}

/// Every module path this file refers to through `crate::a::b` or `super::a`, resolved to a
/// path below the crate root.
fn references(file: &Path) -> BTreeSet<Vec<String>> {
    let me = module_of(file);
    let mut refs = BTreeSet::new();
    for line in code(file) {
        for (prefix, base) in [("crate::", Vec::new()), ("super::", parent(&me, file))] {
            let mut rest = line.as_str();
            while let Some(at) = rest.find(prefix) {
                rest = &rest[at + prefix.len()..];
                let path: Vec<String> = rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or("")
                    .split("::")
                    .filter(|s| !s.is_empty() && s.chars().next().unwrap().is_lowercase())
                    .map(String::from)
                    .collect();
                let mut full = base.clone();
                full.extend(path);
                if !full.is_empty() {
                    refs.insert(full);
                }
            }
        }
    }
    refs
}

/// The module `super` names from `file`.
fn parent(me: &[String], file: &Path) -> Vec<String> {
    let is_mod = file.file_name().is_some_and(|f| f == "mod.rs");
    let mut p = me.to_vec();
    if !is_mod || !p.is_empty() {
        p.pop();
    }
    p
}

/// Siblings: two modules with the same parent depend on each other if any file inside one
/// refers to anything inside the other. Returns, per parent, the sibling edges.
fn sibling_edges() -> BTreeMap<(Vec<String>, String, String), Vec<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges = BTreeMap::new();
    for file in &files {
        let me = module_of(file);
        for target in references(file) {
            // The deepest common parent, and the two children of it on each side.
            let common = me.iter().zip(&target).take_while(|(a, b)| a == b).count();
            let (Some(from), Some(to)) = (me.get(common), target.get(common)) else {
                continue; // One contains the other: a parent and its own child.
            };
            let key = (me[..common].to_vec(), from.clone(), to.clone());
            edges
                .entry(key)
                .or_insert_with(Vec::new)
                .push(file.strip_prefix(src()).unwrap().display().to_string());
        }
    }
    edges
}

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let edges = sibling_edges();
    let graph: BTreeMap<(Vec<String>, String), BTreeSet<String>> =
        edges
            .keys()
            .fold(BTreeMap::new(), |mut g, (parent, from, to)| {
                g.entry((parent.clone(), from.clone()))
                    .or_default()
                    .insert(to.clone());
                g
            });
    // Depth-first search for a cycle among the children of each parent.
    fn cycle(
        graph: &BTreeMap<(Vec<String>, String), BTreeSet<String>>,
        parent: &[String],
        node: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut c = stack[at..].to_vec();
            c.push(node.to_string());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        let next = graph.get(&(parent.to_vec(), node.to_string()));
        for to in next.into_iter().flatten() {
            if let Some(c) = cycle(graph, parent, to, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    for (parent, node) in graph.keys() {
        let mut done = BTreeSet::new();
        if let Some(c) = cycle(&graph, parent, node, &mut Vec::new(), &mut done) {
            let files: Vec<String> = c
                .windows(2)
                .map(|w| {
                    let key = (parent.clone(), w[0].clone(), w[1].clone());
                    format!("{} -> {}: {:?}", w[0], w[1], edges[&key])
                })
                .collect();
            panic!(
                "an import circle under crate::{}: {}\n{}",
                parent.join("::"),
                c.join(" -> "),
                files.join("\n")
            );
        }
    }
    // The check can fail: the adapter does depend on the protocol, and the protocol not on it.
    let key = |from: &str, to: &str| (Vec::new(), from.to_string(), to.to_string());
    assert!(edges.contains_key(&key("actor", "node")), "{edges:?}");
    assert!(!edges.contains_key(&key("node", "actor")), "{edges:?}");
}

#[test]
fn the_protocol_modules_use_nothing_of_stateright() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut seen = 0;
    for file in files {
        let module = module_of(&file);
        if !module
            .first()
            .is_some_and(|m| PROTOCOL.contains(&m.as_str()))
        {
            continue;
        }
        seen += 1;
        for (n, line) in code(&file).iter().enumerate() {
            assert!(
                !line.contains("stateright"),
                "{}:{}: the protocol must not use stateright: {line}",
                file.display(),
                n + 1
            );
        }
    }
    assert!(seen >= PROTOCOL.len(), "only {seen} protocol files found");
}
