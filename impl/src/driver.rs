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
    /// No session's timer is due before this (`None`: no timer set). A lower bound, not the
    /// earliest deadline: a timer restarted or cancelled since leaves it early. When it passes,
    /// every session's timers are looked at and it is computed again. A retry timer is
    /// restarted by every submit and cancelled by every reply, so this costs one comparison per
    /// step and one pass over the sessions per retry period, instead of a queue operation per
    /// step.
    earliest: Option<Instant>,
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
        let sessions = nodes
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
        let driver = ClientDriver {
            first_id,
            sessions,
            inbox,
            net,
            recorder,
            stopped,
            earliest: None,
        };
        driver.perform(first_id, io);
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
    /// Refused ([`ClientError::Busy`]) while the session's window is full.
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
        let mut io = Io::default();
        self.sessions[session].step(Input::Submit { op }, &mut io);
        self.perform(id, io);
        self.note_timer(session);
        assert!(
            self.state(session).submitted == request.0 + 1,
            "client {id}: the submit step of {op:?} on a session with room submitted nothing"
        );
        Ok(request)
    }

    /// Waits until some session took a reply or `deadline` passed, running every message and
    /// retry timer that comes in the meantime; appends the replies taken to `done`.
    pub fn poll(
        &mut self,
        deadline: Instant,
        done: &mut Vec<Completion>,
    ) -> Result<(), ClientError> {
        let done_before = done.len();
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                return Err(ClientError::Shutdown);
            }
            let now = Instant::now();
            self.run_due_timers(now, done);
            if done.len() > done_before || now >= deadline {
                return Ok(());
            }
            let wake = [self.earliest, Some(deadline), Some(now + SHUTDOWN_POLL)]
                .into_iter()
                .flatten()
                .min()
                .expect("some deadline");
            let first = match crate::wait::recv_deadline(&self.inbox, wake) {
                Ok(parcel) => parcel,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Err(ClientError::Shutdown),
            };
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
        let mut io = Io::default();
        // The op of a reply this step may take (looked up before the step removes it).
        let answered = match &input {
            Input::Deliver {
                msg: Msg::Reply { request, .. },
                ..
            } => self.state(session).awaiting(*request).map(|c| c.op),
            _ => None,
        };
        self.sessions[session].step(input, &mut io);
        let completed = io.completed.take();
        let id = self.first_id + session;
        self.perform(id, io);
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

    fn perform(&self, id: usize, io: Io) {
        debug_assert!(io.save.is_none(), "clients have no durable state");
        for (dst, msg) in io.sends {
            self.net.send(id, dst, msg);
        }
    }
}

impl Drop for ClientDriver {
    fn drop(&mut self) {
        for id in self.first_id..self.first_id + self.sessions.len() {
            self.net.disconnect(id);
        }
    }
}
