//! A replica's thread: wait for a message or the next timer deadline, run the model's step
//! function, perform the step's I/O. Nothing here decides anything about the protocol.
//!
//! # Orders
//! The cluster's orders (crash, crash at a point, shut down) come on a channel of their own,
//! looked at before every batch. The thread waits on its inbox alone; the cluster disconnects
//! the inbox before an order that must take effect at once, which wakes the thread.
//!
//! # Group commit
//! After waking up, the thread takes every message already waiting (up to [`BATCH_MAX`]; a
//! parcel of several, a client driver's round of requests, is unpacked in order) and
//! every timer that is due, and runs one step per input, collecting their I/O. Then it saves the
//! *last* durable state any of those steps asked to save, and only then hands their messages to
//! the network. A crash can only happen between two batches, so it behaves as if it had
//! happened before the unsaved steps: their messages never left and their inputs are lost, which
//! the network may do anyway. One fsync then covers many steps. A crash *inside* that I/O is
//! injected at named points (`crash_point.rs`); it shows why the save comes first.

use crate::crash_point::CrashPoint;
use crate::host::{Host, Io};
use crate::net::{Envelope, Parcel};
use crate::observe::Observer;
use crate::record::{DropReason, EventKind, Input, Recorder};
use crate::storage::Storage;
use crate::transport::Transport;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use paxos_model::config::ServerConfig;
use paxos_model::durable::Durable;
use paxos_model::node::Node;
use paxos_model::state_machine::{Register, StateMachine};
use paxos_model::types::Slot;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limit: messages taken between two saves, counted by parcel: the last parcel taken is
/// taken whole, so a batch steps at most `BATCH_MAX - 1 +` [`crate::net::PARCEL_MAX`]
/// messages (and the timers due meanwhile).
pub const BATCH_MAX: usize = 256;
/// Limit: how long a replica waits for input before it looks at its orders again. An order
/// that must take effect at once (`Crash`, `Shutdown` from the cluster) comes with its inbox
/// disconnected, which ends the wait at once; a `CrashAt` (it takes effect in a later batch
/// anyway) and a `ReplicaServer`'s shutdown are seen within this.
const ORDER_POLL_MAX: Duration = Duration::from_millis(20);

/// Orders for a replica thread.
#[derive(Debug)]
pub(crate) enum Control {
    /// Stop abruptly: volatile state, timers and inbox are lost.
    Crash,
    /// Crash at this point of the next batch's I/O that has it (`crash_point.rs`).
    CrashAt(CrashPoint),
    /// Stop at the end of the runtime.
    Shutdown,
}

/// Why a replica thread ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// On [`Control::Crash`] (`None`), or at the crash point armed by [`Control::CrashAt`].
    Crashed(Option<CrashPoint>),
    /// On [`Control::Shutdown`] (or when the cluster went away).
    Shutdown,
    /// On its own: a storage failure (or a panic, caught by the caller).
    Failed(String),
}

/// Everything a replica thread needs.
pub(crate) struct Replica<M: StateMachine = Register> {
    pub(crate) id: usize,
    pub(crate) cfg: ServerConfig,
    pub(crate) storage: Arc<dyn Storage<M>>,
    /// Where its messages go: the in-process network or TCP.
    pub(crate) net: Arc<dyn Transport<M>>,
    /// Off (`ClusterConfig::observe`): steps are not observed.
    pub(crate) observer: Option<Arc<Observer<M>>>,
    pub(crate) recorder: Option<Recorder<M>>,
    pub(crate) inbox: Receiver<Parcel<M>>,
    pub(crate) control: Receiver<Control>,
    pub(crate) timer_seed: u64,
    /// Seeds where a crash point cuts (which send, where the save is torn).
    pub(crate) crash_seed: u64,
    /// A deliberately wrong runtime, for tests (only with the `bugs` feature).
    #[cfg(feature = "bugs")]
    pub(crate) runtime_bug: Option<crate::RuntimeBug>,
}

/// A crash point armed in a replica, and the generator of where it cuts.
struct Armed {
    point: Option<CrashPoint>,
    dice: ChaCha8Rng,
}

impl<M: StateMachine> Replica<M> {
    /// The thread's body. `start` is `Start` or `Recover` with the stored state.
    pub(crate) fn run(self, start: Input<M>) -> Exit {
        // The I/O of the start, then of every batch: emptied by each `perform` and kept, so its
        // vector of sends grows to the batches' size once, not at every batch.
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
        let mut armed = Armed {
            point: None,
            dice: ChaCha8Rng::seed_from_u64(self.crash_seed),
        };
        // No crash point in a start's I/O: one is armed only by an order, taken below.
        if let Err(e) = self.perform(&mut io, &mut armed) {
            return e;
        }
        host.timers.after_io();
        let mut batch = Vec::with_capacity(BATCH_MAX);
        loop {
            match self.control.try_recv() {
                Ok(order) => {
                    if let Some(exit) = self.obey(order, &mut armed) {
                        return exit;
                    }
                }
                Err(crossbeam_channel::TryRecvError::Empty) => {}
                Err(crossbeam_channel::TryRecvError::Disconnected) => return Exit::Shutdown,
            }
            // One channel to wait on, not two: a `select!` over the inbox and the orders
            // registers with both and unregisters again on every wake-up, under each channel's
            // lock, which the senders take too. An order is looked at before every batch; one
            // that must take effect at once (a crash, a shutdown) comes after the cluster
            // disconnected the inbox, which ends the wait.
            let poll = Instant::now() + ORDER_POLL_MAX;
            let wake = host.timers.next_deadline().map_or(poll, |at| at.min(poll));
            // The messages of the parcels taken (each stepped from its parcel, not copied out).
            let mut taken = 0;
            match crate::wait::recv_deadline(&self.inbox, wake) {
                Ok(parcel) => {
                    taken += parcel.len();
                    batch.push(parcel);
                }
                Err(RecvTimeoutError::Timeout) => {}
                // Disconnected by a crash or a shutdown, whose order follows: obey it.
                Err(RecvTimeoutError::Disconnected) => loop {
                    match self.control.recv() {
                        Ok(order) => {
                            if let Some(exit) = self.obey(order, &mut armed) {
                                return exit;
                            }
                        }
                        Err(_) => return Exit::Shutdown,
                    }
                },
            }
            while taken < BATCH_MAX {
                match self.inbox.try_recv() {
                    Ok(parcel) => {
                        taken += parcel.len();
                        batch.push(parcel);
                    }
                    Err(_) => break,
                }
            }
            for parcel in batch.drain(..) {
                match parcel {
                    Parcel::One(envelope) => self.deliver(&mut host, envelope, &mut io),
                    Parcel::Many(envelopes) => {
                        for envelope in envelopes {
                            self.deliver(&mut host, envelope, &mut io);
                        }
                    }
                }
            }
            while let Some(timer) = host.timers.pop_due(Instant::now()) {
                self.step(&mut host, Input::Timeout { timer }, &mut io);
            }
            if let Err(e) = self.perform(&mut io, &mut armed) {
                return e;
            }
            // The zero-duration timers this batch set (the leader's own write) are due now.
            host.timers.after_io();
        }
    }

    /// The step of a message, after every timer that is due: a leader's lease ends when its
    /// `Lease` timer is due, not when a long batch or save lets the thread notice
    /// (`specs/runtime.md`, "Group commit"; `specs/multipaxos.md`, "Lease reads").
    #[inline]
    fn deliver(&self, host: &mut Host<M>, envelope: Envelope<M>, io: &mut Io<M>) {
        while let Some(timer) = host.timers.pop_due(Instant::now()) {
            self.step(host, Input::Timeout { timer }, io);
        }
        let Envelope { src, dst, msg } = envelope;
        self.step(host, Input::Deliver { src, dst, msg }, io);
    }

    /// One step, then observe the new state.
    fn step(&self, host: &mut Host<M>, input: Input<M>, io: &mut Io<M>) {
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

    /// Persists, then sends: nothing leaves before the state it depends on is durable. An armed
    /// crash point that this batch has cuts it short there (`crash_point.rs`). Leaves `io` empty
    /// (its vector of sends keeps its capacity).
    fn perform(&self, io: &mut Io<M>, armed: &mut Armed) -> Result<(), Exit> {
        let save = io.save.take();
        let unsaved_steps = std::mem::take(&mut io.unsaved_steps);
        io.completed = None;
        let sends = io.sends.drain(..);
        let point = armed.point.filter(|p| p.fits(save.is_some(), sends.len()));
        // The first send lost at `BetweenSends`: never the first, never past the last.
        let lost = match point {
            Some(CrashPoint::BetweenSends) => armed.dice.random_range(1..sends.len()),
            _ => usize::MAX,
        };
        #[cfg(feature = "bugs")]
        if self.runtime_bug == Some(crate::RuntimeBug::SendBeforeSave) {
            // BUG(send-before-save): the messages leave before the state they report is saved.
            let unsaved = if save.is_some() { unsaved_steps } else { 0 };
            for (i, (dst, msg)) in sends.into_iter().enumerate() {
                if i == lost {
                    return Err(self.crash(point, unsaved));
                }
                self.net.send(self.id, dst, msg);
            }
            if let Some(durable) = save {
                if point == Some(CrashPoint::MidSave) {
                    return Err(self.crash_mid_save(durable, unsaved, armed));
                }
                self.save(durable)?;
            }
            if point == Some(CrashPoint::AfterSave) {
                return Err(self.crash(point, 0));
            }
            return Ok(());
        }
        if let Some(durable) = save {
            if point == Some(CrashPoint::MidSave) {
                return Err(self.crash_mid_save(durable, unsaved_steps, armed));
            }
            self.save(durable)?;
            if point == Some(CrashPoint::AfterSave) {
                return Err(self.crash(point, 0));
            }
        }
        if lost == usize::MAX {
            self.net.send_all(self.id, &mut sends.into_iter());
            return Ok(());
        }
        for (i, (dst, msg)) in sends.into_iter().enumerate() {
            if i == lost {
                return Err(self.crash(point, 0));
            }
            self.net.send(self.id, dst, msg);
        }
        Ok(())
    }

    fn save(&self, durable: Durable<M>) -> Result<(), Exit> {
        self.storage
            .save(self.id, durable)
            .map_err(|e| Exit::Failed(e.to_string()))
    }

    /// The crash point `MidSave`: a torn write of `durable`, then the crash, which loses the
    /// batch's `unsaved` last steps.
    fn crash_mid_save(&self, durable: Durable<M>, unsaved: u32, armed: &mut Armed) -> Exit {
        match self
            .storage
            .save_torn(self.id, durable, armed.dice.random())
        {
            Ok(()) => self.crash(Some(CrashPoint::MidSave), unsaved),
            Err(e) => Exit::Failed(e.to_string()),
        }
    }

    /// Obeys a control order; `None` if the replica goes on (a crash point armed).
    fn obey(&self, order: Control, armed: &mut Armed) -> Option<Exit> {
        match order {
            Control::Shutdown => Some(Exit::Shutdown),
            Control::Crash => Some(self.crash(None, 0)),
            Control::CrashAt(point) => {
                armed.point = Some(point);
                None
            }
        }
    }

    /// Crashes (between batches, or at `point`): records it, with how many of the replica's
    /// last steps lost their save, and drops every copy in the inbox.
    fn crash(&self, point: Option<CrashPoint>, unsaved: u32) -> Exit {
        if let Some(recorder) = &self.recorder {
            if recorder.wants_steps() {
                recorder.record(EventKind::Crash {
                    actor: self.id,
                    point,
                    unsaved,
                });
            }
        }
        for Envelope { src, dst, msg } in self.inbox.try_iter().flatten() {
            self.net
                .drop_copy(src, dst, msg, DropReason::DestinationDown);
        }
        Exit::Crashed(point)
    }
}
