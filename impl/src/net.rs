//! The network: crossbeam channels between actors, with faults drawn from one seed.
//!
//! Every actor (replica or client) has a bounded inbox. `Net::send` decides, with the
//! network's seeded generator, whether the message is lost and whether it is duplicated, and
//! draws each copy's delay from the configured range: different delays reorder messages. A copy
//! with no delay is delivered by the sending thread; a delayed one goes through the router
//! thread, which holds it until it is due. At delivery time a copy is dropped if sender and
//! destination are replicas on different sides of a partition, or if the destination is down.
//! Every drop and duplication is counted and recorded. The network never looks inside a
//! message: faults are blind to the protocol.

use crate::error::ConfigError;
use crate::record::{DropReason, EventKind, Recorder};
use crate::shard_count::ShardCount;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use crossbeam_utils::sync::ShardedLock;
use paxos_model::msg::Msg;
use paxos_model::state_machine::{Register, StateMachine};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Limit: parcels waiting in one actor's inbox; more are dropped (counted as lost).
pub const INBOX_MAX: usize = 1 << 16;
/// Limit: messages in one [`Parcel`]; more for the same inbox go in the next one.
pub const PARCEL_MAX: usize = 256;
/// Limit: inboxes one [`Net::send_all`] gathers parcels for; messages for others go one by one.
const GATHERED_MAX: usize = 4;
/// Limit: the longest delay the network may add to a message.
pub const DELAY_MAX: Duration = Duration::from_secs(10);

/// The faults the network injects.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultConfig {
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub dup: f64,
    /// Each copy is delayed by a duration drawn from this range (empty: exactly `start`).
    pub delay: Range<Duration>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            loss: 0.0,
            dup: 0.0,
            delay: Duration::ZERO..Duration::ZERO,
        }
    }
}

impl FaultConfig {
    /// Checks the rates and the delay range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (what, value) in [("loss rate", self.loss), ("duplication rate", self.dup)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::Probability { what, value });
            }
        }
        if self.dup >= 1.0 {
            return Err(ConfigError::DupRateOne(self.dup));
        }
        if self.delay.start > self.delay.end || self.delay.end > DELAY_MAX {
            return Err(ConfigError::DelayRange {
                min: self.delay.start,
                max: self.delay.end,
                limit: DELAY_MAX,
            });
        }
        Ok(())
    }
}

/// Message counts since the cluster started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Messages actors sent.
    pub sent: u64,
    /// Copies put into a destination's inbox.
    pub delivered: u64,
    /// Messages lost at random.
    pub dropped_loss: u64,
    /// Copies dropped by a partition.
    pub dropped_partition: u64,
    /// Copies dropped because the destination was down or its inbox full.
    pub dropped_down: u64,
    /// Messages duplicated.
    pub duplicated: u64,
}

impl NetStats {
    /// Every copy dropped, for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_loss + self.dropped_partition + self.dropped_down
    }
}

/// A message in flight, and what an actor's inbox holds.
#[derive(Debug)]
pub struct Envelope<M: StateMachine = Register> {
    /// The sender's actor id.
    pub src: usize,
    /// The receiver's actor id.
    pub dst: usize,
    /// The message.
    pub msg: Msg<M>,
}

/// What an inbox carries: one message, or messages one thread handed over together
/// (`Net::send_all`: a replica's batch of sends, a [`crate::ClientDriver`]'s round of
/// requests). One channel operation per parcel, not per message: the channel's slots and
/// indexes are cache lines the two threads' cores pass back and forth at every operation. A
/// parcel is only a way to carry messages: each is still a delivery of its own, stepped (or
/// dropped) one by one, in the order sent.
///
/// A [`Bundle`] of envelopes: the bench's bound (`impl/benches/runtime/bound.rs`) carries its
/// own messages in the same container.
pub type Parcel<M = Register> = Bundle<Envelope<M>>;

/// One item, or several in order, with no vector for one: what a [`Parcel`] is made of.
#[derive(Debug)]
pub enum Bundle<T> {
    /// One message.
    One(T),
    /// Messages for one inbox, in the order sent (at most [`PARCEL_MAX`]).
    Many(Vec<T>),
}

impl<T> Bundle<T> {
    /// How many messages it holds.
    pub fn len(&self) -> usize {
        match self {
            Bundle::One(_) => 1,
            Bundle::Many(items) => items.len(),
        }
    }

    /// Whether it holds no message (never, as the network sends them).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `item` after the others; a second message makes room for `room` in all (a
    /// single message needs no vector).
    pub fn push(&mut self, item: T, room: usize) {
        match self {
            Bundle::Many(items) => items.push(item),
            Bundle::One(_) => {
                let mut items = Vec::with_capacity(room.max(2));
                let Bundle::One(first) = std::mem::replace(self, Bundle::Many(Vec::new())) else {
                    unreachable!("matched One");
                };
                items.push(first);
                items.push(item);
                *self = Bundle::Many(items);
            }
        }
    }
}

impl<T> IntoIterator for Bundle<T> {
    type Item = T;
    type IntoIter = Items<T>;

    /// The messages, in the order sent.
    fn into_iter(self) -> Items<T> {
        match self {
            Bundle::One(item) => Items::One(Some(item)),
            Bundle::Many(items) => Items::Many(items.into_iter()),
        }
    }
}

/// The messages of a [`Bundle`], in the order sent.
#[derive(Debug)]
pub enum Items<T> {
    /// Of a [`Bundle::One`].
    One(Option<T>),
    /// Of a [`Bundle::Many`].
    Many(std::vec::IntoIter<T>),
}

impl<T> Iterator for Items<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Items::One(item) => item.take(),
            Items::Many(items) => items.next(),
        }
    }
}

struct Delayed {
    due: Instant,
    order: u64,
    envelope: Envelope,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

/// `sent` and `delivered` change at every message, in every sending thread: each thread counts
/// in a slot of its own ([`ShardCount`]); the drops and duplications are rare.
#[derive(Default)]
struct Counters {
    sent: ShardCount,
    delivered: ShardCount,
    dropped_loss: AtomicU64,
    dropped_partition: AtomicU64,
    dropped_down: AtomicU64,
    duplicated: AtomicU64,
}

/// The network shared by every actor of a cluster.
pub(crate) struct Net {
    faults: FaultConfig,
    /// No loss, no duplication, no delay: `send` delivers at once, with no draw and no lock on
    /// the generator.
    clean: bool,
    /// Whether `groups` holds a partition (read without its lock on every delivery).
    partitioned: AtomicBool,
    servers: usize,
    /// Each actor's inbox. Read at every delivery by every sending thread, written only when
    /// an actor connects or disconnects: a `ShardedLock` takes a read lock on the calling
    /// thread's own shard (its own cache line), so senders on different cores do not take the
    /// line from each other at every message, as one `RwLock`'s reader count made them do.
    routes: ShardedLock<Vec<Option<Sender<Parcel>>>>,
    groups: RwLock<Option<Vec<u32>>>,
    rng: Mutex<ChaCha8Rng>,
    delayed: Mutex<Option<Sender<Delayed>>>,
    order: AtomicU64,
    counters: Counters,
    recorder: Option<Recorder>,
}

impl Net {
    /// A network for `servers` replicas (actors `0..servers`) and any number of clients.
    pub(crate) fn new(
        faults: FaultConfig,
        servers: usize,
        seed: u64,
        recorder: Option<Recorder>,
    ) -> Net {
        Net {
            clean: faults.loss == 0.0 && faults.dup == 0.0 && faults.delay.end.is_zero(),
            partitioned: AtomicBool::new(false),
            faults,
            servers,
            routes: ShardedLock::new(vec![None; servers]),
            groups: RwLock::new(None),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            delayed: Mutex::new(None),
            order: AtomicU64::new(0),
            counters: Counters::default(),
            recorder: recorder.filter(Recorder::wants_steps),
        }
    }

    /// Starts the router thread that delivers delayed copies (only needed with delays).
    pub(crate) fn spawn_router(net: &std::sync::Arc<Net>) -> Option<JoinHandle<()>> {
        if net.faults.delay.end.is_zero() {
            return None;
        }
        let (tx, rx) = crossbeam_channel::unbounded();
        *net.delayed.lock().expect("net lock") = Some(tx);
        let net = std::sync::Arc::clone(net);
        let handle = std::thread::Builder::new()
            .name("paxos-router".into())
            .spawn(move || net.route(rx))
            .expect("spawn the router thread");
        Some(handle)
    }

    /// Stops the router (delayed copies still in flight are discarded).
    pub(crate) fn stop_router(&self) {
        self.delayed.lock().expect("net lock").take();
    }

    /// The router: holds delayed copies until they are due.
    fn route(&self, rx: Receiver<Delayed>) {
        let mut heap: BinaryHeap<Reverse<Delayed>> = BinaryHeap::new();
        loop {
            let now = Instant::now();
            while heap.peek().is_some_and(|d| d.0.due <= now) {
                let Reverse(d) = heap.pop().expect("peeked");
                self.deliver(d.envelope);
            }
            let received = match heap.peek() {
                Some(d) => rx.recv_deadline(d.0.due),
                None => rx
                    .recv()
                    .map_err(|_| crossbeam_channel::RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(d) => heap.push(Reverse(d)),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Connects `actor`'s inbox (a new one after a restart); returns its receiving end.
    pub(crate) fn connect(&self, actor: usize) -> Receiver<Parcel> {
        let (tx, rx) = crossbeam_channel::bounded(INBOX_MAX);
        let mut routes = self.routes.write().expect("routes lock");
        if routes.len() <= actor {
            routes.resize(actor + 1, None);
        }
        routes[actor] = Some(tx);
        rx
    }

    /// Connects every actor of `actors` to one shared inbox (a [`crate::ClientDriver`]'s);
    /// returns its receiving end. [`INBOX_MAX`] bounds its parcels.
    pub(crate) fn connect_shared(&self, actors: Range<usize>) -> Receiver<Parcel> {
        let (tx, rx) = crossbeam_channel::bounded(INBOX_MAX);
        let mut routes = self.routes.write().expect("routes lock");
        if routes.len() < actors.end {
            routes.resize(actors.end, None);
        }
        for actor in actors {
            routes[actor] = Some(tx.clone());
        }
        rx
    }

    /// Disconnects `actor`: copies for it are dropped from now on. When this returns, no copy
    /// is being put into its old inbox any more.
    pub(crate) fn disconnect(&self, actor: usize) {
        if let Some(route) = self.routes.write().expect("routes lock").get_mut(actor) {
            *route = None;
        }
    }

    /// Sets every replica's partition group (`None`: healed).
    pub(crate) fn set_groups(&self, groups: Option<Vec<u32>>) {
        let mut current = self.groups.write().expect("groups lock");
        self.partitioned.store(groups.is_some(), Ordering::Release);
        *current = groups.clone();
        drop(current);
        if let Some(recorder) = &self.recorder {
            recorder.record(match groups {
                Some(groups) => EventKind::Partition { groups },
                None => EventKind::Heal,
            });
        }
    }

    /// The current partition groups.
    pub(crate) fn groups(&self) -> Option<Vec<u32>> {
        self.groups.read().expect("groups lock").clone()
    }

    /// Sends `msg` from `src` to `dst`, through the fault layer.
    pub(crate) fn send(&self, src: usize, dst: usize, msg: Msg) {
        self.counters.sent.add(1);
        if self.clean {
            self.deliver(Envelope { src, dst, msg });
            return;
        }
        let (lost, duplicated, delays) = {
            let mut rng = self.rng.lock().expect("net rng lock");
            let lost = self.faults.loss > 0.0 && rng.random_bool(self.faults.loss);
            let duplicated = !lost && self.faults.dup > 0.0 && rng.random_bool(self.faults.dup);
            let mut draw = || {
                let range = self.faults.delay.clone();
                if range.start < range.end {
                    rng.random_range(range)
                } else {
                    range.start
                }
            };
            let first = draw();
            let second = duplicated.then(&mut draw);
            (lost, duplicated, [Some(first), second])
        };
        if lost {
            self.drop_copy(src, dst, msg, DropReason::Loss);
            return;
        }
        if duplicated {
            self.counters.duplicated.fetch_add(1, Ordering::Relaxed);
            if let Some(recorder) = &self.recorder {
                recorder.record(EventKind::Duplicated {
                    src,
                    dst,
                    msg: msg.clone(),
                });
            }
        }
        let copies = if duplicated { 2 } else { 1 };
        let mut msg = Some(msg);
        for (i, delay) in delays.into_iter().flatten().enumerate() {
            let copy = if i + 1 == copies {
                msg.take().expect("one message per copy")
            } else {
                msg.clone().expect("message present")
            };
            let envelope = Envelope {
                src,
                dst,
                msg: copy,
            };
            if delay.is_zero() {
                self.deliver(envelope);
            } else {
                self.delay(envelope, delay);
            }
        }
    }

    fn delay(&self, envelope: Envelope, delay: Duration) {
        let delayed = Delayed {
            due: Instant::now() + delay,
            order: self.order.fetch_add(1, Ordering::Relaxed),
            envelope,
        };
        let router = self.delayed.lock().expect("net lock").clone();
        match router {
            Some(router) => {
                if let Err(e) = router.send(delayed) {
                    let e = e.into_inner().envelope;
                    self.drop_copy(e.src, e.dst, e.msg, DropReason::DestinationDown);
                }
            }
            None => {
                let e = delayed.envelope;
                self.drop_copy(e.src, e.dst, e.msg, DropReason::DestinationDown);
            }
        }
    }

    /// Puts a copy into its destination's inbox, unless a partition or a crash prevents it.
    fn deliver(&self, envelope: Envelope) {
        let Envelope { src, dst, msg } = envelope;
        let between_replicas = src < self.servers && dst < self.servers;
        let partitioned = between_replicas
            && self.partitioned.load(Ordering::Acquire)
            && match &*self.groups.read().expect("groups lock") {
                Some(groups) => groups[src] != groups[dst],
                None => false,
            };
        if partitioned {
            self.drop_copy(src, dst, msg, DropReason::Partition);
            return;
        }
        self.put(dst, Parcel::One(Envelope { src, dst, msg }));
    }

    /// Puts `parcel` into `dst`'s inbox, or drops its messages if `dst` is down or its inbox
    /// full. The read lock is held while the parcel goes in, so `disconnect` waits for it.
    fn put(&self, dst: usize, parcel: Parcel) {
        let n = parcel.len() as u64;
        let routes = self.routes.read().expect("routes lock");
        let refused = match routes.get(dst) {
            Some(Some(inbox)) => inbox
                .try_send(parcel)
                .err()
                .map(|(TrySendError::Full(p) | TrySendError::Disconnected(p))| p),
            _ => Some(parcel),
        };
        drop(routes);
        match refused {
            None => self.counters.delivered.add(n),
            Some(parcel) => self.drop_parcel(parcel),
        }
    }

    /// Sends the messages of `parcel`, all for `dst`, in order: on a clean network as the one
    /// parcel it is (the caller keeps it within [`PARCEL_MAX`]), otherwise each through
    /// [`Net::send`].
    pub(crate) fn send_parcel(&self, dst: usize, parcel: Parcel) {
        debug_assert!(parcel.len() <= PARCEL_MAX, "{} messages", parcel.len());
        if !self.clean || self.partitioned.load(Ordering::Acquire) {
            for Envelope { src, dst, msg } in parcel {
                self.send(src, dst, msg);
            }
            return;
        }
        self.counters.sent.add(parcel.len() as u64);
        self.put(dst, parcel);
    }

    /// Sends every message of `sends` from `src`, in order. On a clean network (the only place
    /// it matters) the messages for one inbox go in as [`Parcel`]s (of at most [`PARCEL_MAX`]),
    /// under one read of the routes; otherwise each goes through [`Net::send`], which draws its
    /// faults.
    pub(crate) fn send_all(&self, src: usize, sends: &mut dyn Iterator<Item = (usize, Msg)>) {
        if !self.clean || self.partitioned.load(Ordering::Acquire) {
            for (dst, msg) in sends {
                self.send(src, dst, msg);
            }
            return;
        }
        let room = match sends.size_hint() {
            (1, Some(1)) => {
                // One message (a follower's `Accepted`, one reply): no parcel to gather.
                let (dst, msg) = sends.next().expect("one message");
                self.send(src, dst, msg);
                return;
            }
            // Room for every message in a parcel's vector: no growing it message by message.
            (least, _) => least.clamp(1, PARCEL_MAX),
        };
        // Parcels under way, one per inbox these messages go to (a replica's batch sends to a
        // handful), each with its inbox's sender, borrowed from the routes (a clone would
        // change the channel's count of senders, a cache line the receiving thread's core holds
        // too). In an array, not a vector: most batches send to one or two inboxes, and a
        // vector would be one more allocation per batch. Messages for more inboxes than it
        // holds go one by one.
        let mut parcels: [Option<(&Sender<Parcel>, Parcel)>; GATHERED_MAX] =
            [const { None }; GATHERED_MAX];
        let mut sent = 0;
        let mut delivered = 0;
        let mut refused = Vec::new();
        let mut post = |inbox: &Sender<Parcel>, parcel: Parcel, refused: &mut Vec<_>| {
            let n = parcel.len() as u64;
            match inbox.try_send(parcel) {
                Ok(()) => delivered += n,
                Err(TrySendError::Full(p) | TrySendError::Disconnected(p)) => refused.push(p),
            }
        };
        let routes = self.routes.read().expect("routes lock");
        for (dst, msg) in sends {
            sent += 1;
            let envelope = Envelope { src, dst, msg };
            let Some(Some(inbox)) = routes.get(dst) else {
                refused.push(Parcel::One(envelope));
                continue;
            };
            let slot = parcels
                .iter_mut()
                .find(|p| p.as_ref().is_none_or(|(to, _)| to.same_channel(inbox)));
            match slot {
                Some(Some((_, parcel))) if parcel.len() == PARCEL_MAX => {
                    let full = std::mem::replace(parcel, Parcel::One(envelope));
                    post(inbox, full, &mut refused);
                }
                Some(Some((_, parcel))) => parcel.push(envelope, room),
                Some(empty) => *empty = Some((inbox, Parcel::One(envelope))),
                None => post(inbox, Parcel::One(envelope), &mut refused),
            }
        }
        for (inbox, parcel) in parcels.iter_mut().filter_map(Option::take) {
            post(inbox, parcel, &mut refused);
        }
        drop(routes);
        self.counters.sent.add(sent);
        self.counters.delivered.add(delivered);
        for parcel in refused {
            self.drop_parcel(parcel);
        }
    }

    /// Counts and records every copy of a parcel no inbox took.
    fn drop_parcel(&self, parcel: Parcel) {
        for Envelope { src, dst, msg } in parcel {
            self.drop_copy(src, dst, msg, DropReason::DestinationDown);
        }
    }

    /// Counts and records a dropped copy.
    pub(crate) fn drop_copy(&self, src: usize, dst: usize, msg: Msg, reason: DropReason) {
        let counter = match reason {
            DropReason::Loss => &self.counters.dropped_loss,
            DropReason::Partition => &self.counters.dropped_partition,
            DropReason::DestinationDown => &self.counters.dropped_down,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(recorder) = &self.recorder {
            recorder.record(EventKind::Dropped {
                src,
                dst,
                msg,
                reason,
            });
        }
    }

    /// Message counts so far.
    pub(crate) fn stats(&self) -> NetStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        NetStats {
            sent: c.sent.get(),
            delivered: c.delivered.get(),
            dropped_loss: get(&c.dropped_loss),
            dropped_partition: get(&c.dropped_partition),
            dropped_down: get(&c.dropped_down),
            duplicated: get(&c.duplicated),
        }
    }
}

impl crate::transport::Transport for Net {
    fn send(&self, src: usize, dst: usize, msg: Msg) {
        Net::send(self, src, dst, msg);
    }

    fn send_all(&self, src: usize, sends: &mut dyn Iterator<Item = (usize, Msg)>) {
        Net::send_all(self, src, sends);
    }

    fn drop_copy(&self, src: usize, dst: usize, msg: Msg, reason: DropReason) {
        Net::drop_copy(self, src, dst, msg, reason);
    }

    fn disconnect(&self, actor: usize) {
        Net::disconnect(self, actor);
    }
}
