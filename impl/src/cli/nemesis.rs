//! The fault schedule of `run`: crash the observed leader and isolate random minorities,
//! periodically, never making more than a minority unavailable at once (crashed or isolated),
//! so the cluster can always make progress once the network delivers.

use paxos_impl::{Cluster, ClusterError};
use rand::seq::IteratorRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

/// Periodic crashes and partitions.
pub struct Nemesis {
    crash_every: Option<Duration>,
    partition_every: Option<Duration>,
    next_crash: Option<Instant>,
    next_partition: Option<Instant>,
    crashed: Option<(usize, Instant)>,
    isolated: Option<(Vec<usize>, Instant)>,
    rng: ChaCha8Rng,
    budget: usize,
    /// Crashes done.
    pub crashes: u64,
    /// Partitions done.
    pub partitions: u64,
}

impl Nemesis {
    /// A schedule for `replicas` replicas, starting now.
    pub fn new(
        replicas: usize,
        crash_every: Option<Duration>,
        partition_every: Option<Duration>,
        seed: u64,
    ) -> Nemesis {
        let now = Instant::now();
        Nemesis {
            crash_every,
            partition_every,
            next_crash: crash_every.map(|d| now + d),
            next_partition: partition_every.map(|d| now + d),
            crashed: None,
            isolated: None,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6e65_6d65_7369_7321),
            budget: (replicas - 1) / 2,
            crashes: 0,
            partitions: 0,
        }
    }

    /// Whether faults can be injected at all (a cluster of 1 or 2 tolerates none).
    pub fn can_fail_any(&self) -> bool {
        self.budget > 0
    }

    fn unavailable(&self) -> usize {
        usize::from(self.crashed.is_some()) + self.isolated.as_ref().map_or(0, |(g, _)| g.len())
    }

    /// Injects or repairs whatever is due.
    pub fn tick(&mut self, cluster: &Cluster) -> Result<(), ClusterError> {
        let now = Instant::now();
        if let Some((replica, at)) = self.crashed {
            if now >= at {
                self.crashed = None;
                cluster.restart(replica)?;
            }
        }
        if let Some((_, at)) = &self.isolated {
            if now >= *at {
                self.isolated = None;
                cluster.heal();
            }
        }
        if let (Some(every), Some(next)) = (self.crash_every, self.next_crash) {
            if now >= next {
                self.next_crash = Some(next + every);
                let leader = cluster.leader();
                let isolated = |r| self.isolated.as_ref().is_some_and(|(g, _)| g.contains(&r));
                if let Some(leader) = leader {
                    let extra = usize::from(!isolated(leader));
                    if self.crashed.is_none() && self.unavailable() + extra <= self.budget {
                        cluster.crash(leader)?;
                        self.crashes += 1;
                        self.crashed = Some((leader, now + every / 2));
                    }
                }
            }
        }
        if let (Some(every), Some(next)) = (self.partition_every, self.next_partition) {
            if now >= next {
                self.next_partition = Some(next + every);
                let room = self.budget.saturating_sub(self.unavailable());
                if self.isolated.is_none() && room > 0 {
                    let size = self.rng.random_range(1..=room);
                    let crashed = self.crashed.map(|(r, _)| r);
                    let group: Vec<usize> = (0..cluster.replicas())
                        .filter(|r| Some(*r) != crashed)
                        .choose_multiple(&mut self.rng, size);
                    cluster.isolate(&group)?;
                    self.partitions += 1;
                    self.isolated = Some((group, now + every / 2));
                }
            }
        }
        Ok(())
    }

    /// Heals the network and restarts the crashed replica.
    pub fn repair(&mut self, cluster: &Cluster) -> Result<(), ClusterError> {
        self.isolated = None;
        cluster.heal();
        if let Some((replica, _)) = self.crashed.take() {
            cluster.restart(replica)?;
        }
        Ok(())
    }
}
