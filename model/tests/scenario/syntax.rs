//! The scenario files' text for protocol values: one syntax to print them and to read them
//! back, so any message printed in a golden output can be pasted into a `send` command.
//!
//! It builds on the types' own `Debug` formats (`B(1,S0)`, `#0`, `C3r0:Write(v7)`, `NoOp`,
//! `r0`, `WriteOk`, `ReadOk(v7)`) and spells out what `Msg`'s `Debug` abbreviates (a promise's
//! accepted entries and the applied state in a promise or state transfer):
//!
//! ```text
//! Request(C3r0:Write(v7))        Forward(C3r0:Read)          Reply(r0, ReadOk(v7))
//! Prepare(B(1,S0), #0..)         Accept(B(1,S0), #0, NoOp)   Accepted(B(1,S0), #0)
//! Promise(B(2,S1), #0.., [#0: B(1,S0) C3r0:Write(v7)], applied=(#1, v7, {C3: r0 WriteOk}))
//! Nack(B(1,S0) < B(2,S1))        Decide(B(1,S0), #0, NoOp)   Heartbeat(B(1,S0), #2)
//! CatchUp(#0)                    StateTransfer(#2, v5, {})
//! ReadConfirm(B(1,S0), #1)       ReadAck(B(1,S0), #1)
//! PreVote(B(2,S1))               PreVoteGranted(B(2,S1))     HeartbeatAck(B(1,S0))
//! ```

use paxos_model::durable::{AcceptedEntry, Durable};
use paxos_model::msg::{Msg, Timer};
use paxos_model::state_machine::{AppliedState, Session};
use paxos_model::state_machine::{ClientCommand, Command};
use paxos_model::types::{Ballot, ClientId, Op, OpResult, RequestId, ServerId, Slot, Value};

// ---------------------------------------------------------------------------------------------
// Printing.

/// A message, in the syntax above.
pub fn msg(m: &Msg) -> String {
    match m {
        Msg::Request(c) => format!("Request({c:?})"),
        Msg::Forward(c) => format!("Forward({c:?})"),
        Msg::Reply { request, result } => format!("Reply({request:?}, {result:?})"),
        Msg::Prepare { ballot, first_slot } => format!("Prepare({ballot:?}, {first_slot:?}..)"),
        Msg::Promise {
            ballot,
            first_slot,
            accepted,
            applied,
        } => {
            let entries = entries(
                accepted
                    .iter()
                    .map(|(s, e)| (*s, e.ballot, e.command.clone())),
            );
            match applied {
                None => format!("Promise({ballot:?}, {first_slot:?}.., {entries})"),
                Some(a) => format!(
                    "Promise({ballot:?}, {first_slot:?}.., {entries}, applied={})",
                    applied_state(a)
                ),
            }
        }
        Msg::Accept {
            ballot,
            slot,
            command,
            decided_below,
        } => format!(
            "Accept({ballot:?}, {slot:?}, {command:?}{})",
            decided_suffix(*decided_below)
        ),
        Msg::Accepted { ballot, slot } => format!("Accepted({ballot:?}, {slot:?})"),
        Msg::Nack { ballot, promised } => format!("Nack({ballot:?} < {promised:?})"),
        Msg::Decide {
            ballot,
            slot,
            command,
        } => format!("Decide({ballot:?}, {slot:?}, {command:?})"),
        Msg::Heartbeat {
            ballot,
            commit,
            decided_below,
        } => format!(
            "Heartbeat({ballot:?}, {commit:?}{})",
            decided_suffix(*decided_below)
        ),
        Msg::ReadConfirm { ballot, round } => format!("ReadConfirm({ballot:?}, #{round})"),
        Msg::ReadAck { ballot, round } => format!("ReadAck({ballot:?}, #{round})"),
        Msg::CatchUp { next_slot } => format!("CatchUp({next_slot:?})"),
        Msg::StateTransfer(a) => {
            let a = applied_state(a);
            format!("StateTransfer{a}")
        }
        Msg::PreVote { ballot } => format!("PreVote({ballot:?})"),
        Msg::PreVoteGranted { ballot } => format!("PreVoteGranted({ballot:?})"),
        Msg::HeartbeatAck { ballot } => format!("HeartbeatAck({ballot:?})"),
        Msg::LeaseRequest { ballot, round } => format!("LeaseRequest({ballot:?}, #{round})"),
        Msg::LeaseGranted { ballot, round } => format!("LeaseGranted({ballot:?}, #{round})"),
        // A message added to the protocol later still prints (and `send` will say it cannot
        // read it back) until this file learns its syntax.
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// Every message kind, as `deliver 0->1 Prepare` takes it.
pub const KINDS: &[&str] = &[
    "Request",
    "Forward",
    "Reply",
    "Prepare",
    "Promise",
    "Accept",
    "Accepted",
    "Nack",
    "Decide",
    "Heartbeat",
    "ReadConfirm",
    "ReadAck",
    "CatchUp",
    "StateTransfer",
    "PreVote",
    "PreVoteGranted",
    "HeartbeatAck",
    "LeaseRequest",
    "LeaseGranted",
];

/// A message's kind: its name without the fields (`Prepare`), as `deliver 0->1 Prepare` takes.
pub fn kind(m: &Msg) -> String {
    let text = msg(m);
    text.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

/// Slot entries: `[#0: B(1,S0) C3r0:Write(v7), #1: B(1,S0) NoOp]`.
pub fn entries(entries: impl Iterator<Item = (Slot, Ballot, Command)>) -> String {
    let items: Vec<_> = entries
        .map(|(slot, ballot, command)| format!("{slot:?}: {ballot:?} {command:?}"))
        .collect();
    format!("[{}]", items.join(", "))
}

/// An applied state: `(#1, v7, {C3: r0 WriteOk})`.
pub fn applied_state(a: &AppliedState) -> String {
    let sessions: Vec<_> = a
        .sessions
        .iter()
        .map(|(client, s)| format!("{client:?}: {:?} {:?}", s.request, s.result))
        .collect();
    format!(
        "({:?}, {:?}, {{{}}})",
        a.next_slot,
        a.machine.value,
        sessions.join(", ")
    )
}

/// A durable state: `promised=B(1,S0) accepted=[…]`, and `snapshot=(…)` once it holds slots.
pub fn durable(d: &Durable) -> String {
    let mut text = format!(
        "promised={:?} accepted={}",
        d.promised,
        entries(
            d.accepted
                .iter()
                .map(|(s, e)| (*s, e.ballot, e.command.clone()))
        )
    );
    if d.snapshot != AppliedState::default() {
        text += &format!(" snapshot={}", applied_state(&d.snapshot));
    }
    text
}

/// A timer's name, as `timeout` takes it.
pub fn timer(t: Timer) -> String {
    match t {
        Timer::Election => "election".into(),
        Timer::Heartbeat => "heartbeat".into(),
        Timer::ClientRetry => "retry".into(),
        Timer::LeaderWrite => "leader-write".into(),
        Timer::Lease => "lease".into(),
        Timer::LeaseGrant => "lease-grant".into(),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Reads a timer's name.
pub fn parse_timer(name: &str) -> Result<Timer, String> {
    [
        Timer::Election,
        Timer::Heartbeat,
        Timer::ClientRetry,
        Timer::LeaderWrite,
        Timer::Lease,
        Timer::LeaseGrant,
    ]
    .into_iter()
    .find(|t| timer(*t) == name)
    .ok_or_else(|| {
        format!(
            "unknown timer `{name}` (election, heartbeat, retry, leader-write, lease, lease-grant)"
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// Reads a whole message, e.g. `Accept(B(1,S0), #0, C3r0:Write(v7))`.
/// The commit point as printed after an `Accept`'s or a heartbeat's fields (nothing for `#0`).
fn decided_suffix(decided_below: Slot) -> String {
    if decided_below == Slot(0) {
        String::new()
    } else {
        format!(", decided<{decided_below:?}")
    }
}

pub fn parse_msg(text: &str) -> Result<Msg, String> {
    let mut c = Cursor { text, at: 0 };
    let m = c
        .msg()
        .map_err(|e| format!("{e} in `{text}` at column {}", c.at + 1))?;
    c.ws();
    if c.at != text.len() {
        return Err(format!("unexpected `{}` after the message", &text[c.at..]));
    }
    Ok(m)
}

/// Reads an operation as `submit` takes it: `write 7` or `read`.
pub fn parse_op(words: &[&str]) -> Result<Op, String> {
    match words {
        ["read"] => Ok(Op::Read),
        ["write", v] => v
            .parse()
            .map(|v| Op::Write(Value(v)))
            .map_err(|_| format!("bad value `{v}`")),
        _ => Err(format!(
            "expected `write <value>` or `read`, got `{}`",
            words.join(" ")
        )),
    }
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn ws(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Consumes `lit` (after any spaces) if it comes next.
    fn eat(&mut self, lit: &str) -> bool {
        self.ws();
        if self.rest().starts_with(lit) {
            self.at += lit.len();
            true
        } else {
            false
        }
    }

    fn lit(&mut self, lit: &str) -> Result<(), String> {
        if self.eat(lit) {
            Ok(())
        } else {
            Err(format!("expected `{lit}`"))
        }
    }

    fn num<T: std::str::FromStr>(&mut self) -> Result<T, String> {
        self.ws();
        let digits = self.rest().chars().take_while(char::is_ascii_digit).count();
        let n = self.rest()[..digits]
            .parse()
            .map_err(|_| "expected a number".to_string())?;
        self.at += digits;
        Ok(n)
    }

    fn word(&mut self) -> &str {
        self.ws();
        let len = self
            .rest()
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .count();
        let start = self.at;
        self.at += len;
        &self.text[start..self.at]
    }

    /// Items separated by `, ` up to `close`.
    fn list<T>(
        &mut self,
        close: &str,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(close) {
                return Ok(items);
            }
            self.lit(",")?;
        }
    }

    fn ballot(&mut self) -> Result<Ballot, String> {
        self.lit("B(")?;
        let round = self.num()?;
        self.lit(",")?;
        self.lit("S")?;
        let leader = self.num()?;
        self.lit(")")?;
        Ok(Ballot::new(round, ServerId(leader)))
    }

    /// The optional commit point after an `Accept`'s or a heartbeat's fields: `, decided<#2`
    /// (`#0`, no claim, when absent).
    fn decided_below(&mut self) -> Result<Slot, String> {
        if self.eat(", decided<") {
            return self.slot();
        }
        Ok(Slot(0))
    }

    fn slot(&mut self) -> Result<Slot, String> {
        self.lit("#")?;
        Ok(Slot(self.num()?))
    }

    fn value(&mut self) -> Result<Value, String> {
        self.lit("v")?;
        Ok(Value(self.num()?))
    }

    fn request(&mut self) -> Result<RequestId, String> {
        self.lit("r")?;
        Ok(RequestId(self.num()?))
    }

    fn client(&mut self) -> Result<ClientId, String> {
        self.lit("C")?;
        Ok(ClientId(self.num()?))
    }

    fn result(&mut self) -> Result<OpResult, String> {
        if self.eat("WriteOk") {
            return Ok(OpResult::WriteOk);
        }
        self.lit("ReadOk(")?;
        let v = self.value()?;
        self.lit(")")?;
        Ok(OpResult::ReadOk(v))
    }

    fn client_command(&mut self) -> Result<ClientCommand, String> {
        let client = self.client()?;
        let request = self.request()?;
        self.lit(":")?;
        let op = if self.eat("Read") {
            Op::Read
        } else {
            self.lit("Write(")?;
            let v = self.value()?;
            self.lit(")")?;
            Op::Write(v)
        };
        Ok(ClientCommand {
            client,
            request,
            op,
        })
    }

    /// `NoOp`, `C3r0:Write(v1)`, or a batch `[C3r0:Write(v1), C4r0:Read]`.
    fn command(&mut self) -> Result<Command, String> {
        if self.eat("NoOp") {
            return Ok(Command::NoOp);
        }
        if self.eat("[") {
            let mut batch = vec![self.client_command()?];
            while self.eat(", ") {
                batch.push(self.client_command()?);
            }
            self.lit("]")?;
            if batch.len() < 2 {
                return Err("a batch holds two or more commands".into());
            }
            return Ok(Command::of(batch));
        }
        Ok(Command::Client(self.client_command()?))
    }

    fn entry(&mut self) -> Result<(Slot, AcceptedEntry), String> {
        let slot = self.slot()?;
        self.lit(":")?;
        let ballot = self.ballot()?;
        let command = self.command()?;
        Ok((slot, AcceptedEntry { ballot, command }))
    }

    /// The inside of an applied state, after its `(`: `#1, v7, {C3: r0 WriteOk})`.
    fn applied_state(&mut self) -> Result<AppliedState, String> {
        let next_slot = self.slot()?;
        self.lit(",")?;
        let register = self.value()?;
        self.lit(",")?;
        self.lit("{")?;
        let sessions = self.list("}", |c| {
            let client = c.client()?;
            c.lit(":")?;
            let request = c.request()?;
            let result = c.result()?;
            Ok((client, Session::new(request, result)))
        })?;
        self.lit(")")?;
        Ok(AppliedState {
            next_slot,
            machine: paxos_model::state_machine::Register { value: register },
            sessions: sessions.into_iter().collect(),
        })
    }

    fn msg(&mut self) -> Result<Msg, String> {
        let kind = self.word().to_string();
        self.lit("(")?;
        let m = match kind.as_str() {
            "Request" => Msg::Request(self.client_command()?),
            "Forward" => Msg::Forward(self.client_command()?),
            "Reply" => {
                let request = self.request()?;
                self.lit(",")?;
                let result = self.result()?;
                Msg::Reply { request, result }
            }
            "Prepare" => {
                let ballot = self.ballot()?;
                self.lit(",")?;
                let first_slot = self.slot()?;
                self.lit("..")?;
                Msg::Prepare { ballot, first_slot }
            }
            "Promise" => {
                let ballot = self.ballot()?;
                self.lit(",")?;
                let first_slot = self.slot()?;
                self.lit("..")?;
                self.lit(",")?;
                self.lit("[")?;
                let accepted = self.list("]", Self::entry)?;
                let applied = if self.eat(",") {
                    self.lit("applied=(")?;
                    Some(Box::new(self.applied_state()?))
                } else {
                    None
                };
                Msg::Promise {
                    ballot,
                    first_slot,
                    accepted: accepted.into(),
                    applied,
                }
            }
            "Accept" | "Decide" => {
                let ballot = self.ballot()?;
                self.lit(",")?;
                let slot = self.slot()?;
                self.lit(",")?;
                let command = self.command()?;
                if kind == "Accept" {
                    let decided_below = self.decided_below()?;
                    Msg::Accept {
                        ballot,
                        slot,
                        command,
                        decided_below,
                    }
                } else {
                    Msg::Decide {
                        ballot,
                        slot,
                        command,
                    }
                }
            }
            "Accepted" => {
                let ballot = self.ballot()?;
                self.lit(",")?;
                let slot = self.slot()?;
                Msg::Accepted { ballot, slot }
            }
            "Nack" => {
                let ballot = self.ballot()?;
                self.lit("<")?;
                let promised = self.ballot()?;
                Msg::Nack { ballot, promised }
            }
            "Heartbeat" => {
                let ballot = self.ballot()?;
                self.lit(",")?;
                let commit = self.slot()?;
                let decided_below = self.decided_below()?;
                Msg::Heartbeat {
                    ballot,
                    commit,
                    decided_below,
                }
            }
            "ReadConfirm" | "ReadAck" | "LeaseRequest" | "LeaseGranted" => {
                let ballot = self.ballot()?;
                self.lit(",")?;
                self.lit("#")?;
                let round = self.num()?;
                match kind.as_str() {
                    "ReadConfirm" => Msg::ReadConfirm { ballot, round },
                    "ReadAck" => Msg::ReadAck { ballot, round },
                    "LeaseRequest" => Msg::LeaseRequest { ballot, round },
                    _ => Msg::LeaseGranted { ballot, round },
                }
            }
            "CatchUp" => Msg::CatchUp {
                next_slot: self.slot()?,
            },
            "StateTransfer" => return Ok(Msg::StateTransfer(Box::new(self.applied_state()?))),
            "PreVote" => Msg::PreVote {
                ballot: self.ballot()?,
            },
            "PreVoteGranted" => Msg::PreVoteGranted {
                ballot: self.ballot()?,
            },
            "HeartbeatAck" => Msg::HeartbeatAck {
                ballot: self.ballot()?,
            },
            _ => return Err(format!("unknown message kind `{kind}`")),
        };
        self.lit(")")?;
        Ok(m)
    }
}
