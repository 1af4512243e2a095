//! A replica's thread: wait for a message or the next timer deadline, run the model's step
//! function, perform the step's I/O. Nothing here decides anything about the protocol.
//!
//! # Group commit
//! After waking up, the thread takes every message already waiting (up to [`BATCH_MAX`]) and
//! every timer that is due, and runs one step per input, collecting their I/O. Then it saves the
//! *last* durable state any of those steps asked to save, and only then hands their messages to
//! the network. A crash can only happen between two batches, so it behaves as if it had
//! happened before the unsaved steps: their messages never left and their inputs are lost, which
//! the network may do anyway. One fsync then covers many steps.

use crate::host::{Host, Io};
use crate::net::Envelope;
use crate::observe::Observer;
use crate::record::{DropReason, EventKind, Input, Recorder};
use crate::storage::Storage;
use crate::transport::Transport;
use crossbeam_channel::Receiver;
use paxos_model::config::ServerConfig;
use paxos_model::durable::Durable;
use paxos_model::node::Node;
use paxos_model::types::Slot;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limit: inputs handled between two saves.
pub const BATCH_MAX: usize = 256;
/// How long an idle replica with no timer set sleeps before looking at its control channel.
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// Orders for a replica thread.
#[derive(Debug)]
pub(crate) enum Control {
    /// Stop abruptly: volatile state, timers and inbox are lost.
    Crash,
    /// Stop at the end of the runtime.
    Shutdown,
}

/// Why a replica thread ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// On [`Control::Crash`].
    Crashed,
    /// On [`Control::Shutdown`] (or when the cluster went away).
    Shutdown,
    /// On its own: a storage failure (or a panic, caught by the caller).
    Failed(String),
}

/// Everything a replica thread needs.
pub(crate) struct Replica {
    pub(crate) id: usize,
    pub(crate) cfg: ServerConfig,
    pub(crate) storage: Arc<dyn Storage>,
    /// Where its messages go: the in-process network or TCP.
    pub(crate) net: Arc<dyn Transport>,
    /// Off (`ClusterConfig::observe`): steps are not observed.
    pub(crate) observer: Option<Arc<Observer>>,
    pub(crate) recorder: Option<Recorder>,
    pub(crate) inbox: Receiver<Envelope>,
    pub(crate) control: Receiver<Control>,
    pub(crate) timer_seed: u64,
}

impl Replica {
    /// The thread's body. `start` is `Start` or `Recover` with the stored state.
    pub(crate) fn run(self, start: Input) -> Exit {
        let mut io = Io::default();
        let node = Node::Server(self.cfg.clone());
        let mut host = Host::start(
            self.id,
            node,
            start,
            self.timer_seed,
            self.recorder.clone(),
            &mut io,
        );
        if let Some(observer) = &self.observer {
            observer.observe(self.id, host.state(), Slot(0));
        }
        if let Err(e) = self.perform(io) {
            return e;
        }
        let mut batch = Vec::with_capacity(BATCH_MAX);
        loop {
            match self.control.try_recv() {
                Ok(order) => return self.stop(order),
                Err(crossbeam_channel::TryRecvError::Empty) => {}
                Err(crossbeam_channel::TryRecvError::Disconnected) => return Exit::Shutdown,
            }
            let wait = host
                .timers
                .next_deadline()
                .map_or(IDLE_WAIT, |at| at.saturating_duration_since(Instant::now()));
            // Under load the inbox is rarely empty: take a message without waiting on two
            // channels (a select registers with both and unregisters again).
            if let Ok(envelope) = self.inbox.try_recv() {
                batch.push(envelope);
            } else {
                crossbeam_channel::select! {
                    recv(self.control) -> order => match order {
                        Ok(order) => return self.stop(order),
                        Err(_) => return Exit::Shutdown,
                    },
                    recv(self.inbox) -> envelope => match envelope {
                        Ok(envelope) => batch.push(envelope),
                        // Disconnected by a crash, whose order follows: obey it.
                        Err(_) => return self.control.recv().map_or(Exit::Shutdown, |order| self.stop(order)),
                    },
                    default(wait) => {}
                }
            }
            while batch.len() < BATCH_MAX {
                match self.inbox.try_recv() {
                    Ok(envelope) => batch.push(envelope),
                    Err(_) => break,
                }
            }
            let mut io = Io::default();
            for Envelope { src, dst, msg } in batch.drain(..) {
                self.step(&mut host, Input::Deliver { src, dst, msg }, &mut io);
            }
            while let Some(timer) = host.timers.pop_due(Instant::now()) {
                self.step(&mut host, Input::Timeout { timer }, &mut io);
            }
            if let Err(e) = self.perform(io) {
                return e;
            }
        }
    }

    /// One step, then observe the new state.
    fn step(&self, host: &mut Host, input: Input, io: &mut Io) {
        let Some(observer) = &self.observer else {
            host.step(input, io);
            return;
        };
        let applied_before = host
            .state()
            .as_server()
            .map_or(Slot(0), |s| s.applied.next_slot);
        host.step(input, io);
        observer.observe(self.id, host.state(), applied_before);
    }

    /// Persists, then sends: nothing leaves before the state it depends on is durable.
    fn perform(&self, io: Io) -> Result<(), Exit> {
        if let Some(durable) = io.save {
            self.save(durable)?;
        }
        for (dst, msg) in io.sends {
            self.net.send(self.id, dst, msg);
        }
        Ok(())
    }

    fn save(&self, durable: Durable) -> Result<(), Exit> {
        self.storage
            .save(self.id, durable)
            .map_err(|e| Exit::Failed(e.to_string()))
    }

    /// Obeys a control order. A crash loses the inbox: every copy in it is dropped.
    fn stop(&self, order: Control) -> Exit {
        match order {
            Control::Shutdown => Exit::Shutdown,
            Control::Crash => {
                if let Some(recorder) = &self.recorder {
                    if recorder.wants_steps() {
                        recorder.record(EventKind::Crash { actor: self.id });
                    }
                }
                for Envelope { src, dst, msg } in self.inbox.try_iter() {
                    self.net
                        .drop_copy(src, dst, msg, DropReason::DestinationDown);
                }
                Exit::Crashed
            }
        }
    }
}
