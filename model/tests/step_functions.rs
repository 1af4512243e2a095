//! Unit tests of the step functions: each drives `PaxosActor`'s handlers directly, one input at
//! a time, and asserts on the next state and the outputs (the protocol's corner cases).

use paxos_model::config::{ClientConfig, ServerConfig};
use paxos_model::durable::{AcceptedEntry, Durable};
use paxos_model::msg::{Msg, Timer};
use paxos_model::node::{Input, Node, NodeState};
use paxos_model::output::Effect;
use paxos_model::server::{Role, ServerState};
use paxos_model::state_machine::AppliedState;
use paxos_model::types::{
    Ballot, ClientCommand, ClientId, Command, NodeId, Op, OpResult, RequestId, ServerId, Slot,
    Value,
};
use std::borrow::Cow;

const N: usize = 3;

/// One server, driven input by input.
struct Server {
    node: Node,
    id: NodeId,
    state: NodeState,
    storage: Option<Durable>,
}

impl Server {
    fn new(i: usize) -> Server {
        Server::with_config(i, ServerConfig::cluster(N))
    }

    fn with_config(i: usize, cfg: ServerConfig) -> Server {
        let node = Node::Server(cfg);
        let id = NodeId(i as u32);
        let (state, out) = node.start(id, None);
        let mut server = Server {
            node,
            id,
            state,
            storage: None,
        };
        server.absorb(out.into_iter().collect());
        server
    }

    fn s(&self) -> &ServerState {
        self.state.as_server().unwrap()
    }

    fn absorb(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        for e in &effects {
            if let Effect::Persist(d) = e {
                self.storage = Some(d.clone());
            }
        }
        effects
    }

    fn step(&mut self, input: Input) -> Vec<Effect> {
        let mut state = Cow::Borrowed(&self.state);
        let out = self.node.step(self.id, &mut state, input);
        let next = state.into_owned();
        self.state = next;
        self.absorb(out.into_iter().collect())
    }

    fn deliver(&mut self, from: usize, msg: Msg) -> Vec<Effect> {
        self.step(Input::Deliver {
            from: NodeId(from as u32),
            msg,
        })
    }

    fn timeout(&mut self, timer: Timer) -> Vec<Effect> {
        self.step(Input::Timeout(timer))
    }

    /// Crash and restart from the last saved durable state.
    fn restart(&mut self) -> Vec<Effect> {
        let (state, out) = self.node.start(self.id, self.storage.as_ref());
        self.state = state;
        self.absorb(out.into_iter().collect())
    }
}

fn sends(effects: &[Effect]) -> Vec<(usize, Msg)> {
    effects
        .iter()
        .filter_map(|c| match c {
            Effect::Send(to, m) => Some((to.index(), m.clone())),
            _ => None,
        })
        .collect()
}

fn b(round: u32, leader: u32) -> Ballot {
    Ballot::new(round, ServerId(leader))
}

fn write(client: u32, request: u32, v: u64) -> ClientCommand {
    ClientCommand {
        client: ClientId(client),
        request: RequestId(request),
        op: Op::Write(Value(v)),
    }
}

fn entry(ballot: Ballot, command: ClientCommand) -> AcceptedEntry {
    AcceptedEntry {
        ballot,
        command: Command::Client(command),
    }
}

/// Makes server 0 the leader of B(1,0) with server 1's promise.
fn leader0() -> Server {
    let mut s0 = Server::new(0);
    s0.timeout(Timer::Election);
    s0.deliver(
        1,
        Msg::Promise {
            ballot: b(1, 0),
            first_slot: Slot(0),
            accepted: vec![],
            applied: None,
        },
    );
    assert!(s0.s().is_leader());
    s0
}

#[test]
fn a_timeout_starts_phase1_and_persists_the_own_promise_before_sending() {
    let mut s0 = Server::new(0);
    let out = s0.timeout(Timer::Election);
    assert!(
        matches!(&out[0], Effect::Persist(d) if d.promised == b(1, 0)),
        "the candidate's own promise is saved first: {out:?}"
    );
    assert_eq!(
        sends(&out),
        vec![
            (
                1,
                Msg::Prepare {
                    ballot: b(1, 0),
                    first_slot: Slot(0)
                }
            ),
            (
                2,
                Msg::Prepare {
                    ballot: b(1, 0),
                    first_slot: Slot(0)
                }
            ),
        ]
    );
    assert!(matches!(s0.s().role, Role::Candidate(_)));
}

#[test]
fn an_acceptor_promises_once_and_rejects_lower_ballots() {
    let mut s1 = Server::new(1);
    let out = s1.deliver(
        0,
        Msg::Prepare {
            ballot: b(2, 0),
            first_slot: Slot(0),
        },
    );
    assert!(matches!(&out[0], Effect::Persist(d) if d.promised == b(2, 0)));
    assert!(matches!(sends(&out)[..], [(0, Msg::Promise { .. })]));
    // A duplicate of the same Prepare is not answered again.
    let dup = s1.deliver(
        0,
        Msg::Prepare {
            ballot: b(2, 0),
            first_slot: Slot(0),
        },
    );
    assert!(sends(&dup).is_empty(), "duplicate answered: {dup:?}");
    // A lower ballot is rejected with the promised one: that preempts the candidate.
    let out = s1.deliver(
        2,
        Msg::Prepare {
            ballot: b(1, 2),
            first_slot: Slot(0),
        },
    );
    assert_eq!(
        sends(&out),
        vec![(
            2,
            Msg::Nack {
                ballot: b(1, 2),
                promised: b(2, 0)
            }
        )]
    );
}

#[test]
fn a_nack_preempts_a_candidate_which_then_campaigns_above_the_higher_ballot() {
    let mut s0 = Server::new(0);
    s0.timeout(Timer::Election);
    s0.deliver(
        1,
        Msg::Nack {
            ballot: b(1, 0),
            promised: b(3, 2),
        },
    );
    assert_eq!(s0.s().role, Role::Follower);
    assert_eq!(s0.s().durable.promised, b(3, 2));
    let out = s0.timeout(Timer::Election);
    assert!(sends(&out).iter().all(|(_, m)| matches!(
        m,
        Msg::Prepare { ballot, .. } if *ballot == b(4, 0)
    )));
}

#[test]
fn a_leader_steps_down_when_it_promises_a_higher_ballot() {
    let mut s0 = leader0();
    s0.deliver(
        2,
        Msg::Prepare {
            ballot: b(2, 2),
            first_slot: Slot(0),
        },
    );
    assert_eq!(s0.s().role, Role::Follower);
}

#[test]
fn takeover_reproposes_the_highest_ballot_value_and_fills_holes_with_noops() {
    let mut s2 = Server::new(2);
    s2.timeout(Timer::Election); // B(1,2)
    let low = write(3, 0, 1);
    let high = write(4, 0, 2);
    // Server 0 reports slot 0 accepted in B(1,0) and slot 2 in B(1,1): slot 1 is a hole.
    s2.deliver(
        0,
        Msg::Promise {
            ballot: b(1, 2),
            first_slot: Slot(0),
            accepted: vec![
                (Slot(0), entry(b(1, 0), low)),
                (Slot(2), entry(b(1, 1), high)),
            ],
            applied: None,
        },
    );
    assert!(s2.s().is_leader());
    let proposals: Vec<_> = s2
        .s()
        .leadership()
        .unwrap()
        .proposals
        .iter()
        .map(|(s, p)| (*s, p.command))
        .collect();
    assert_eq!(
        proposals,
        vec![
            (Slot(0), Command::Client(low)),
            (Slot(1), Command::NoOp),
            (Slot(2), Command::Client(high)),
        ]
    );
    assert_eq!(s2.s().leadership().unwrap().next_slot, Slot(3));
}

#[test]
fn takeover_prefers_the_higher_ballot_whatever_the_order_of_promises() {
    let mut s2 = Server::with_config(2, ServerConfig::cluster(5));
    s2.timeout(Timer::Election); // B(1,2), needs 3 promises
    let old = write(3, 0, 1);
    let new = write(4, 0, 2);
    for (from, e) in [(0, entry(b(2, 1), new)), (1, entry(b(1, 0), old))] {
        s2.deliver(
            from,
            Msg::Promise {
                ballot: b(3, 2),
                first_slot: Slot(0),
                accepted: vec![(Slot(0), e)],
                applied: None,
            },
        );
    }
    // The campaign was for B(1,2); promises for B(3,2) belong to no campaign: ignored.
    assert!(!s2.s().is_leader());
    let mut s2 = Server::with_config(2, ServerConfig::cluster(5));
    s2.timeout(Timer::Election);
    for (from, e) in [(0, entry(b(1, 1), new)), (1, entry(b(1, 0), old))] {
        s2.deliver(
            from,
            Msg::Promise {
                ballot: b(1, 2),
                first_slot: Slot(0),
                accepted: vec![(Slot(0), e)],
                applied: None,
            },
        );
    }
    let l = s2
        .s()
        .leadership()
        .expect("three promises make a majority of five");
    assert_eq!(l.proposals[&Slot(0)].command, Command::Client(new));
}

#[test]
fn a_quorum_of_distinct_acceptors_decides_and_the_leader_replies() {
    let mut s0 = leader0();
    let cmd = write(3, 0, 7);
    let out = s0.deliver(3, Msg::Request(cmd));
    assert!(
        matches!(&out[0], Effect::Persist(d) if d.accepted.get(&Slot(0)) == Some(&entry(b(1, 0), cmd))),
        "the leader's own vote is saved before the Accept leaves: {out:?}"
    );
    assert_eq!(sends(&out).len(), 2, "Accept to both peers");
    let out = s0.deliver(
        1,
        Msg::Accepted {
            ballot: b(1, 0),
            slot: Slot(0),
        },
    );
    assert_eq!(s0.s().learned[&Slot(0)].command, Command::Client(cmd));
    assert_eq!(s0.s().applied.register, Value(7));
    assert!(sends(&out).contains(&(
        3,
        Msg::Reply {
            request: RequestId(0),
            result: OpResult::WriteOk
        }
    )));
    assert!(sends(&out)
        .iter()
        .any(|(to, m)| *to == 2 && matches!(m, Msg::Decide { slot: Slot(0), .. })));
}

#[test]
fn a_duplicated_vote_does_not_count_twice() {
    let mut s0 = Server::with_config(0, ServerConfig::cluster(5));
    s0.timeout(Timer::Election);
    for from in [1, 1] {
        s0.deliver(
            from,
            Msg::Promise {
                ballot: b(1, 0),
                first_slot: Slot(0),
                accepted: vec![],
                applied: None,
            },
        );
    }
    assert!(
        !s0.s().is_leader(),
        "two promises from one acceptor are one vote"
    );
    s0.deliver(
        2,
        Msg::Promise {
            ballot: b(1, 0),
            first_slot: Slot(0),
            accepted: vec![],
            applied: None,
        },
    );
    assert!(s0.s().is_leader());
    s0.deliver(3, Msg::Request(write(5, 0, 1)));
    for from in [1, 1] {
        s0.deliver(
            from,
            Msg::Accepted {
                ballot: b(1, 0),
                slot: Slot(0),
            },
        );
    }
    assert!(
        s0.s().learned.is_empty(),
        "leader + one acceptor twice is not 3 of 5"
    );
}

#[test]
fn a_retried_command_runs_once_and_gets_its_first_result() {
    let mut s0 = leader0();
    let cmd = write(3, 0, 7);
    s0.deliver(3, Msg::Request(cmd));
    // The same request again while in flight: not proposed a second time.
    let out = s0.deliver(3, Msg::Request(cmd));
    assert!(sends(&out).is_empty(), "re-proposed: {out:?}");
    s0.deliver(
        1,
        Msg::Accepted {
            ballot: b(1, 0),
            slot: Slot(0),
        },
    );
    // And after it ran: answered from the session, not proposed.
    let out = s0.deliver(1, Msg::Forward(cmd));
    assert_eq!(
        sends(&out),
        vec![(
            3,
            Msg::Reply {
                request: RequestId(0),
                result: OpResult::WriteOk
            }
        )]
    );
    assert_eq!(s0.s().leadership().unwrap().next_slot, Slot(1));
}

#[test]
fn an_accept_below_the_promise_is_ignored_and_an_equal_one_is_voted() {
    let mut s1 = Server::new(1);
    s1.deliver(
        2,
        Msg::Prepare {
            ballot: b(2, 2),
            first_slot: Slot(0),
        },
    );
    let stale = s1.deliver(
        0,
        Msg::Accept {
            ballot: b(1, 0),
            slot: Slot(0),
            command: Command::NoOp,
        },
    );
    assert!(
        stale.is_empty(),
        "a stale Accept changes nothing: {stale:?}"
    );
    let out = s1.deliver(
        2,
        Msg::Accept {
            ballot: b(2, 2),
            slot: Slot(0),
            command: Command::NoOp,
        },
    );
    assert!(matches!(&out[0], Effect::Persist(_)));
    assert_eq!(
        sends(&out),
        vec![(
            2,
            Msg::Accepted {
                ballot: b(2, 2),
                slot: Slot(0)
            }
        )]
    );
}

#[test]
fn a_restarted_server_recovers_its_promise_votes_and_snapshot_only() {
    let mut cfg = ServerConfig::cluster(N);
    cfg.compact_every = 1;
    let mut s1 = Server::with_config(1, cfg);
    let cmd = write(3, 0, 9);
    s1.deliver(
        0,
        Msg::Accept {
            ballot: b(1, 0),
            slot: Slot(0),
            command: Command::Client(cmd),
        },
    );
    s1.deliver(
        0,
        Msg::Decide {
            ballot: b(1, 0),
            slot: Slot(0),
            command: Command::Client(cmd),
        },
    );
    s1.deliver(
        0,
        Msg::Accept {
            ballot: b(1, 0),
            slot: Slot(1),
            command: Command::NoOp,
        },
    );
    s1.restart();
    let s = s1.s();
    assert_eq!(s.durable.promised, b(1, 0));
    assert_eq!(
        s.applied.next_slot,
        Slot(1),
        "slot 0 was compacted into the snapshot"
    );
    assert_eq!(s.applied.register, Value(9));
    assert_eq!(
        s.durable.accepted.keys().copied().collect::<Vec<_>>(),
        vec![Slot(1)],
        "the vote for slot 1 survived; the one for slot 0 is in the snapshot"
    );
    assert!(
        s.learned.is_empty() && s.role == Role::Follower,
        "volatile state starts empty"
    );
}

#[test]
fn a_promise_carries_the_snapshot_of_compacted_slots() {
    let mut cfg = ServerConfig::cluster(N);
    cfg.compact_every = 1;
    let mut s1 = Server::with_config(1, cfg);
    s1.deliver(
        0,
        Msg::Decide {
            ballot: b(1, 0),
            slot: Slot(0),
            command: Command::Client(write(3, 0, 4)),
        },
    );
    let out = s1.deliver(
        2,
        Msg::Prepare {
            ballot: b(2, 2),
            first_slot: Slot(0),
        },
    );
    let [(
        2,
        Msg::Promise {
            applied: Some(snap),
            ..
        },
    )] = &sends(&out)[..]
    else {
        panic!("expected a promise with a snapshot: {out:?}");
    };
    assert_eq!(snap.next_slot, Slot(1));
    assert_eq!(snap.register, Value(4));
    // The new leader installs it and takes over from slot 1.
    let mut s2 = Server::new(2);
    s2.timeout(Timer::Election);
    s2.deliver(
        1,
        Msg::Promise {
            ballot: b(1, 2),
            first_slot: Slot(0),
            accepted: vec![],
            applied: Some(snap.clone()),
        },
    );
    assert_eq!(s2.s().applied, *snap);
    assert_eq!(s2.s().leadership().unwrap().next_slot, Slot(1));
}

#[test]
fn a_lagging_follower_catches_up_from_a_heartbeat() {
    let mut s1 = Server::new(1);
    let out = s1.deliver(
        0,
        Msg::Heartbeat {
            ballot: b(1, 0),
            commit: Slot(2),
        },
    );
    assert!(sends(&out).contains(&(0, Msg::CatchUp { next_slot: Slot(0) })));
    let snapshot = AppliedState {
        next_slot: Slot(2),
        register: Value(5),
        sessions: Default::default(),
    };
    let out = s1.deliver(0, Msg::StateTransfer(snapshot.clone()));
    assert_eq!(s1.s().applied, snapshot);
    assert!(matches!(&out[0], Effect::Persist(d) if d.snapshot == snapshot));
}

#[test]
fn without_prepare_skip_each_new_command_waits_for_its_own_phase1() {
    let mut cfg = ServerConfig::cluster(N);
    cfg.prepare_skip = false;
    let mut s0 = Server::with_config(0, cfg);
    s0.timeout(Timer::Election);
    s0.deliver(
        1,
        Msg::Promise {
            ballot: b(1, 0),
            first_slot: Slot(0),
            accepted: vec![],
            applied: None,
        },
    );
    let first = s0.deliver(3, Msg::Request(write(3, 0, 1)));
    assert!(sends(&first)
        .iter()
        .all(|(_, m)| matches!(m, Msg::Accept { .. })));
    let second = s0.deliver(4, Msg::Request(write(4, 0, 2)));
    assert!(sends(&second).is_empty(), "queued behind the first command");
    let decided = s0.deliver(
        1,
        Msg::Accepted {
            ballot: b(1, 0),
            slot: Slot(0),
        },
    );
    assert!(
        sends(&decided).iter().any(|(_, m)| matches!(
            m,
            Msg::Prepare { ballot, first_slot: Slot(1) } if *ballot == b(1, 0)
        )),
        "Phase 1 again, same ballot, from the next slot: {decided:?}"
    );
    let out = s0.deliver(
        1,
        Msg::Promise {
            ballot: b(1, 0),
            first_slot: Slot(1),
            accepted: vec![],
            applied: None,
        },
    );
    assert!(sends(&out)
        .iter()
        .any(|(_, m)| matches!(m, Msg::Accept { slot: Slot(1), .. })));
}

#[test]
fn a_client_takes_only_the_reply_to_its_pending_request() {
    let node = Node::Client(ClientConfig::cluster(N, 0));
    let id = NodeId(3);
    let (state, out) = node.start(id, None);
    assert!(out.is_empty());
    let mut state = Cow::Owned(state);
    let out = node.step(id, &mut state, Input::Submit(Op::Read));
    assert!(out
        .sends()
        .any(|(to, m)| to == NodeId(0) && matches!(m, Msg::Request(_))));
    // A reply to another request is ignored.
    let mut s = Cow::Borrowed(&*state);
    let stale = Msg::Reply {
        request: RequestId(7),
        result: OpResult::WriteOk,
    };
    let from = NodeId(1);
    let out = node.step(id, &mut s, Input::Deliver { from, msg: stale });
    assert!(matches!(s, Cow::Borrowed(_)) && out.is_empty());
    // The right one is taken, and the replier becomes the client's target.
    let reply = Msg::Reply {
        request: RequestId(0),
        result: OpResult::ReadOk(Value(0)),
    };
    let from = NodeId(2);
    let out = node.step(id, &mut state, Input::Deliver { from, msg: reply });
    assert_eq!(
        out.completed(),
        Some((RequestId(0), OpResult::ReadOk(Value(0))))
    );
    let client = state.as_client().unwrap();
    assert!(client.is_idle());
    assert_eq!(client.target, ServerId(2));
    // Retrying re-sends the same request id to the next server.
    let _ = node.step(id, &mut state, Input::Submit(Op::Write(Value(3))));
    let out = node.step(id, &mut state, Input::Timeout(Timer::ClientRetry));
    assert!(out.sends().any(|(to, m)| matches!(
        m,
        Msg::Request(cmd) if to == NodeId(0) && cmd.request == RequestId(1)
    )));
}

#[test]
fn a_cluster_server_keeps_only_the_decisions_since_its_previous_compaction() {
    let mut cfg = ServerConfig::cluster(N);
    cfg.compact_every = 2;
    let mut s1 = Server::with_config(1, cfg);
    let decide = |slot: u64| Msg::Decide {
        ballot: b(1, 0),
        slot: Slot(slot),
        command: Command::NoOp,
    };
    let slots = |s: &Server| s.s().learned.keys().map(|s| s.0).collect::<Vec<_>>();
    for slot in 0..6 {
        s1.deliver(0, decide(slot));
        // Every decision is in the log at least for the step that learned it.
        assert!(s1.s().learned.contains_key(&Slot(slot)));
    }
    // Compactions after slots 1, 3 and 5, each pruning below the snapshot of the previous one:
    // the last pruned below slot 4.
    assert_eq!(s1.s().applied.next_slot, Slot(6));
    assert_eq!(slots(&s1), vec![4, 5]);
}
