//! The report printed at the end of `run`.

use super::args::RunArgs;
use super::nemesis::Nemesis;
use super::workload::ClientReport;
use paxos_impl::{Agreement, Cluster, Disagreement, NetStats};
use std::time::{Duration, Instant};

/// Everything the report says.
pub struct Summary {
    header: String,
    storage: String,
    completed: u64,
    reads: u64,
    writes: u64,
    elapsed: Duration,
    /// From the first completed command to the last.
    measured: Option<(Duration, Duration)>,
    latencies: Vec<Duration>,
    leader_ballots: usize,
    crashes: u64,
    partitions: u64,
    net: NetStats,
    agreement: Result<Agreement, Disagreement>,
    client_errors: Vec<String>,
    replica_failures: Vec<String>,
    seed: u64,
}

/// The `p`-th percentile of sorted values (nearest rank).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}ms", d.as_secs_f64() * 1000.0)
}

impl Summary {
    /// Collects the report from the cluster (before it shuts down) and the clients' reports.
    pub fn collect(
        cluster: &Cluster,
        args: &RunArgs,
        seed: u64,
        storage: String,
        started: Instant,
        reports: &[ClientReport],
        nemesis: &Nemesis,
    ) -> Summary {
        let mut latencies: Vec<Duration> = reports
            .iter()
            .flat_map(|r| r.latencies.iter().copied())
            .collect();
        latencies.sort();
        let client_errors = reports.iter().filter_map(|r| r.error.clone()).collect();
        let replica_failures = cluster
            .statuses()
            .iter()
            .enumerate()
            .filter_map(|(r, s)| s.failure.as_ref().map(|f| format!("replica {r}: {f}")))
            .collect();
        Summary {
            header: format!(
                "paxos-impl run: {} replicas, {} clients, seed {seed}, loss {}, dup {}, delay {:?}..{:?}, prepare-skip {}",
                args.replicas,
                args.clients,
                args.loss,
                args.dup,
                args.delay_ms.start,
                args.delay_ms.end,
                !args.no_prepare_skip
            ),
            storage,
            completed: reports.iter().map(|r| r.reads + r.writes).sum(),
            reads: reports.iter().map(|r| r.reads).sum(),
            writes: reports.iter().map(|r| r.writes).sum(),
            elapsed: started.elapsed(),
            measured: {
                let first = reports.iter().filter_map(|r| r.first_done).min();
                let last = reports.iter().filter_map(|r| r.last_done).max();
                first.zip(last).map(|(first, last)| (first - started, last - first))
            },
            latencies,
            leader_ballots: cluster.leader_ballots().len(),
            crashes: nemesis.crashes,
            partitions: nemesis.partitions,
            net: cluster.net_stats(),
            agreement: cluster.check_agreement(),
            client_errors,
            replica_failures,
            seed,
        }
    }

    /// Whether the run passed: agreement holds, every client finished, no replica failed.
    pub fn ok(&self) -> bool {
        self.agreement.is_ok() && self.client_errors.is_empty() && self.replica_failures.is_empty()
    }

    /// Prints the report on stdout (failures also on stderr).
    pub fn print(&self) {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        println!("{}", self.header);
        println!("storage:           {}", self.storage);
        println!(
            "commands:          {} completed ({} reads, {} writes) in {:.2}s",
            self.completed, self.reads, self.writes, secs
        );
        // From the first decided command: a leader election before it is not throughput.
        match self.measured {
            Some((to_first, span)) if self.completed > 1 && !span.is_zero() => println!(
                "throughput:        {:.0} ops/s (from the first completed command, {} after the start, to the last)",
                (self.completed - 1) as f64 / span.as_secs_f64(),
                ms(to_first)
            ),
            _ => println!("throughput:        - (fewer than two commands completed)"),
        }
        let l = &self.latencies;
        println!(
            "latency:           p50 {}  p99 {}  max {}",
            ms(percentile(l, 50.0)),
            ms(percentile(l, 99.0)),
            ms(l.last().copied().unwrap_or_default())
        );
        println!(
            "leader changes:    {} ({} distinct leader ballots observed)",
            self.leader_ballots.saturating_sub(1),
            self.leader_ballots
        );
        println!(
            "faults injected:   {} leader crashes, {} partitions",
            self.crashes, self.partitions
        );
        let decided = self.agreement.as_ref().map_or(0, |a| a.slots);
        // Over the commands completed: every message counts (elections, reads, heartbeats),
        // and a slot may hold a batch, or a no-op, so a count per slot would mean little.
        let per = |n: u64| n as f64 / self.completed.max(1) as f64;
        println!(
            "messages:          {} sent, {} dropped ({} lost, {} partitioned, {} to a down replica), {} duplicated",
            self.net.sent,
            self.net.dropped(),
            self.net.dropped_loss,
            self.net.dropped_partition,
            self.net.dropped_down,
            self.net.duplicated
        );
        println!(
            "per command:       {:.2} sent, {:.2} dropped, {:.2} duplicated ({} commands completed, {decided} slots decided)",
            per(self.net.sent),
            per(self.net.dropped()),
            per(self.net.duplicated),
            self.completed
        );
        match &self.agreement {
            Ok(a) => println!(
                "agreement:         ok ({} slots, {} decisions compared)",
                a.slots, a.decisions
            ),
            Err(e) => {
                println!("agreement:         FAILED: {e}");
                eprintln!("error: {e} (seed {})", self.seed);
            }
        }
        for e in &self.client_errors {
            println!("client failure:    {e}");
            eprintln!("error: a client gave up: {e} (seed {})", self.seed);
        }
        for f in &self.replica_failures {
            println!("replica failure:   {f}");
            eprintln!("error: {f} (seed {})", self.seed);
        }
    }
}
