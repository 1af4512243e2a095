//! The command line as users type it: exit statuses, the JSON shapes, the Explorer's page.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn paxos_model(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paxos-model"))
        .args(args)
        .output()
        .expect("paxos-model runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON value ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn invalid_arguments_exit_2_with_one_line() {
    for args in [
        &["check", "--servers", "0"][..],
        &["check", "--clients", "0"],
        &["check", "--servers", "9"],
        &["check", "--network", "carrier-pigeon"],
        &["check", "--bug", "no-such-bug"],
        &["check", "--checker", "dfs", "--max-depth", "3"],
        &["check", "--checker", "bfs", "--max-depth", "0"],
        &["check", "--timeout", "0"],
        &["check", "--literal-loss"],
        &["explore", "--elections", "99"],
    ] {
        let out = paxos_model(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("paxos-model: error: "), "{stderr}");
    }
    let out = paxos_model(&["check", "--servers", "0"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "paxos-model: error: --servers must be between 1 and 7, got 0"
    );
    // stateright reads a target depth of 0 as "no limit": the run would explore every state
    // and still be reported incomplete.
    let out = paxos_model(&["check", "--checker", "bfs", "--max-depth", "0"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "paxos-model: error: --max-depth must be at least 1"
    );
}

/// A run cut short proves nothing: no property reads `holds`, the verdict is not `PASS`, and
/// the exit status (3) tells it apart from a proof (0) and from a violation (1).
#[test]
fn an_incomplete_run_without_violation_exits_3_and_claims_nothing() {
    let out = paxos_model(&["check", "--checker", "bfs", "--max-depth", "3"]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Done: INCOMPLETE"), "{stdout}");
    for line in [
        "  agreement                always     no violation found (run incomplete)",
        "  linearizable             always     no violation found (run incomplete)",
        "  decided                  sometimes  not found yet (run incomplete)",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    assert!(!stdout.contains(" holds"), "{stdout}");
    assert!(!stdout.contains("PASS"), "{stdout}");
    assert!(stdout.trim_end().ends_with("\nINCOMPLETE"), "{stdout}");

    let out = paxos_model(&["check", "--checker", "bfs", "--max-depth", "3", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v = json(&out);
    assert_eq!(v["complete"], false);
    for p in v["properties"].as_array().unwrap() {
        let expected = match p["expectation"].as_str().unwrap() {
            "always" => "no-violation-found",
            _ => "not-found-yet",
        };
        assert_eq!(p["status"], expected, "{p}");
    }
}

#[test]
fn check_json_is_one_object_with_every_property() {
    let out = paxos_model(&["check", "--json", "--clients", "1", "--elections", "2"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["checker"], "dfs");
    assert_eq!(v["complete"], true);
    let unique = v["unique_states"].as_u64().unwrap();
    assert!(unique > 1_000, "{unique}");
    assert!(v["total_states"].as_u64().unwrap() >= unique);
    let rules = v["coverage"]["rules"].as_object().unwrap();
    assert!(
        rules["takeover-reproposes"].as_u64().unwrap() > 0,
        "{rules:?}"
    );
    assert!(
        rules.contains_key("takeover-adopts-higher-ballot"),
        "{rules:?}"
    );
    assert!(v["max_depth"].as_u64().unwrap() > 0);
    assert!(v["seconds"].as_f64().is_some());
    assert_eq!(v["config"]["servers"], 3);
    assert_eq!(v["config"]["clients"], 1);
    assert_eq!(v["config"]["network"], "unordered-nonduplicating");
    let props = v["properties"].as_array().unwrap();
    let names: Vec<&str> = props.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "agreement",
            "validity",
            "linearizable",
            "chosen",
            "exactly-once",
            "answerable",
            "progress",
            "decided",
            "all-clients-done",
            "value-chosen",
            "applied-at-two-servers",
            "awaited-request-executed",
            "quiescent-leader",
            "new-leader-decides"
        ]
    );
    for p in props {
        match p["expectation"].as_str().unwrap() {
            "always" => {
                assert_eq!(p["status"], "holds");
                assert!(p["counterexample"].is_null());
            }
            "sometimes" => {
                assert_eq!(p["status"], "found");
                assert!(!p["counterexample"].as_array().unwrap().is_empty());
            }
            other => panic!("expectation {other}"),
        }
    }
}

#[test]
fn a_violation_exits_1_and_prints_its_counterexample_and_explorer_path() {
    let out = paxos_model(&["check", "--checker", "bfs", "--bug", "half-quorum"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("agreement                always     VIOLATED"),
        "{stdout}"
    );
    // The run stops at the first violation, so the other always-properties are not proved.
    assert!(
        stdout.contains("validity                 always     no violation found (run incomplete)"),
        "{stdout}"
    );
    assert!(stdout.contains("Counterexample for agreement"), "{stdout}");
    assert!(stdout.contains("  1. "), "{stdout}");
    assert!(
        stdout.contains("paxos-model explore --bug half-quorum"),
        "{stdout}"
    );
    assert!(
        stdout.contains("http://localhost:3000/#/steps/"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("FAIL"));
}

#[test]
fn bugs_json_lists_every_bug_with_its_flags() {
    let out = paxos_model(&["bugs", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let bugs = v.as_array().unwrap();
    assert!(bugs.len() >= 10);
    for b in bugs {
        assert!(!b["name"].as_str().unwrap().is_empty());
        assert!(!b["description"].as_str().unwrap().is_empty());
        assert!(b["flags"].is_array());
        assert!([
            "agreement",
            "validity",
            "linearizable",
            "chosen",
            "exactly-once",
            "progress",
            "ballots-pre-voted",
            "pre-vote-respects-leader",
            "check-quorum-heard-majority"
        ]
        .contains(&b["violates"].as_str().unwrap()));
    }
    let volatile = bugs
        .iter()
        .find(|b| b["name"] == "volatile-acceptor")
        .unwrap();
    // The flags of the suite entry that catches it (`crash`).
    assert_eq!(
        volatile["flags"],
        serde_json::json!([
            "--clients",
            "1",
            "--ops-per-client",
            "2",
            "--elections",
            "2",
            "--crashes",
            "1",
            "--campaigners",
            "3"
        ])
    );
}

/// `make explore` serves stateright's Explorer: the page at `/` loads, and so does the state
/// at the root of the state space.
#[test]
fn explore_serves_the_explorer() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_paxos-model"))
        .args(["explore", "--address", &address])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let get = |path: &str| -> Option<String> {
        let mut stream = TcpStream::connect(&address).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        Some(response)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        if let Some(page) = get("/") {
            break page;
        }
        assert!(Instant::now() < deadline, "the Explorer did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    let states = get("/.states").unwrap_or_default();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.to_lowercase().contains("<html"), "{page}");
    assert!(states.starts_with("HTTP/1.1 200"), "{states}");
    assert!(states.contains("\"state\""), "{states}");
}

/// Runs `paxos-model args`, killing it (and failing) if it has not exited within 20 s: a
/// regression that starts the Explorer must not hang the test.
fn paxos_model_with_deadline(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paxos-model"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paxos-model runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("paxos-model {args:?} did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// stateright unwraps its own bind: the address is bound first, so a bad one is a usage error.
#[test]
fn explore_on_a_bad_address_or_a_port_in_use_exits_2_with_one_line() {
    let out = paxos_model_with_deadline(&["explore", "--address", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "paxos-model: error: cannot serve the Explorer on nonsense: invalid socket address"
    );

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = paxos_model_with_deadline(&["explore", "--address", &address]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "paxos-model: error: cannot serve the Explorer on {address}: "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("in use"), "{stderr}");
    drop(taken);
}

/// A complete run whose bounds never reach a sometimes-property fails, and says which bound
/// leaves out what the property needs; the remedy it names does reach it.
#[test]
fn unreachable_reasons_name_the_bound() {
    let status_of = |out: &serde_json::Value, name: &str| {
        out["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed"))
            .clone()
    };
    for (bounds, remedy, unreached) in [
        (
            &["--check-quorum", "--elections", "1"][..],
            &["--check-quorum", "--elections", "2"][..],
            &[
                "applied-at-two-servers",
                "leader-stepped-down",
                "check-quorum-passed",
            ][..],
        ),
        (
            &["--elections", "1"],
            &["--elections", "1", "--announce-decisions"],
            &["applied-at-two-servers"],
        ),
        (
            &["--elections", "2", "--campaigners", "1", "--crashes", "1"],
            &["--elections", "2", "--campaigners", "2"],
            &["applied-at-two-servers"],
        ),
    ] {
        let run = |flags: &[&str]| {
            let mut args = vec!["check", "--json"];
            args.extend_from_slice(flags);
            let out = paxos_model(&args);
            (out.status.code(), json(&out))
        };
        let (code, out) = run(bounds);
        assert_eq!(code, Some(1), "{bounds:?}");
        assert_eq!(out["complete"], true, "{bounds:?}");
        for name in unreached {
            let p = status_of(&out, name);
            assert_eq!(p["status"], "not found", "{bounds:?}: {p}");
            assert!(
                p["unreachable_because"]
                    .as_str()
                    .is_some_and(|w| !w.is_empty()),
                "{bounds:?}: {p}"
            );
        }
        // Only the unreached properties carry a reason.
        let with_reason = out["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p.get("unreachable_because").is_some())
            .count();
        assert_eq!(with_reason, unreached.len(), "{bounds:?}");
        let (code, out) = run(remedy);
        assert_eq!(code, Some(0), "{remedy:?}: {out}");
        for name in unreached {
            assert_eq!(status_of(&out, name)["status"], "found", "{remedy:?}");
        }
    }
    // The report says it in words, under the property and above the verdict.
    let out = paxos_model(&["check", "--check-quorum", "--elections", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("      why: a leader checks its quorum"),
        "{text}"
    );
    assert!(
        text.contains(
            "No always-property was violated, but 3 sometimes-properties were never reached"
        ),
        "{text}"
    );
    assert!(text.trim_end().ends_with("FAIL"), "{text}");
}
