//! A client handle: blocking operations on the replicated state machine (the register, or any
//! other [`StateMachine`]), run by the model's client step functions in the caller's thread.
//!
//! [`Client::execute`] submits the operation with the model's submit step, then waits on the
//! client's inbox and its retry timer, feeding every message and every expiry to the client's
//! step function (a retry re-sends the same request, with the same id, to the next server). It
//! returns when a step takes a reply (its output's `Complete` effect).
//! The servers' sessions make the command run at most once however often it is re-sent.

use crate::error::ClientError;
use crate::host::{Host, Io};
use crate::net::{Envelope, Parcel};
use crate::record::{EventKind, Input, Recorder};
use crate::transport::Transport;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use paxos_model::node::Node;
use paxos_model::state_machine::{ClientCommand, Register, StateMachine};
use paxos_model::types::{ClientId, Op, OpResult, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a waiting client looks whether the cluster was shut down.
const SHUTDOWN_POLL: Duration = Duration::from_millis(100);

/// What a client needs from its cluster.
pub(crate) struct ClientParts<M: StateMachine = Register> {
    pub(crate) id: usize,
    pub(crate) node: Node,
    pub(crate) net: Arc<dyn Transport<M>>,
    pub(crate) inbox: Receiver<Parcel<M>>,
    pub(crate) recorder: Option<Recorder<M>>,
    pub(crate) stopped: Arc<AtomicBool>,
    pub(crate) timeout: Duration,
    pub(crate) timer_seed: u64,
}

/// A client of the cluster: one command at a time. Made by [`crate::Cluster::client`].
pub struct Client<M: StateMachine = Register> {
    id: usize,
    host: Host<M>,
    inbox: Receiver<Parcel<M>>,
    /// The rest of the last parcel taken from the inbox, not stepped yet (a parcel holds the
    /// messages one replica batch sent this client, to be stepped in order).
    unpacked: std::collections::VecDeque<Envelope<M>>,
    net: Arc<dyn Transport<M>>,
    recorder: Option<Recorder<M>>,
    stopped: Arc<AtomicBool>,
    timeout: Duration,
}

impl<M: StateMachine> std::fmt::Debug for Client<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

impl<M: StateMachine> Client<M> {
    pub(crate) fn new(parts: ClientParts<M>) -> Client<M> {
        let ClientParts {
            id,
            node,
            net,
            inbox,
            recorder,
            stopped,
            timeout,
            timer_seed,
        } = parts;
        let mut io = Io::default();
        let host = Host::start(
            id,
            node,
            Input::Start { storage: None },
            timer_seed,
            recorder.clone(),
            &mut io,
        );
        let client = Client {
            id,
            host,
            inbox,
            unpacked: std::collections::VecDeque::new(),
            net,
            recorder,
            stopped,
            timeout,
        };
        client.perform(io);
        client
    }

    /// The client's id (its actor index).
    pub fn id(&self) -> ClientId {
        ClientId(self.id as u32)
    }

    /// The command in flight, if any (one whose call timed out).
    pub fn pending(&self) -> Option<ClientCommand<M>> {
        self.host
            .state()
            .as_client()
            .expect("a client hosts a client state")
            .pending
            .first()
            .cloned()
    }

    /// Runs `op`; waits at most the cluster's client timeout.
    pub fn execute(&mut self, op: M::Op) -> Result<M::Output, ClientError<M>> {
        self.execute_timeout(op, self.timeout)
    }

    /// Runs `op`, waiting at most `timeout`. On [`ClientError::Timeout`] the command stays in
    /// flight; [`Client::wait`] waits for it further.
    pub fn execute_timeout(
        &mut self,
        op: M::Op,
        timeout: Duration,
    ) -> Result<M::Output, ClientError<M>> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(ClientError::Shutdown);
        }
        if let Some(pending) = self.pending() {
            return Err(ClientError::Busy {
                client: self.id(),
                pending,
            });
        }
        if let Some(recorder) = &self.recorder {
            let request = paxos_model::types::RequestId(
                self.host
                    .state()
                    .as_client()
                    .expect("a client hosts a client state")
                    .submitted,
            );
            recorder.record(EventKind::Invoke {
                client: self.id,
                request,
                op: op.clone(),
            });
        }
        let mut io = Io::default();
        self.host.step(Input::Submit { op }, &mut io);
        self.perform(io);
        assert!(
            self.pending().is_some(),
            "client {:?}: a submit step on an idle client left it idle: {:?}",
            self.id(),
            self.host.state()
        );
        self.wait(timeout)
    }

    /// Waits at most `timeout` for the reply to the command in flight.
    pub fn wait(&mut self, timeout: Duration) -> Result<M::Output, ClientError<M>> {
        let Some(pending) = self.pending() else {
            return Err(ClientError::Idle(self.id()));
        };
        let started = Instant::now();
        let deadline = started + timeout;
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                return Err(ClientError::Shutdown);
            }
            let mut io = Io::default();
            while let Some(timer) = self.host.timers.pop_due(Instant::now()) {
                self.host.step(Input::Timeout { timer }, &mut io);
            }
            self.perform(io);
            let wake = [
                self.host.timers.next_deadline(),
                Some(deadline),
                Some(Instant::now() + SHUTDOWN_POLL),
            ]
            .into_iter()
            .flatten()
            .min()
            .expect("some deadline");
            let next = match self.unpacked.pop_front() {
                Some(envelope) => Ok(envelope),
                None => self.inbox.recv_deadline(wake).map(|parcel| {
                    let mut envelopes = parcel.into_iter();
                    let first = envelopes.next().expect("a parcel holds a message");
                    self.unpacked.extend(envelopes);
                    first
                }),
            };
            match next {
                Ok(Envelope { src, dst, msg }) => {
                    let mut io = Io::default();
                    self.host.step(Input::Deliver { src, dst, msg }, &mut io);
                    let completed = io.completed.take();
                    self.perform(io);
                    if let Some((request, result)) = completed {
                        if let Some(recorder) = &self.recorder {
                            recorder.record(EventKind::Return {
                                client: self.id,
                                request,
                                op: pending.op.clone(),
                                result: result.clone(),
                            });
                        }
                        return Ok(result);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(ClientError::Shutdown),
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout {
                    client: self.id(),
                    pending,
                    waited: started.elapsed(),
                });
            }
        }
    }

    fn perform(&self, io: Io<M>) {
        debug_assert!(io.save.is_none(), "clients have no durable state");
        for (dst, msg) in io.sends {
            self.net.send(self.id, dst, msg);
        }
    }
}

impl<M: StateMachine> Drop for Client<M> {
    fn drop(&mut self) {
        self.net.disconnect(self.id);
    }
}

impl Client<Register> {
    /// Writes `value`; waits at most the cluster's client timeout.
    pub fn write(&mut self, value: Value) -> Result<(), ClientError> {
        match self.execute(Op::Write(value))? {
            OpResult::WriteOk => Ok(()),
            other => panic!("client {:?}: a write returned {other:?}", self.id()),
        }
    }

    /// Reads the register; waits at most the cluster's client timeout.
    pub fn read(&mut self) -> Result<Value, ClientError> {
        match self.execute(Op::Read)? {
            OpResult::ReadOk(value) => Ok(value),
            other => panic!("client {:?}: a read returned {other:?}", self.id()),
        }
    }
}
