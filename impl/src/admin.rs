//! Requests to a replica process that are not protocol messages: its status, a fresh client id
//! ([`crate::client_ids`]: `Wire::NewClientId`, answered by `Wire::ClientIdReply`), and (for
//! test harnesses only) fault injection. They travel on the replica's client address in the same
//! frames as the protocol ([`crate::tcp::Wire`]), on a connection of their own that never says
//! hello (an *admin connection*): `Wire::Status` is answered by `Wire::StatusReply`,
//! `Wire::Control` by `Wire::ControlReply`, on that connection, as often as asked.
//!
//! **Status.** What the replica's observer saw after its latest step (the same observation the
//! in-process cluster's reports use, `crate::observe`): role, ballot, the highest slot it knows
//! decided (its commit point) and the highest slot it applied. All of it is read from the
//! model's state; nothing here is decided by the runtime.
//!
//! **Fault injection.** A partition between processes: `Control::Isolate { peers }` makes the
//! replica drop every message to and from those peers (at its transport, both directions; the
//! TCP connections stay up) until `Control::Heal`. Clients are never cut off. The replica
//! obeys only when its process was started with fault injection on (`serve
//! --fault-injection`) and only from a loopback address; otherwise the reply is an error and
//! the replica changes nothing.

use crate::observe::{ReplicaStatus, RoleView};
use crate::tcp::{read_frame, write_frame, Wire};
use paxos_model::types::{Ballot, ClientId, Slot};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A replica's role, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleName {
    /// Not leading.
    Follower,
    /// Running Phase 1.
    Candidate,
    /// Leading (Phase 2 alone).
    Leader,
}

/// What a replica says about itself (`Wire::StatusReply`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The replica's id.
    pub replica: u32,
    /// Its role after its latest step.
    pub role: RoleName,
    /// The ballot it leads or campaigns for; a follower's is its promise.
    pub ballot: Ballot,
    /// Its acceptor's promise.
    pub promised: Ballot,
    /// The highest slot it knows decided (`None`: none since it started, and nothing applied).
    pub commit: Option<Slot>,
    /// The highest slot it applied (`None`: none).
    pub applied: Option<Slot>,
    /// Steps taken by this process.
    pub steps: u64,
}

impl StatusReport {
    /// The report of replica `replica` as last observed.
    pub fn of(replica: usize, status: &ReplicaStatus) -> StatusReport {
        let (role, ballot) = match status.role {
            RoleView::Follower => (RoleName::Follower, status.promised),
            RoleView::Candidate(b) => (RoleName::Candidate, b),
            RoleView::Leader(b) => (RoleName::Leader, b),
        };
        let last = |next: Slot| next.0.checked_sub(1).map(Slot);
        StatusReport {
            replica: replica as u32,
            role,
            ballot,
            promised: status.promised,
            commit: status.commit,
            applied: last(status.applied),
            steps: status.steps,
        }
    }
}

impl fmt::Display for StatusReport {
    /// `leader ballot 3.1 commit 41 applied 41` (`-` for no slot).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = match self.role {
            RoleName::Follower => "follower",
            RoleName::Candidate => "candidate",
            RoleName::Leader => "leader",
        };
        let slot = |s: Option<Slot>| s.map_or_else(|| "-".to_string(), |s| s.0.to_string());
        write!(
            f,
            "{role} ballot {}.{} commit {} applied {}",
            self.ballot.round.0,
            self.ballot.leader.0,
            slot(self.commit),
            slot(self.applied)
        )
    }
}

/// A fault-injection order (`Wire::Control`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// Drop every message to and from these replicas (replacing any earlier isolation).
    Isolate {
        /// Replica ids; never the receiver itself.
        peers: Vec<u32>,
    },
    /// Drop nothing any more.
    Heal,
}

/// Asks the replica at `addr` (its client or peer address) for its status.
pub fn query_status(addr: SocketAddr, timeout: Duration) -> io::Result<StatusReport> {
    match request(addr, &Wire::Status, timeout)? {
        Wire::StatusReply(report) => Ok(report),
        other => Err(unexpected(&other)),
    }
}

/// Sends a fault-injection order to the replica at `addr`; `Err` if it refused it (fault
/// injection off, a request not from loopback, a bad replica id) or did not answer.
pub fn send_control(addr: SocketAddr, control: Control, timeout: Duration) -> io::Result<()> {
    match request(addr, &Wire::Control(control), timeout)? {
        Wire::ControlReply(Ok(())) => Ok(()),
        Wire::ControlReply(Err(refusal)) => Err(io::Error::other(format!(
            "{addr} refused the order: {refusal}"
        ))),
        other => Err(unexpected(&other)),
    }
}

/// Asks the replica at `addr` (its client or peer address) for a client id that no client of
/// the cluster had before ([`crate::client_ids`]).
pub fn new_client_id(addr: SocketAddr, timeout: Duration) -> io::Result<ClientId> {
    match request(addr, &Wire::NewClientId, timeout)? {
        Wire::ClientIdReply(Ok(id)) => Ok(ClientId(id)),
        Wire::ClientIdReply(Err(why)) => Err(io::Error::other(format!(
            "{addr} handed out no client id: {why}"
        ))),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(wire: &Wire) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected answer {wire:?}"),
    )
}

/// One request on a fresh admin connection, and its answer.
fn request(addr: SocketAddr, wire: &Wire, timeout: Duration) -> io::Result<Wire> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut out = BufWriter::new(stream.try_clone()?);
    write_frame(&mut out, wire)?;
    out.flush()?;
    match read_frame(&mut BufReader::new(stream))? {
        Some(answer) => Ok(answer),
        None => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{addr} closed the connection without answering"),
        )),
    }
}
