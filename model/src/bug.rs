//! Known-bad variants of the protocol. Each one turns on exactly one small, plausible-looking
//! deviation at the place where the correct code stands (search for `Bug::`), so users can watch
//! the checker catch it. With no bug selected (`ServerConfig::bug == None`) nothing changes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One deliberate protocol bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Bug {
    /// A new leader ignores the values in the promises and proposes its own commands.
    IgnorePromisedValues,
    /// A new leader adopts the first value it hears of for a slot, not the highest-ballot one.
    AdoptAnyValue,
    /// An acceptor accepts a proposal whose ballot is below the one it promised.
    AcceptBelowPromise,
    /// Quorums are `n/2` (rounded down) instead of a majority.
    HalfQuorum,
    /// Acceptors do not persist their promise and accepted entries.
    VolatileAcceptor,
    /// A server that starts an election skips Phase 1 and leads at once.
    SkipPhase1,
    /// Ballots compare by round only: two servers can own "the same" ballot.
    BallotWithoutLeader,
    /// Votes are counted per message, not per acceptor.
    CountMessages,
    /// The leader replies to the client when it proposes, before the command is decided.
    ReplyBeforeDecide,
    /// The leader answers reads from its local state, not through the log.
    LeaderLocalRead,
    /// A new leader re-proposes the reported values but leaves the holes between them open.
    SkipHoleFill,
    /// A new leader takes a value reported in a promise as decided.
    LearnFromPromise,
    /// The learner applies a decided slot as soon as it learns it, not in slot order.
    ApplyOutOfOrder,
    /// An acceptor votes in a ballot above its promise without raising the promise.
    AcceptKeepsPromise,
    /// A new leader fills every open slot with a no-op, reported values included.
    NoopTakeover,
    /// A ReadIndex read is answered once confirmed, before its read index is applied.
    ReadBeforeApplied,
    /// The leader answers every command of a batch with the result of the batch's last one.
    BatchOneResult,
    /// A decision does not reopen the window: commands queued while it was full stay queued.
    WindowStuck,
    /// A server that grants a pre-vote also promises its ballot.
    PreVotePromises,
    /// A server grants pre-votes although it heard from a leader since its election timer fired.
    PreVoteIgnoresLeader,
    /// Below the commit point, a server learns its vote of any ballot, not only the leader's.
    CommitAnyBallot,
    /// Parallel leader write: the leader counts its own vote before the vote is durable.
    LeaderCountsUnsavedVote,
    /// An acceptor holding a lease grant promises a newer ballot (a `Prepare`, its own
    /// campaign) although its grant has not expired.
    LeaseReadAfterNewerPromise,
    /// A session keeps only its client's latest executed request (a window of 1), although
    /// clients keep several requests outstanding.
    SessionKeepsLatestOnly,
    /// Check-quorum: a leader that passes a check keeps the answers it counted for the next.
    CheckQuorumKeepsStaleAcks,
}

impl Bug {
    /// Every bug, in the order `paxos-model bugs` lists them.
    pub const ALL: [Bug; 25] = [
        Bug::IgnorePromisedValues,
        Bug::AdoptAnyValue,
        Bug::AcceptBelowPromise,
        Bug::HalfQuorum,
        Bug::VolatileAcceptor,
        Bug::SkipPhase1,
        Bug::BallotWithoutLeader,
        Bug::CountMessages,
        Bug::ReplyBeforeDecide,
        Bug::LeaderLocalRead,
        Bug::SkipHoleFill,
        Bug::LearnFromPromise,
        Bug::ApplyOutOfOrder,
        Bug::AcceptKeepsPromise,
        Bug::NoopTakeover,
        Bug::ReadBeforeApplied,
        Bug::BatchOneResult,
        Bug::WindowStuck,
        Bug::PreVotePromises,
        Bug::PreVoteIgnoresLeader,
        Bug::CommitAnyBallot,
        Bug::LeaderCountsUnsavedVote,
        Bug::LeaseReadAfterNewerPromise,
        Bug::SessionKeepsLatestOnly,
        Bug::CheckQuorumKeepsStaleAcks,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Bug::IgnorePromisedValues => "ignore-promised-values",
            Bug::AdoptAnyValue => "adopt-any-value",
            Bug::AcceptBelowPromise => "accept-below-promise",
            Bug::HalfQuorum => "half-quorum",
            Bug::VolatileAcceptor => "volatile-acceptor",
            Bug::SkipPhase1 => "skip-phase1",
            Bug::BallotWithoutLeader => "ballot-without-leader",
            Bug::CountMessages => "count-messages",
            Bug::ReplyBeforeDecide => "reply-before-decide",
            Bug::LeaderLocalRead => "leader-local-read",
            Bug::SkipHoleFill => "skip-hole-fill",
            Bug::LearnFromPromise => "learn-from-promise",
            Bug::ApplyOutOfOrder => "apply-out-of-order",
            Bug::AcceptKeepsPromise => "accept-keeps-promise",
            Bug::NoopTakeover => "noop-takeover",
            Bug::ReadBeforeApplied => "read-before-applied",
            Bug::BatchOneResult => "batch-one-result",
            Bug::WindowStuck => "window-stuck",
            Bug::PreVotePromises => "pre-vote-promises",
            Bug::PreVoteIgnoresLeader => "pre-vote-ignores-leader",
            Bug::CommitAnyBallot => "commit-any-ballot",
            Bug::LeaderCountsUnsavedVote => "leader-counts-unsaved-vote",
            Bug::LeaseReadAfterNewerPromise => "lease-read-after-newer-promise",
            Bug::SessionKeepsLatestOnly => "session-keeps-latest-only",
            Bug::CheckQuorumKeepsStaleAcks => "check-quorum-keeps-stale-acks",
        }
    }
}

impl Bug {
    /// What the variant does, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            Bug::IgnorePromisedValues => {
                "A new leader ignores the values in the promises and proposes its own command."
            }
            Bug::AdoptAnyValue => {
                "A new leader adopts the first accepted value it hears of for a slot, not the one with the highest ballot."
            }
            Bug::AcceptBelowPromise => {
                "An acceptor accepts a proposal whose ballot is below the one it promised."
            }
            Bug::HalfQuorum => "Quorums are n/2 servers (rounded down) instead of a majority.",
            Bug::VolatileAcceptor => {
                "Acceptors do not persist their promise and accepted entries: a recovered acceptor forgets them."
            }
            Bug::SkipPhase1 => {
                "A server whose election timer fires leads at once, skipping Phase 1 (Prepare-skip where it is not safe)."
            }
            Bug::BallotWithoutLeader => {
                "Ballots compare by round only, so two servers can own the same ballot."
            }
            Bug::CountMessages => {
                "Votes are counted per message, not per acceptor, so a duplicated vote counts twice."
            }
            Bug::ReplyBeforeDecide => {
                "The leader replies to a write when it proposes it, before the command is decided."
            }
            Bug::LeaderLocalRead => {
                "The leader answers reads from its local state at once, without a lease and without the log."
            }
            Bug::SkipHoleFill => {
                "A new leader re-proposes the values its promises reported but fills no hole with a no-op."
            }
            Bug::LearnFromPromise => {
                "A new leader takes the highest-ballot value a promise reports as decided, instead of proposing it again."
            }
            Bug::ApplyOutOfOrder => {
                "The learner applies a decided slot as soon as it learns it, skipping undecided slots below."
            }
            Bug::AcceptKeepsPromise => {
                "An acceptor votes in a ballot above its promise but leaves the promise where it was."
            }
            Bug::NoopTakeover => {
                "A new leader proposes a no-op in every slot up to the highest one reported, values reported in promises included."
            }
            Bug::ReadBeforeApplied => {
                "A leader answers a ReadIndex read as soon as a majority confirmed its ballot, without waiting to apply the slots below the read index."
            }
            Bug::BatchOneResult => {
                "The leader answers every command of a decided batch with the result of the batch's last command (one result per slot)."
            }
            Bug::WindowStuck => {
                "A decision does not reopen the window: commands that arrived while it was full wait until another request arrives."
            }
            Bug::PreVotePromises => {
                "A server that grants a pre-vote also promises (and persists) the asker's ballot, as if it were a Prepare."
            }
            Bug::PreVoteIgnoresLeader => {
                "A follower grants a pre-vote although it heard from a leader since its election timer last fired."
            }
            Bug::CommitAnyBallot => {
                "Below a leader's commit point, a server learns the value of its vote for a slot whatever the vote's ballot."
            }
            Bug::LeaderCountsUnsavedVote => {
                "With the parallel leader write, the leader counts its own vote for a slot when it sends the Accept, before the vote is durable."
            }
            Bug::LeaseReadAfterNewerPromise => {
                "An acceptor that granted a leader a lease promises a newer ballot (a Prepare, or its own campaign) before its grant expired, so the old leader answers lease reads while a newer one decides writes."
            }
            Bug::SessionKeepsLatestOnly => {
                "A session keeps only its client's latest executed request, so an earlier request of a pipelining client, decided after a later one, counts as executed: it never runs and is never answered."
            }
            Bug::CheckQuorumKeepsStaleAcks => {
                "With check-quorum, a leader that passes a check does not forget who answered it, so one answer counts for every later check and a leader cut off from the majority never steps down."
            }
        }
    }

    /// The rule of the correct protocol that the variant breaks.
    pub fn rule(self) -> &'static str {
        match self {
            Bug::IgnorePromisedValues | Bug::AdoptAnyValue => {
                "A new leader proposes, for each slot, the accepted value with the highest ballot among a majority's promises."
            }
            Bug::AcceptBelowPromise => {
                "An acceptor never accepts in a ballot below its promise."
            }
            Bug::HalfQuorum | Bug::CountMessages => {
                "Every quorum is a majority of distinct acceptors, so any two quorums intersect."
            }
            Bug::VolatileAcceptor => {
                "An acceptor persists its promise and accepted entries before any reply that reports them."
            }
            Bug::SkipPhase1 => {
                "A leader may skip Phase 1 only for a ballot whose Phase 1 it has won."
            }
            Bug::BallotWithoutLeader => {
                "Ballots are (round, server) pairs: totally ordered and each owned by one server."
            }
            Bug::ReplyBeforeDecide => "A client learns a result only after its command is decided.",
            Bug::LeaderLocalRead => {
                "A read goes through the log (or a leader lease), so it sees every write that completed before it."
            }
            Bug::SkipHoleFill => {
                "A new leader proposes a no-op in every slot below its highest reported one that no promise reported, so the log has no hole."
            }
            Bug::ApplyOutOfOrder => {
                "The applied state is the exactly-once execution of the decided slots, in slot order."
            }
            Bug::AcceptKeepsPromise => {
                "Accepting in ballot b is also a promise of b: the acceptor never votes below a ballot it voted in."
            }
            Bug::LearnFromPromise => {
                "A value is decided only when a majority accepted it in one ballot; a reported vote is re-proposed, not learned."
            }
            Bug::NoopTakeover => {
                "A no-op may fill only a slot for which no promise reported a value."
            }
            Bug::ReadBeforeApplied => {
                "A read is answered only once every slot below its read index (the leader's next slot when it arrived) is applied."
            }
            Bug::BatchOneResult => {
                "Each command of a batch runs on its own, in order, and its client gets that command's result."
            }
            Bug::WindowStuck => {
                "Every decision that opens the window proposes the commands that waited for it."
            }
            Bug::PreVotePromises => {
                "A pre-vote changes no promise: a ballot is promised only after its owner won a majority of pre-votes and campaigned."
            }
            Bug::PreVoteIgnoresLeader => {
                "A server that heard from a leader since its election timer last fired refuses pre-votes, so a server cut off from the majority cannot depose a leader the majority hears from."
            }
            Bug::CommitAnyBallot => {
                "A commit point vouches only for its own ballot's proposals: a slot is learned from it only through a vote in that ballot."
            }
            Bug::LeaderCountsUnsavedVote => {
                "A vote counts toward a quorum only once it is durable: a leader that sends its Accept before writing its own vote counts that vote after the write."
            }
            Bug::LeaseReadAfterNewerPromise => {
                "An acceptor holding a lease grant promises no other ballot until the grant expired, which the clock assumption puts after the end of every lease counting it."
            }
            Bug::SessionKeepsLatestOnly => {
                "A session keeps the executed requests of its client's whole window: a request counts as executed only if it ran, or if it is so old that its client had the reply before sending a later one."
            }
            Bug::CheckQuorumKeepsStaleAcks => {
                "A check-quorum counts only the answers heard since the previous check: a leader keeps leading only if a majority, itself included, answered it since then, so a leader cut off from the majority steps down."
            }
        }
    }
}

impl Bug {
    /// Whether the variant keeps every rule the dead-message reduction rests on (an acceptor's
    /// promise and stored snapshot only grow and guard what it ignores; a server owns a ballot
    /// once). Three do not: they act on input the correct protocol ignores, or forget what
    /// only grows. The checker explores them without the reduction.
    pub fn keeps_what_reductions_rest_on(self) -> bool {
        !matches!(
            self,
            Bug::AcceptBelowPromise | Bug::BallotWithoutLeader | Bug::VolatileAcceptor
        )
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Bug {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Bug::ALL.into_iter().find(|b| b.name() == s).ok_or_else(|| {
            let names: Vec<_> = Bug::ALL.iter().map(|b| b.name()).collect();
            format!("unknown bug '{s}' (known: {})", names.join(", "))
        })
    }
}
