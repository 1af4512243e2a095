//! The properties checked, by stable name (`specs/multipaxos.md`, "Properties").
//!
//! Safety ("always"): `agreement` (learned values), `validity`, `linearizable` (what clients
//! observed), `chosen` (over every vote ever cast), `exactly-once` (each server's applied state
//! against an independent execution of the decided prefix), and liveness where it can be
//! judged, `progress` (a terminal state with a stable leader has no unfinished work). Each is
//! paired with reachability ("sometimes") properties that show the states where it could fail
//! were explored: `decided`, `all-clients-done`, `value-chosen`, `applied-at-two-servers`,
//! `quiescent-leader`, `new-leader-decides`, `prepare-skip`, and, with crashes,
//! `decided-after-recovery`. The election switches and lease reads add their own
//! (`ballots-pre-voted`, `pre-vote-respects-leader`, `check-quorum-heard-majority`, and their
//! reachability properties). A property that cannot apply to a configuration is left out of it.

use super::config::CheckConfig;
use super::system::{clients, servers, PaxosModel, State};
use crate::state_machine::Command;
use crate::types::{ClientId, Op, OpResult, RequestId, Slot, Value};
use stateright::actor::{ActorModelAction, Network};
use stateright::Model;
use stateright::{Expectation, Property};
use std::sync::atomic::Ordering;

/// The properties that apply to `cfg`.
pub fn all(cfg: &CheckConfig) -> Vec<Property<PaxosModel>> {
    let mut properties = vec![
        Property::always("agreement", agreement),
        Property::always("validity", validity),
        Property::always("linearizable", linearizable),
        Property::always("exactly-once", exactly_once),
        Property::always("answerable", answerable),
        sometimes::<{ Sometimes::Decided as usize }>(),
        sometimes::<{ Sometimes::AllClientsDone as usize }>(),
        sometimes::<{ Sometimes::AwaitedRequestExecuted as usize }>(),
    ];
    // With one server a vote is cast, decided, applied and compacted in one step: the ghost,
    // which reads the acceptor after each step, never sees it. `agreement` and `exactly-once`
    // still judge such a run.
    if cfg.servers >= 2 {
        properties.insert(3, Property::always("chosen", chosen));
        let at = 1 + properties
            .iter()
            .position(|p| p.name == "all-clients-done")
            .expect("listed above");
        properties.insert(at, sometimes::<{ Sometimes::ValueChosen as usize }>());
        properties.insert(
            at + 1,
            sometimes::<{ Sometimes::AppliedAtTwoServers as usize }>(),
        );
    }
    // Liveness is judged in terminal states, of a network that loses nothing: with explored
    // drops (the ordered network, or --literal-loss) a lost Accept stalls a slot until a
    // retransmission the model bounds, which is the bound running out, not a stall; on the
    // duplicating network a message can always be delivered again, so no state is terminal.
    if !cfg.drops_explored() && cfg.network != super::config::NetworkKind::UnorderedDuplicating {
        let at = properties.iter().filter(|p| is_safety(p)).count();
        properties.insert(at, Property::always("progress", progress));
        properties.push(sometimes::<{ Sometimes::QuiescentLeader as usize }>());
    }
    // A second ballot can decide after a first one only with a second election, won by another
    // campaigner or by the same server after a crash (a leader does not campaign while it
    // leads, and only another campaigner can depose it).
    if cfg.elections >= 2 && (cfg.campaigners >= 2 || cfg.crashes > 0) {
        properties.push(sometimes::<{ Sometimes::NewLeaderDecides as usize }>());
    }
    // Prepare-skip needs it switched on, and two commands to propose (a ReadIndex read takes
    // no slot).
    if cfg.prepare_skip && cfg.log_commands() >= 2 {
        properties.push(sometimes::<{ Sometimes::PrepareSkip as usize }>());
    }
    // A batch needs batching switched on and two clients: one client has one command in
    // flight at a time.
    if cfg.batch >= 2 && cfg.clients >= 2 {
        properties.push(sometimes::<{ Sometimes::BatchDecided as usize }>());
    }
    if cfg.crashes > 0 {
        properties.push(sometimes::<{ Sometimes::DecidedAfterRecovery as usize }>());
    }
    // Pre-vote and check-quorum (`specs/multipaxos.md`, "Pre-vote and check-quorum").
    if cfg.pre_vote {
        let at = properties.iter().filter(|p| is_safety(p)).count();
        properties.insert(at, Property::always("ballots-pre-voted", ballots_pre_voted));
        properties.insert(
            at + 1,
            Property::always("pre-vote-respects-leader", pre_vote_respects_leader),
        );
        properties.push(sometimes::<{ Sometimes::PreVoteWon as usize }>());
        properties.push(sometimes::<{ Sometimes::PreVoteRefused as usize }>());
    }
    if cfg.check_quorum {
        let at = properties.iter().filter(|p| is_safety(p)).count();
        properties.insert(
            at,
            Property::always("check-quorum-heard-majority", check_quorum_heard_majority),
        );
        properties.push(sometimes::<{ Sometimes::LeaderSteppedDown as usize }>());
        properties.push(sometimes::<{ Sometimes::CheckQuorumPassed as usize }>());
    }
    // Lease reads (`specs/multipaxos.md`, "Lease reads"): `linearizable` judged a read that
    // a lease confirmed (left out when no client reads).
    let reads = (0..cfg.clients).any(|c| cfg.script(c).contains(&Op::Read));
    if cfg.lease_reads && reads {
        properties.push(sometimes::<{ Sometimes::LeaseReadAnswered as usize }>());
    }
    properties
}

/// Why a complete run of `cfg` cannot have reached the sometimes-property `name`, where the
/// bounds alone decide it: which switch leaves out what the property needs, and what to change.
/// `None` where no bound explains it (the report then says so in general terms). Each reason
/// here is one a test shows (`unreachable_reasons_name_the_bound`).
pub fn unreachable_because(cfg: &CheckConfig, name: &str) -> Option<&'static str> {
    // A second server that leads: only campaigners campaign.
    let second_leader = cfg.elections >= 2 && cfg.campaigners >= 2;
    match name {
        "leader-stepped-down" | "check-quorum-passed" if cfg.elections < 2 => Some(
            "a leader checks its quorum when its election timer fires, and --elections bounds \
             every firing of that timer: after the one campaign none fires \
             (use --elections 2 or more)",
        ),
        "applied-at-two-servers"
            if !cfg.announce_decisions
                && !cfg.commit_point
                && !cfg.heartbeats
                && !second_leader =>
        {
            Some(
                "only a leader learns a decision: another server learns one from Decide \
                 announcements (--announce-decisions), the commit point (--commit-point), \
                 heartbeats (--heartbeats), or by leading itself, its Phase 1 showing it the \
                 votes (--elections 2 or more with --campaigners 2 or more)",
            )
        }
        _ => None,
    }
}

/// With lease reads: a leader (a crashed one's last state included) answered a read although
/// it never ran a ReadIndex round in its leadership: its lease confirmed the read.
fn lease_read_answered(model: &PaxosModel, state: &State) -> bool {
    servers(model, state).any(|s| {
        s.leadership()
            .is_some_and(|l| l.reads.round == 0 && !l.reads.answered.is_empty())
    })
}

/// The sometimes-properties. Each needs one example: once a checker found one, evaluating it
/// again in every later state (and stateright recording every later example in place of the
/// first, a copy of the path and a locked map update each) is wasted work. So in a checker run
/// ([`PaxosModel::first_examples_only`]) each is evaluated only until it holds once, and the
/// example reported is the first found; everywhere else (tests, the Explorer, a replay) it is
/// the plain predicate ([`predicate`]).
#[derive(Clone, Copy)]
pub(super) enum Sometimes {
    Decided,
    AllClientsDone,
    ValueChosen,
    AppliedAtTwoServers,
    QuiescentLeader,
    NewLeaderDecides,
    PrepareSkip,
    BatchDecided,
    DecidedAfterRecovery,
    PreVoteWon,
    PreVoteRefused,
    LeaderSteppedDown,
    LeaseReadAnswered,
    AwaitedRequestExecuted,
    CheckQuorumPassed,
}

type Condition = fn(&PaxosModel, &State) -> bool;

/// Each sometimes-property's name and predicate, in the order of [`Sometimes`].
const SOMETIMES: [(&str, Condition); SOMETIMES_COUNT] = [
    ("decided", decided),
    ("all-clients-done", all_clients_done),
    ("value-chosen", value_chosen),
    ("applied-at-two-servers", applied_at_two_servers),
    ("quiescent-leader", quiescent_leader),
    ("new-leader-decides", new_leader_decides),
    ("prepare-skip", prepare_skip),
    ("batch-decided", batch_decided),
    ("decided-after-recovery", decided_after_recovery),
    ("pre-vote-won", pre_vote_won),
    ("pre-vote-refused", pre_vote_refused),
    ("leader-stepped-down", leader_stepped_down),
    ("lease-read-answered", lease_read_answered),
    ("awaited-request-executed", awaited_request_executed),
    ("check-quorum-passed", check_quorum_passed),
];

/// How many sometimes-properties there are.
const SOMETIMES_COUNT: usize = 15;

const _: () = assert!(Sometimes::CheckQuorumPassed as usize + 1 == SOMETIMES_COUNT);
const _: () = assert!(SOMETIMES_COUNT <= super::system::EXAMPLE_FLAGS);

/// Sometimes-property `I` ([`Sometimes`]).
fn sometimes<const I: usize>() -> Property<PaxosModel> {
    Property::sometimes(SOMETIMES[I].0, until_found::<I>)
}

/// Sometimes-property `I`'s condition as the checker evaluates it: its predicate, or `false`
/// without evaluating it once the model's checker run found an example.
fn until_found<const I: usize>(model: &PaxosModel, state: &State) -> bool {
    let (_, holds) = SOMETIMES[I];
    let Some(found) = &model.found else {
        return holds(model, state);
    };
    if found[I].load(Ordering::Relaxed) {
        return false;
    }
    let example = holds(model, state);
    if example {
        found[I].store(true, Ordering::Relaxed);
    }
    example
}

/// The predicate of `property`: its condition, evaluated in every state it is asked about.
pub fn predicate(property: &Property<PaxosModel>) -> Condition {
    match SOMETIMES.iter().find(|(name, _)| *name == property.name) {
        Some((_, holds)) if property.expectation == Expectation::Sometimes => *holds,
        _ => property.condition,
    }
}

/// With pre-vote: every ballot any server promised (a crashed one's last promise included)
/// is one whose pre-vote a majority granted, its owner included, with the grants delivered
/// to the owner (the ghost records each one that arrives). So a server cut off from the
/// majority never raises a ballot, its own or another's, and a leader is deposed only by a
/// ballot a majority pre-voted for.
fn ballots_pre_voted(model: &PaxosModel, state: &State) -> bool {
    servers(model, state).all(|s| {
        let promised = s.durable.promised;
        promised == crate::types::Ballot::ZERO
            || state.history.pre_voted(model.cfg.servers, promised)
    })
}

/// With pre-vote: no server granted a pre-vote after it admitted a live leader's message
/// (`Heartbeat`, `Accept`, `ReadConfirm`) since its election timer last fired. The checked model
/// keeps that record from the actions alone (`Ghost::leader_heard`), not from the server's own
/// flag. The timing-free half of "a server that hears from a healthy leader does not help
/// depose it" (the other half, that such a server's timer does not fire, is the runtime's).
fn pre_vote_respects_leader(_: &PaxosModel, state: &State) -> bool {
    !state.history.granted_while_leader_heard
}

/// A ballot was promised by a server other than its owner: a pre-vote won, its campaign's
/// `Prepare` was answered, and `ballots-pre-voted` judged that promise.
fn pre_vote_won(model: &PaxosModel, state: &State) -> bool {
    servers(model, state).enumerate().any(|(i, s)| {
        s.durable.promised != crate::types::Ballot::ZERO && s.durable.promised.leader.index() != i
    })
}

/// A pre-vote is on its way to a server that is up, would promise its ballot, and refuses it
/// because it leads or heard from a leader since its election timer last fired: the state in
/// which a cut-off server's pre-vote meets a live leader (the refusal is the next step; a
/// refusal changes nothing, so no state comes after it that shows it).
fn pre_vote_refused(model: &PaxosModel, state: &State) -> bool {
    state.network.iter_deliverable().any(|env| {
        let crate::msg::Msg::PreVote { ballot } = env.msg else {
            return false;
        };
        let dst = usize::from(env.dst);
        let Some(x) = state.actor_states[dst].as_server() else {
            return false;
        };
        dst < model.cfg.servers
            && !state.crashed[dst]
            && *ballot >= x.durable.promised
            && (x.is_leader() || x.leader_heard)
    })
}

/// With check-quorum: a leader stepped down on its own, because it had not heard from a
/// majority: a server that never recovered follows while its promise is its own ballot (a
/// campaign makes it a candidate, every other step-down raises its promise to another
/// server's ballot).
fn leader_stepped_down(model: &PaxosModel, state: &State) -> bool {
    servers(model, state).enumerate().any(|(i, s)| {
        let me = crate::types::ServerId(i as u32);
        matches!(s.role, crate::server::Role::Follower)
            && s.durable.promised != crate::types::Ballot::ZERO
            && s.durable.promised.leader == me
            && !state.history.recovered.contains(&me)
    })
}

/// With check-quorum: no leader kept leading when its election timer fired (passed its check)
/// unless a majority, itself included, answered it since its previous check or since it
/// became leader: a `HeartbeatAck` or an `Accepted` of its ballot from each, delivered to it.
/// The checked model keeps that record from the actions alone (`Ghost::heard_since_check`),
/// not from the leader's own `heard`, and notes a check passed against it
/// (`Ghost::passed_check_unheard`). So a leader that no answer reaches any more passes at
/// most one more check.
fn check_quorum_heard_majority(_: &PaxosModel, state: &State) -> bool {
    !state.history.passed_check_unheard
}

/// With check-quorum: a leader's next check passes with a follower's answer, which
/// `check-quorum-heard-majority` judges: a leader that is up, whose election timer is set and
/// may fire (the election budget is not spent), took answers since its last check from a
/// follower, and from a majority with itself. (The state after the check does not show that
/// it passed: the count starts again, as after a leader's election.)
fn check_quorum_passed(model: &PaxosModel, state: &State) -> bool {
    if state.history.elections >= model.cfg.elections {
        return false; // The election timer's firing is no longer offered.
    }
    let majority = crate::types::majority(model.cfg.servers) as u32;
    servers(model, state).enumerate().any(|(i, s)| {
        let answered = state
            .history
            .answered_since_check(crate::types::ServerId(i as u32));
        s.is_leader()
            && !state.crashed[i]
            && state.timers_set[i]
                .iter()
                .any(|t| *t == crate::msg::Timer::Election)
            && answered != 0
            && (answered | 1u16 << i).count_ones() >= majority
    })
}

/// Whether a property is a safety property.
pub fn is_safety(property: &Property<PaxosModel>) -> bool {
    property.expectation == Expectation::Always
}

/// No slot was ever decided with two different values, by any servers, at any time.
fn agreement(_: &PaxosModel, state: &State) -> bool {
    state
        .history
        .decided
        .values()
        .all(|values| values.len() <= 1)
}

/// Every value ever decided is a no-op, or client commands their clients submitted.
fn validity(model: &PaxosModel, state: &State) -> bool {
    let submitted = |command: &crate::state_machine::ClientCommand| {
        let actor = command.client.0 as usize;
        let Some(client) = state.actor_states.get(actor).and_then(|s| s.as_client()) else {
            return false; // Not a client of this system.
        };
        let request = command.request.0 as usize;
        request < client.submitted as usize && model.script(actor).get(request) == Some(&command.op)
    };
    state.history.decided.values().flatten().all(|command| {
        let commands = command.client_commands();
        // A batch holds two or more commands, each once.
        let well_formed = match command {
            Command::Batch(_) => {
                commands.len() >= 2
                    && commands
                        .iter()
                        .enumerate()
                        .all(|(i, c)| !commands[..i].contains(c))
            }
            _ => true,
        };
        well_formed && commands.iter().all(submitted)
    })
}

/// What the clients observed has a linearization for a single register.
fn linearizable(_: &PaxosModel, state: &State) -> bool {
    state
        .history
        .tester
        .memo(|tester| tester.serialized_history().is_some())
}

/// Some slot was decided.
fn decided(_: &PaxosModel, state: &State) -> bool {
    !state.history.decided.is_empty()
}

/// Every client ran its whole script.
fn all_clients_done(model: &PaxosModel, state: &State) -> bool {
    clients(model, state)
        .all(|(actor, c)| c.is_idle() && c.submitted as usize == model.script(actor).len())
}

/// A leader decided two new commands under one ballot after a single Phase 1.
fn prepare_skip(model: &PaxosModel, state: &State) -> bool {
    servers(model, state).any(|s| s.leadership().is_some_and(|l| l.fresh_decided >= 2))
}

/// Some slot was decided with a batch of client commands.
fn batch_decided(_: &PaxosModel, state: &State) -> bool {
    state
        .history
        .decided
        .values()
        .flatten()
        .any(|command| matches!(command, Command::Batch(_)))
}

/// Two different ballots decided something: a new leader decided after an earlier one.
fn new_leader_decides(_: &PaxosModel, state: &State) -> bool {
    state.history.later_ballot_decided
}

/// A server that crashed and recovered learned a decision afterwards.
fn decided_after_recovery(model: &PaxosModel, state: &State) -> bool {
    servers(model, state).enumerate().any(|(i, s)| {
        state.history.recovered.iter().any(|r| r.index() == i) && !s.learned.is_empty()
    })
}

/// Over every vote any acceptor ever cast: at most one value per slot was accepted by a
/// majority in some ballot (chosen), and every value a server learned was chosen.
///
/// It reads the ghost alone, so its verdict is kept with the ghost (`Shared::memo`): a state
/// whose step left the ghost as it was (most steps) shares its parent's ghost and verdict.
fn chosen(model: &PaxosModel, state: &State) -> bool {
    let servers = model.cfg.servers;
    state.history.memo(|ghost| {
        let chosen = ghost.chosen(servers);
        chosen.values().all(|values| values.len() <= 1)
            && ghost.decided.iter().all(|(slot, learned)| {
                chosen
                    .get(slot)
                    .is_some_and(|values| learned.is_subset(values))
            })
    })
}

/// Some value was chosen by a majority's votes (so `chosen` compared something).
fn value_chosen(model: &PaxosModel, state: &State) -> bool {
    state
        .history
        .chosen(model.cfg.servers)
        .values()
        .any(|values| !values.is_empty())
}

/// Per client, every request it had executed and what it returned.
pub type Executions =
    std::collections::BTreeMap<ClientId, std::collections::BTreeMap<RequestId, OpResult>>;

/// What executing the decided slots below `next_slot` in order, each client command exactly
/// once (where it is first decided), gives: the register and every client's executed requests
/// with their results. An oracle written apart from `AppliedState::apply`, with no window: it
/// remembers every execution. `None` if a slot below is not decided.
pub fn execute_prefix(
    decided: &std::collections::BTreeMap<Slot, std::collections::BTreeSet<Command>>,
    next_slot: Slot,
) -> Option<(Value, Executions)> {
    let mut register = Value::default();
    let mut executed = Executions::new();
    for slot in 0..next_slot.0 {
        let values = decided.get(&Slot(slot))?;
        let command = values.iter().next()?;
        for c in command.client_commands() {
            let results = executed.entry(c.client).or_default();
            if results.contains_key(&c.request) {
                continue; // Executed already: never twice.
            }
            let result = match c.op {
                Op::Write(v) => {
                    register = v;
                    OpResult::WriteOk
                }
                Op::Read => OpResult::ReadOk(register),
            };
            results.insert(c.request, result);
        }
    }
    Some((register, executed))
}

/// Each server's applied state (register and sessions) is the exactly-once execution of the
/// decided slots below its `next_slot`, in slot order: the register is the oracle's, and each
/// client's session holds its highest executed request and the executed requests of its
/// window below it, with the oracle's results (a session forgets what falls below the window).
fn exactly_once(model: &PaxosModel, state: &State) -> bool {
    let window = u64::from(model.session_window());
    servers(model, state).all(|s| {
        let Some((register, executed)) =
            execute_prefix(&state.history.decided, s.applied.next_slot)
        else {
            return false; // Applied a slot nobody decided.
        };
        let session_of = |results: &std::collections::BTreeMap<RequestId, OpResult>| {
            let (highest, _) = results.last_key_value()?;
            let kept = results
                .range(..=*highest)
                .filter(|(r, _)| u64::from(r.0) + window > u64::from(highest.0));
            Some(kept.map(|(r, result)| (*r, *result)).collect::<Vec<_>>())
        };
        let expected: Vec<_> = executed
            .iter()
            .filter_map(|(c, results)| Some((*c, session_of(results)?)))
            .collect();
        let applied: Vec<_> = s
            .applied
            .sessions
            .iter()
            .map(|(c, session)| {
                let mut kept = session.earlier.clone();
                kept.push((session.request, session.result));
                (*c, kept)
            })
            .collect();
        s.applied.machine.value == register && applied == expected
    })
}

/// No session forgets a result its client still awaits: every server that executed a request
/// its client awaits (a crashed one's last state included) still holds its result, so it can
/// answer the retry. (The window's garbage collection drops only results of requests the
/// client has the replies of: `specs/multipaxos.md`, "Sessions and the window".)
fn answerable(model: &PaxosModel, state: &State) -> bool {
    let window = model.session_window();
    clients(model, state).all(|(_, c)| {
        c.pending.iter().all(|command| {
            servers(model, state).all(|s| {
                !s.applied.has_executed(command, window) || s.applied.result_of(command).is_some()
            })
        })
    })
}

/// A server executed a request its client still awaits (so `answerable` judged one).
fn awaited_request_executed(model: &PaxosModel, state: &State) -> bool {
    let window = model.session_window();
    clients(model, state).any(|(_, c)| {
        c.pending
            .iter()
            .any(|command| servers(model, state).any(|s| s.applied.has_executed(command, window)))
    })
}

/// Two servers applied a client command (so `exactly-once` compared non-trivial states).
fn applied_at_two_servers(model: &PaxosModel, state: &State) -> bool {
    servers(model, state)
        .filter(|s| !s.applied.sessions.is_empty())
        .count()
        >= 2
}

/// The leader of the highest ballot, if it is up and leads: no server that is up promised
/// anything higher.
fn stable_leader<'a>(
    model: &PaxosModel,
    state: &'a State,
) -> Option<&'a crate::server::ServerState> {
    // Equivalent to keeping crashed servers, as far as `progress` and `quiescent-leader` can
    // tell (so a mutant dropping the filter survives): a state with a crashed server is never
    // terminal (stateright offers `Recover`, which always changes the state). Kept because it
    // says what a stable leader is.
    let up = || {
        servers(model, state)
            .enumerate()
            .filter(|(i, _)| !state.crashed[*i])
            .map(|(_, s)| s)
    };
    let highest = up().map(|s| s.durable.promised).max()?;
    up().find(|s| s.leadership().is_some_and(|l| l.ballot == highest))
}

/// Work the stable leader has not finished: a decided slot it cannot apply (a hole below it),
/// a proposal not decided, or a queued request.
fn unfinished(s: &crate::server::ServerState) -> bool {
    let hole = s.learned.range(s.applied.next_slot..).next().is_some();
    let proposing = s
        .leadership()
        .is_some_and(|l| !l.proposals.is_empty() || !l.reads.is_empty());
    hole || proposing || !s.pending.is_empty()
}

/// Liveness, checked where it can be: in a terminal state (no action changes anything), a
/// stable leader (up, leading the highest ballot any server that is up promised) has finished
/// its work: no decided slot waits behind a hole, no proposal is undecided, no request is
/// queued. A log that stalls under a leader that could finish it is a violation; a state
/// where no leader can act (the election budget is spent, the leader crashed) is the bound
/// running out, not a stall (`specs/multipaxos.md`, "Properties").
fn progress(model: &PaxosModel, state: &State) -> bool {
    let Some(leader) = stable_leader(model, state) else {
        return true;
    };
    if !unfinished(leader) {
        return true;
    }
    // The leader has work left: the state must not be terminal.
    !terminal(model, state)
}

/// Whether no action changes anything in `state`.
///
/// On an unordered network every message in flight is one `Deliver` action, and in most
/// states that are not terminal one of them acts: those are tried first, straight from the
/// network, before all the actions are listed (a list whose every message is copied, then
/// sorted) for the others.
fn terminal(model: &PaxosModel, state: &State) -> bool {
    let unordered = matches!(
        state.network,
        Network::UnorderedNonDuplicating(_) | Network::UnorderedDuplicating(..)
    );
    if unordered {
        let delivery_acts = state.network.iter_deliverable().any(|env| {
            let delivery = ActorModelAction::Deliver {
                src: env.src,
                dst: env.dst,
                msg: env.msg.clone(),
            };
            model.acts(state, &delivery)
        });
        if delivery_acts {
            return false;
        }
    }
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    !actions.iter().any(|action| {
        let tried = unordered && matches!(action, ActorModelAction::Deliver { .. });
        !tried && model.acts(state, action)
    })
}

/// A terminal state with a stable leader that finished its work (so `progress` judged one).
fn quiescent_leader(model: &PaxosModel, state: &State) -> bool {
    let Some(leader) = stable_leader(model, state) else {
        return false;
    };
    if unfinished(leader) || leader.applied.next_slot == Slot(0) {
        return false;
    }
    terminal(model, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Sometimes` indexes `SOMETIMES`: each variant picks the property of its own name.
    #[test]
    fn each_sometimes_variant_names_its_own_property() {
        let expected = [
            (Sometimes::Decided, "decided"),
            (Sometimes::AllClientsDone, "all-clients-done"),
            (Sometimes::ValueChosen, "value-chosen"),
            (Sometimes::AppliedAtTwoServers, "applied-at-two-servers"),
            (Sometimes::QuiescentLeader, "quiescent-leader"),
            (Sometimes::NewLeaderDecides, "new-leader-decides"),
            (Sometimes::PrepareSkip, "prepare-skip"),
            (Sometimes::BatchDecided, "batch-decided"),
            (Sometimes::DecidedAfterRecovery, "decided-after-recovery"),
            (Sometimes::PreVoteWon, "pre-vote-won"),
            (Sometimes::PreVoteRefused, "pre-vote-refused"),
            (Sometimes::LeaderSteppedDown, "leader-stepped-down"),
            (Sometimes::LeaseReadAnswered, "lease-read-answered"),
            (
                Sometimes::AwaitedRequestExecuted,
                "awaited-request-executed",
            ),
            (Sometimes::CheckQuorumPassed, "check-quorum-passed"),
        ];
        assert_eq!(expected.len(), SOMETIMES_COUNT);
        for (variant, name) in expected {
            assert_eq!(SOMETIMES[variant as usize].0, name);
        }
    }

    /// In a checker run a sometimes-property holds in the first state that shows it and in no
    /// state after; its predicate ([`predicate`]) still holds in both.
    #[test]
    fn a_found_sometimes_property_is_not_evaluated_again() {
        let model = PaxosModel::new(CheckConfig::default()).first_examples_only();
        let decided = model
            .properties()
            .into_iter()
            .find(|p| p.name == "decided")
            .expect("listed");
        let mut state = model.init_states().remove(0);
        assert!(!(decided.condition)(&model, &state));
        let mut ghost: super::super::ghost::Ghost = (*state.history).clone();
        ghost
            .decided
            .entry(Slot(0))
            .or_default()
            .insert(Command::NoOp);
        state.history = crate::digest::Shared::new(ghost);
        assert!((decided.condition)(&model, &state), "the first example");
        assert!(!(decided.condition)(&model, &state), "found already");
        assert!(predicate(&decided)(&model, &state));
        let plain = PaxosModel::new(CheckConfig::default());
        assert!((decided.condition)(&plain, &state));
        assert!(
            (decided.condition)(&plain, &state),
            "no checker run: always evaluated"
        );
    }
}
