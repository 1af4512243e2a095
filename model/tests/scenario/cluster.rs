//! A small cluster of [`Node`]s driven by hand, one command of a scenario file at a time: no
//! stateright, only the core API (`Node::start`, `Node::step`, `Output`). The network is a list
//! of in-flight messages, oldest first; nothing happens unless a command says so (timers fire
//! only on `timeout`, messages move only on `deliver`, `stabilize`, ...). Every command returns
//! the text the scenario file expects after it.
//!
//! Besides printing, every step is checked against the contract every driver relies on
//! (`model/src/output.rs`, `model/src/node.rs`); a breach is a [`Cluster::violations`] entry that
//! fails the test whatever the golden text says:
//! - effects come in order (persist, at most once, first; then timers; sends; the completion);
//! - a server's changed durable state is persisted in the same step, and what is persisted is
//!   the state's durable part after the step;
//! - a step with no effects copies the state only to change it (the model checker prunes
//!   steps that leave the state borrowed and do nothing);
//! - the step is a function: the same input on the same state gives the same output and state.

use crate::syntax;
#[cfg(feature = "bugs")]
use paxos_model::bug::Bug;
use paxos_model::config::{ClientConfig, ServerConfig};
use paxos_model::durable::Durable;
use paxos_model::msg::{Msg, Timer};
use paxos_model::node::{Input, Node, NodeState};
use paxos_model::output::{Effect, Output};
use paxos_model::rules::Rule;
use paxos_model::server::{Role, ServerState, Tally};
use paxos_model::types::NodeId;
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Limit: deliveries one `stabilize` may make before it gives up (a livelock in a scenario).
const STABILIZE_DELIVERIES_MAX: usize = 10_000;

/// Why a command printed no regular output.
#[derive(Debug)]
pub enum Failure {
    /// The command is malformed or unknown: the scenario file is wrong. Fails the test.
    Usage(String),
    /// The command is well-formed but cannot happen now (a node is down, nothing is in
    /// flight): printed as `error: ...`, a legitimate golden output.
    Refused(String),
}

fn usage<T>(text: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Usage(text.into()))
}

fn refused<T>(text: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Refused(text.into()))
}

/// A message in flight.
#[derive(Clone)]
struct Envelope {
    /// Unique per scenario, so a batch of deliveries can find its messages again.
    seq: u64,
    from: NodeId,
    to: NodeId,
    msg: Msg,
}

/// Which in-flight messages a command means: `0->1`, `*->1`, `c3->*`, optionally of one kind.
struct Filter {
    from: Option<NodeId>,
    to: Option<NodeId>,
    kind: Option<String>,
}

/// The scenario's world: servers `0..servers`, then clients, and the network between them.
#[derive(Default)]
pub struct Cluster {
    servers: usize,
    nodes: Vec<Node>,
    /// `None` while a server is down.
    states: Vec<Option<NodeState>>,
    /// What each server last persisted: all that survives a crash.
    stored: Vec<Option<Durable>>,
    /// The timers each node has set.
    timers: Vec<BTreeSet<Timer>>,
    /// In flight, oldest first.
    net: Vec<Envelope>,
    next_seq: u64,
    /// Every rule a step took.
    pub rules: BTreeSet<Rule>,
    /// Breaches of the step-function contract (see the module docs).
    pub violations: Vec<String>,
    /// A known-bad variant for every server (only for the runner's own tests).
    #[cfg(feature = "bugs")]
    bug: Option<Bug>,
}

impl Cluster {
    /// A cluster whose servers will run the known-bad variant `bug`: for tests that show the
    /// runner's own checks failing. Scenario files cannot select a variant.
    #[cfg(feature = "bugs")]
    pub fn with_bug(bug: Bug) -> Cluster {
        Cluster {
            bug: Some(bug),
            ..Cluster::default()
        }
    }

    /// Runs one command line and returns the text it prints.
    pub fn run(&mut self, line: &str) -> Result<String, Failure> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((&command, args)) = words.split_first() else {
            return usage("empty command");
        };
        if command != "servers" && self.nodes.is_empty() {
            return usage("the first command must be `servers N`");
        }
        let mut out = Vec::new();
        match (command, args) {
            ("servers", _) => self.start_servers(args, &mut out)?,
            ("clients", _) => self.start_clients(args, &mut out)?,
            ("timeout", [node, timer]) => {
                let id = self.node(node)?;
                let timer = syntax::parse_timer(timer).map_err(Failure::Usage)?;
                self.timeout(id, timer, &mut out)?;
            }
            ("submit", [client, op @ ..]) => {
                let id = self.node(client)?;
                if self.is_server(id) {
                    return usage(format!("{client} is a server; only clients submit"));
                }
                let op = syntax::parse_op(op).map_err(Failure::Usage)?;
                self.up(id)?;
                let header = format!("{} submit {op:?}", self.name(id));
                self.step(id, Input::Submit(op), header, &mut out);
            }
            ("deliver", _) => {
                let at = self.oldest(&self.filter(args)?, args)?;
                self.deliver(at, &mut out);
            }
            ("deliver-all", _) => {
                let filter = self.filter_or_all(args)?;
                let batch: Vec<u64> = self.matching(&filter).map(|e| e.seq).collect();
                if batch.is_empty() {
                    return refused(format!("no message in flight matches `{}`", args.join(" ")));
                }
                for seq in batch {
                    if let Some(at) = self.net.iter().position(|e| e.seq == seq) {
                        self.deliver(at, &mut out);
                    }
                }
            }
            ("stabilize", []) => self.stabilize(&mut out)?,
            ("drop", _) => {
                let at = self.oldest(&self.filter(args)?, args)?;
                let e = self.net.remove(at);
                out.push(format!("dropped {}", self.envelope(&e)));
            }
            ("drop-all", _) => {
                let filter = self.filter_or_all(args)?;
                let (dropped, kept) = std::mem::take(&mut self.net)
                    .into_iter()
                    .partition::<Vec<_>, _>(|e| Self::matches(&filter, e));
                self.net = kept;
                if dropped.is_empty() {
                    return refused(format!("no message in flight matches `{}`", args.join(" ")));
                }
                out.extend(
                    dropped
                        .iter()
                        .map(|e| format!("dropped {}", self.envelope(e))),
                );
            }
            ("dup", _) => {
                let at = self.oldest(&self.filter(args)?, args)?;
                let mut copy = self.net[at].clone();
                copy.seq = self.seq();
                out.push(format!("duplicated {}", self.envelope(&copy)));
                self.net.insert(at + 1, copy); // The copy arrives right after the original.
            }
            ("crash", [node]) => {
                let id = self.node(node)?;
                self.crash(id, &mut out)?;
            }
            ("recover", [node]) => {
                let id = self.node(node)?;
                self.recover(id, &mut out)?;
            }
            ("send", [route, msg @ ..]) => {
                let (from, to) = self.route(route)?;
                let msg = syntax::parse_msg(&msg.join(" ")).map_err(Failure::Usage)?;
                let printed = syntax::msg(&msg);
                self.up(to)?;
                let header = format!("{}->{} {printed}", self.name(from), self.name(to));
                self.step(to, Input::Deliver { from, msg }, header, &mut out);
            }
            ("state", [_, ..]) => {
                for node in args {
                    let id = self.node(node)?;
                    self.print_state(id, &mut out);
                }
            }
            ("msgs", []) => {
                if self.net.is_empty() {
                    out.push("no messages in flight".into());
                }
                out.extend(self.net.iter().map(|e| self.envelope(e)));
            }
            _ => return usage(format!("unknown command or wrong arguments: `{line}`")),
        }
        Ok(out.join("\n"))
    }

    // -----------------------------------------------------------------------------------------
    // Commands.

    /// `servers N [compact-every=K] [pending-max=K] [batch=K] [window=K] [session-window=K]
    /// [no-prepare-skip] [read-index]`: starts servers `0..N`
    /// with [`ServerConfig::cluster`] and the public fields the options set. The model-only
    /// fields (`may_campaign`, `announce_decisions`, `heartbeat`, `keep_log`) are `pub(crate)`:
    /// a scenario runs what a real cluster runs.
    fn start_servers(&mut self, args: &[&str], out: &mut Vec<String>) -> Result<(), Failure> {
        if !self.nodes.is_empty() {
            return usage("`servers` must come once, first");
        }
        let Some((n, options)) = args.split_first() else {
            return usage(
                "`servers N [compact-every=K] [pending-max=K] [batch=K] [window=K] \
                 [session-window=K] [no-prepare-skip] [read-index] [lease-reads] [pre-vote] [check-quorum] \
                 [commit-point] [parallel-leader-write]`",
            );
        };
        let n: usize = number(n)?;
        if n == 0 {
            return usage("a cluster has at least one server");
        }
        let mut cfg = ServerConfig::cluster(n);
        for option in options {
            match option.split_once('=') {
                Some(("compact-every", k)) => cfg.compact_every = number(k)?,
                Some(("pending-max", k)) => cfg.pending_max = number(k)?,
                Some(("batch", k)) => cfg.batch_commands_max = number(k)?,
                Some(("window", k)) => cfg.window_slots_max = number(k)?,
                Some(("session-window", k)) => cfg.session_window = number(k)?,
                None if *option == "commit-point" => cfg.commit_point = true,
                None if *option == "parallel-leader-write" => cfg.parallel_leader_write = true,
                None if *option == "no-prepare-skip" => cfg.prepare_skip = false,
                None if *option == "read-index" => cfg.read_index = true,
                None if *option == "lease-reads" => {
                    cfg.read_index = true;
                    cfg.lease_reads = true;
                }
                None if *option == "pre-vote" => cfg.pre_vote = true,
                None if *option == "check-quorum" => cfg.check_quorum = true,
                _ => {
                    return usage(format!(
                        "unknown option `{option}` (compact-every=K, pending-max=K, batch=K, \
                         window=K, session-window=K, no-prepare-skip, read-index, lease-reads, pre-vote, check-quorum, \
                         commit-point, parallel-leader-write; model-only bounds such as announce or max-round are \
                         pub(crate) and cannot be set by a scenario)"
                    ))
                }
            }
        }
        #[cfg(feature = "bugs")]
        {
            cfg.bug = self.bug;
        }
        self.servers = n;
        for _ in 0..n {
            self.add(Node::Server(cfg.clone()), out);
        }
        Ok(())
    }

    /// `clients N [first=S] [window=W]`: clients are the nodes after the servers; client `k`
    /// (from 0) asks server `k mod servers` first, or `S` for every client; each keeps up to `W`
    /// requests outstanding (default 1).
    fn start_clients(&mut self, args: &[&str], out: &mut Vec<String>) -> Result<(), Failure> {
        if self.nodes.len() != self.servers {
            return usage("`clients` must come once, right after `servers`");
        }
        let Some((n, options)) = args.split_first() else {
            return usage("`clients N [first=S] [window=W]`");
        };
        let n: usize = number(n)?;
        let (mut first, mut window) = (None, 1);
        for option in options {
            match option.split_once('=') {
                Some(("first", s)) => first = Some(number::<usize>(s)?),
                Some(("window", w)) => window = number(w)?,
                _ => return usage(format!("unknown option `{option}` (first=S, window=W)")),
            }
        }
        for k in 0..n {
            let first = first.unwrap_or(k % self.servers);
            let mut cfg = ClientConfig::cluster(self.servers, first);
            cfg.window = window;
            self.add(Node::Client(cfg), out);
        }
        Ok(())
    }

    fn add(&mut self, node: Node, out: &mut Vec<String>) {
        let id = NodeId(self.nodes.len() as u32);
        let (state, output) = node.start(id, None);
        self.nodes.push(node);
        self.states.push(Some(state));
        self.stored.push(None);
        self.timers.push(BTreeSet::new());
        out.push(format!("{} start", self.name(id)));
        self.execute(id, &output, out);
    }

    fn timeout(&mut self, id: NodeId, timer: Timer, out: &mut Vec<String>) -> Result<(), Failure> {
        self.up(id)?;
        let mut header = format!("{} timeout {}", self.name(id), syntax::timer(timer));
        if !self.timers[id.index()].remove(&timer) {
            // A driver may fire a timer it was just told to cancel (the runtime's race between
            // a cancel and an expiry): the handlers must cope.
            header += " (not set: a late firing)";
        }
        self.step(id, Input::Timeout(timer), header, out);
        Ok(())
    }

    fn deliver(&mut self, at: usize, out: &mut Vec<String>) {
        let e = self.net.remove(at);
        let header = self.envelope(&e);
        self.step(
            e.to,
            Input::Deliver {
                from: e.from,
                msg: e.msg,
            },
            header,
            out,
        );
    }

    /// Delivers the oldest message in flight until none is left.
    fn stabilize(&mut self, out: &mut Vec<String>) -> Result<(), Failure> {
        if self.net.is_empty() {
            out.push("nothing in flight".into());
        }
        let mut deliveries = 0;
        while !self.net.is_empty() {
            deliveries += 1;
            if deliveries > STABILIZE_DELIVERIES_MAX {
                return refused(format!(
                    "not stable after {STABILIZE_DELIVERIES_MAX} deliveries"
                ));
            }
            self.deliver(0, out);
        }
        Ok(())
    }

    /// A server crashes: its volatile state, its timers and the messages in flight to it are
    /// lost; what it last persisted is kept. Clients never crash (`specs/multipaxos.md`).
    fn crash(&mut self, id: NodeId, out: &mut Vec<String>) -> Result<(), Failure> {
        if !self.is_server(id) {
            return usage("only servers crash");
        }
        self.up(id)?;
        self.states[id.index()] = None;
        self.timers[id.index()].clear();
        out.push(format!("{} crash", self.name(id)));
        let (lost, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.net)
            .into_iter()
            .partition(|e| e.to == id);
        self.net = kept;
        out.extend(lost.iter().map(|e| format!("  lost {}", self.envelope(e))));
        out.push(match &self.stored[id.index()] {
            Some(d) => format!("  kept {}", syntax::durable(d)),
            None => "  kept nothing (never persisted)".into(),
        });
        Ok(())
    }

    /// A crashed server starts again from what it persisted.
    fn recover(&mut self, id: NodeId, out: &mut Vec<String>) -> Result<(), Failure> {
        if self.states[id.index()].is_some() {
            return refused(format!("{} is up", self.name(id)));
        }
        let (state, output) = self.nodes[id.index()].start(id, self.stored[id.index()].as_ref());
        self.states[id.index()] = Some(state);
        out.push(format!("{} recover", self.name(id)));
        self.execute(id, &output, out);
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Steps.

    /// One step of node `id` on `input`: prints `header`, then the step's effects and rules.
    fn step(&mut self, id: NodeId, input: Input, header: String, out: &mut Vec<String>) {
        let i = id.index();
        let before = self.states[i]
            .clone()
            .expect("the caller checked the node is up");
        let mut state = Cow::Borrowed(&before);
        let output = self.nodes[i].step(id, &mut state, input.clone());
        let copied = matches!(state, Cow::Owned(_));
        let after = state.into_owned();
        let mut again = Cow::Borrowed(&before);
        let output_again = self.nodes[i].step(id, &mut again, input);
        if output_again != output || *again != after {
            self.violations.push(format!(
                "`{header}`: the same input on the same state gave different results"
            ));
        }
        if let (Some(b), Some(a)) = (before.as_server(), after.as_server()) {
            if b.durable != a.durable && output.persist().is_none() {
                self.violations.push(format!(
                    "`{header}`: the durable state changed but was not persisted"
                ));
            }
            if output.persist().is_some_and(|d| *d != a.durable) {
                self.violations.push(format!(
                    "`{header}`: persisted something else than the durable state"
                ));
            }
        }
        out.push(header.clone());
        if output.is_empty() {
            let unchanged = before == after;
            if unchanged && copied {
                self.violations.push(format!(
                    "`{header}`: a step with no effects copied the state without changing it"
                ));
            }
            out.push(
                if unchanged {
                    "  no effects (state unchanged)"
                } else {
                    "  no effects (state changed)"
                }
                .into(),
            );
        }
        self.states[i] = Some(after);
        self.execute(id, &output, out);
    }

    /// Executes a step's effects, front to back, and prints them and the rules taken.
    fn execute(&mut self, id: NodeId, output: &Output, out: &mut Vec<String>) {
        let i = id.index();
        let mut rank_so_far = 0;
        for (at, effect) in output.effects().iter().enumerate() {
            let rank = match effect {
                Effect::Persist(_) if at == 0 => 0,
                Effect::Persist(_) => 9, // Only first (and so at most once).
                Effect::SetTimer(..) | Effect::CancelTimer(_) => 1,
                Effect::Send(..) => 2,
                _ => 3,
            };
            if rank < rank_so_far || rank == 9 {
                self.violations.push(format!(
                    "{}: effects out of order: {:?}",
                    self.name(id),
                    output.effects()
                ));
            }
            rank_so_far = rank;
            let line = match effect {
                Effect::Persist(d) => {
                    self.stored[i] = Some(d.clone());
                    format!("persist {}", syntax::durable(d))
                }
                Effect::SetTimer(t, _) => {
                    self.timers[i].insert(*t);
                    format!("set-timer {}", syntax::timer(*t))
                }
                Effect::CancelTimer(t) => {
                    self.timers[i].remove(t);
                    format!("cancel-timer {}", syntax::timer(*t))
                }
                Effect::Send(to, msg) => self.send(id, *to, msg),
                Effect::Complete { request, result } => format!("complete {request:?} {result:?}"),
                #[allow(unreachable_patterns)]
                other => format!("{other:?}"),
            };
            out.push(format!("  {line}"));
        }
        let rules: Vec<_> = output.rules().iter().map(Rule::name).collect();
        if !rules.is_empty() {
            out.push(format!("  rules: {}", rules.join(", ")));
        }
        self.rules.extend(output.rules().iter());
    }

    /// Puts a message in flight (a message to a node that is down is lost) and returns its line.
    fn send(&mut self, from: NodeId, to: NodeId, msg: &Msg) -> String {
        let text = syntax::msg(msg);
        if syntax::parse_msg(&text).as_ref() != Ok(msg) {
            self.violations.push(format!(
                "the scenario syntax does not read back `{text}`: teach tests/scenario/syntax.rs"
            ));
        }
        let line = format!("send {}->{} {text}", self.name(from), self.name(to));
        match self.states.get(to.index()) {
            Some(Some(_)) => {
                let seq = self.seq();
                self.net.push(Envelope {
                    seq,
                    from,
                    to,
                    msg: msg.clone(),
                });
                line
            }
            Some(None) => format!("{line} (lost: {} is down)", self.name(to)),
            None => format!("{line} (lost: no such node)"),
        }
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    // -----------------------------------------------------------------------------------------
    // Names, filters and state.

    /// A node's name: `0` for a server, `c3` for a client.
    fn name(&self, id: NodeId) -> String {
        if !self.is_server(id) && id.index() < self.nodes.len() {
            format!("c{}", id.0)
        } else {
            format!("{}", id.0)
        }
    }

    fn is_server(&self, id: NodeId) -> bool {
        id.index() < self.servers
    }

    fn envelope(&self, e: &Envelope) -> String {
        format!(
            "{}->{} {}",
            self.name(e.from),
            self.name(e.to),
            syntax::msg(&e.msg)
        )
    }

    /// Reads a node: `1` or, for a client, `c3` (its node id, not its rank among clients).
    fn node(&self, text: &str) -> Result<NodeId, Failure> {
        let id = self.any_node(text)?;
        if id.index() >= self.nodes.len() {
            return usage(format!("no node `{text}`"));
        }
        Ok(id)
    }

    /// Reads a node id that need not exist (an injected message may come from anywhere).
    fn any_node(&self, text: &str) -> Result<NodeId, Failure> {
        let (client, digits) = match text.strip_prefix('c') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let id = NodeId(number(digits)?);
        if client && self.is_server(id) {
            return usage(format!("`{text}`: node {} is a server", id.0));
        }
        if !client && !self.is_server(id) && id.index() < self.nodes.len() {
            return usage(format!("`{text}` is a client: write c{}", id.0));
        }
        Ok(id)
    }

    fn up(&self, id: NodeId) -> Result<(), Failure> {
        match self.states[id.index()] {
            Some(_) => Ok(()),
            None => refused(format!("{} is down", self.name(id))),
        }
    }

    /// `from->to` for `send`: the sender may be any node id, even one outside the cluster.
    fn route(&self, text: &str) -> Result<(NodeId, NodeId), Failure> {
        let Some((from, to)) = text.split_once("->") else {
            return usage(format!("expected `from->to`, got `{text}`"));
        };
        Ok((self.any_node(from)?, self.node(to)?))
    }

    /// `from->to [Kind]`, either side `*`.
    fn filter(&self, args: &[&str]) -> Result<Filter, Failure> {
        let (route, kind) = match args {
            [route] => (*route, None),
            [route, kind] if syntax::KINDS.contains(kind) => (*route, Some(kind.to_string())),
            [_, kind] => {
                return usage(format!(
                    "unknown message kind `{kind}` ({})",
                    syntax::KINDS.join(", ")
                ))
            }
            _ => return usage("expected `from->to [Kind]` (either side may be `*`)"),
        };
        let Some((from, to)) = route.split_once("->") else {
            return usage(format!("expected `from->to`, got `{route}`"));
        };
        let side = |s: &str| match s {
            "*" => Ok(None),
            s => self.node(s).map(Some),
        };
        Ok(Filter {
            from: side(from)?,
            to: side(to)?,
            kind,
        })
    }

    fn filter_or_all(&self, args: &[&str]) -> Result<Filter, Failure> {
        if args.is_empty() {
            return Ok(Filter {
                from: None,
                to: None,
                kind: None,
            });
        }
        self.filter(args)
    }

    fn matches(filter: &Filter, e: &Envelope) -> bool {
        filter.from.is_none_or(|f| f == e.from)
            && filter.to.is_none_or(|t| t == e.to)
            && filter
                .kind
                .as_ref()
                .is_none_or(|k| *k == syntax::kind(&e.msg))
    }

    fn matching<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = &'a Envelope> {
        self.net.iter().filter(|e| Self::matches(filter, e))
    }

    fn oldest(&self, filter: &Filter, args: &[&str]) -> Result<usize, Failure> {
        match self.net.iter().position(|e| Self::matches(filter, e)) {
            Some(at) => Ok(at),
            None => refused(format!("no message in flight matches `{}`", args.join(" "))),
        }
    }

    fn print_state(&self, id: NodeId, out: &mut Vec<String>) {
        let name = self.name(id);
        let timers: Vec<_> = self.timers[id.index()]
            .iter()
            .map(|t| syntax::timer(*t))
            .collect();
        let timers = format!("timers=[{}]", timers.join(", "));
        match &self.states[id.index()] {
            None => {
                let kept = match &self.stored[id.index()] {
                    Some(d) => syntax::durable(d),
                    None => "nothing".into(),
                };
                out.push(format!("{name}: down, kept {kept}"));
            }
            Some(NodeState::Server(s)) => server_state(&name, s, &timers, out),
            Some(NodeState::Client(c)) => out.push(format!(
                "{name}: {} submitted={} target={:?} retries={} {timers}",
                match c.pending.as_slice() {
                    [] => "idle".into(),
                    [p] => format!("waiting for {p:?}"),
                    window => format!("waiting for {window:?}"),
                },
                c.submitted,
                c.target,
                c.retries
            )),
        }
    }
}

fn server_state(name: &str, s: &ServerState, timers: &str, out: &mut Vec<String>) {
    let role = match &s.role {
        Role::Follower => "follower".to_string(),
        Role::Candidate(t) => format!("candidate {}", tally(t)),
        Role::Leader(l) => {
            let proposals: Vec<_> = l
                .proposals
                .iter()
                .map(|(slot, p)| {
                    format!(
                        "{slot:?}: {:?} voters={:?}{}",
                        p.command,
                        p.voters,
                        if p.fresh { " fresh" } else { "" }
                    )
                })
                .collect();
            let mut text = format!(
                "leader {:?} next={:?} proposals=[{}] fresh-decided={}",
                l.ballot,
                l.next_slot,
                proposals.join(", "),
                l.fresh_decided
            );
            if !l.prepared {
                text += " unprepared";
            }
            if let Some(t) = &l.reprepare {
                text += &format!(" repeating-phase-1 {}", tally(t));
            }
            let r = &l.reads;
            if r.round > 0 || !r.is_empty() {
                let reads = |reads: &[(
                    paxos_model::state_machine::ClientCommand,
                    paxos_model::types::Slot,
                )]| {
                    let reads: Vec<_> = reads
                        .iter()
                        .map(|(c, at)| format!("{c:?} at {at:?}"))
                        .collect();
                    format!("[{}]", reads.join(", "))
                };
                text += &format!(
                    " reads: round={} confirming={} acks={:?} queued={} confirmed={}",
                    r.round,
                    reads(&r.confirming),
                    r.acks,
                    reads(&r.queued),
                    reads(&r.confirmed)
                );
            }
            if !l.heard.is_empty() {
                text += &format!(" heard={:?}", l.heard);
            }
            if l.lease.round > 0 {
                text += &format!(
                    " lease: round={} status={:?} acks={:?}",
                    l.lease.round, l.lease.status, l.lease.acks
                );
            }
            text
        }
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    };
    out.push(format!("{name}: {role}"));
    out.push(format!("  {}", syntax::durable(&s.durable)));
    let learned = syntax::entries(
        s.learned
            .iter()
            .map(|(s, d)| (*s, d.ballot, d.command.clone())),
    );
    out.push(format!(
        "  applied={} learned={learned}",
        syntax::applied_state(&s.applied)
    ));
    let pending: Vec<_> = s.pending.iter().map(|c| format!("{c:?}")).collect();
    let answered = match s.answered_prepare {
        Some((b, f)) => format!("({b:?}, {f:?}..)"),
        None => "none".into(),
    };
    out.push(format!(
        "  pending=[{}] answered-prepare={answered} {timers}",
        pending.join(", ")
    ));
    if let Some(g) = s.lease_grant {
        let round = g.round.map_or("any".to_string(), |r| format!("#{r}"));
        out.push(format!("  lease-grant={:?} round {round}", g.ballot));
    }
    if s.pre_vote.is_some() || s.leader_heard {
        let pre_vote = match &s.pre_vote {
            Some(p) => format!("{:?} voters={:?}", p.ballot, p.voters),
            None => "none".into(),
        };
        out.push(format!(
            "  pre-vote={pre_vote} leader-heard={}",
            s.leader_heard
        ));
    }
}

fn tally(t: &Tally) -> String {
    let mut text = format!(
        "{:?} from {:?} voters={:?} accepted={}",
        t.ballot,
        t.first_slot,
        t.voters,
        syntax::entries(
            t.accepted
                .iter()
                .map(|(s, e)| (*s, e.ballot, e.command.clone()))
        )
    );
    if let Some(a) = &t.applied {
        text += &format!(" applied={}", syntax::applied_state(a));
    }
    text
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, Failure> {
    text.parse()
        .map_err(|_| Failure::Usage(format!("bad number `{text}`")))
}
