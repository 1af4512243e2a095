//! Every property is seen to fail (`STYLE.md`, habit 14): each always-property is violated by
//! states built for it, one per way it can be violated, and holds in the boundary states next to
//! them; each sometimes-property is not found where it must not be (a configuration that cannot
//! reach it, or fewer steps than the shortest path to it) and found at the end of that path.
//!
//! The conditions are the model's own ([`PaxosModel::properties`], looked up by name) and the
//! states are states the model reached, edited where a test needs one that no small
//! configuration reaches: nothing of a property's logic is written again here.

use paxos_model::checking::ghost::Ghost;
use paxos_model::checking::properties::execute_prefix;
use paxos_model::checking::suite::suite;
use paxos_model::checking::{CheckConfig, PaxosModel, State};
use paxos_model::client::ClientState;
use paxos_model::digest::Shared;
use paxos_model::node::NodeState;
use paxos_model::server::{Decision, Proposal, Role, ServerState};
use paxos_model::state_machine::{AppliedState, Session};
use paxos_model::state_machine::{ClientCommand, Command};
use paxos_model::types::{Ballot, ClientId, Op, OpResult, RequestId, ServerId, Slot, Value};
use stateright::semantics::ConsistencyTester;
use stateright::Model;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Every property any checked configuration lists (`paxos-model check` on the default
/// configuration and `make check-full`'s): each has tests below.
const COVERED: &[&str] = &[
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
    "new-leader-decides",
    "prepare-skip",
    "batch-decided",
    "decided-after-recovery",
];

/// The property of lease reads, listed only with them and a read in some client's script.
const LEASE: &[&str] = &["lease-read-answered"];

/// The properties of the election switches, listed only with them: `--pre-vote` lists the
/// first four, `--check-quorum` the last three.
const SWITCHES: &[&str] = &[
    "ballots-pre-voted",
    "pre-vote-respects-leader",
    "pre-vote-won",
    "pre-vote-refused",
    "check-quorum-heard-majority",
    "leader-stepped-down",
    "check-quorum-passed",
];

/// The always-properties of [`SWITCHES`]: listed with the safety properties.
const SWITCHES_SAFETY: &[&str] = &[
    "ballots-pre-voted",
    "pre-vote-respects-leader",
    "check-quorum-heard-majority",
];

/// [`batching`] with both election switches on (and heartbeats, which check-quorum counts
/// answers to): it lists every property of [`COVERED`] and [`SWITCHES`].
fn switches() -> CheckConfig {
    CheckConfig {
        pre_vote: true,
        check_quorum: true,
        heartbeats: true,
        ..batching()
    }
}

/// A configuration that lists every property: 3 servers, one client (node 3) with a write and
/// a read, two elections by any server, one crash.
fn all_listed() -> CheckConfig {
    CheckConfig {
        clients: 1,
        // A write, a read, a write: two commands in the log (a ReadIndex read takes no slot).
        ops_per_client: 3,
        elections: 2,
        campaigners: 3,
        crashes: 1,
        ..CheckConfig::default()
    }
}

/// [`all_listed`] with a second client (node 4) and batches of two: lists `batch-decided` too
/// (one client has one command in flight at a time: nothing to batch).
fn batching() -> CheckConfig {
    CheckConfig {
        clients: 2,
        batch: 2,
        ..all_listed()
    }
}

/// The smallest configuration that decides: 3 servers, server 0 the only campaigner, one
/// election, one client (node 3) with one write.
fn one_write() -> CheckConfig {
    CheckConfig {
        clients: 1,
        ops_per_client: 1,
        elections: 1,
        campaigners: 1,
        ..CheckConfig::default()
    }
}

type Condition = fn(&PaxosModel, &State) -> bool;

/// The condition of the property `name` (from a configuration that lists it).
fn condition(name: &str) -> Condition {
    PaxosModel::new(switches())
        .properties()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no property {name}"))
        .condition
}

/// Whether property `name` holds in `state` of `model`.
fn holds(model: &PaxosModel, name: &str, state: &State) -> bool {
    condition(name)(model, state)
}

fn digest(state: &State) -> u64 {
    let mut h = DefaultHasher::new();
    state.hash(&mut h);
    h.finish()
}

/// Breadth-first over `cfg`'s model (as the checker explores it: `init_states`, `actions`,
/// `next_state`), at most `depth_max` steps deep: the first state (fewest steps) where `pred`
/// holds, with its depth. `None` when none within `depth_max`; `complete` says whether the
/// whole reachable state space was within it.
fn search(
    cfg: CheckConfig,
    depth_max: usize,
    pred: impl Fn(&PaxosModel, &State) -> bool,
) -> (Option<(usize, State)>, bool) {
    let model = PaxosModel::new(cfg);
    let mut seen = HashSet::new();
    let mut level = model.init_states();
    let mut actions = Vec::new();
    for depth in 0..=depth_max {
        let mut next = Vec::new();
        for state in level {
            if !seen.insert(digest(&state)) {
                continue;
            }
            if pred(&model, &state) {
                return (Some((depth, state)), false);
            }
            if depth == depth_max {
                continue;
            }
            actions.clear();
            model.actions(&state, &mut actions);
            for action in actions.drain(..) {
                next.extend(model.next_state(&state, action));
            }
        }
        if next.is_empty() {
            return (None, true);
        }
        level = next;
    }
    (None, false)
}

/// The fewest steps after which sometimes-property `name` holds in `cfg` (searching at most
/// `depth_max` steps deep).
fn shortest(cfg: CheckConfig, name: &str, depth_max: usize) -> Option<usize> {
    search(cfg, depth_max, condition(name)).0.map(|(d, _)| d)
}

/// Asserts that sometimes-property `name` holds in no reachable state of `cfg` (exhaustively).
fn assert_never_found(cfg: CheckConfig, name: &str) {
    let (found, complete) = search(cfg.clone(), usize::MAX, condition(name));
    if let Some((depth, state)) = found {
        panic!("{name} found after {depth} steps in {cfg:?}: {state:#?}");
    }
    assert!(complete);
}

/// The first state of `cfg` (fewest steps) where `pred` holds.
fn find(cfg: CheckConfig, pred: impl Fn(&PaxosModel, &State) -> bool) -> State {
    search(cfg, 40, pred).0.expect("no such state").1
}

fn ghost(state: &mut State) -> &mut Ghost {
    &mut state.history
}

fn node(state: &mut State, i: usize) -> &mut NodeState {
    let shared: &mut Shared<NodeState> = Arc::make_mut(&mut state.actor_states[i]);
    shared
}

fn server(state: &mut State, i: usize) -> &mut ServerState {
    match node(state, i) {
        NodeState::Server(s) => s,
        NodeState::Client(_) => panic!("{i} is a client"),
    }
}

fn client(state: &mut State, i: usize) -> &mut ClientState {
    match node(state, i) {
        NodeState::Client(c) => c,
        NodeState::Server(_) => panic!("{i} is a server"),
    }
}

fn cmd(client: u32, request: u32, op: Op) -> Command {
    Command::Client(ClientCommand {
        client: ClientId(client),
        request: RequestId(request),
        op,
    })
}

fn client_cmd(client: u32, request: u32, op: Op) -> ClientCommand {
    ClientCommand {
        client: ClientId(client),
        request: RequestId(request),
        op,
    }
}

fn write(v: u64) -> Op {
    Op::Write(Value(v))
}

fn ballot(round: u32, leader: u32) -> Ballot {
    Ballot::new(round, ServerId(leader))
}

fn decided(entries: &[(u64, Command)]) -> BTreeMap<Slot, BTreeSet<Command>> {
    let mut map: BTreeMap<Slot, BTreeSet<Command>> = BTreeMap::new();
    for (slot, command) in entries {
        map.entry(Slot(*slot)).or_default().insert(command.clone());
    }
    map
}

/// The initial state of [`all_listed`] with `entries` decided (in the ghost only).
fn with_decided(entries: &[(u64, Command)]) -> (PaxosModel, State) {
    let model = PaxosModel::new(all_listed());
    let mut state = model.init_states().remove(0);
    *ghost(&mut state).decided = decided(entries);
    (model, state)
}

#[test]
fn every_listed_property_is_covered_here() {
    let mut listed: BTreeSet<&str> = BTreeSet::new();
    for cfg in suite().into_iter().map(|e| e.config).chain([batching()]) {
        listed.extend(PaxosModel::new(cfg).properties().iter().map(|p| p.name));
    }
    assert_eq!(
        listed,
        COVERED
            .iter()
            .chain(SWITCHES)
            .chain(LEASE)
            .copied()
            .collect()
    );
}

/// The names of the properties `cfg` lists, in order.
fn listed(cfg: CheckConfig) -> Vec<&'static str> {
    PaxosModel::new(cfg)
        .properties()
        .iter()
        .map(|p| p.name)
        .collect()
}

/// A property that cannot apply to a configuration is left out of it (`specs/multipaxos.md`,
/// "Properties"), and only then: each condition of `properties::all`, on both sides.
#[test]
fn a_property_is_listed_exactly_where_it_can_apply() {
    use paxos_model::checking::NetworkKind::{Ordered, UnorderedDuplicating};
    assert_eq!(
        listed(batching()),
        COVERED,
        "safety first, then reachability"
    );
    let d = all_listed;
    let cases: Vec<(&str, CheckConfig, &[&str])> = vec![
        (
            "one server",
            CheckConfig {
                servers: 1,
                campaigners: 1,
                ..d()
            },
            &["chosen", "value-chosen", "applied-at-two-servers"],
        ),
        (
            "two servers",
            CheckConfig {
                servers: 2,
                crashes: 0,
                ..d()
            },
            &["decided-after-recovery"],
        ),
        (
            "duplicating",
            CheckConfig {
                network: UnorderedDuplicating,
                ..d()
            },
            &["progress", "quiescent-leader"],
        ),
        (
            "ordered",
            CheckConfig {
                network: Ordered,
                ..d()
            },
            &[],
        ),
        (
            "ordered, lossy",
            CheckConfig {
                network: Ordered,
                lossy: true,
                ..d()
            },
            &["progress", "quiescent-leader"],
        ),
        ("unordered, lossy", CheckConfig { lossy: true, ..d() }, &[]),
        (
            "unordered, literal loss",
            CheckConfig {
                lossy: true,
                literal_loss: true,
                ..d()
            },
            &["progress", "quiescent-leader"],
        ),
        (
            "one election",
            CheckConfig {
                elections: 1,
                ..d()
            },
            &["new-leader-decides"],
        ),
        (
            "one campaigner, a crash",
            CheckConfig {
                campaigners: 1,
                ..d()
            },
            &[],
        ),
        (
            "one campaigner, no crash",
            CheckConfig {
                campaigners: 1,
                crashes: 0,
                ..d()
            },
            &["new-leader-decides", "decided-after-recovery"],
        ),
        (
            "two campaigners, no crash",
            CheckConfig {
                campaigners: 2,
                crashes: 0,
                ..d()
            },
            &["decided-after-recovery"],
        ),
        (
            "no Prepare-skip",
            CheckConfig {
                prepare_skip: false,
                ..d()
            },
            &["prepare-skip"],
        ),
        (
            "one command",
            CheckConfig {
                ops_per_client: 1,
                ..d()
            },
            &["prepare-skip"],
        ),
        (
            "two clients, one command each: a write, and a ReadIndex read",
            CheckConfig {
                clients: 2,
                ops_per_client: 1,
                read_index: true,
                ..d()
            },
            &["prepare-skip"],
        ),
        (
            "two clients, one command each: a write, and a read through the log",
            CheckConfig {
                clients: 2,
                ops_per_client: 1,
                read_index: false,
                ..d()
            },
            &[],
        ),
        (
            "a write and a ReadIndex read",
            CheckConfig {
                ops_per_client: 2,
                read_index: true,
                ..d()
            },
            &["prepare-skip"],
        ),
    ];
    for (why, cfg, absent) in cases {
        // One client: never a batch (below).
        let expected: Vec<&str> = COVERED
            .iter()
            .copied()
            .filter(|p| !absent.contains(p) && *p != "batch-decided")
            .collect();
        assert_eq!(listed(cfg), expected, "{why}");
    }
    let b = batching;
    let batch_cases: Vec<(&str, CheckConfig, bool)> = vec![
        ("two clients, batches of two", b(), true),
        (
            "two clients, no batching",
            CheckConfig { batch: 1, ..b() },
            false,
        ),
        (
            "one client, batches of two",
            CheckConfig { clients: 1, ..b() },
            false,
        ),
        (
            "two clients, batches of two, a window of one",
            CheckConfig {
                window: Some(1),
                ..b()
            },
            true,
        ),
    ];
    for (why, cfg, batches) in batch_cases {
        assert_eq!(listed(cfg).contains(&"batch-decided"), batches, "{why}");
    }
    // The election switches: `ballots-pre-voted` with the safety properties, the sometimes-
    // properties at the end.
    let with = |extra: &[&'static str]| {
        let mut expected: Vec<&str> = COVERED.to_vec();
        let mut safety = 7; // After COVERED's seven safety properties.
        for name in extra {
            if SWITCHES_SAFETY.contains(name) {
                expected.insert(safety, name);
                safety += 1;
            } else {
                expected.push(name);
            }
        }
        expected
    };
    assert_eq!(listed(switches()), with(SWITCHES), "both switches");
    let pre_vote = CheckConfig {
        check_quorum: false,
        ..switches()
    };
    assert_eq!(listed(pre_vote), with(&SWITCHES[..4]), "pre-vote");
    let check_quorum = CheckConfig {
        pre_vote: false,
        ..switches()
    };
    assert_eq!(listed(check_quorum), with(&SWITCHES[4..]), "check-quorum");
    // Every switch property is in `SWITCHES_SAFETY` exactly when it is an always-property.
    let model = PaxosModel::new(switches());
    for p in model.properties() {
        let always = p.expectation == stateright::Expectation::Always;
        if SWITCHES.contains(&p.name) {
            assert_eq!(SWITCHES_SAFETY.contains(&p.name), always, "{}", p.name);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Always-properties: each way to violate it, and the boundary states that must not.

#[test]
fn agreement_fails_on_two_values_in_one_slot() {
    let a = cmd(3, 0, write(1));
    let b = cmd(3, 1, Op::Read);
    for (entries, ok) in [
        (vec![], true), // An empty log.
        (
            vec![(0, a.clone()), (1, b.clone()), (2, Command::NoOp)],
            true,
        ),
        (vec![(0, a.clone()), (0, b.clone())], false), // The first slot.
        (vec![(0, a), (3, b), (3, Command::NoOp)], false), // A later slot, a no-op.
    ] {
        let (model, state) = with_decided(&entries);
        assert_eq!(holds(&model, "agreement", &state), ok, "{entries:?}");
    }
}

#[test]
fn validity_fails_on_a_value_no_client_submitted() {
    let (w1, r1) = (client_cmd(3, 0, write(1)), client_cmd(3, 1, Op::Read));
    // `Command::of` is the leader's way and never builds a bad batch; the wire format can
    // carry one.
    let batch = |commands: &[ClientCommand]| {
        let json = serde_json::to_string(commands).unwrap();
        Command::Batch(serde_json::from_str(&json).unwrap())
    };
    // The client (node 3) has the script [Write(v1), Read] and submitted `submitted` of it.
    let cases = [
        (0, vec![], true),
        (0, vec![Command::NoOp], true),
        (0, vec![cmd(3, 0, write(1))], false), // Not submitted yet.
        (1, vec![cmd(3, 0, write(1))], true),  // The last one submitted.
        (1, vec![cmd(3, 1, Op::Read)], false), // The next one, not yet.
        (2, vec![cmd(3, 1, Op::Read)], true),  // Everything submitted.
        (2, vec![cmd(3, 0, write(2))], false), // Another value than submitted.
        (2, vec![cmd(3, 1, write(1))], false), // Another operation.
        (2, vec![cmd(3, 2, Op::Read)], false), // Beyond the script.
        (2, vec![cmd(0, 0, write(1))], false), // From a server.
        (2, vec![cmd(7, 0, write(1))], false), // From no node at all.
        (2, vec![cmd(3, 0, write(1)), cmd(3, 1, write(1))], false), // One bad among good.
        (2, vec![batch(&[w1, r1])], true),     // A batch of submitted commands.
        (1, vec![batch(&[w1, r1])], false),    // One not submitted yet.
        (2, vec![batch(&[w1, w1])], false),    // A command twice in one batch.
    ];
    for (submitted, commands, ok) in cases {
        let entries: Vec<_> = commands
            .iter()
            .enumerate()
            .map(|(i, c)| (i as u64, c.clone()))
            .collect();
        let (model, mut state) = with_decided(&entries);
        client(&mut state, 3).submitted = submitted;
        assert_eq!(
            holds(&model, "validity", &state),
            ok,
            "submitted {submitted}, decided {commands:?}"
        );
    }
}

#[test]
fn linearizable_fails_on_a_history_no_register_explains() {
    use stateright::semantics::register::{RegisterOp, RegisterRet};
    // Tester threads are requests: (client, request id).
    let (c3, c4) = ((ClientId(3), RequestId(0)), (ClientId(4), RequestId(0)));
    let write = |t: &mut paxos_model::checking::ghost::Tester, c, v| {
        t.on_invoke(c, RegisterOp::Write(Value(v))).unwrap();
        t.on_return(c, RegisterRet::WriteOk).unwrap();
    };
    let read = |t: &mut paxos_model::checking::ghost::Tester, c, v| {
        t.on_invoke(c, RegisterOp::Read).unwrap();
        t.on_return(c, RegisterRet::ReadOk(Value(v))).unwrap();
    };
    let (model, init) = with_decided(&[]);
    let check = |edit: &dyn Fn(&mut paxos_model::checking::ghost::Tester), ok: bool, why: &str| {
        let mut state = init.clone();
        edit(&mut ghost(&mut state).tester);
        assert_eq!(holds(&model, "linearizable", &state), ok, "{why}");
    };
    check(&|_| {}, true, "no history");
    check(&|t| write(t, c3, 1), true, "one write");
    check(&|t| read(t, c3, 0), true, "a read of the initial value");
    check(
        &|t| {
            write(t, c3, 1);
            read(t, c4, 1);
        },
        true,
        "a read after a write sees it",
    );
    check(
        &|t| {
            t.on_invoke(c3, RegisterOp::Write(Value(1))).unwrap();
            read(t, c4, 0);
        },
        true,
        "a read concurrent with a write (not returned yet) may see the old value",
    );
    check(
        &|t| {
            write(t, c3, 1);
            read(t, c4, 0);
        },
        false,
        "a stale read after the write returned",
    );
    check(
        &|t| read(t, c3, 7),
        false,
        "a read of a value never written",
    );
    check(
        &|t| {
            t.on_return(c3, RegisterRet::WriteOk).unwrap_err();
        },
        false,
        "a return without an invocation",
    );
}

/// Three servers: a majority is two.
#[test]
fn chosen_fails_on_two_chosen_values_or_a_learned_value_not_chosen() {
    let (a, b) = (cmd(3, 0, write(1)), cmd(3, 1, Op::Read));
    // (why, votes: (slot, ballot, value, voters as bits), settled, learned, whether it holds)
    type Votes = Vec<(u64, Ballot, Command, u16)>;
    type Log = Vec<(u64, Command)>;
    let cases: Vec<(&str, Votes, Log, Log, bool)> = vec![
        ("nothing", vec![], vec![], vec![], true),
        (
            "a bare majority, learned",
            vec![(0, ballot(1, 0), a.clone(), 0b011)],
            vec![],
            vec![(0, a.clone())],
            true,
        ),
        (
            "chosen, not learned",
            vec![(0, ballot(1, 0), a.clone(), 0b110)],
            vec![],
            vec![],
            true,
        ),
        (
            "the same value chosen in two ballots",
            vec![
                (0, ballot(1, 0), a.clone(), 0b011),
                (0, ballot(2, 1), a.clone(), 0b110),
            ],
            vec![],
            vec![(0, a.clone())],
            true,
        ),
        (
            "chosen and settled by the vote reduction",
            vec![],
            vec![(0, a.clone())],
            vec![(0, a.clone())],
            true,
        ),
        (
            "one vote short of a majority, learned",
            vec![(0, ballot(1, 0), a.clone(), 0b100)],
            vec![],
            vec![(0, a.clone())],
            false,
        ),
        (
            "a majority split over two ballots, learned",
            vec![
                (0, ballot(1, 0), a.clone(), 0b001),
                (0, ballot(2, 1), a.clone(), 0b010),
            ],
            vec![],
            vec![(0, a.clone())],
            false,
        ),
        (
            "learned without any vote",
            vec![],
            vec![],
            vec![(1, a.clone())],
            false,
        ),
        (
            "chosen in another slot, learned here",
            vec![(0, ballot(1, 0), a.clone(), 0b011)],
            vec![],
            vec![(0, a.clone()), (1, a.clone())],
            false,
        ),
        (
            "two values chosen in one slot",
            vec![
                (2, ballot(1, 0), a.clone(), 0b011),
                (2, ballot(2, 1), b.clone(), 0b110),
            ],
            vec![],
            vec![],
            false,
        ),
        (
            "one chosen and one settled in one slot",
            vec![(0, ballot(2, 1), b.clone(), 0b110)],
            vec![(0, a.clone())],
            vec![],
            false,
        ),
        (
            "two values learned, one chosen",
            vec![(0, ballot(1, 0), a.clone(), 0b011)],
            vec![],
            vec![(0, a.clone()), (0, b.clone())],
            false,
        ),
    ];
    for (why, votes, settled, learned, ok) in cases {
        let (model, mut state) = with_decided(&learned);
        let g = ghost(&mut state);
        for (slot, ballot, command, voters) in votes {
            g.votes
                .entry(Slot(slot))
                .or_default()
                .insert((ballot, command), voters);
        }
        *g.settled = decided(&settled);
        assert_eq!(holds(&model, "chosen", &state), ok, "{why}");
    }
}

fn applied(next_slot: u64, register: u64, sessions: &[(u32, u32, OpResult)]) -> AppliedState {
    let mut state = AppliedState {
        next_slot: Slot(next_slot),
        machine: paxos_model::state_machine::Register {
            value: Value(register),
        },
        ..AppliedState::default()
    };
    for (client, request, result) in sessions {
        let session = Session::new(RequestId(*request), *result);
        state.sessions.insert(ClientId(*client), session);
    }
    state
}

#[test]
fn exactly_once_fails_on_an_applied_state_no_execution_of_the_log_gives() {
    let w1 = cmd(3, 0, write(1));
    let log = [(0, w1), (1, Command::NoOp)];
    let right = applied(1, 1, &[(3, 0, OpResult::WriteOk)]);
    let cases = [
        ("nothing applied", applied(0, 0, &[]), true),
        ("the first slot applied", right.clone(), true),
        (
            "both slots applied",
            applied(2, 1, &[(3, 0, OpResult::WriteOk)]),
            true,
        ),
        (
            "a slot nobody decided applied",
            applied(3, 1, &[(3, 0, OpResult::WriteOk)]),
            false,
        ),
        (
            "another register",
            applied(1, 2, &[(3, 0, OpResult::WriteOk)]),
            false,
        ),
        ("no session", applied(1, 1, &[]), false),
        (
            "another result",
            applied(1, 1, &[(3, 0, OpResult::ReadOk(Value(1)))]),
            false,
        ),
        (
            "another request",
            applied(1, 1, &[(3, 1, OpResult::WriteOk)]),
            false,
        ),
        (
            "another client",
            applied(1, 1, &[(4, 0, OpResult::WriteOk)]),
            false,
        ),
        (
            "a session too many",
            applied(
                1,
                1,
                &[(3, 0, OpResult::WriteOk), (4, 0, OpResult::WriteOk)],
            ),
            false,
        ),
    ];
    for (why, state_of_server_2, ok) in cases {
        let (model, mut state) = with_decided(&log);
        // Server 0 is right, server 1 applied nothing, server 2 is the one judged.
        server(&mut state, 0).applied = right.clone();
        server(&mut state, 2).applied = state_of_server_2;
        assert_eq!(holds(&model, "exactly-once", &state), ok, "{why}");
    }
}

/// `answerable` fails where a server's session covers a request its client still awaits but no
/// longer holds its result, and `awaited-request-executed` finds the states it judged.
#[test]
fn answerable_fails_on_a_session_that_forgot_an_awaited_result() {
    let w0 = client_cmd(3, 0, write(1));
    let (model, init) = with_decided(&[]);
    let await_w0 = |state: &mut State| client(state, 3).pending = vec![w0];
    let cases = [
        (
            "nothing awaited",
            applied(1, 2, &[(3, 1, OpResult::WriteOk)]),
            false,
            true,
            false,
        ),
        (
            "awaited, not executed",
            applied(0, 0, &[]),
            true,
            true,
            false,
        ),
        (
            "awaited, executed, result kept",
            applied(1, 1, &[(3, 0, OpResult::WriteOk)]),
            true,
            true,
            true,
        ),
        (
            // Window 1: request 0 is at or below request 1 − 1, so covered, and its result is
            // gone: a retry of the awaited write would never be answered.
            "awaited, covered, result forgotten",
            applied(2, 2, &[(3, 1, OpResult::WriteOk)]),
            true,
            false,
            true,
        ),
    ];
    for (why, applied_state, awaited, ok, executed) in cases {
        let mut state = init.clone();
        if awaited {
            await_w0(&mut state);
        }
        server(&mut state, 1).applied = applied_state;
        assert_eq!(holds(&model, "answerable", &state), ok, "{why}");
        assert_eq!(
            holds(&model, "awaited-request-executed", &state),
            executed,
            "{why}"
        );
    }
    // The same forgotten session with a window of two keeps request 0's result: answerable.
    let mut kept = applied(2, 2, &[(3, 1, OpResult::WriteOk)]);
    kept.sessions
        .get_mut(&ClientId(3))
        .unwrap()
        .earlier
        .push((RequestId(0), OpResult::WriteOk));
    let mut state = init.clone();
    await_w0(&mut state);
    server(&mut state, 1).applied = kept;
    assert!(
        holds(&model, "answerable", &state),
        "kept in the session's window"
    );
}

#[test]
fn the_exactly_once_oracle_runs_each_command_once_in_slot_order() {
    let (w1, r0) = (cmd(3, 0, write(1)), cmd(4, 0, Op::Read));
    let (w2, w5) = (cmd(3, 1, write(2)), cmd(4, 1, write(5)));
    let log = decided(&[
        (0, w1.clone()),
        (1, Command::NoOp),
        (2, w2.clone()),
        (3, w1.clone()),
        (4, r0),
        (5, w5),
        (6, w2.clone()),
    ]);
    let run = |next| execute_prefix(&log, Slot(next));
    // Every execution, per client: request -> result.
    let sessions = |entries: &[(u32, u32, OpResult)]| {
        let mut executed: BTreeMap<ClientId, BTreeMap<RequestId, OpResult>> = BTreeMap::new();
        for (c, r, res) in entries {
            executed
                .entry(ClientId(*c))
                .or_default()
                .insert(RequestId(*r), *res);
        }
        executed
    };
    assert_eq!(run(0), Some((Value(0), sessions(&[]))));
    assert_eq!(
        run(1),
        Some((Value(1), sessions(&[(3, 0, OpResult::WriteOk)])))
    );
    assert_eq!(run(2), run(1), "a no-op changes nothing");
    let both = [(3, 0, OpResult::WriteOk), (3, 1, OpResult::WriteOk)];
    assert_eq!(run(3), Some((Value(2), sessions(&both))));
    assert_eq!(run(4), run(3), "a request that ran is not run again");
    let read = sessions(&[both[0], both[1], (4, 0, OpResult::ReadOk(Value(2)))]);
    assert_eq!(run(5), Some((Value(2), read)));
    let last = sessions(&[
        both[0],
        both[1],
        (4, 0, OpResult::ReadOk(Value(2))),
        (4, 1, OpResult::WriteOk),
    ]);
    assert_eq!(run(6), Some((Value(5), last.clone())));
    assert_eq!(
        run(7),
        Some((Value(5), last)),
        "the same request is not run twice (it would write v2 again)"
    );
    assert_eq!(run(8), None, "slot 7 is not decided");
    let hole = decided(&[(0, w1), (2, w2)]);
    assert_eq!(execute_prefix(&hole, Slot(3)), None, "a hole at slot 1");
}

/// A batch runs its commands in order, each at most once, in its one slot.
#[test]
fn the_exactly_once_oracle_runs_a_batch_in_order_in_one_slot() {
    let w1 = client_cmd(3, 0, write(1));
    let (r0, w5) = (client_cmd(4, 0, Op::Read), client_cmd(4, 1, write(5)));
    let log = decided(&[
        (0, Command::of(vec![w1, r0])),
        (1, Command::of(vec![w1, w5])),
    ]);
    let run = |next| execute_prefix(&log, Slot(next));
    let one = |r: u32, result| BTreeMap::from([(RequestId(r), result)]);
    let first = [
        (ClientId(3), one(0, OpResult::WriteOk)),
        (ClientId(4), one(0, OpResult::ReadOk(Value(1)))),
    ];
    assert_eq!(run(1), Some((Value(1), first.into_iter().collect())));
    let mut four = one(0, OpResult::ReadOk(Value(1)));
    four.insert(RequestId(1), OpResult::WriteOk);
    let second = [
        (ClientId(3), one(0, OpResult::WriteOk)),
        (ClientId(4), four),
    ];
    assert_eq!(
        run(2),
        Some((Value(5), second.into_iter().collect())),
        "w1 decided again in a batch is not run again"
    );
    let reversed = decided(&[(0, Command::of(vec![r0, w1]))]);
    assert_eq!(
        execute_prefix(&reversed, Slot(1)).map(|(_, s)| s[&ClientId(4)][&RequestId(0)]),
        Some(OpResult::ReadOk(Value(0))),
        "the read runs before the write batched after it"
    );
}

/// A terminal state of [`one_write`] where the leader (server 0) decided and applied the write
/// and has nothing left to do, with its model.
fn quiescent() -> (PaxosModel, State) {
    let state = find(one_write(), condition("quiescent-leader"));
    (PaxosModel::new(one_write()), state)
}

/// [`one_write`] with a crash to spend: the states of [`quiescent`] are not terminal there.
fn crashable() -> PaxosModel {
    PaxosModel::new(CheckConfig {
        crashes: 1,
        ..one_write()
    })
}

#[test]
fn progress_fails_where_a_stable_leader_stalls_with_work_left() {
    let (model, done) = quiescent();
    assert!(holds(&model, "progress", &done));
    assert!(server(&mut done.clone(), 0).is_leader());
    let w = ClientCommand {
        client: ClientId(3),
        request: RequestId(1),
        op: write(9),
    };
    type Edit = fn(&mut ServerState, ClientCommand);
    let edits: [(&str, Edit); 3] = [
        ("a queued request", |s, w| s.pending.push(w)),
        ("an undecided proposal", |s, w| {
            let Role::Leader(l) = &mut s.role else {
                unreachable!()
            };
            let proposal = Proposal {
                command: Command::Client(w),
                voters: vec![ServerId(0)],
                fresh: true,
            };
            l.proposals.insert(Slot(1), proposal);
        }),
        ("a decided slot behind a hole", |s, w| {
            let decision = Decision {
                ballot: ballot(1, 0),
                command: Command::Client(w),
            };
            s.learned.insert(Slot(2), decision);
        }),
    ];
    for (why, edit) in edits {
        let mut stalled = done.clone();
        edit(server(&mut stalled, 0), w);
        assert!(!holds(&model, "progress", &stalled), "{why}");
        assert!(!holds(&model, "quiescent-leader", &stalled), "{why}");

        // Boundaries: no stable leader (a server that is up promised a higher ballot), or the
        // state is not terminal (the leader crashed and may recover; a crash is left).
        let mut crashed = stalled.clone();
        crashed.crashed[0] = true;
        assert!(holds(&model, "progress", &crashed), "{why}, leader crashed");
        let mut deposed = stalled.clone();
        server(&mut deposed, 2).durable.promised = ballot(2, 1);
        assert!(holds(&model, "progress", &deposed), "{why}, leader deposed");
        assert!(
            holds(&crashable(), "progress", &stalled),
            "{why}, not terminal: a server may still crash"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Sometimes-properties: not found where they must not be, found at the end of the shortest path.

/// The shortest path to a decision in [`one_write`]: the campaign, a Prepare, a Promise (server 0
/// leads), the submit, the Request, an Accept (a majority voted: `value-chosen`), the Accepted
/// (`decided`), the Reply (`all-clients-done`).
#[test]
fn decided_value_chosen_and_all_clients_done_need_their_shortest_paths() {
    assert_eq!(shortest(one_write(), "value-chosen", 6), Some(6));
    assert_eq!(shortest(one_write(), "decided", 7), Some(7));
    assert_eq!(shortest(one_write(), "all-clients-done", 8), Some(8));
}

#[test]
fn all_clients_done_needs_every_command_taken() {
    let (model, done) = quiescent();
    assert!(holds(&model, "all-clients-done", &done));
    let mut busy = done.clone();
    let c = client(&mut busy, 3);
    c.pending = vec![ClientCommand {
        client: ClientId(3),
        request: RequestId(0),
        op: write(1),
    }];
    assert!(!holds(&model, "all-clients-done", &busy), "still waiting");
    let mut early = done.clone();
    client(&mut early, 3).submitted = 0;
    assert!(!holds(&model, "all-clients-done", &early), "not submitted");
}

/// The leader's terminal state is reached only after it answered the client and every other
/// message was delivered or forgotten.
#[test]
fn quiescent_leader_needs_a_leader_that_applied_something() {
    let (model, done) = quiescent();
    assert!(holds(&model, "quiescent-leader", &done));
    let mut idle = done.clone();
    let s = server(&mut idle, 0);
    s.applied = AppliedState::default();
    s.learned = Default::default();
    assert!(holds(&model, "progress", &idle));
    assert!(!holds(&model, "quiescent-leader", &idle), "applied nothing");
    let mut crashed = done.clone();
    crashed.crashed[0] = true;
    assert!(!holds(&model, "quiescent-leader", &crashed), "crashed");
    assert!(
        !holds(&crashable(), "quiescent-leader", &done),
        "not terminal: a server may still crash"
    );
}

/// With a single election only the leader learns decisions: followers learn from `Decide`
/// (off), heartbeats (off) or a new leader's Phase 1.
#[test]
fn applied_at_two_servers_is_not_found_with_one_election() {
    let cfg = CheckConfig {
        ops_per_client: 2,
        ..one_write()
    };
    assert_never_found(cfg, "applied-at-two-servers");
    let (model, mut state) = quiescent();
    assert!(!holds(&model, "applied-at-two-servers", &state));
    let leader = server(&mut state, 0).applied.clone();
    server(&mut state, 2).applied = leader;
    assert!(holds(&model, "applied-at-two-servers", &state));
}

/// One campaigner and no crash: a single server leads, in one ballot at a time, and a leader
/// does not campaign again; its second campaign (before it won the first) decides nothing in
/// the first ballot. One election among three campaigners: one ballot in all.
#[test]
fn new_leader_decides_is_not_found_with_one_campaigner() {
    let cfg = CheckConfig {
        ops_per_client: 2,
        elections: 2,
        ..one_write()
    };
    assert_never_found(cfg, "new-leader-decides");
    let one_election = CheckConfig {
        ops_per_client: 2,
        campaigners: 3,
        ..one_write()
    };
    assert_never_found(one_election, "new-leader-decides");
}

/// Two campaigners: server 0 decides the write in B(1,S0) (7 steps), then server 1 campaigns,
/// wins with server 2's promise, which reports the write, and decides it again in B(2,S1) with
/// server 2's vote (5 more steps: campaign, Prepare, Promise, Accept, Accepted).
#[test]
fn new_leader_decides_needs_a_second_ballot_to_decide() {
    let two = CheckConfig {
        elections: 2,
        campaigners: 2,
        ..one_write()
    };
    assert_eq!(shortest(two, "new-leader-decides", 12), Some(12));
}

/// Without Prepare-skip each command has a Phase 1 of its own (`fresh_decided` restarts), and
/// with one command there is nothing to skip Phase 1 for. (The client's second command is a
/// read: it takes a slot only with reads through the log.)
#[test]
fn prepare_skip_is_not_found_without_it_or_with_one_command() {
    let two = CheckConfig {
        ops_per_client: 2,
        read_index: false,
        ..one_write()
    };
    // With ReadIndex reads the read takes no slot: one command in the log, nothing to skip.
    assert_never_found(
        CheckConfig {
            read_index: true,
            ..two.clone()
        },
        "prepare-skip",
    );
    let classic = CheckConfig {
        prepare_skip: false,
        ..two.clone()
    };
    assert_never_found(classic, "prepare-skip");
    assert_never_found(one_write(), "prepare-skip");
    // With it: the first command decided (7 steps), its reply, the second submit, its Request,
    // an Accept and the Accepted.
    assert_eq!(shortest(two, "prepare-skip", 12), Some(12));
}

/// A batch needs batching on and two clients whose commands wait together: without batching,
/// or with one client, no slot ever holds two commands.
#[test]
fn batch_decided_is_not_found_without_batching_or_with_one_client() {
    let two_clients = CheckConfig {
        clients: 2,
        ..one_write()
    };
    assert_never_found(two_clients.clone(), "batch-decided");
    let one_client = CheckConfig {
        batch: 2,
        ops_per_client: 2,
        ..one_write()
    };
    assert_never_found(one_client, "batch-decided");
    // With batches of two, 10 steps: server 0 campaigns; both clients submit (client 0 to
    // server 0, client 1 to server 1); server 1 promises (so it knows the candidate) and then
    // forwards client 1's request; the candidate queues both requests; the Promise arrives and
    // the new leader proposes both in one slot; an Accept and its Accepted decide the batch.
    let batches = CheckConfig {
        batch: 2,
        ..two_clients
    };
    assert_eq!(shortest(batches, "batch-decided", 10), Some(10));
}

#[test]
fn decided_after_recovery_needs_a_recovered_server_that_learned() {
    assert_never_found(one_write(), "decided-after-recovery");
    let crash = CheckConfig {
        crashes: 1,
        ..one_write()
    };
    // Server 0 crashes and recovers, then the 7 steps of a decision.
    assert_eq!(shortest(crash, "decided-after-recovery", 9), Some(9));
    let (model, mut state) = quiescent();
    ghost(&mut state).recovered.insert(ServerId(1));
    assert!(
        !holds(&model, "decided-after-recovery", &state),
        "server 1 recovered but learned nothing; server 0 learned but never crashed"
    );
    let log = server(&mut state, 0).learned.clone();
    server(&mut state, 1).learned = log;
    assert!(holds(&model, "decided-after-recovery", &state));
}

/// The ghost's record of what clients observed (behind `linearizable`) takes an invocation only
/// from the client itself, once per request, and a return only for the request the client
/// awaits: a server's copy of a request, a retry and a stale reply change nothing.
#[test]
fn the_ghost_records_only_what_the_client_itself_did() {
    use paxos_model::msg::Msg;
    use stateright::actor::{Envelope, Id};
    let command = ClientCommand {
        client: ClientId(3),
        request: RequestId(0),
        op: write(1),
    };
    let request = Msg::Request(command);
    let env = |src: usize, dst: usize, msg| Envelope {
        src: Id::from(src),
        dst: Id::from(dst),
        msg,
    };
    let empty = Ghost::default();
    assert!(
        Ghost::on_send(&(), &empty, env(0, 1, &request)).is_none(),
        "from a server"
    );
    assert!(
        Ghost::on_send(&(), &empty, env(4, 0, &request)).is_none(),
        "from another client"
    );
    let invoked = Ghost::on_send(&(), &empty, env(3, 0, &request)).expect("the client's send");
    assert!(invoked.in_flight.contains(&command));
    assert!(
        Ghost::on_send(&(), &invoked, env(3, 1, &request)).is_none(),
        "a retry"
    );

    let reply = |request| Msg::Reply {
        request: RequestId(request),
        result: OpResult::WriteOk,
    };
    let (reply0, reply1) = (reply(0), reply(1));
    assert!(
        Ghost::on_deliver(&(), &invoked, env(0, 3, &reply1)).is_none(),
        "another request"
    );
    assert!(
        Ghost::on_deliver(&(), &invoked, env(0, 4, &reply0)).is_none(),
        "another client"
    );
    assert!(
        Ghost::on_deliver(&(), &empty, env(0, 3, &reply0)).is_none(),
        "nothing in flight"
    );
    let returned = Ghost::on_deliver(&(), &invoked, env(0, 3, &reply0)).expect("taken");
    assert!(returned.in_flight.is_empty());
    assert!(returned.tester.serialized_history().is_some());
}

// ---------------------------------------------------------------------------------------------
// Pre-vote and check-quorum.

/// [`one_write`] with pre-vote: server 0 asks for pre-votes before it campaigns.
fn pre_vote_one_write() -> CheckConfig {
    CheckConfig {
        pre_vote: true,
        ..one_write()
    }
}

fn promised(state: &State, i: usize) -> Ballot {
    state.actor_states[i]
        .as_server()
        .expect("a server")
        .durable
        .promised
}

/// A promise is judged by the ghost's record of the grants that reached the ballot's owner: a
/// majority's (the owner's own included) or nothing; the initial promise needs none.
#[test]
fn ballots_pre_voted_fails_on_a_promise_no_majority_pre_voted() {
    let cfg = pre_vote_one_write();
    let model = PaxosModel::new(cfg.clone());
    let initial = model.init_states().remove(0);
    assert!(holds(&model, "ballots-pre-voted", &initial), "ZERO");
    // Server 1 promised B(1,S0): server 0 won its pre-vote (with server 1's grant) and its
    // Prepare reached server 1.
    let state = find(cfg, |_, s| promised(s, 1) != Ballot::ZERO);
    assert_eq!(promised(&state, 1), ballot(1, 0));
    assert!(holds(&model, "ballots-pre-voted", &state));
    let mut forgotten = state.clone();
    ghost(&mut forgotten).pre_vote_grants.clear();
    assert!(
        !holds(&model, "ballots-pre-voted", &forgotten),
        "no grant recorded"
    );
    let mut owner_only = state.clone();
    ghost(&mut owner_only)
        .pre_vote_grants
        .insert(ballot(1, 0), 0b001);
    assert!(
        !holds(&model, "ballots-pre-voted", &owner_only),
        "the owner's own grant is one of three"
    );
    let mut bare = state.clone();
    ghost(&mut bare).pre_vote_grants.insert(ballot(1, 0), 0b100);
    assert!(
        holds(&model, "ballots-pre-voted", &bare),
        "server 2's grant and the owner's: a majority"
    );
    let mut other = state.clone();
    server(&mut other, 2).durable.promised = ballot(2, 1);
    assert!(
        !holds(&model, "ballots-pre-voted", &other),
        "a promise of a ballot nobody pre-voted, at a server that was not asked"
    );
}

/// One server: nobody else can promise, and nobody else receives a pre-vote. Three: server 0's
/// timer (a pre-vote), its PreVote to server 1, the grant back (server 0 campaigns), its
/// Prepare to server 1 (promised: `pre-vote-won`). `pre-vote-refused` takes the leader's first
/// Accept to reach server 2 (the leader heard) while server 0's PreVote to it is still on its
/// way: the four steps, the Promise back, the submit, the Request, the Accept.
#[test]
fn pre_votes_won_and_refused_need_their_shortest_paths() {
    let alone = CheckConfig {
        servers: 1,
        ..pre_vote_one_write()
    };
    assert_never_found(alone.clone(), "pre-vote-won");
    assert_never_found(alone, "pre-vote-refused");
    assert_eq!(shortest(pre_vote_one_write(), "pre-vote-won", 4), Some(4));
    assert_eq!(
        shortest(pre_vote_one_write(), "pre-vote-refused", 8),
        Some(8)
    );
}

/// One server is a majority of itself: its checks always pass. Three: server 0 campaigns, its
/// Prepare and the Promise back (server 0 leads), and its election timer fires before anyone
/// answered it. (A leader's timer fires only while the election budget lasts: two elections.)
#[test]
fn leader_stepped_down_needs_a_check_that_heard_no_majority() {
    let check_quorum = CheckConfig {
        check_quorum: true,
        elections: 2,
        ..one_write()
    };
    assert_never_found(
        CheckConfig {
            servers: 1,
            ..check_quorum.clone()
        },
        "leader-stepped-down",
    );
    assert_eq!(shortest(check_quorum, "leader-stepped-down", 4), Some(4));
    let (model, mut state) = quiescent();
    assert!(!holds(&model, "leader-stepped-down", &state), "it leads");
    server(&mut state, 0).role = Role::Follower;
    assert!(holds(&model, "leader-stepped-down", &state));
    ghost(&mut state).recovered.insert(ServerId(0));
    assert!(
        !holds(&model, "leader-stepped-down", &state),
        "a recovered server follows with its own promise too"
    );
}

/// The checked model keeps its record of who heard from a leader from the actions alone; in
/// every reachable state of a small configuration it agrees with each server's own flag (a
/// crashed server's stale flag aside), so the property compares two independent accounts. It
/// fails exactly when the record saw a grant from a server that heard from a leader.
#[test]
fn pre_vote_respects_leader_fails_on_a_grant_after_a_leader_was_heard() {
    let cfg = CheckConfig {
        campaigners: 3,
        elections: 2,
        crashes: 1,
        ..pre_vote_one_write()
    };
    let disagree = |model: &PaxosModel, state: &State| {
        (0..model.cfg.servers).any(|i| {
            let s = state.actor_states[i].as_server().expect("a server");
            let recorded = state.history.leader_heard & (1 << i) != 0;
            !state.crashed[i] && recorded != s.leader_heard
        })
    };
    let (found, complete) = search(cfg.clone(), usize::MAX, disagree);
    assert!(found.is_none(), "{found:#?}");
    assert!(complete);
    // Somewhere a server did hear from a leader: the record is not all zeros.
    let heard = find(cfg.clone(), |_, s| s.history.leader_heard != 0);
    let model = PaxosModel::new(cfg);
    assert!(holds(&model, "pre-vote-respects-leader", &heard));
    let mut granted = heard.clone();
    ghost(&mut granted).granted_while_leader_heard = true;
    assert!(!holds(&model, "pre-vote-respects-leader", &granted));
}

/// [`one_write`] with check-quorum, heartbeats (which followers answer) and a second election
/// (a leader's election timer fires only while the election budget lasts).
fn check_quorum_one_write() -> CheckConfig {
    CheckConfig {
        check_quorum: true,
        heartbeats: true,
        elections: 2,
        ..one_write()
    }
}

/// The servers whose answers server `i` took since its last check, as the ghost recorded them
/// (a bit each).
fn answered(state: &State, i: usize) -> u16 {
    state.history.answered_since_check(ServerId(i as u32))
}

/// The servers server `i` counts in its own `heard` (a bit each; none if it does not lead).
fn heard(state: &State, i: usize) -> u16 {
    let s = state.actor_states[i].as_server().expect("a server");
    s.leadership()
        .map_or(0, |l| l.heard.iter().fold(0, |bits, h| bits | 1 << h.0))
}

fn leads(state: &State, i: usize) -> bool {
    state.actor_states[i]
        .as_server()
        .expect("a server")
        .is_leader()
}

/// The checked model keeps its record of who answered each leader since its last check from
/// the actions alone. In every reachable state of a small configuration with crashes,
/// duplicates and stale messages kept, it is exactly each leader's own `heard` (so without a
/// bug it adds no state), and the property holds. It fails exactly when the record saw a
/// leader keep leading at a check it had no majority's answers for, which the leader's own
/// steps show with `check-quorum-keeps-stale-acks` and never without it.
#[test]
fn check_quorum_heard_majority_fails_on_a_check_passed_unheard() {
    let cfg = CheckConfig {
        servers: 2,
        campaigners: 2,
        crashes: 1,
        network: paxos_model::checking::NetworkKind::UnorderedDuplicating,
        forget_dead_messages: false,
        ..check_quorum_one_write()
    };
    let differ = |model: &PaxosModel, state: &State| {
        (0..model.cfg.servers).any(|i| answered(state, i) != heard(state, i))
            || !holds(model, "check-quorum-heard-majority", state)
    };
    let (found, complete) = search(cfg, usize::MAX, differ);
    assert!(found.is_none(), "{found:#?}");
    assert!(complete);

    // Server 0 leads and took server 1's answer to its heartbeat (6 steps: the campaign, its
    // Prepare and the Promise back, the heartbeat timer, the Heartbeat and its answer).
    let answer = |_: &PaxosModel, s: &State| answered(s, 0) != 0;
    let check = stateright::actor::ActorModelAction::Timeout(
        stateright::actor::Id::from(0),
        paxos_model::msg::Timer::Election,
    );
    let correct = PaxosModel::new(check_quorum_one_write());
    let (found, _) = search(check_quorum_one_write(), 6, answer);
    let (depth, answered_once) = found.expect("an answer within 6 steps");
    assert_eq!(depth, 6);
    assert_eq!(answered(&answered_once, 0), 0b010);
    assert!(holds(
        &correct,
        "check-quorum-heard-majority",
        &answered_once
    ));
    // Correct: the check passes and the count starts again; at the next check, with no answer
    // since, the leader steps down.
    let passed = correct
        .next_state(&answered_once, check.clone())
        .expect("a step");
    assert!(leads(&passed, 0));
    assert_eq!((answered(&passed, 0), heard(&passed, 0)), (0, 0));
    assert!(holds(&correct, "check-quorum-heard-majority", &passed));
    let stepped_down = correct.next_state(&passed, check.clone()).expect("a step");
    assert!(!leads(&stepped_down, 0));
    assert!(holds(
        &correct,
        "check-quorum-heard-majority",
        &stepped_down
    ));

    // With the bug the leader keeps `heard` at the first check: the server's step changes
    // nothing, and the step changes the record alone. The second check passes unheard.
    let buggy_cfg = CheckConfig {
        bug: Some(paxos_model::bug::Bug::CheckQuorumKeepsStaleAcks),
        ..check_quorum_one_write()
    };
    let buggy = PaxosModel::new(buggy_cfg.clone());
    let answered_once = find(buggy_cfg, answer);
    let first = buggy
        .next_state(&answered_once, check.clone())
        .expect("a step of the record alone");
    assert_eq!(first.actor_states, answered_once.actor_states);
    assert_eq!((answered(&first, 0), heard(&first, 0)), (0, 0b010));
    assert!(holds(&buggy, "check-quorum-heard-majority", &first));
    let second = buggy.next_state(&first, check.clone()).expect("a step");
    assert!(leads(&second, 0));
    assert!(!holds(&buggy, "check-quorum-heard-majority", &second));
    assert!(
        buggy.next_state(&second, check.clone()).is_none(),
        "once noted, a further unheard check changes nothing"
    );
    // An answer the leader ignores (it counts server 1 already) is an answer all the same: on
    // a duplicating network the same `HeartbeatAck`, delivered again after the first check, is
    // a step of the record alone, and the second check then passes heard.
    let duplicating = CheckConfig {
        network: paxos_model::checking::NetworkKind::UnorderedDuplicating,
        ..buggy.cfg.clone()
    };
    let buggy = PaxosModel::new(duplicating.clone());
    let answered_once = find(duplicating, answer);
    let first = buggy
        .next_state(&answered_once, check.clone())
        .expect("a step");
    let ack = first
        .network
        .iter_deliverable()
        .find(|env| matches!(env.msg, paxos_model::msg::Msg::HeartbeatAck { .. }))
        .map(|env| stateright::actor::ActorModelAction::Deliver {
            src: env.src,
            dst: env.dst,
            msg: env.msg.clone(),
        })
        .expect("the answer, still in flight");
    let again = buggy
        .next_state(&first, ack)
        .expect("a step of the record alone");
    assert_eq!(again.actor_states, first.actor_states);
    assert_eq!((answered(&again, 0), heard(&again, 0)), (0b010, 0b010));
    let second = buggy.next_state(&again, check).expect("a step");
    assert!(leads(&second, 0));
    assert!(holds(&buggy, "check-quorum-heard-majority", &second));

    // The record itself: an answer counts only for the ballot its leader leads, a check the
    // leader does not survive notes nothing, and a new leadership starts from nothing.
    let b = ballot(1, 0);
    let (s0, s1) = (ServerId(0), ServerId(1));
    let answer_of =
        |ballot| paxos_model::checking::ghost::CheckQuorumEvent::Answer { from: s1, ballot };
    let check_event = paxos_model::checking::ghost::CheckQuorumEvent::Check;
    let empty = Ghost::default();
    assert_eq!(
        empty.heard_after(s0, Some(b), Some(b), answer_of(b), 3),
        (0b010, false)
    );
    assert_eq!(
        empty.heard_after(s0, Some(b), Some(b), answer_of(ballot(1, 1)), 3),
        (0, false),
        "another ballot's answer"
    );
    assert_eq!(
        empty.heard_after(s0, None, None, answer_of(b), 3),
        (0, false),
        "not leading"
    );
    assert_eq!(
        empty.heard_after(s0, Some(b), Some(b), check_event, 3),
        (0, true)
    );
    assert_eq!(
        empty.heard_after(s0, Some(b), None, check_event, 3),
        (0, false),
        "stepped down"
    );
    assert_eq!(
        empty.heard_after(s0, Some(b), Some(b), check_event, 1),
        (0, false),
        "one server is a majority of itself"
    );
    let mut one = Ghost::default();
    one.heard_since_check.insert(s0, 0b010);
    assert_eq!(
        one.heard_after(s0, Some(b), Some(b), check_event, 3),
        (0, false)
    );
    assert_eq!(
        one.heard_after(s0, Some(b), Some(b), check_event, 5),
        (0, true),
        "two of five"
    );
    assert_eq!(
        one.heard_after(s0, Some(b), Some(ballot(2, 0)), answer_of(b), 3),
        (0, false),
        "a new leadership"
    );
}

/// One server has no follower to answer it. Three: the answer to the first heartbeat (6 steps,
/// as above) makes the leader's next check pass with it; not when the election budget is spent
/// (the campaign spent a budget of one, so no check fires), nor at a crashed leader, nor at a
/// leader whose election timer is not set.
#[test]
fn check_quorum_passed_needs_an_answer_before_a_check() {
    assert_never_found(
        CheckConfig {
            servers: 1,
            campaigners: 1,
            ..check_quorum_one_write()
        },
        "check-quorum-passed",
    );
    assert_never_found(
        CheckConfig {
            elections: 1,
            ..check_quorum_one_write()
        },
        "check-quorum-passed",
    );
    let cfg = check_quorum_one_write();
    assert_eq!(shortest(cfg.clone(), "check-quorum-passed", 6), Some(6));
    let model = PaxosModel::new(cfg.clone());
    let state = find(cfg, condition("check-quorum-passed"));
    let mut crashed = state.clone();
    crashed.crashed[0] = true;
    assert!(!holds(&model, "check-quorum-passed", &crashed));
    let mut no_timer = state.clone();
    no_timer.timers_set[0].cancel(&paxos_model::msg::Timer::Election);
    assert!(!holds(&model, "check-quorum-passed", &no_timer));
    let mut unheard = state;
    ghost(&mut unheard).heard_since_check.clear();
    assert!(!holds(&model, "check-quorum-passed", &unheard));
}

/// `lease-read-answered` (lease reads): listed only with lease reads and a read to answer;
/// found at the end of its shortest path (the campaign's promise grants the lease, the write is
/// decided and taken, then the read is answered at its arrival: 10 steps, not 9); false once
/// the leader ran a ReadIndex round, and on a leader that answered nothing.
#[test]
fn lease_read_answered_needs_a_read_answered_with_no_round() {
    let lease = CheckConfig {
        read_index: true,
        lease_reads: true,
        ..one_write()
    };
    assert!(!listed(lease.clone()).contains(&"lease-read-answered"));
    assert!(!listed(CheckConfig {
        ops_per_client: 2,
        ..one_write()
    })
    .contains(&"lease-read-answered"));
    let reading = CheckConfig {
        ops_per_client: 2,
        ..lease
    };
    assert!(listed(reading.clone()).contains(&"lease-read-answered"));
    let condition = PaxosModel::new(reading.clone())
        .properties()
        .into_iter()
        .find(|p| p.name == "lease-read-answered")
        .expect("listed")
        .condition;
    let (found, _) = search(reading.clone(), 10, condition);
    let (depth, mut state) = found.expect("found within 10 steps");
    assert_eq!(depth, 10);
    assert_eq!(
        search(reading.clone(), 9, condition).0.map(|(d, _)| d),
        None
    );
    let model = PaxosModel::new(reading);
    assert!(condition(&model, &state));
    assert!(server(&mut state, 0).is_leader());
    if let Role::Leader(l) = &mut server(&mut state, 0).role {
        l.reads.round = 1;
    }
    assert!(!condition(&model, &state));
    if let Role::Leader(l) = &mut server(&mut state, 0).role {
        l.reads.round = 0;
        l.reads.answered = Default::default();
    }
    assert!(!condition(&model, &state));
}
