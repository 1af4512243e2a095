//! The protocol's rules, one per path through a handler: every accept, ignore and reject. A step
//! names the rules it took in its [`crate::output::Output`] ([`Output::rules`]); the model
//! checker counts them over every explored transition (`paxos-model check --coverage`), and a
//! rule that no transition took is a rule the checker did not check (`specs/multipaxos.md`,
//! "Rule coverage"). Each rule is named where it is taken: search for `Rule::`.
//!
//! [`Output::rules`]: crate::output::Output::rules

use std::fmt;

macro_rules! rules {
    ($($(#[doc = $doc:literal])* $rule:ident = $name:literal,)*) => {
        /// A rule of the protocol: one path through one handler.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum Rule {
            $($(#[doc = $doc])* $rule,)*
        }

        impl Rule {
            /// Every rule, in declaration order (by handler).
            pub const ALL: &'static [Rule] = &[$(Rule::$rule,)*];

            /// The rule's stable name, as printed by `paxos-model check --coverage`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Rule::$rule => $name,)*
                }
            }

            /// What the rule does, in one sentence.
            pub fn description(self) -> &'static str {
                match self {
                    $(Rule::$rule => concat!($($doc),*).trim(),)*
                }
            }
        }
    };
}

rules! {
    // Client requests at a server (server/requests.rs).
    /// A request that already ran is answered from the session table, never run again.
    RequestAnsweredFromSession = "request-answered-from-session",
    /// A request older than its client's latest executed one is dropped (its result is gone).
    RequestOlderThanSessionDropped = "request-older-than-session-dropped",
    /// The leader queues a new request and proposes it.
    RequestAtLeader = "request-at-leader",
    /// A candidate queues a request until it has won Phase 1.
    RequestQueuedWhileCampaigning = "request-queued-while-campaigning",
    /// A follower passes a client's request on, once, to the leader it knows.
    RequestForwarded = "request-forwarded",
    /// A follower that knows no leader (or got a forwarded request) drops it: the client retries.
    RequestDroppedNoLeader = "request-dropped-no-leader",
    /// A request already queued, proposed or decided is not queued again.
    RequestInProgressIgnored = "request-in-progress-ignored",
    /// The queue of waiting requests is full: the request is dropped.
    RequestQueueFull = "request-queue-full",

    // Acceptor (server/acceptor.rs).
    /// A Prepare answered already is ignored.
    PrepareDuplicateIgnored = "prepare-duplicate-ignored",
    /// A Prepare below the promise is refused with a Nack.
    PrepareRejected = "prepare-rejected",
    /// A Prepare at or above the promise is promised (persisted before the Promise leaves).
    PrepareAnswered = "prepare-answered",
    /// A Promise carries the acceptor's applied state (it compacted slots the candidate needs).
    PromiseCarriesAppliedState = "promise-carries-applied-state",
    /// An Accept below the promise is ignored without an answer.
    AcceptBelowPromiseIgnored = "accept-below-promise-ignored",
    /// An acceptor votes for a new value (persisted before the Accepted leaves).
    AcceptVoted = "accept-voted",
    /// An Accept the acceptor already voted for is answered again, with nothing to persist.
    AcceptRepeated = "accept-repeated",
    /// A candidate or leader steps down: its acceptor promised a higher ballot.
    StepDownOnHigherBallot = "step-down-on-higher-ballot",

    // Proposer (server/proposer.rs).
    /// An election timer that fires at a leader is ignored.
    ElectionTimeoutAtLeader = "election-timeout-at-leader",
    /// A server campaigns: a higher ballot, its own promise, Prepare to every other server.
    Campaign = "campaign",
    /// A Promise for another ballot or Phase 1, or at a server not campaigning, is ignored.
    PromiseStaleIgnored = "promise-stale-ignored",
    /// A second Promise from the same acceptor is not counted again.
    PromiseDuplicateIgnored = "promise-duplicate-ignored",
    /// A Promise is counted.
    PromiseCounted = "promise-counted",
    /// Two promises report a value for one slot: the one with the higher ballot is kept.
    TakeoverAdoptsHigherBallot = "takeover-adopts-higher-ballot",
    /// Two promises report a value for one slot: the one already kept has the higher ballot.
    TakeoverKeepsHigherBallot = "takeover-keeps-higher-ballot",
    /// A majority promised: the candidate leads.
    PhaseOneWon = "phase-one-won",
    /// The new leader installs the most advanced applied state among the promises.
    TakeoverInstallsAppliedState = "takeover-installs-applied-state",
    /// The new leader re-proposes the highest-ballot value reported for a slot.
    TakeoverReproposes = "takeover-reproposes",
    /// The new leader fills a slot nobody reported a value for with a no-op.
    TakeoverFillsHole = "takeover-fills-hole",
    /// A leader proposes a new command with Phase 2 alone, after the first in its ballot.
    PrepareSkip = "prepare-skip",
    /// A leader proposes a new command (the first of its ballot, or the only one per Phase 1).
    ProposeFresh = "propose-fresh",
    /// A leader proposes two or more waiting commands together, in one slot (batching).
    ProposeBatch = "propose-batch",
    /// The window is full (as many undecided slots as it allows): waiting commands stay
    /// queued until a decision opens it.
    WindowFull = "window-full",
    /// Parallel leader write: the leader sends its `Accept` before its own vote is durable; the
    /// vote is written (and counted) by its `LeaderWrite` timer.
    LeaderVoteDeferred = "leader-vote-deferred",
    /// The leader's deferred votes are written and persisted (counted at the next firing).
    LeaderVoteWritten = "leader-vote-written",
    /// The leader's votes written by the previous `LeaderWrite` (durable since) are counted.
    LeaderVoteCounted = "leader-vote-counted",
    /// A deferred vote for a slot the followers decided meanwhile is not written.
    LeaderVoteAfterDecision = "leader-vote-after-decision",
    /// The leader's write comes after it stopped leading: its deferred votes are gone with
    /// its leadership, and nothing is written.
    LeaderVoteDropped = "leader-vote-dropped",
    /// Without Prepare-skip: the leader runs Phase 1 again before its next command.
    RepeatPhaseOne = "repeat-phase-one",
    /// Without Prepare-skip: the repeated Phase 1 is won.
    RepeatPhaseOneWon = "repeat-phase-one-won",
    /// An Accepted for another ballot, or at a server not leading, is ignored.
    AcceptedStaleIgnored = "accepted-stale-ignored",
    /// An Accepted for a slot decided already is ignored.
    AcceptedDecidedIgnored = "accepted-decided-ignored",
    /// A second Accepted from the same acceptor is not counted again.
    AcceptedDuplicateIgnored = "accepted-duplicate-ignored",
    /// An Accepted is counted.
    AcceptedCounted = "accepted-counted",
    /// A majority accepted: the slot is decided.
    Chosen = "chosen",
    /// The leader announces a decision to every server.
    DecisionAnnounced = "decision-announced",
    /// A Nack about a ballot this server no longer runs is ignored.
    NackStaleIgnored = "nack-stale-ignored",
    /// A Nack: the candidate or leader raises its promise and steps down.
    NackStepsDown = "nack-steps-down",
    /// A heartbeat timer fires at a server that no longer leads: nothing to do.
    HeartbeatTimeoutNotLeading = "heartbeat-timeout-not-leading",
    /// The leader sends a heartbeat with its commit point.
    HeartbeatSent = "heartbeat-sent",
    /// The leader re-sends an Accept not yet answered.
    AcceptResent = "accept-resent",
    /// A heartbeat below the promise is refused with a Nack.
    HeartbeatRejected = "heartbeat-rejected",
    /// A heartbeat at or above the promise: the leader is alive.
    HeartbeatAccepted = "heartbeat-accepted",
    /// A heartbeat shows the leader applied more: ask it to catch us up.
    CatchUpRequested = "catch-up-requested",

    // Learner (server/learner.rs).
    /// A decision already known (learned or applied) is ignored.
    DecisionKnownIgnored = "decision-known-ignored",
    /// A decision is learned.
    DecisionLearned = "decision-learned",
    /// A decided slot is applied; the leader replies to its client.
    Applied = "applied",
    /// A command decided a second time (in another slot) is not run again; its first result
    /// is replayed.
    AppliedDuplicateCommand = "applied-duplicate-command",
    /// A command below its client's highest executed request, inside the window and not run
    /// yet, runs (a pipelining client's earlier request, decided after a later one).
    AppliedEarlierInWindow = "applied-earlier-in-window",
    /// A batch is applied: its commands run in order, each at most once.
    AppliedBatch = "applied-batch",
    /// A slot below the leader's commit point is learned from this server's vote in the
    /// leader's ballot (no `Decide` needed).
    LearnedFromCommitPoint = "learned-from-commit-point",
    /// A slot below the commit point whose vote here is missing or of another ballot is not
    /// learned from it (catch-up settles it).
    CommitPointVoteMissing = "commit-point-vote-missing",
    /// The applied state becomes the stored snapshot; the votes below it are dropped.
    Compacted = "compacted",
    /// Compaction of more than one applied slot at once (the applied state was ahead of the
    /// stored snapshot).
    CompactedSeveral = "compacted-several",
    /// A more advanced applied state is installed in place of missed slots.
    AppliedStateInstalled = "applied-state-installed",
    /// An applied state not ahead of ours is ignored.
    AppliedStateStaleIgnored = "applied-state-stale-ignored",
    /// A lagging server asked: send it our applied state.
    CatchUpAnswered = "catch-up-answered",
    /// A catch-up request from a server not behind us is ignored.
    CatchUpIgnored = "catch-up-ignored",
    /// A message of the server protocol from a node that is not a server is ignored.
    NotFromServerIgnored = "not-from-server-ignored",

    // ReadIndex reads (reads.rs), with `ServerConfig::read_index`.
    /// A read at the leader starts a confirmation round, its read index the leader's next slot.
    ReadRoundStarted = "read-round-started",
    /// A read arriving while a round is in flight waits for the next round.
    ReadQueued = "read-queued",
    /// The heartbeat timer re-sends an unconfirmed round's `ReadConfirm` to the acceptors that
    /// have not confirmed it.
    ReadConfirmResent = "read-confirm-resent",
    /// An acceptor that admits the leader's ballot confirms it (raising its promise to it).
    ReadConfirmAcked = "read-confirm-acked",
    /// An acceptor that promised a higher ballot answers a confirmation with a `Nack`.
    ReadConfirmRejected = "read-confirm-rejected",
    /// A confirmation of another ballot or round, or a repeated one, is ignored.
    ReadAckStaleIgnored = "read-ack-stale-ignored",
    /// A majority confirmed the round: its reads wait for their read index to be applied.
    ReadRoundConfirmed = "read-round-confirmed",
    /// A confirmed read is answered from the applied state, with no slot and no disk write.
    ReadAnswered = "read-answered",
    /// A read request this leader answered already is answered again with the same value.
    ReadAnsweredAgain = "read-answered-again",
    /// A read request older than the latest read this leader answered its client is dropped.
    ReadOlderDropped = "read-older-dropped",

    // Client (client.rs).
    /// A client submits its next command.
    ClientSubmit = "client-submit",
    /// A client submits its next command while earlier ones await their replies (its window).
    ClientSubmitPipelined = "client-submit-pipelined",
    /// A submit while the window is full is ignored.
    ClientBusyIgnored = "client-busy-ignored",
    /// The client takes the reply to one of its pending requests.
    ClientReplyTaken = "client-reply-taken",
    /// A reply to another request, or not from a server, is ignored.
    ClientReplyIgnored = "client-reply-ignored",
    /// No reply in time: the client re-sends its outstanding requests to the next server.
    ClientRetry = "client-retry",
    /// The model's bound on re-sends is reached.
    ClientRetryBoundReached = "client-retry-bound-reached",

    // Pre-vote and check-quorum (server/election.rs), with `ServerConfig::pre_vote` and
    // `ServerConfig::check_quorum`.
    /// The election timer fires with pre-vote on: the server asks the others whether they would
    /// promise its next ballot, without raising its own promise.
    PreVoteStarted = "pre-vote-started",
    /// A pre-vote for a ballot below the promise is refused (silently).
    PreVoteRefusedStale = "pre-vote-refused-stale",
    /// A server that leads, or heard from a leader since its election timer last fired, refuses
    /// a pre-vote (silently).
    PreVoteRefusedLeaderAlive = "pre-vote-refused-leader-alive",
    /// A pre-vote is granted, with nothing changed and nothing persisted.
    PreVoteGranted = "pre-vote-granted",
    /// A grant for a pre-vote that ended, or one counted already, is ignored.
    PreVoteGrantIgnored = "pre-vote-grant-ignored",
    /// A pre-vote grant is counted.
    PreVoteGrantCounted = "pre-vote-grant-counted",
    /// A majority granted the pre-vote: the server campaigns with its ballot.
    PreVoteWon = "pre-vote-won",
    /// A leader counts a follower's answer to its heartbeat towards its next check-quorum.
    HeartbeatAckCounted = "heartbeat-ack-counted",
    /// A heartbeat answer for another ballot, or from a follower heard from already, is ignored.
    HeartbeatAckIgnored = "heartbeat-ack-ignored",
    /// The election timer fires at a leader that heard from a majority since the last check: it
    /// keeps leading, and the next check counts from now.
    CheckQuorumPassed = "check-quorum-passed",
    /// The election timer fires at a leader that did not hear from a majority since the last
    /// check: it steps down.
    CheckQuorumStepDown = "check-quorum-step-down",

    // Lease reads (server/lease.rs), with `ServerConfig::lease_reads`.
    /// An acceptor that promises a campaign's ballot grants it a lease with the promise: it
    /// promises no other ballot until its `LeaseGrant` timer fires.
    PromiseGrantsLease = "promise-grants-lease",
    /// A leader starts a lease round (a read found its lease expired): its `Lease` timer
    /// first, its own grant, then a `LeaseRequest` to every other server.
    LeaseRequested = "lease-requested",
    /// An acceptor that promised a higher ballot answers a lease request with a `Nack`.
    LeaseRequestRejected = "lease-request-rejected",
    /// An acceptor that admits the leader's ballot grants it a lease (promising the ballot):
    /// it promises no other ballot until its `LeaseGrant` timer fires.
    LeaseGranted = "lease-granted",
    /// A lease grant is counted towards the requested round.
    LeaseGrantCounted = "lease-grant-counted",
    /// A grant of another ballot or round, of a round decided already, or a repeated one, is
    /// ignored.
    LeaseGrantIgnored = "lease-grant-ignored",
    /// A majority granted a lease round: the leader holds the lease until its `Lease` timer
    /// fires.
    LeaseHeld = "lease-held",
    /// The `Lease` timer fires: the leader's lease (held or still requested), or the one its
    /// campaign asked for, is over.
    LeaseExpired = "lease-expired",
    /// A read arriving while the leader holds its lease is confirmed by the lease, with no
    /// round; it is answered once its read index is applied.
    LeaseReadConfirmed = "lease-read-confirmed",
    /// A read arriving while the leader holds no lease falls back to a ReadIndex read (and an
    /// expired lease is asked for again).
    LeaseReadFallsBack = "lease-read-falls-back",
    /// An acceptor holding a lease grant refuses (silently) a `Prepare` of another ballot.
    PrepareRefusedLeaseHeld = "prepare-refused-lease-held",
    /// The election timer fires at a server whose acceptor holds a lease grant: it puts off its
    /// campaign (or pre-vote) and restarts the timer.
    CampaignDeferredLeaseHeld = "campaign-deferred-lease-held",
    /// An acceptor promises a ballot above the one it granted a lease to (an `Accept`, a
    /// heartbeat or a lease request of a newer leader): the grant is superseded.
    LeaseGrantSuperseded = "lease-grant-superseded",
    /// The `LeaseGrant` timer fires: the acceptor may promise other ballots again.
    LeaseGrantExpired = "lease-grant-expired",
    /// A server restarts having promised another server's ballot: it holds a grant for that
    /// ballot, every round of it, for a grant's duration (it forgot what it granted).
    LeaseGrantHeldAfterRestart = "lease-grant-held-after-restart",
}

/// A set of rules: the ones one step took.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Rules(u128);

const _: () = assert!(Rule::ALL.len() <= 128, "Rules is a 128-bit set");

// A rule's bit is its discriminant, which is its place in `Rule::ALL` (`Rules::iter`).
const _: () = {
    let mut i = 0;
    while i < Rule::ALL.len() {
        assert!(
            Rule::ALL[i] as usize == i,
            "Rule::ALL is in declaration order"
        );
        i += 1;
    }
};

impl Rules {
    /// Adds `rule`.
    pub fn insert(&mut self, rule: Rule) {
        self.0 |= 1 << rule as u8;
    }

    /// Whether `rule` is in the set.
    pub fn contains(self, rule: Rule) -> bool {
        self.0 & (1 << rule as u8) != 0
    }

    /// The rules in the set, in declaration order: one step per rule in the set, not per rule
    /// there is (the model checker counts every step's rules).
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let index = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(Rule::ALL[index])
        })
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Rule::name)).finish()
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_rule_has_a_description() {
        let names: std::collections::BTreeSet<_> = Rule::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(names.len(), Rule::ALL.len());
        assert!(Rule::ALL.iter().all(|r| !r.description().is_empty()));
        let mut set = Rules::default();
        set.insert(Rule::Chosen);
        set.insert(Rule::Campaign);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Rule::Campaign, Rule::Chosen]
        );
        assert!(!set.contains(Rule::Applied));
    }
}
