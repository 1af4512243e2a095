//! Many client sessions served by one thread: [`ClientDriver`].
//!
//! A [`crate::Client`] is one session in its caller's thread, blocked while its command is in
//! flight; 256 of them would be 256 threads, each woken once per reply. A driver hosts many
//! sessions (each a model client with its own id, state and retry timer, exactly as a `Client`)
//! behind **one inbox**: every session's id routes to the same channel. [`ClientDriver::submit`]
//! runs a session's submit step (a session keeps up to the cluster's client window of commands
//! outstanding: pipelined sessions, [`crate::ClusterConfig::client_window`]); [`ClientDriver::poll`] waits for the first of: a message for
//! any session (it then takes every message already waiting, up to [`DRAIN_MAX`]), a session's
//! retry timer, or the caller's deadline; it feeds each to its session's step function and
//! returns the replies taken. Nothing here decides anything about the protocol: the sessions
//! are the model's client step functions, and each step is recorded as a `Client`'s is.
//!
//! The sessions' messages do not leave one by one: they wait in an outbox, per replica, and
//! leave as one parcel (one channel operation for many requests, `net.rs`) when a poll begins
//! or after a wake-up's messages were stepped, or as soon as half of what the sessions may
//! have outstanding is waiting for one replica (`parcel_held_max`), so that the replica
//! works on one parcel while the driver steps the replies to another. A parcel is only how
//! the messages travel: on a network with faults each is still lost, duplicated or delayed
//! on its own (`Net::send_parcel`), and each is a delivery step of its own.

use crate::error::ClientError;
use crate::host::{Host, Io};
use crate::net::{Envelope, Net, Parcel};
use crate::record::{EventKind, Input, Recorder};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use paxos_model::client::ClientState;
use paxos_model::msg::Msg;
use paxos_model::node::Node;
use paxos_model::state_machine::ClientCommand;
use paxos_model::types::{ClientId, Op, OpResult, RequestId};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limit: parcels (a message, or one replica batch's messages) handled by one call of
/// [`ClientDriver::poll`] after the first.
pub const DRAIN_MAX: usize = 1024;
/// Limit: requests (or other messages) for one replica the driver holds before it sends them
/// as one parcel (`parcel_held_max`).
pub const PARCEL_HELD_MAX: usize = 64;
const _: () = assert!(PARCEL_HELD_MAX <= crate::net::PARCEL_MAX);
/// Limit: sessions one driver serves.
pub const SESSIONS_MAX: usize = crate::config::CLIENTS_MAX;
/// How often a waiting driver looks whether the cluster was shut down.
const SHUTDOWN_POLL: Duration = Duration::from_millis(100);

/// A reply a session took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The session (`0..sessions`).
    pub session: usize,
    /// Its client id.
    pub client: ClientId,
    /// The request answered.
    pub request: RequestId,
    /// The operation it ran.
    pub op: Op,
    /// What it returned.
    pub result: OpResult,
}

/// What a driver needs from its cluster.
pub(crate) struct DriverParts {
    pub(crate) first_id: usize,
    pub(crate) nodes: Vec<(Node, u64)>,
    pub(crate) net: Arc<Net>,
    pub(crate) recorder: Option<Recorder>,
    pub(crate) stopped: Arc<AtomicBool>,
}

/// Client sessions `first_id..first_id + n`, served by the caller's thread. Made by
/// [`crate::Cluster::client_driver`]. Dropping it disconnects every session.
pub struct ClientDriver {
    first_id: usize,
    sessions: Vec<Host>,
    inbox: Receiver<Parcel>,
    net: Arc<Net>,
    recorder: Option<Recorder>,
    stopped: Arc<AtomicBool>,
    /// The messages the sessions' steps sent and the driver has not sent yet: per destination
    /// (a replica), in the order sent. Each leaves as one parcel ([`Net::send_parcel`]) at the
    /// next poll, or once it holds `parcel_held_max` messages.
    outbox: Vec<(usize, Option<Parcel>)>,
    /// Messages a parcel of the outbox holds before it leaves: half of the commands the
    /// sessions may have outstanding, at most [`PARCEL_HELD_MAX`] ([`parcel_held_max`]).
    parcel_held_max: usize,
    /// No session's timer is due before this (`None`: no timer set). A lower bound, not the
    /// earliest deadline: a timer restarted or cancelled since leaves it early. When it passes,
    /// every session's timers are looked at and it is computed again. A retry timer is
    /// restarted by every submit and cancelled by every reply, so this costs one comparison per
    /// step and one pass over the sessions per retry period, instead of a queue operation per
    /// step.
    earliest: Option<Instant>,
    /// The driver's last look at the clock (at the start of a poll and after each wake-up):
    /// the time every session's step runs at, so a retry timer runs from it. A step needs no
    /// clock of its own: a client's timer only decides when to retry, and one that fires early
    /// by the time since that look (a submit made a while after a poll) only sends a request
    /// again, which the model allows at any time and the replicas' sessions run at most once.
    now: Instant,
    /// The I/O of each step, emptied by [`Self::perform`] and kept in place (not moved out
    /// and back for each step), so that its vector of sends is not allocated again at every
    /// step.
    io: Io,
}

impl std::fmt::Debug for ClientDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientDriver")
            .field("first_id", &self.first_id)
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

impl ClientDriver {
    pub(crate) fn new(parts: DriverParts) -> ClientDriver {
        let DriverParts {
            first_id,
            nodes,
            net,
            recorder,
            stopped,
        } = parts;
        let ids = first_id..first_id + nodes.len();
        let inbox = net.connect_shared(ids);
        let mut io = Io::default();
        let sessions: Vec<Host> = nodes
            .into_iter()
            .enumerate()
            .map(|(i, (node, timer_seed))| {
                let start = Input::Start { storage: None };
                Host::start(
                    first_id + i,
                    node,
                    start,
                    timer_seed,
                    recorder.clone(),
                    &mut io,
                )
            })
            .collect();
        let mut driver = ClientDriver {
            first_id,
            parcel_held_max: parcel_held_max(&sessions),
            sessions,
            inbox,
            net,
            recorder,
            stopped,
            outbox: Vec::new(),
            earliest: None,
            now: Instant::now(),
            io,
        };
        driver.perform(first_id);
        driver
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether the driver has no session.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// The client id of `session`.
    pub fn client(&self, session: usize) -> ClientId {
        ClientId((self.first_id + session) as u32)
    }

    /// The commands `session` has in flight, oldest first.
    pub fn pending(&self, session: usize) -> &[ClientCommand] {
        &self.state(session).pending
    }

    /// Whether `session`'s window has room for another command.
    pub fn can_submit(&self, session: usize) -> bool {
        let Node::Client(cfg) = self.sessions[session].node() else {
            unreachable!("a session hosts a client");
        };
        self.state(session).can_submit(cfg.window)
    }

    fn state(&self, session: usize) -> &ClientState {
        self.sessions[session]
            .state()
            .as_client()
            .expect("a session hosts a client state")
    }

    /// Submits `op` on `session` (its submit step); the reply comes out of [`Self::poll`].
    /// The request leaves in a parcel with the others for its replica: at the next poll, or
    /// at once when it fills the parcel (`parcel_held_max`; with one session, every
    /// request fills it). Refused ([`ClientError::Busy`]) while the session's window is full.
    /// The step runs at the driver's last look at the clock (its last poll): a caller that
    /// submits long after its last poll gets a retry timer that may fire at the next poll, and
    /// the request then also goes to the next replica (harmless: it runs at most once).
    pub fn submit(&mut self, session: usize, op: Op) -> Result<RequestId, ClientError> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(ClientError::Shutdown);
        }
        if !self.can_submit(session) {
            return Err(ClientError::Busy {
                client: self.client(session),
                pending: self.pending(session)[0],
            });
        }
        let id = self.first_id + session;
        let request = RequestId(self.state(session).submitted);
        if let Some(recorder) = &self.recorder {
            recorder.record(EventKind::Invoke {
                client: id,
                request,
                op,
            });
        }
        self.sessions[session].step_from(Input::Submit { op }, &mut self.io, Some(self.now));
        self.perform(id);
        self.note_timer(session);
        assert!(
            self.state(session).submitted == request.0 + 1,
            "client {id}: the submit step of {op:?} on a session with room submitted nothing"
        );
        Ok(request)
    }

    /// Sends what the sessions sent since the last poll (the requests submitted, all at once),
    /// then waits until some session took a reply or `deadline` passed, running every message
    /// and retry timer that comes in the meantime and sending what their steps send after each
    /// round; appends the replies taken to `done`.
    pub fn poll(
        &mut self,
        deadline: Instant,
        done: &mut Vec<Completion>,
    ) -> Result<(), ClientError> {
        let done_before = done.len();
        let mut now = Instant::now();
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                return Err(ClientError::Shutdown);
            }
            self.now = now;
            self.run_due_timers(now, done);
            self.flush();
            if done.len() > done_before || now >= deadline {
                return Ok(());
            }
            let wake = [self.earliest, Some(deadline), Some(now + SHUTDOWN_POLL)]
                .into_iter()
                .flatten()
                .min()
                .expect("some deadline");
            let first = crate::wait::recv_deadline(&self.inbox, wake);
            // One look at the clock per wake-up: the time of this round's steps.
            now = Instant::now();
            let first = match first {
                Ok(parcel) => parcel,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Err(ClientError::Shutdown),
            };
            self.now = now;
            self.unpack(first, done);
            for _ in 0..DRAIN_MAX {
                match self.inbox.try_recv() {
                    Ok(parcel) => self.unpack(parcel, done),
                    Err(_) => break,
                }
            }
        }
    }

    /// A `Deliver` step for each message of the parcel, in order.
    fn unpack(&mut self, parcel: Parcel, done: &mut Vec<Completion>) {
        match parcel {
            Parcel::One(envelope) => self.deliver(envelope, done),
            Parcel::Many(envelopes) => {
                for envelope in envelopes {
                    self.deliver(envelope, done);
                }
            }
        }
    }

    /// One `Deliver` step of the session the envelope is for.
    fn deliver(&mut self, envelope: Envelope, done: &mut Vec<Completion>) {
        let Envelope { src, dst, msg } = envelope;
        let session = dst - self.first_id;
        self.step(session, Input::Deliver { src, dst, msg }, done);
    }

    fn step(&mut self, session: usize, input: Input, done: &mut Vec<Completion>) {
        // The op of a reply this step may take (looked up before the step removes it).
        let answered = match &input {
            Input::Deliver {
                msg: Msg::Reply { request, .. },
                ..
            } => self.state(session).awaiting(*request).map(|c| c.op),
            _ => None,
        };
        self.sessions[session].step_from(input, &mut self.io, Some(self.now));
        let completed = self.io.completed.take();
        let id = self.first_id + session;
        self.perform(id);
        self.note_timer(session);
        if let Some((request, result)) = completed {
            let op = answered.unwrap_or_else(|| {
                panic!("client {id} took a reply to {request:?} it did not await")
            });
            if let Some(recorder) = &self.recorder {
                recorder.record(EventKind::Return {
                    client: id,
                    request,
                    op,
                    result,
                });
            }
            done.push(Completion {
                session,
                client: self.client(session),
                request,
                op,
                result,
            });
        }
    }

    /// Runs every retry timer that is due at `now`.
    fn run_due_timers(&mut self, now: Instant, done: &mut Vec<Completion>) {
        if self.earliest.is_none_or(|at| at > now) {
            return;
        }
        for session in 0..self.sessions.len() {
            while let Some(timer) = self.sessions[session].timers.pop_due(now) {
                self.step(session, Input::Timeout { timer }, done);
            }
        }
        self.earliest = self
            .sessions
            .iter()
            .filter_map(|host| host.timers.next_deadline())
            .min();
    }

    /// Lowers [`Self::earliest`] to `session`'s next timer deadline.
    fn note_timer(&mut self, session: usize) {
        if let Some(at) = self.sessions[session].timers.next_deadline() {
            self.earliest = Some(self.earliest.map_or(at, |e| e.min(at)));
        }
    }

    /// Puts the step's sends ([`Self::io`]) in the outbox; sends a destination's parcel once
    /// it is full. Leaves the I/O empty (its vector of sends keeps its capacity).
    fn perform(&mut self, id: usize) {
        debug_assert!(self.io.save.is_none(), "clients have no durable state");
        debug_assert!(
            self.io.completed.is_none(),
            "the step's completion was taken"
        );
        let room = self.parcel_held_max.min(self.sessions.len());
        for (dst, msg) in self.io.sends.drain(..) {
            let envelope = Envelope { src: id, dst, msg };
            let held = match self.outbox.iter_mut().position(|(to, _)| *to == dst) {
                Some(i) => &mut self.outbox[i].1,
                None => {
                    self.outbox.push((dst, None));
                    &mut self.outbox.last_mut().expect("just pushed").1
                }
            };
            match held {
                Some(parcel) => parcel.push(envelope, room),
                None => *held = Some(Parcel::One(envelope)),
            }
            if held
                .as_ref()
                .is_some_and(|p| p.len() >= self.parcel_held_max)
            {
                let parcel = held.take().expect("a parcel held");
                self.net.send_parcel(dst, parcel);
            }
        }
    }

    /// Sends what the outbox holds: one parcel per destination replica, one channel operation
    /// for a round of requests instead of one per request (`specs/runtime.md`, "Clients").
    fn flush(&mut self) {
        for (dst, held) in &mut self.outbox {
            if let Some(parcel) = held.take() {
                self.net.send_parcel(*dst, parcel);
            }
        }
    }
}

/// How many messages a parcel of the driver's outbox holds before it leaves: half of the
/// commands `sessions` may have outstanding, so that two parcels, at least, are in flight: the
/// leader steps one while the driver steps the replies to the other. (Parcels of a whole round
/// make the two threads take turns, each idle while the other works: at 32 sessions, parcels of
/// 32 gave lease reads no gain over one send per request, parcels of 16 gave them half again.)
/// At most [`PARCEL_HELD_MAX`]: a larger parcel saves next to nothing more and makes the
/// leader's work lumpier (at 256 sessions, parcels of 128 made writes 5% slower than 64).
fn parcel_held_max(sessions: &[Host]) -> usize {
    let outstanding: usize = sessions
        .iter()
        .map(|host| match host.node() {
            Node::Client(cfg) => cfg.window as usize,
            Node::Server(_) => unreachable!("a session hosts a client"),
        })
        .sum();
    (outstanding / 2).clamp(1, PARCEL_HELD_MAX)
}

impl Drop for ClientDriver {
    fn drop(&mut self) {
        for id in self.first_id..self.first_id + self.sessions.len() {
            self.net.disconnect(id);
        }
    }
}
