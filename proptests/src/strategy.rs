//! proptest strategies for [`Case`]s. Everything a case holds shrinks towards less: fewer
//! clients and operations, fewer and earlier faults, lower loss and duplication rates, shorter
//! delays, memory storage, three replicas.

use crate::case::{
    Case, ClientStep, Fault, FaultStep, CLIENTS_MAX, CLIENT_PAUSE_MS_MAX, DELAY_US_MAX, FAULTS_MAX,
    FAULT_PAUSE_MS_MAX, OPS_PER_CLIENT_MAX,
};
use paxos_impl::CrashPoint;
use paxos_model::config::ServerConfig;
use proptest::prelude::*;

/// Limit: the highest loss and duplication rates generated (progress after the heal must
/// remain likely: the rates stay in force while the cluster recovers).
pub const RATE_MAX: f64 = 0.2;

/// One client's operations: mostly writes, with think times.
pub fn client_steps() -> impl Strategy<Value = Vec<ClientStep>> {
    prop::collection::vec(
        (0..=CLIENT_PAUSE_MS_MAX, prop::bool::weighted(0.6))
            .prop_map(|(pause_ms, write)| ClientStep { pause_ms, write }),
        1..=OPS_PER_CLIENT_MAX,
    )
}

/// The workload: one to three clients.
pub fn clients() -> impl Strategy<Value = Vec<Vec<ClientStep>>> {
    prop::collection::vec(client_steps(), 1..=CLIENTS_MAX)
}

/// A partition fault (or its healing).
pub fn partition_fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        2 => Just(Fault::IsolateLeader),
        2 => any::<u8>().prop_map(Fault::IsolateOther),
        1 => Just(Fault::Heal),
    ]
}

/// A point inside a batch's I/O.
pub fn crash_point() -> impl Strategy<Value = CrashPoint> {
    prop::sample::select(CrashPoint::ALL.to_vec())
}

/// Any fault: crashes (between batches and inside a batch's I/O) and restarts, of the leader and
/// of others, and partitions.
pub fn any_fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        3 => Just(Fault::CrashLeader),
        2 => any::<u8>().prop_map(Fault::CrashOther),
        1 => crash_point().prop_map(Fault::CrashLeaderAt),
        1 => (any::<u8>(), crash_point()).prop_map(|(k, point)| Fault::CrashOtherAt(k, point)),
        3 => any::<u8>().prop_map(Fault::Restart),
        1 => Just(Fault::IsolateLeader),
        1 => any::<u8>().prop_map(Fault::IsolateOther),
        1 => Just(Fault::Heal),
    ]
}

/// A schedule of faults drawn from `fault`.
pub fn schedule(fault: impl Strategy<Value = Fault>) -> impl Strategy<Value = Vec<FaultStep>> {
    prop::collection::vec(
        (0..=FAULT_PAUSE_MS_MAX, fault).prop_map(|(pause_ms, fault)| FaultStep { pause_ms, fault }),
        0..=FAULTS_MAX,
    )
}

fn replicas() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(3usize), 1 => Just(5usize)]
}

/// The leader's batch and window limits and how reads are served, `(batch, window,
/// read_index, lease_reads)`: the runtime's defaults first (what shrinking goes back to), then
/// small windows that make requests wait and batch up, one command per slot with no practical
/// window (as before batching), reads through the log, and lease reads (with ReadIndex reads
/// as their fallback).
pub fn limits() -> impl Strategy<Value = (usize, usize, bool, bool)> {
    let (batch, window) = (
        ServerConfig::BATCH_COMMANDS_MAX_DEFAULT,
        ServerConfig::WINDOW_SLOTS_MAX_DEFAULT,
    );
    prop_oneof![
        3 => Just((batch, window, true, false)),
        1 => Just((2, 1, true, false)),
        1 => Just((batch, 1, true, false)),
        1 => Just((1, 1024, true, false)),
        1 => Just((batch, window, false, false)),
        1 => Just((2, 1, false, false)),
        2 => Just((batch, window, true, true)),
        1 => Just((2, 1, true, true)),
    ]
}

/// Pre-vote and check-quorum (off by default in the runtime): on in one case in four.
pub fn election_switches() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.25)
}

/// The parallel leader write (the runtime's default): on in three crash or disk cases in four
/// (a crash can fall between a leader's `Accept` and its own write), off in the others; on in
/// every other case.
pub fn parallel_leader_write() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.75)
}

/// Requests each client keeps outstanding: one at a time in half the cases, else a pipelined
/// session of 2 to 4 (`ClusterConfig::client_window`; all clients then run in one driver).
pub fn client_window() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(1), 1 => 2..=4usize]
}

fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(0.0), 2 => 0.0..RATE_MAX]
}

/// A case of the network kind: loss, duplication, delays and partitions; no crashes.
pub fn network_case() -> impl Strategy<Value = Case> {
    (
        replicas(),
        any::<u64>(),
        rate(),
        rate(),
        0..=DELAY_US_MAX,
        clients(),
        schedule(partition_fault()),
        limits(),
        election_switches(),
        client_window(),
    )
        .prop_map(
            |(
                replicas,
                seed,
                loss,
                dup,
                delay_us_max,
                clients,
                faults,
                (batch, window, read_index, lease_reads),
                election_switches,
                client_window,
            )| Case {
                loss,
                dup,
                delay_us_max,
                clients,
                faults,
                batch,
                window,
                client_window,
                read_index,
                lease_reads,
                election_switches,
                ..Case::quiet(replicas, seed)
            },
        )
}

/// A case of the crash kind: crashes and restarts of the leader and of others, partitions,
/// and milder network faults. One case in eight keeps its state on disk; one in eight may take
/// a majority down at once (and then expects progress only after the heal).
pub fn crash_case() -> impl Strategy<Value = Case> {
    (
        replicas(),
        any::<u64>(),
        prop_oneof![2 => Just(0.0), 1 => 0.0..RATE_MAX / 2.0],
        prop_oneof![2 => Just(0.0), 1 => 0.0..RATE_MAX / 2.0],
        0..=DELAY_US_MAX,
        prop::bool::weighted(0.125),
        clients(),
        schedule(any_fault()),
        prop::bool::weighted(0.125),
        limits(),
        (
            election_switches(),
            parallel_leader_write(),
            client_window(),
        ),
    )
        .prop_map(
            |(
                replicas,
                seed,
                loss,
                dup,
                delay_us_max,
                disk,
                clients,
                faults,
                majority_down,
                (batch, window, read_index, lease_reads),
                (election_switches, parallel_leader_write, client_window),
            )| {
                Case {
                    loss,
                    dup,
                    delay_us_max,
                    disk,
                    clients,
                    faults,
                    majority_down,
                    batch,
                    window,
                    client_window,
                    read_index,
                    lease_reads,
                    election_switches,
                    parallel_leader_write,
                    ..Case::quiet(replicas, seed)
                }
            },
        )
}

/// A crash-heavy fault: crashes (some inside a batch's I/O) and restarts of the leader and of
/// others, sometimes a partition.
pub fn crash_fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        3 => Just(Fault::CrashLeader),
        3 => any::<u8>().prop_map(Fault::CrashOther),
        2 => crash_point().prop_map(Fault::CrashLeaderAt),
        2 => (any::<u8>(), crash_point()).prop_map(|(k, point)| Fault::CrashOtherAt(k, point)),
        3 => any::<u8>().prop_map(Fault::Restart),
        1 => Just(Fault::IsolateLeader),
        1 => Just(Fault::Heal),
    ]
}

/// A case of the disk kind: durable state on disk, and a schedule of crashes and restarts that
/// may take any number of replicas down at once, up to the whole cluster (progress is then
/// expected only after the heal, when every replica restarts from its files).
pub fn disk_case() -> impl Strategy<Value = Case> {
    (
        replicas(),
        any::<u64>(),
        prop_oneof![2 => Just(0.0), 1 => 0.0..RATE_MAX / 2.0],
        0..=DELAY_US_MAX,
        clients(),
        schedule(crash_fault()),
        limits(),
        (
            election_switches(),
            parallel_leader_write(),
            client_window(),
        ),
    )
        .prop_map(
            |(
                replicas,
                seed,
                dup,
                delay_us_max,
                clients,
                faults,
                (batch, window, read_index, lease_reads),
                (election_switches, parallel_leader_write, client_window),
            )| {
                Case {
                    dup,
                    delay_us_max,
                    disk: true,
                    clients,
                    faults,
                    majority_down: true,
                    batch,
                    window,
                    client_window,
                    read_index,
                    lease_reads,
                    election_switches,
                    parallel_leader_write,
                    ..Case::quiet(replicas, seed)
                }
            },
        )
}
