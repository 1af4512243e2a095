//! The step functions replicate any [`StateMachine`], not only the register the model checker
//! checks: a small one written here (an append-only list with a length query) runs through
//! `Node::start` and `Node::step` on three servers and a client, driven by a plain FIFO loop
//! with no stateright (what a user's own driver would do). Its commands are applied in the
//! decided order on every server, each exactly once, and the read-only query is answered without
//! a slot (ReadIndex).

use paxos_model::config::{ClientConfig, ServerConfig};
use paxos_model::msg::Timer;
use paxos_model::node::{Input, Node, NodeState};
use paxos_model::output::Effect;
use paxos_model::state_machine::StateMachine;
use paxos_model::types::{NodeId, RequestId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::VecDeque;

/// An append-only list of words.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Journal {
    words: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum JournalOp {
    Append(String),
    Len,
}

impl StateMachine for Journal {
    type Op = JournalOp;
    /// The journal's length after the command.
    type Output = usize;

    fn apply(&mut self, op: &JournalOp) -> usize {
        if let JournalOp::Append(word) = op {
            self.words.push(word.clone());
        }
        self.words.len()
    }

    fn is_read_only(op: &JournalOp) -> bool {
        matches!(op, JournalOp::Len)
    }
}

/// Three servers and one client, every message delivered in the order sent, timers fired
/// only when no message is in flight (the election timer of server 0 first).
struct Fifo {
    nodes: Vec<Node>,
    states: Vec<NodeState<Journal>>,
    queue: VecDeque<(NodeId, NodeId, paxos_model::msg::Msg<Journal>)>,
    completed: Vec<(RequestId, usize)>,
}

impl Fifo {
    fn new() -> Fifo {
        let servers = 3;
        let mut server = ServerConfig::cluster(servers);
        server.read_index = true;
        let mut nodes: Vec<Node> = (0..servers).map(|_| Node::Server(server.clone())).collect();
        nodes.push(Node::Client(ClientConfig::cluster(servers, 0)));
        let mut fifo = Fifo {
            states: Vec::new(),
            nodes,
            queue: VecDeque::new(),
            completed: Vec::new(),
        };
        for id in 0..fifo.nodes.len() {
            let (state, output) = fifo.nodes[id].start(NodeId(id as u32), None);
            fifo.states.push(state);
            fifo.execute(id, output.into_iter().collect());
        }
        fifo
    }

    fn execute(&mut self, id: usize, effects: Vec<Effect<Journal>>) {
        for effect in effects {
            match effect {
                Effect::Send(to, msg) => self.queue.push_back((NodeId(id as u32), to, msg)),
                Effect::Complete { request, result } => self.completed.push((request, result)),
                Effect::Persist(_) | Effect::SetTimer(..) | Effect::CancelTimer(_) => {}
            }
        }
    }

    fn step(&mut self, id: usize, input: Input<Journal>) {
        let mut state = Cow::Owned(self.states[id].clone());
        let output = self.nodes[id].step(NodeId(id as u32), &mut state, input);
        self.states[id] = state.into_owned();
        self.execute(id, output.into_iter().collect());
    }

    /// Delivers every message in flight, and what they cause, in order.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            let Some((from, to, msg)) = self.queue.pop_front() else {
                return;
            };
            self.step(to.index(), Input::Deliver { from, msg });
        }
        panic!("messages still in flight after 10,000 deliveries");
    }

    fn submit(&mut self, op: JournalOp) -> usize {
        let before = self.completed.len();
        self.step(3, Input::Submit(op));
        self.settle();
        assert_eq!(self.completed.len(), before + 1, "the command completed");
        self.completed[before].1
    }

    fn server(&self, id: usize) -> &paxos_model::server::ServerState<Journal> {
        self.states[id].as_server().expect("a server")
    }
}

#[test]
fn a_state_machine_of_its_own_is_replicated_by_the_same_step_functions() {
    let mut fifo = Fifo::new();
    fifo.step(0, Input::Timeout(Timer::Election));
    fifo.settle();
    assert!(fifo.server(0).is_leader(), "server 0 won its election");

    assert_eq!(fifo.submit(JournalOp::Append("alpha".into())), 1);
    assert_eq!(fifo.submit(JournalOp::Append("beta".into())), 2);
    let slots_before_read = fifo.server(0).applied.next_slot;
    assert_eq!(
        fifo.submit(JournalOp::Len),
        2,
        "the query sees both appends"
    );
    assert_eq!(
        fifo.server(0).applied.next_slot,
        slots_before_read,
        "the read-only query took no slot"
    );
    // The leader's heartbeat carries the commit point: every server applies both appends.
    fifo.step(0, Input::Timeout(Timer::Heartbeat));
    fifo.settle();
    for id in 0..3 {
        let applied = &fifo.server(id).applied;
        assert_eq!(applied.machine.words, ["alpha", "beta"], "server {id}");
        assert_eq!(
            applied.sessions.len(),
            1,
            "server {id}: one client's session"
        );
    }
}
