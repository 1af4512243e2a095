//! # Property tests of the threaded runtime against the model
//!
//! The model checker proves the step functions safe in small configurations; the runtime runs
//! the very same step functions on threads, a real clock, channels and a disk. This crate closes
//! the loop: it drives the runtime with generated workloads and faults, records everything that
//! happens, and checks the recording against the model. A run passes only if it was an
//! execution the model allows *and* it was safe.
//!
//! ## What a case is
//! A [`case::Case`] is plain data: 3 or 5 replicas, one to three clients with their reads and
//! writes, loss/duplication rates and delays, and a schedule of crashes, restarts and
//! partitions aimed at the leader or at others (never more than a minority down at once unless
//! the case says so). [`strategy`] generates and shrinks cases; [`runner`] runs one for well
//! under a second of faults, then heals every fault and requires every client operation to
//! complete within a bound (liveness after healing).
//!
//! ## The three checks ([`checks::check`])
//! 1. **Replay** ([`replay`]): every step of every replica and client, replayed through the
//!    model's step functions (`Node::start`/`Node::step`, by the runtime's own dispatch
//!    `paxos_impl::record::Input::run`) from the state the replay says the actor was in, gives
//!    the recorded next state and outputs; every delivered message was sent (or duplicated)
//!    earlier; every timer that fired was set; every restart began from the last persisted
//!    state. The first step that diverges is reported.
//! 2. **Path** ([`path`]): the recorded sequence, mapped to stateright actions, is accepted
//!    action by action by `PaxosModel::next_state` (each action checked to be enabled first),
//!    the successors' actor states equal the recorded ones, and every always-property of the
//!    model (`agreement`, `validity`, `linearizable`, `chosen`, `exactly-once`, and `progress`,
//!    liveness judged in terminal states) holds at every state of the path.
//! 3. **Observable safety** ([`observable`]): the replicas' decided logs agree, every decided
//!    command was submitted, every command was executed exactly once (every replica's state
//!    machine equals the exactly-once execution of the agreed log), every client got the result
//!    of its command, and the client history is linearizable (todc-utils' Wing-Gong-Lowe checker
//!    judges every history; stateright's `LinearizabilityTester` also judges those with few
//!    operations in flight at once, and the two must agree).
//!
//! `specs/runtime.md` explains the mapping from runtime events to model actions and what each
//! check proves and does not prove.
//!
//! ## When a case fails
//! The failure names the seed, writes the recording ([`recording::Recording`], JSON lines) to a
//! file and prints the command that re-runs checks 1–3 on it:
//! `cargo run --release -p paxos-proptests --bin replay -- FILE`. proptest shrinks the case and
//! persists it in `proptests/proptest-regressions/`. A seed reproduces the fault draws and timer
//! durations but not the thread interleaving, so the recording, not the seed, is the exact
//! reproduction.
#![deny(missing_docs)]

pub mod case;
pub mod checks;
pub mod finding;
pub mod observable;
pub mod path;
pub mod recording;
pub mod replay;
pub mod runner;
pub mod strategy;

pub use case::Case;
pub use checks::{check, Report};
pub use finding::{Check, Finding, Kind};
pub use recording::{Recording, RunConfig};

use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

/// Cases per property test when `PROPTEST_CASES` is not set.
pub const CASES_DEFAULT: u32 = 64;
/// Limit: shrinking steps after a failure (each step runs a case on the real runtime), unless
/// `PROPTEST_MAX_SHRINK_ITERS` says otherwise.
pub const SHRINK_ITERS_MAX: u32 = 64;
/// Limit: time spent shrinking after a failure, in milliseconds, unless
/// `PROPTEST_MAX_SHRINK_TIME` says otherwise.
pub const SHRINK_TIME_MS_MAX: u32 = 180_000;

/// The configuration of the property suites: [`CASES_DEFAULT`] cases (or `PROPTEST_CASES`),
/// bounded shrinking, and failures persisted to `regressions` (an absolute path, e.g.
/// `concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/properties.txt")`, so the file
/// lands in this crate's source directory, ready to commit).
pub fn proptest_config(regressions: &'static str) -> ProptestConfig {
    let mut config = ProptestConfig::default(); // Reads the PROPTEST_* variables.
    let set = |name: &str| std::env::var_os(name).is_some();
    if !set("PROPTEST_CASES") {
        config.cases = CASES_DEFAULT;
    }
    if !set("PROPTEST_MAX_SHRINK_ITERS") {
        config.max_shrink_iters = SHRINK_ITERS_MAX;
    }
    if !set("PROPTEST_MAX_SHRINK_TIME") {
        config.max_shrink_time = SHRINK_TIME_MS_MAX;
    }
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(regressions)));
    config
}
