//! The bound: the runtime's threads and channels, passing the runtime's messages, with no
//! protocol work. What this machine can do at best with this topology.
//!
//! One client driver thread serves every session (as the runtime's `ClientDriver` does; with
//! `BENCH_DRIVERS=D`, D driver threads, session `s` on driver `s mod D`, as the runtime's point
//! then runs D `ClientDriver`s); three replica threads, each with a bounded crossbeam inbox,
//! wait for a message (as the runtime's threads do, `paxos_impl::wait`: yielding the core for a
//! while before sleeping), take every message already waiting (up to the runtime's
//! `BATCH_MAX`), handle them, and only then send what they produced (the runtime's group
//! commit). Messages travel in parcels as the runtime's do (`paxos_impl::net::Parcel`): what one
//! wake-up of a replica sends to one inbox is one channel operation, and the driver sends the
//! requests for the leader as one parcel after each wake-up, or once half of what its sessions
//! may have outstanding is held (at most `PARCEL_HELD_MAX`). The leader decides a slot on the
//! first `Accepted` (its own vote and one more are a majority of 3). Two kinds:
//!
//! - [`Kind::Batched`], the bound the runtime is compared with: the runtime's messages with its
//!   batching limits. The leader queues every `Request` it drains; after handling a wake-up's
//!   messages it proposes what is queued in slots of up to `batch_commands_max` commands while
//!   fewer than `window_slots_max` slots are undecided (the runtime's defaults, 64 and 4): one
//!   `Accept` per follower per slot, one `Accepted` per `Accept`, and per decided slot one
//!   `Reply` per command; no `Decide`, as the runtime announces decisions with the commit point
//!   on its next `Accept` (`ServerConfig::commit_point`). At one client that is 6 messages per
//!   command; at 256 clients about 2 (a request, a reply, and 4 per slot of 64).
//! - [`Kind::PerCommand`], the bound of a protocol without batching, kept to show what batching
//!   buys on this machine: every command is its own slot, so 8 messages per command (the
//!   `Request`, an `Accept` to each follower, an `Accepted` from each, a `Decide` to each
//!   follower and the `Reply`).
//!
//! Both count the messages they send, so the report shows messages per command next to the
//! runtime's. With a data directory, a replica that voted in a wake-up (the leader when it
//! proposed, a follower on an `Accept`) appends a 64-byte record to its own file and
//! `fdatasync`s it before sending, once per wake-up: the physical cost of "persist before you
//! promise".

use crate::counters::Counters;
use crate::stats::{Clock, Completions};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use paxos_impl::driver::PARCEL_HELD_MAX;
use paxos_impl::net::{Bundle, PARCEL_MAX};
use paxos_impl::wait;
use paxos_model::config::ServerConfig;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a waiting thread looks whether the point is over.
const STOP_POLL: Duration = Duration::from_millis(20);
/// The record a voting replica appends (the size of a small log entry).
const RECORD_BYTES: usize = 64;
/// Limit: inboxes one `send_all` gathers parcels for (the runtime's `net::GATHERED_MAX`).
const GATHERED_MAX: usize = 4;
/// Replicas: a leader (0) and two followers.
const REPLICAS: usize = 3;
/// The runtime's default limits (`paxos-impl run --batch`, `--window`).
const BATCH: usize = ServerConfig::BATCH_COMMANDS_MAX_DEFAULT;
const WINDOW: usize = ServerConfig::WINDOW_SLOTS_MAX_DEFAULT;

/// Which bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The runtime's messages with its batching limits (the ratios read against this one).
    Batched,
    /// One slot per command: 8 messages per command.
    PerCommand,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Batched => "bound",
            Kind::PerCommand => "bound per-command",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Msg {
    Request {
        session: u32,
        seq: u64,
    },
    /// `id`: the session (per command) or the slot (batched).
    Accept {
        id: u64,
        seq: u64,
    },
    Accepted {
        id: u64,
        seq: u64,
    },
    Decide,
    Reply {
        session: u32,
    },
}

/// A message with its source and destination, as the runtime's envelope.
#[derive(Debug)]
struct Envelope {
    #[allow(dead_code)] // Carried like the runtime's, not read.
    src: usize,
    dst: usize,
    msg: Msg,
}

/// What the bound's channels carry: the runtime's parcels (`paxos_impl::net::Bundle`, of which
/// the runtime's `Parcel` is made), of the bound's own envelopes.
type Parcel = Bundle<Envelope>;

/// What the bound measured: completions and fsyncs.
#[derive(Default)]
pub struct Measured {
    pub completions: Completions,
    pub syncs: u64,
    /// Messages sent, by every thread.
    pub msgs: u64,
    /// CPU µs and voluntary context switches per command (see `counters`).
    pub cpu_us_per_op: f64,
    pub switches_per_op: f64,
}

/// Runs `sessions` closed-loop sessions on `drivers` client driver threads (at most one per
/// session) until `clock`'s window is over.
pub fn run(
    kind: Kind,
    sessions: usize,
    drivers: usize,
    dir: Option<&Path>,
    clock: &Clock,
) -> Measured {
    let drivers = drivers.clamp(1, sessions.max(1));
    let inboxes: Vec<(Sender<Parcel>, Receiver<Parcel>)> = (0..REPLICAS + drivers)
        .map(|_| crossbeam_channel::bounded(paxos_impl::net::INBOX_MAX))
        .collect();
    let senders: Vec<Sender<Parcel>> = inboxes.iter().map(|(tx, _)| tx.clone()).collect();
    let stop = AtomicBool::new(false);
    let syncs = AtomicU64::new(0);
    let msgs = AtomicU64::new(0);
    let before = Counters::now();
    let (completions, per_op) = std::thread::scope(|scope| {
        for (me, (_, inbox)) in inboxes.iter().enumerate().take(REPLICAS) {
            let file = dir.map(|d| File::create(d.join(format!("bound-{me}.log"))).unwrap());
            let shared = Shared {
                senders: senders.clone(),
                stop: &stop,
                syncs: &syncs,
                msgs: &msgs,
            };
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name(format!("bound-{me}"))
                .spawn_scoped(scope, move || {
                    replica(kind, me, sessions, drivers, inbox, shared, file)
                })
                .expect("spawn a bound thread");
        }
        let shared = || Shared {
            senders: senders.clone(),
            stop: &stop,
            syncs: &syncs,
            msgs: &msgs,
        };
        // Drivers 1.. on threads of their own, driver 0 on this one.
        let others: Vec<_> = (1..drivers)
            .map(|d| {
                let (inbox, shared) = (&inboxes[REPLICAS + d].1, shared());
                std::thread::Builder::new()
                    .name(format!("bound-driver-{d}"))
                    .spawn_scoped(scope, move || {
                        client(d, drivers, sessions, inbox, &shared, clock)
                    })
                    .expect("spawn a bound driver")
            })
            .collect();
        let mut completions = client(0, drivers, sessions, &inboxes[REPLICAS].1, &shared(), clock);
        for other in others {
            completions.merge(other.join().expect("a bound driver"));
        }
        let per_op = Counters::now().per_op_since(&before, completions.len() as u64);
        stop.store(true, Ordering::Relaxed);
        (completions, per_op)
    });
    Measured {
        completions,
        syncs: syncs.into_inner(),
        msgs: msgs.into_inner(),
        cpu_us_per_op: per_op.0,
        switches_per_op: per_op.1,
    }
}

/// What every thread of the bound shares.
struct Shared<'a> {
    senders: Vec<Sender<Parcel>>,
    stop: &'a AtomicBool,
    syncs: &'a AtomicU64,
    msgs: &'a AtomicU64,
}

impl Shared<'_> {
    /// Sends every message of `out` (emptied), and counts them: as the runtime's network on a
    /// clean network (`Net::send_all`), one parcel per inbox (for up to `GATHERED_MAX` inboxes;
    /// messages for more go one by one), a single message with no vector.
    fn send_all(&self, src: usize, out: &mut Vec<(usize, Msg)>) {
        self.msgs.fetch_add(out.len() as u64, Ordering::Relaxed);
        if out.len() == 1 {
            let (dst, msg) = out.pop().expect("one message");
            self.send(dst, Parcel::One(Envelope { src, dst, msg }));
            return;
        }
        let room = out.len().clamp(1, PARCEL_MAX);
        let mut parcels: [Option<(usize, Parcel)>; GATHERED_MAX] = [const { None }; GATHERED_MAX];
        for (dst, msg) in out.drain(..) {
            let envelope = Envelope { src, dst, msg };
            match parcels
                .iter_mut()
                .find(|p| p.as_ref().is_none_or(|(to, _)| *to == dst))
            {
                Some(Some((_, parcel))) if parcel.len() == PARCEL_MAX => {
                    let full = std::mem::replace(parcel, Parcel::One(envelope));
                    self.send(dst, full);
                }
                Some(Some((_, parcel))) => parcel.push(envelope, room),
                Some(empty) => *empty = Some((dst, Parcel::One(envelope))),
                None => self.send(dst, Parcel::One(envelope)),
            }
        }
        for (dst, parcel) in parcels.iter_mut().filter_map(Option::take) {
            self.send(dst, parcel);
        }
    }

    fn send(&self, dst: usize, parcel: Parcel) {
        let _ = self.senders[dst].try_send(parcel);
    }
}

/// Client driver `driver` of `drivers`: each of its sessions (`s mod drivers == driver`) has one
/// command outstanding.
fn client(
    driver: usize,
    drivers: usize,
    sessions: usize,
    inbox: &Receiver<Parcel>,
    shared: &Shared,
    clock: &Clock,
) -> Completions {
    let me = REPLICAS + driver;
    let mine = (driver..sessions).step_by(drivers).count();
    // As the runtime's driver: the requests for the leader leave as one parcel after each
    // wake-up, or as soon as half of what the sessions may have outstanding is held.
    let held_max = (mine / 2).clamp(1, PARCEL_HELD_MAX);
    let mut held: Vec<(usize, Msg)> = Vec::with_capacity(held_max);
    let mut started = vec![Instant::now(); sessions];
    let mut seq = vec![0u64; sessions];
    let mut completions = Completions::default();
    for session in (driver..sessions).step_by(drivers) {
        started[session] = Instant::now();
        let request = Msg::Request {
            session: session as u32,
            seq: 0,
        };
        held.push((0, request));
        if held.len() >= held_max {
            shared.send_all(me, &mut held);
        }
    }
    shared.send_all(me, &mut held);
    loop {
        let first = match wait::recv_deadline(inbox, Instant::now() + STOP_POLL) {
            Ok(p) => p,
            Err(_) if clock.over(Instant::now()) => return completions,
            Err(_) => continue,
        };
        // One look at the clock per wake-up, as the runtime's driving loop does per poll (a
        // reply here takes no work to step): every reply counts as completed then, and every
        // request it starts as started then.
        let now = Instant::now();
        for envelope in std::iter::once(first).chain(inbox.try_iter()).flatten() {
            let Msg::Reply { session } = envelope.msg else {
                continue;
            };
            let s = session as usize;
            clock.completed(now);
            completions.push(clock, now, now - started[s]);
            seq[s] += 1;
            started[s] = now;
            let request = Msg::Request {
                session,
                seq: seq[s],
            };
            held.push((0, request));
            if held.len() >= held_max {
                shared.send_all(me, &mut held);
            }
        }
        shared.send_all(me, &mut held);
        if clock.over(now) {
            return completions;
        }
    }
}

/// The leader's state in the batched bound: queued requests and undecided slots.
#[derive(Default)]
struct Window {
    queued: VecDeque<u32>,
    /// `(slot, its sessions)`, oldest first.
    undecided: VecDeque<(u64, Vec<u32>)>,
    next_slot: u64,
}

/// A replica: a leader (0) or a follower.
fn replica(
    kind: Kind,
    me: usize,
    sessions: usize,
    drivers: usize,
    inbox: Receiver<Parcel>,
    shared: Shared,
    mut file: Option<File>,
) {
    let mut decided = vec![0u64; if me == 0 { sessions } else { 0 }];
    let mut window = Window::default();
    let mut out: Vec<(usize, Msg)> = Vec::new();
    let mut batch = Vec::with_capacity(paxos_impl::replica::BATCH_MAX);
    let record = [0x5au8; RECORD_BYTES];
    loop {
        // As the runtime's replica: parcels until `BATCH_MAX` messages were taken (the last
        // one whole), each message stepped from its parcel.
        let mut taken = 0;
        match wait::recv_deadline(&inbox, Instant::now() + STOP_POLL) {
            Ok(p) => {
                taken += p.len();
                batch.push(p);
            }
            Err(RecvTimeoutError::Timeout) if !shared.stop.load(Ordering::Relaxed) => continue,
            Err(_) => return,
        }
        while taken < paxos_impl::replica::BATCH_MAX {
            match inbox.try_recv() {
                Ok(p) => {
                    taken += p.len();
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let mut voted = false;
        for Envelope { dst, msg, .. } in batch.drain(..).flatten() {
            debug_assert_eq!(dst, me);
            match (kind, msg) {
                (Kind::PerCommand, Msg::Request { session, seq }) => {
                    voted = true;
                    let id = u64::from(session);
                    out.push((1, Msg::Accept { id, seq }));
                    out.push((2, Msg::Accept { id, seq }));
                }
                (Kind::Batched, Msg::Request { session, .. }) => window.queued.push_back(session),
                (_, Msg::Accept { id, seq }) => {
                    voted = true;
                    out.push((0, Msg::Accepted { id, seq }));
                }
                (Kind::PerCommand, Msg::Accepted { id, seq }) => {
                    let d = &mut decided[id as usize];
                    if *d <= seq {
                        *d = seq + 1;
                        let driver = REPLICAS + id as usize % drivers;
                        out.push((driver, Msg::Reply { session: id as u32 }));
                        out.push((1, Msg::Decide));
                        out.push((2, Msg::Decide));
                    }
                }
                (Kind::Batched, Msg::Accepted { id: slot, .. }) => {
                    // The first `Accepted` decides; the second finds its slot gone.
                    let Some(at) = window.undecided.iter().position(|(s, _)| *s == slot) else {
                        continue;
                    };
                    let (_, commands) = window.undecided.remove(at).expect("found");
                    for session in commands {
                        let driver = REPLICAS + session as usize % drivers;
                        out.push((driver, Msg::Reply { session }));
                    }
                    // No `Decide`: the runtime's commit point rides on its next `Accept`.
                }
                (_, Msg::Decide | Msg::Reply { .. }) => {}
            }
        }
        // Batched: propose what is queued, as far as the window allows.
        while !window.queued.is_empty() && window.undecided.len() < WINDOW {
            let n = window.queued.len().min(BATCH);
            let slot = window.next_slot;
            window.next_slot += 1;
            window
                .undecided
                .push_back((slot, window.queued.drain(..n).collect()));
            out.push((1, Msg::Accept { id: slot, seq: 0 }));
            out.push((2, Msg::Accept { id: slot, seq: 0 }));
            voted = true;
        }
        if let (true, Some(file)) = (voted, file.as_mut()) {
            file.write_all(&record).expect("append to the bound's log");
            file.sync_data().expect("fdatasync the bound's log");
            shared.syncs.fetch_add(1, Ordering::Relaxed);
        }
        shared.send_all(me, &mut out);
    }
}

/// This machine's own fdatasyncs per second, measured alone: appends of one record to a file,
/// each followed by `fdatasync`, for `duration`.
pub fn fsyncs_per_s(dir: &Path, duration: Duration) -> f64 {
    let mut file = File::create(dir.join("fsync-alone.log")).expect("create a file");
    let record = [0x5au8; RECORD_BYTES];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        file.write_all(&record).expect("append");
        file.sync_data().expect("fdatasync");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}
