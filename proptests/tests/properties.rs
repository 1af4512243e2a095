//! The property suites: generated workloads and faults on the real runtime, every recording
//! checked against the model (checks 1–3), and liveness after every fault is healed.
//!
//! `cargo test --release -p paxos-proptests` runs 64 cases of each; `PROPTEST_CASES=N` runs N.
//! A failure prints its seed, the file its recording was written to and the command that
//! replays it; proptest then shrinks the case and persists it in
//! `proptests/proptest-regressions/properties.txt`.

use paxos_proptests::runner::run_checked;
use paxos_proptests::{proptest_config, strategy, Case};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::path::PathBuf;

fn check(case: &Case, name: &str) -> Result<(), TestCaseError> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("recordings");
    match run_checked(case, name, &dir) {
        Ok(checked) => {
            if std::env::var_os("PAXOS_PROPTESTS_VERBOSE").is_some() {
                let r = checked.report.replay.as_ref().expect("passed");
                eprintln!(
                    "{name} seed {}: {} replicas, batch {} window {} client window {}, {} events, {} steps, {} \
                     crashes, {} restarts, {} drops, {} duplicates, {} returns, {} batched \
                     slots; faults {:?}",
                    case.seed,
                    case.replicas,
                    case.batch,
                    case.window,
                    case.client_window,
                    r.events,
                    r.steps,
                    r.crashes,
                    r.recoveries,
                    r.drops,
                    r.duplicates,
                    r.returns,
                    checked
                        .report
                        .observable
                        .as_ref()
                        .map_or(0, |s| s.batched_slots),
                    checked.run.applied
                );
            }
            Ok(())
        }
        Err(message) => {
            // The seed, the recording and the replay command; the rest is in the final report.
            let head: Vec<&str> = message.lines().take(3).collect();
            eprintln!("{}", head.join("\n"));
            Err(TestCaseError::fail(message))
        }
    }
}

proptest! {
    #![proptest_config(proptest_config(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/properties.txt"
    )))]

    /// Loss, duplication, delays and partitions (isolating the leader or others).
    #[test]
    fn network_faults_and_partitions(case in strategy::network_case()) {
        check(&case, "network")?;
    }

    /// Crashes and restarts of the leader and of others, with partitions and milder network
    /// faults, some on disk, some taking a majority down for a while.
    #[test]
    fn crashes_and_restarts(case in strategy::crash_case()) {
        check(&case, "crash")?;
    }

    /// Durable state on disk; crashes and restarts of any number of replicas at once, up to
    /// the whole cluster, each restart from the replica's files.
    #[test]
    fn restarts_from_disk(case in strategy::disk_case()) {
        check(&case, "disk")?;
    }
}
