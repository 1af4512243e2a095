//! The bound: the runtime's threads and channels, passing the runtime's messages, with no
//! protocol work. What this machine can do at best with this topology.
//!
//! One client driver thread serves every session (as the runtime's `ClientDriver` does); three
//! replica threads, each with a bounded crossbeam inbox, wait for a message, take every message
//! already waiting (up to the runtime's `BATCH_MAX`), handle them, and only then send what they
//! produced (the runtime's group commit). Per command, as in the runtime's common case with
//! Prepare-skip: the client's `Request` to the leader, an `Accept` to each follower, an
//! `Accepted` from each, a `Decide` to each follower and the `Reply`: 8 messages. The leader
//! decides on the first `Accepted` (its own vote and one more are a majority of 3).
//!
//! With a data directory, a replica that voted in a batch (the leader on a `Request`, a
//! follower on an `Accept`) appends a 64-byte record to its own file and `fdatasync`s it
//! before sending, once per batch: the physical cost of "persist before you promise".

use crate::counters::Counters;
use crate::stats::{Clock, Completions};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a waiting thread looks whether the point is over.
const STOP_POLL: Duration = Duration::from_millis(20);
/// The record a voting replica appends (the size of a small log entry).
const RECORD_BYTES: usize = 64;
/// Replicas: a leader (0) and two followers.
const REPLICAS: usize = 3;
/// Messages per command (request, 2 accepts, 2 accepteds, 2 decides, reply).
pub const MSGS_PER_OP: f64 = 8.0;

#[derive(Clone, Copy, Debug)]
enum Msg {
    Request { session: u32, seq: u64 },
    Accept { session: u32, seq: u64 },
    Accepted { session: u32, seq: u64 },
    Decide,
    Reply { session: u32 },
}

/// A message with its source and destination, as the runtime's envelope.
#[derive(Debug)]
struct Envelope {
    #[allow(dead_code)] // Carried like the runtime's, not read.
    src: usize,
    dst: usize,
    msg: Msg,
}

/// What the bound measured: completions and fsyncs.
#[derive(Default)]
pub struct Measured {
    pub completions: Completions,
    pub syncs: u64,
    /// CPU µs and voluntary context switches per command (see `counters`).
    pub cpu_us_per_op: f64,
    pub switches_per_op: f64,
}

/// Runs `sessions` closed-loop sessions until `clock`'s window is over.
pub fn run(sessions: usize, dir: Option<&Path>, clock: &Clock) -> Measured {
    let inboxes: Vec<(Sender<Envelope>, Receiver<Envelope>)> = (0..=REPLICAS)
        .map(|_| crossbeam_channel::bounded(paxos_impl::net::INBOX_MAX))
        .collect();
    let senders: Vec<Sender<Envelope>> = inboxes.iter().map(|(tx, _)| tx.clone()).collect();
    let stop = AtomicBool::new(false);
    let syncs = AtomicU64::new(0);
    let before = Counters::now();
    let (completions, per_op) = std::thread::scope(|scope| {
        for (me, (_, inbox)) in inboxes.iter().enumerate().take(REPLICAS) {
            let file = dir.map(|d| File::create(d.join(format!("bound-{me}.log"))).unwrap());
            let (senders, stop, syncs) = (senders.clone(), &stop, &syncs);
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name(format!("bound-{me}"))
                .spawn_scoped(scope, move || {
                    replica(me, sessions, inbox, senders, file, stop, syncs)
                })
                .expect("spawn a bound thread");
        }
        let completions = client(sessions, &inboxes[REPLICAS].1, &senders, clock);
        let per_op = Counters::now().per_op_since(&before, completions.done.len() as u64);
        stop.store(true, Ordering::Relaxed);
        (completions, per_op)
    });
    Measured {
        completions,
        syncs: syncs.into_inner(),
        cpu_us_per_op: per_op.0,
        switches_per_op: per_op.1,
    }
}

fn send(senders: &[Sender<Envelope>], src: usize, dst: usize, msg: Msg) {
    let _ = senders[dst].try_send(Envelope { src, dst, msg });
}

/// The client driver: every session has one command outstanding.
fn client(
    sessions: usize,
    inbox: &Receiver<Envelope>,
    senders: &[Sender<Envelope>],
    clock: &Clock,
) -> Completions {
    let me = REPLICAS;
    let mut started = Vec::with_capacity(sessions);
    let mut seq = vec![0u64; sessions];
    let mut completions = Completions::default();
    for session in 0..sessions {
        started.push(Instant::now());
        let request = Msg::Request {
            session: session as u32,
            seq: 0,
        };
        send(senders, me, 0, request);
    }
    loop {
        let first = match inbox.recv_timeout(STOP_POLL) {
            Ok(e) => e,
            Err(_) if clock.over(Instant::now()) => return completions,
            Err(_) => continue,
        };
        for envelope in std::iter::once(first).chain(inbox.try_iter()) {
            let Msg::Reply { session } = envelope.msg else {
                continue;
            };
            let s = session as usize;
            let now = Instant::now();
            clock.completed(now);
            completions.push(now, now - started[s]);
            seq[s] += 1;
            started[s] = now;
            let request = Msg::Request {
                session,
                seq: seq[s],
            };
            send(senders, me, 0, request);
        }
        if clock.over(Instant::now()) {
            return completions;
        }
    }
}

/// A replica: a leader (0) or a follower.
fn replica(
    me: usize,
    sessions: usize,
    inbox: Receiver<Envelope>,
    senders: Vec<Sender<Envelope>>,
    mut file: Option<File>,
    stop: &AtomicBool,
    syncs: &AtomicU64,
) {
    let mut decided = vec![0u64; if me == 0 { sessions } else { 0 }];
    let mut out: Vec<(usize, Msg)> = Vec::new();
    let mut batch = Vec::with_capacity(paxos_impl::replica::BATCH_MAX);
    let record = [0x5au8; RECORD_BYTES];
    loop {
        match inbox.recv_timeout(STOP_POLL) {
            Ok(e) => batch.push(e),
            Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::Relaxed) => continue,
            Err(_) => return,
        }
        while batch.len() < paxos_impl::replica::BATCH_MAX {
            match inbox.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let mut voted = false;
        for Envelope { dst, msg, .. } in batch.drain(..) {
            debug_assert_eq!(dst, me);
            match msg {
                Msg::Request { session, seq } => {
                    voted = true;
                    out.push((1, Msg::Accept { session, seq }));
                    out.push((2, Msg::Accept { session, seq }));
                }
                Msg::Accept { session, seq } => {
                    voted = true;
                    out.push((0, Msg::Accepted { session, seq }));
                }
                Msg::Accepted { session, seq } => {
                    let d = &mut decided[session as usize];
                    if *d <= seq {
                        *d = seq + 1;
                        out.push((REPLICAS, Msg::Reply { session }));
                        out.push((1, Msg::Decide));
                        out.push((2, Msg::Decide));
                    }
                }
                Msg::Decide | Msg::Reply { .. } => {}
            }
        }
        if let (true, Some(file)) = (voted, file.as_mut()) {
            file.write_all(&record).expect("append to the bound's log");
            file.sync_data().expect("fdatasync the bound's log");
            syncs.fetch_add(1, Ordering::Relaxed);
        }
        for (dst, msg) in out.drain(..) {
            send(&senders, me, dst, msg);
        }
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
