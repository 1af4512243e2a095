//! Rule coverage, like TLC's action coverage: how many explored transitions took each rule of
//! the protocol ([`Rule`], named by the step functions themselves) and each situation that
//! matters but no single handler can see ([`Situation`], recognized by the checked model from
//! the states before and after a step). A rule no transition took is a rule the checker did not
//! check, whatever the properties say (`specs/multipaxos.md`, "Rule coverage").
//!
//! Counting is cheap: one relaxed atomic add per rule a step took, on a shard of counters that
//! belongs to the checker thread (no cache line is shared between threads). Every call of
//! `next_state` counts, so the few transitions stateright recomputes (to rebuild a path) are
//! counted again: the numbers are "transitions explored", not "distinct transitions".

use crate::rules::{Rule, Rules};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// A situation the checked model recognizes across a step (not a path through one handler).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Situation {
    /// A server wins Phase 1 in round 2 or later: it campaigned from a promise that was not
    /// untouched (it had voted, promised another leader, or led before).
    LeaderElectedAgain,
    /// A server that led before (it holds a decision or a vote of its own earlier ballot)
    /// campaigns again: a deposed or restarted leader.
    FormerLeaderCampaigns,
    /// A candidate counts a promise from a server that crashed and recovered, reporting the
    /// votes it persisted before the crash.
    RecoveredVoteReported,
    /// A server recovers from its stored state while its acceptor holds votes.
    RecoveryWithVotes,
}

impl Situation {
    /// Every situation.
    pub const ALL: [Situation; 4] = [
        Situation::LeaderElectedAgain,
        Situation::FormerLeaderCampaigns,
        Situation::RecoveredVoteReported,
        Situation::RecoveryWithVotes,
    ];

    /// The stable name.
    pub fn name(self) -> &'static str {
        match self {
            Situation::LeaderElectedAgain => "leader-elected-again",
            Situation::FormerLeaderCampaigns => "former-leader-campaigns",
            Situation::RecoveredVoteReported => "recovered-vote-reported",
            Situation::RecoveryWithVotes => "recovery-with-votes",
        }
    }

    /// What it is, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            Situation::LeaderElectedAgain => {
                "A server wins Phase 1 in round 2 or later (it campaigned from a used promise)."
            }
            Situation::FormerLeaderCampaigns => {
                "A server that led before campaigns again (deposed or restarted)."
            }
            Situation::RecoveredVoteReported => {
                "A candidate counts a promise that reports votes a recovered server persisted."
            }
            Situation::RecoveryWithVotes => {
                "A server recovers from its stored state while its acceptor holds votes."
            }
        }
    }
}

/// Rules no checked configuration can take, and why. The scenario tests
/// (`model/tests/scenarios/`) take them; everything else must be taken by `make check-full`.
pub const MODEL_UNREACHABLE: &[(Rule, &str)] = &[
    (
        Rule::NotFromServerIgnored,
        "model clients send only requests; a server message from a client is a scenario",
    ),
    (
        Rule::ClientBusyIgnored,
        "the checker offers a client's next operation only when its window has room",
    ),
    (
        Rule::ElectionTimeoutAtLeader,
        "a leader cancels its election timer in the step it wins; the guard is for a runtime \
         whose timer was already due",
    ),
    (
        Rule::HeartbeatTimeoutNotLeading,
        "a leader that steps down cancels its heartbeat timer in the same step",
    ),
    (
        Rule::ClientRetryBoundReached,
        "a client at its retry bound has no retry timer set (a guard for the bound itself)",
    ),
    (
        Rule::ReadOlderDropped,
        "a model client's script alternates writes and reads, and the write between two reads \
         puts the first in the session table, which answers or drops a late copy of it first",
    ),
];

/// Counters per coverage item: every [`Rule`], then every [`Situation`].
const ITEMS: usize = Rule::ALL.len() + Situation::ALL.len();
/// Threads beyond this share shards (still correct: the counters are atomic).
const SHARDS: usize = 16;

#[repr(align(128))]
struct Shard([AtomicU64; ITEMS]);

/// The counters of one checker run (shared by the model's actors and the model itself).
pub struct Coverage {
    shards: Box<[Shard]>,
}

impl std::fmt::Debug for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coverage").finish_non_exhaustive()
    }
}

impl Default for Coverage {
    fn default() -> Self {
        Coverage {
            shards: (0..SHARDS)
                .map(|_| Shard(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect(),
        }
    }
}

thread_local! {
    static SHARD: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS
    };
}

impl Coverage {
    fn add(&self, item: usize) {
        let shard = SHARD.with(|s| *s);
        self.shards[shard].0[item].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one transition's rules.
    pub fn rules(&self, rules: Rules) {
        if rules.is_empty() {
            return;
        }
        let shard = &self.shards[SHARD.with(|s| *s)].0;
        for rule in rules.iter() {
            shard[rule as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one transition's situation.
    pub fn situation(&self, situation: Situation) {
        self.add(Rule::ALL.len() + situation as usize);
    }

    fn count(&self, item: usize) -> u64 {
        self.shards
            .iter()
            .map(|s| s.0[item].load(Ordering::Relaxed))
            .sum()
    }

    /// The counts so far.
    pub fn report(&self) -> CoverageReport {
        let rules: BTreeMap<&'static str, u64> = Rule::ALL
            .iter()
            .map(|r| (r.name(), self.count(*r as usize)))
            .collect();
        let situations: BTreeMap<&'static str, u64> = Situation::ALL
            .iter()
            .map(|s| (s.name(), self.count(Rule::ALL.len() + *s as usize)))
            .collect();
        CoverageReport { rules, situations }
    }
}

/// A handle to a run's counters that takes no part in the model's equality or hashing (the
/// actors that carry it must stay comparable).
#[derive(Clone, Debug, Default)]
pub struct CoverageHandle(pub Option<Arc<Coverage>>);

impl PartialEq for CoverageHandle {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for CoverageHandle {}

impl std::hash::Hash for CoverageHandle {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// How often each rule and situation was taken in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CoverageReport {
    /// Per rule (by name), transitions that took it.
    pub rules: BTreeMap<&'static str, u64>,
    /// Per situation (by name), transitions that showed it.
    pub situations: BTreeMap<&'static str, u64>,
}

impl CoverageReport {
    /// The rules and situations no transition took that a checked configuration can take.
    pub fn untaken_reachable(&self) -> Vec<&'static str> {
        self.untaken()
            .into_iter()
            .filter(|name| !MODEL_UNREACHABLE.iter().any(|(r, _)| r.name() == *name))
            .collect()
    }

    /// The rules and situations no transition took, rules first.
    pub fn untaken(&self) -> Vec<&'static str> {
        self.rules
            .iter()
            .chain(&self.situations)
            .filter(|(_, n)| **n == 0)
            .map(|(name, _)| *name)
            .collect()
    }

    /// Adds another run's counts (for a suite of runs).
    pub fn merge(&mut self, other: &CoverageReport) {
        for (name, n) in &other.rules {
            *self.rules.entry(name).or_default() += n;
        }
        for (name, n) in &other.situations {
            *self.situations.entry(name).or_default() += n;
        }
    }
}
