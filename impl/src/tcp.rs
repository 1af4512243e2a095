//! TCP between processes: the [`Transport`] of `paxos-impl serve`.
//!
//! Each process runs one replica (`me`) and listens on one or more addresses; every other
//! replica, and every client, connects to it. A connection carries `Frame`s one way:
//!
//! ```text
//! frame: body length: u32 LE | body (a `Wire`, bincode 1.x)
//! ```
//!
//! A connection opens with `Wire::Hello { src }`, then carries `Wire::Msg`s from `src`. A
//! replica's outgoing connections (one per peer, opened by a writer thread) are write-only: a
//! peer's replies come back on the peer's own connection to us. A client's connection is the
//! exception: the replica also writes replies to the client on it (a client may sit behind NAT
//! of its own making: it cannot be dialled), so the reader registers it as the client's route.
//!
//! A connection that opens with `Wire::Status`, `Wire::Control` or `Wire::NewClientId` instead
//! is an *admin connection* ([`crate::admin`]): the reader answers each request on it, and
//! never takes a hello or a message on it.
//!
//! # Fault injection
//! With [`TcpOptions::fault_injection`] on (`serve --fault-injection`, for test harnesses), a
//! `Wire::Control` order from a loopback address isolates this replica from some peers: every
//! message to or from them is dropped here and counted ([`TcpStats::partitioned`]). Off (the
//! default), such an order is answered with an error and changes nothing.
//!
//! # Limits, and what happens at them
//! - [`FRAME_BYTES_MAX`]: a frame announcing a longer body, or a body that does not decode,
//!   closes that connection with a logged error (`tracing::warn!`) and a count
//!   ([`TcpStats::frames_rejected`]); the replica never sees it and keeps serving.
//! - [`SEND_QUEUE_MAX`] messages wait per peer and per client connection, each drained by its
//!   own writer thread (the replica thread never waits on a socket); a send to a full queue is
//!   dropped and counted.
//! - A peer that cannot be reached is retried with exponential backoff from [`BACKOFF_MIN`] to
//!   [`BACKOFF_MAX`]; messages queued meanwhile wait (up to the queue's limit).
//! - [`CONNECTIONS_MAX`] inbound connections at once (one reader thread each, and a writer for
//!   a client's); more are closed.

use crate::admin::{Control, StatusReport};
use crate::client_ids::ClientIds;
use crate::net::{Envelope, Parcel};
use crate::record::DropReason;
use crate::transport::Transport;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use paxos_model::msg::Msg;
use paxos_model::state_machine::{Register, StateMachine};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Limit: the body of one frame, in bytes.
pub const FRAME_BYTES_MAX: u32 = 4 * 1024 * 1024;
/// Limit: messages waiting for one peer's connection; more are dropped.
pub const SEND_QUEUE_MAX: usize = 4096;
/// Limit: inbound connections open at once.
pub const CONNECTIONS_MAX: usize = 256;
/// First wait before reconnecting to a peer.
pub const BACKOFF_MIN: Duration = Duration::from_millis(20);
/// Longest wait before reconnecting to a peer.
pub const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Limit: how long a connect or one write may take before the connection is given up.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a blocked thread looks whether the transport was stopped.
const STOP_POLL: Duration = Duration::from_millis(100);

/// What travels in one frame.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Wire<M: StateMachine = Register> {
    /// The first frame of a connection: who is speaking.
    Hello {
        /// The sender's actor id (a replica below `n`, a client from `n` on).
        src: u32,
    },
    /// A message from the connection's sender.
    Msg(Msg<M>),
    /// An admin request: the replica's status.
    Status,
    /// The answer to `Status`.
    StatusReply(StatusReport),
    /// An admin request: a fault-injection order.
    Control(Control),
    /// The answer to `Control`: done, or why not.
    ControlReply(Result<(), String>),
    /// An admin request: a client id no client had before ([`crate::client_ids`]).
    NewClientId,
    /// The answer to `NewClientId`: the id, or why none.
    ClientIdReply(Result<u32, String>),
}

/// Writes `wire` as one frame. An encoding longer than [`FRAME_BYTES_MAX`] is an error (the
/// receiver would refuse it).
pub fn write_frame<M: StateMachine>(out: &mut impl Write, wire: &Wire<M>) -> io::Result<()> {
    let body = bincode::serialize(wire).map_err(io::Error::other)?;
    if body.len() > FRAME_BYTES_MAX as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "frame of {} bytes exceeds the limit {FRAME_BYTES_MAX}",
                body.len()
            ),
        ));
    }
    out.write_all(&(body.len() as u32).to_le_bytes())?;
    out.write_all(&body)
}

/// Reads one frame; `Ok(None)` at a clean end of stream. An oversized or undecodable frame is an
/// `InvalidData` error: the caller closes the connection.
pub fn read_frame<M: StateMachine>(input: &mut impl Read) -> io::Result<Option<Wire<M>>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len);
    if len > FRAME_BYTES_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame announces {len} bytes, more than the limit {FRAME_BYTES_MAX}"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    input.read_exact(&mut body)?;
    bincode::deserialize(&body)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("bad frame: {e}")))
}

/// Counts since the transport started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Messages handed to the transport.
    pub sent: u64,
    /// Messages dropped: a full send queue, a failed write, or no route to a client.
    pub dropped: u64,
    /// Frames received and put into the inbox.
    pub received: u64,
    /// Connections closed because of an oversized or malformed frame.
    pub frames_rejected: u64,
    /// Messages to or from an isolated peer, dropped (fault injection).
    pub partitioned: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    dropped: AtomicU64,
    received: AtomicU64,
    frames_rejected: AtomicU64,
    partitioned: AtomicU64,
}

/// Where a replica's status comes from (its observer).
pub type StatusSource = Arc<dyn Fn() -> StatusReport + Send + Sync>;

/// What a replica's transport serves besides messages. The default serves neither.
#[derive(Clone, Default)]
pub struct TcpOptions {
    /// Answers `Wire::Status` (without it, a status request is refused as a bad frame).
    pub status: Option<StatusSource>,
    /// Obeys `Wire::Control` from loopback addresses (test harnesses only).
    pub fault_injection: bool,
    /// Answers `Wire::NewClientId` (without it, the request is refused as a bad frame).
    pub client_ids: Option<Arc<ClientIds>>,
}

/// Where a client's replies go: its connection's writer.
struct ClientRoute<M: StateMachine> {
    /// The client's end of the connection (a reconnected client has a new one).
    peer: SocketAddr,
    queue: Sender<Msg<M>>,
}

struct Shared<M: StateMachine> {
    me: usize,
    replicas: usize,
    inbox: Sender<Parcel<M>>,
    /// Routes to clients: the queue of the writer on the connection each client said hello on.
    clients: Mutex<BTreeMap<usize, ClientRoute<M>>>,
    connections: AtomicUsize,
    stop: AtomicBool,
    counters: Counters,
    options: TcpOptions,
    /// Bit `p` set: replica `p` is isolated from this one (fault injection).
    isolated: AtomicU64,
}

impl<M: StateMachine> Shared<M> {
    fn is_isolated(&self, peer: usize) -> bool {
        peer < self.replicas && self.isolated.load(Ordering::Relaxed) & (1 << peer) != 0
    }

    fn drop_isolated(&self) {
        self.counters.partitioned.fetch_add(1, Ordering::Relaxed);
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Hands a message from `src` to this replica's inbox, or counts it dropped if the inbox
    /// is full.
    fn deliver(&self, src: usize, msg: Msg<M>) {
        let envelope = Envelope {
            src,
            dst: self.me,
            msg,
        };
        if self.inbox.try_send(Parcel::One(envelope)).is_ok() {
            self.counters.received.fetch_add(1, Ordering::Relaxed);
        } else {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Obeys a fault-injection order from `from`, or says why not.
    fn control(&self, control: Control, from: SocketAddr) -> Result<(), String> {
        if !self.options.fault_injection {
            return Err("fault injection is off (serve --fault-injection)".into());
        }
        if !from.ip().is_loopback() {
            return Err(format!("fault injection only from loopback, not {from}"));
        }
        let mask = match &control {
            Control::Heal => 0,
            Control::Isolate { peers } => {
                let mut mask = 0u64;
                for &p in peers {
                    let p = p as usize;
                    if p >= self.replicas || p == self.me {
                        return Err(format!(
                            "cannot isolate replica {p} from replica {} of {}",
                            self.me, self.replicas
                        ));
                    }
                    mask |= 1 << p;
                }
                mask
            }
        };
        self.isolated.store(mask, Ordering::SeqCst);
        tracing::info!(replica = self.me, ?control, "fault injection");
        Ok(())
    }
}

/// The TCP transport of one replica process. Dropping it stops its threads.
pub struct TcpTransport<M: StateMachine = Register> {
    shared: Arc<Shared<M>>,
    queues: Vec<Option<Sender<Msg<M>>>>,
    threads: Vec<JoinHandle<()>>,
    listen: Vec<SocketAddr>,
}

impl<M: StateMachine> std::fmt::Debug for TcpTransport<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("me", &self.shared.me)
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

impl<M: StateMachine> TcpTransport<M> {
    /// Replica `me` of the replicas at `peers` (by index; `peers[me]` is not dialled), accepting
    /// connections on every listener of `listeners`, delivering what arrives into `inbox`.
    pub fn start(
        me: usize,
        peers: &[SocketAddr],
        listeners: Vec<TcpListener>,
        inbox: Sender<Parcel<M>>,
    ) -> io::Result<TcpTransport<M>> {
        TcpTransport::start_with(me, peers, listeners, inbox, TcpOptions::default())
    }

    /// [`TcpTransport::start`], serving what `options` asks for besides messages.
    pub fn start_with(
        me: usize,
        peers: &[SocketAddr],
        listeners: Vec<TcpListener>,
        inbox: Sender<Parcel<M>>,
        options: TcpOptions,
    ) -> io::Result<TcpTransport<M>> {
        assert!(
            peers.len() <= 64,
            "{} replicas: the isolation mask has 64 bits",
            peers.len()
        );
        let shared = Arc::new(Shared {
            me,
            replicas: peers.len(),
            inbox,
            clients: Mutex::new(BTreeMap::new()),
            connections: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            counters: Counters::default(),
            options,
            isolated: AtomicU64::new(0),
        });
        let mut threads = Vec::new();
        let mut listen = Vec::new();
        for listener in listeners {
            listen.push(listener.local_addr()?);
            listener.set_nonblocking(true)?;
            let shared = Arc::clone(&shared);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("tcp-accept-{me}"))
                    .spawn(move || accept(&shared, listener))?,
            );
        }
        let mut queues = Vec::new();
        for (peer, addr) in peers.iter().enumerate() {
            if peer == me {
                queues.push(None);
                continue;
            }
            let (tx, rx) = crossbeam_channel::bounded(SEND_QUEUE_MAX);
            queues.push(Some(tx));
            let shared = Arc::clone(&shared);
            let addr = *addr;
            threads.push(
                std::thread::Builder::new()
                    .name(format!("tcp-peer-{peer}"))
                    .spawn(move || write_to_peer(&shared, peer, addr, rx))?,
            );
        }
        Ok(TcpTransport {
            shared,
            queues,
            threads,
            listen,
        })
    }

    /// The addresses it listens on (with the ports the system chose for port 0).
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.listen
    }

    /// Counts so far.
    pub fn stats(&self) -> TcpStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TcpStats {
            sent: get(&c.sent),
            dropped: get(&c.dropped),
            received: get(&c.received),
            frames_rejected: get(&c.frames_rejected),
            partitioned: get(&c.partitioned),
        }
    }

    /// Stops every thread (waits for them).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.queues.clear(); // Disconnects the peer writers,
        self.shared.clients.lock().expect("clients lock").clear(); // and the client writers.
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl<M: StateMachine> Drop for TcpTransport<M> {
    fn drop(&mut self) {
        self.halt();
    }
}

impl<M: StateMachine> Transport<M> for TcpTransport<M> {
    fn send(&self, src: usize, dst: usize, msg: Msg<M>) {
        let shared = &self.shared;
        shared.counters.sent.fetch_add(1, Ordering::Relaxed);
        debug_assert_eq!(src, shared.me, "a replica process sends only as itself");
        if dst == shared.me {
            if shared
                .inbox
                .try_send(Parcel::One(Envelope { src, dst, msg }))
                .is_err()
            {
                shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        if dst < shared.replicas {
            if shared.is_isolated(dst) {
                shared.drop_isolated();
                return;
            }
            let Some(Some(queue)) = self.queues.get(dst) else {
                return; // Stopping.
            };
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = queue.try_send(msg)
            {
                shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        // A client: its connection's writer, never this thread, waits on the client's socket.
        let queued = match shared.clients.lock().expect("clients lock").get(&dst) {
            Some(route) => route.queue.try_send(msg).is_ok(),
            None => false,
        };
        if !queued {
            shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn drop_copy(&self, _src: usize, _dst: usize, _msg: Msg<M>, _reason: DropReason) {
        self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
    }

    fn disconnect(&self, _actor: usize) {
        // One transport per process or client: dropping it closes everything.
    }
}

/// The accept loop: one reader thread per connection, at most [`CONNECTIONS_MAX`].
fn accept<M: StateMachine>(shared: &Arc<Shared<M>>, listener: TcpListener) {
    while !shared.stop.load(Ordering::SeqCst) {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(STOP_POLL / 10);
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                std::thread::sleep(STOP_POLL);
                continue;
            }
        };
        if shared.connections.load(Ordering::SeqCst) >= CONNECTIONS_MAX {
            tracing::warn!(%peer, limit = CONNECTIONS_MAX, "too many connections: closed");
            continue;
        }
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let reader = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("tcp-read".into())
            .spawn(move || {
                read_from(&reader, stream, peer);
                reader.connections.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            tracing::error!(error = %e, "cannot spawn a reader thread");
        }
    }
}

/// One inbound connection: a hello, then messages into the inbox, until the stream ends, the
/// transport stops, or a frame is bad (the connection is closed; the replica never sees it).
fn read_from<M: StateMachine>(shared: &Shared<M>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(STOP_POLL));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let mut input = BufReader::new(TimeoutRetry {
        stream: match stream.try_clone() {
            Ok(s) => s,
            Err(_) => return,
        },
        stop: &shared.stop,
    });
    let mut src = None;
    let result = loop {
        match read_frame(&mut input) {
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
            Ok(Some(Wire::Hello { src: hello })) if src.is_none() => {
                let hello = hello as usize;
                if hello == shared.me {
                    break Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("hello from {hello}, which is this replica"),
                    ));
                }
                if hello >= shared.replicas {
                    let (queue, replies) = crossbeam_channel::bounded(SEND_QUEUE_MAX);
                    let writer = stream.try_clone().and_then(|out| {
                        std::thread::Builder::new()
                            .name(format!("tcp-client-{hello}"))
                            .spawn(move || write_to_client(hello, out, replies))
                    });
                    if let Err(e) = writer {
                        break Err(e);
                    }
                    let route = ClientRoute { peer, queue };
                    let mut clients = shared.clients.lock().expect("clients lock");
                    if clients.len() >= CONNECTIONS_MAX && !clients.contains_key(&hello) {
                        break Err(io::Error::other("too many clients"));
                    }
                    clients.insert(hello, route);
                }
                src = Some(hello);
            }
            Ok(Some(Wire::Hello { .. })) => {
                break Err(io::Error::new(io::ErrorKind::InvalidData, "a second hello"))
            }
            Ok(Some(request @ (Wire::Status | Wire::Control(_) | Wire::NewClientId)))
                if src.is_none() =>
            {
                let answer: Wire<M> = match request {
                    Wire::Status => match &shared.options.status {
                        Some(status) => Wire::StatusReply(status()),
                        None => {
                            break Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "a status request, which this transport does not serve",
                            ))
                        }
                    },
                    Wire::Control(control) => Wire::ControlReply(shared.control(control, peer)),
                    Wire::NewClientId => match &shared.options.client_ids {
                        Some(ids) => {
                            Wire::ClientIdReply(ids.allocate().map(|id| id.0).map_err(|e| {
                                tracing::error!(error = %e, "cannot hand out a client id");
                                e.to_string()
                            }))
                        }
                        None => {
                            break Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "a client id request, which this transport does not serve",
                            ))
                        }
                    },
                    _ => unreachable!("matched above"),
                };
                // Only this thread writes on an admin connection.
                let mut out = BufWriter::new(&stream);
                if let Err(e) = write_frame(&mut out, &answer).and_then(|()| out.flush()) {
                    break Err(e);
                }
            }
            Ok(Some(Wire::Msg(msg))) => {
                let Some(src) = src else {
                    break Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "a message before hello",
                    ));
                };
                if shared.is_isolated(src) {
                    shared.drop_isolated();
                    continue;
                }
                shared.deliver(src, msg);
            }
            Ok(Some(other)) => {
                break Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected frame {other:?}"),
                ))
            }
        }
    };
    if let Some(src) = src.filter(|src| *src >= shared.replicas) {
        let mut clients = shared.clients.lock().expect("clients lock");
        // Only this connection's route: the client may have reconnected meanwhile.
        if clients.get(&src).is_some_and(|route| route.peer == peer) {
            clients.remove(&src);
        }
    }
    match result {
        Ok(()) => tracing::debug!(%peer, ?src, "connection closed"),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            shared
                .counters
                .frames_rejected
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(%peer, ?src, error = %e, "bad frame: connection closed");
        }
        Err(e) if shared.stop.load(Ordering::SeqCst) => {
            tracing::debug!(%peer, error = %e, "connection closed: stopping");
        }
        Err(e) => tracing::warn!(%peer, ?src, error = %e, "connection lost"),
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// A stream whose read timeouts are retried until the transport stops (so a reader notices a
/// stop within [`STOP_POLL`] without giving up on a quiet connection).
struct TimeoutRetry<'a> {
    stream: TcpStream,
    stop: &'a AtomicBool,
}

impl Read for TimeoutRetry<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.stream.read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.stop.load(Ordering::SeqCst) {
                        return Err(io::Error::new(io::ErrorKind::Interrupted, "stopping"));
                    }
                }
                other => return other,
            }
        }
    }
}

/// One peer's writer: connect (with backoff), say hello, write queued messages; on any error
/// drop the connection and connect again. A message being written when the connection fails
/// is lost.
fn write_to_peer<M: StateMachine>(
    shared: &Arc<Shared<M>>,
    peer: usize,
    addr: SocketAddr,
    queue: Receiver<Msg<M>>,
) {
    let mut backoff = BACKOFF_MIN;
    let mut connection: Option<BufWriter<TcpStream>> = None;
    let mut logged_down = false;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let out = match connection.as_mut() {
            Some(out) => out,
            None => match connect(shared.me, addr) {
                Ok(out) => {
                    tracing::info!(peer, %addr, "connected to peer");
                    if shared.me >= shared.replicas {
                        // A client: the replica answers on this connection.
                        spawn_reply_reader(shared, peer, out.get_ref());
                    }
                    backoff = BACKOFF_MIN;
                    logged_down = false;
                    connection.insert(out)
                }
                Err(e) => {
                    if !logged_down {
                        tracing::warn!(peer, %addr, error = %e, "peer unreachable; retrying with backoff");
                        logged_down = true;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            },
        };
        let msg = match queue.recv_timeout(STOP_POLL) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut written = write_frame(out, &Wire::Msg(msg));
        // Write everything already queued, then flush once.
        while written.is_ok() {
            match queue.try_recv() {
                Ok(msg) => written = write_frame(out, &Wire::Msg(msg)),
                Err(_) => break,
            }
        }
        if let Err(e) = written.and_then(|()| out.flush()) {
            shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
            if e.kind() == io::ErrorKind::InvalidData {
                tracing::error!(peer, error = %e, "message not sent");
            } else {
                tracing::warn!(peer, %addr, error = %e, "connection to peer lost");
                connection = None;
            }
        }
    }
}

/// The writer of replies to client `client` on its connection, until the route is dropped (the
/// connection's reader ended, or the transport stopped) or a write fails (the connection is
/// shut down, which ends its reader too).
fn write_to_client<M: StateMachine>(client: usize, stream: TcpStream, replies: Receiver<Msg<M>>) {
    let mut out = BufWriter::new(stream);
    while let Ok(msg) = replies.recv() {
        let mut written = write_frame(&mut out, &Wire::Msg(msg));
        while written.is_ok() {
            match replies.try_recv() {
                Ok(msg) => written = write_frame(&mut out, &Wire::Msg(msg)),
                Err(_) => break,
            }
        }
        if let Err(e) = written.and_then(|()| out.flush()) {
            tracing::warn!(client, error = %e, "writing to client failed: connection closed");
            let _ = out.get_ref().shutdown(Shutdown::Both);
            return;
        }
    }
}

/// A client's reader of the replies replica `peer` writes back on the client's connection.
fn spawn_reply_reader<M: StateMachine>(shared: &Arc<Shared<M>>, peer: usize, stream: &TcpStream) {
    let Ok(stream) = stream.try_clone() else {
        return;
    };
    let shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name(format!("tcp-replies-{peer}"))
        .spawn(move || {
            let _ = stream.set_read_timeout(Some(STOP_POLL));
            let mut input = BufReader::new(TimeoutRetry {
                stream,
                stop: &shared.stop,
            });
            loop {
                match read_frame(&mut input) {
                    Ok(Some(Wire::Msg(msg))) => {
                        shared.deliver(peer, msg);
                    }
                    Ok(Some(other)) => {
                        shared
                            .counters
                            .frames_rejected
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::error!(peer, ?other, "not a message: connection closed");
                        break;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        if e.kind() == io::ErrorKind::InvalidData {
                            shared
                                .counters
                                .frames_rejected
                                .fetch_add(1, Ordering::Relaxed);
                            tracing::error!(peer, error = %e, "bad frame: connection closed");
                        }
                        break;
                    }
                }
            }
            let _ = input.get_ref().stream.shutdown(Shutdown::Both);
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot spawn a reply reader");
    }
}

fn connect(me: usize, addr: SocketAddr) -> io::Result<BufWriter<TcpStream>> {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut out = BufWriter::new(stream);
    // `Hello` carries no message: its encoding is the same whatever the state machine.
    write_frame(&mut out, &Wire::<Register>::Hello { src: me as u32 })?;
    out.flush()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use paxos_model::types::{OpResult, RequestId};

    #[test]
    fn frames_round_trip_and_bad_ones_are_invalid_data() {
        let mut bytes = Vec::new();
        write_frame(&mut bytes, &Wire::<Register>::Hello { src: 4 }).unwrap();
        let reply: Msg = Msg::Reply {
            request: RequestId(9),
            result: OpResult::WriteOk,
        };
        write_frame(&mut bytes, &Wire::Msg(reply.clone())).unwrap();
        let mut input = &bytes[..];
        assert!(matches!(
            read_frame::<Register>(&mut input).unwrap(),
            Some(Wire::Hello { src: 4 })
        ));
        assert!(
            matches!(read_frame::<Register>(&mut input).unwrap(), Some(Wire::Msg(m)) if m == reply)
        );
        assert!(
            read_frame::<Register>(&mut input).unwrap().is_none(),
            "clean end"
        );

        let oversized = (FRAME_BYTES_MAX + 1).to_le_bytes();
        let e = read_frame::<Register>(&mut &oversized[..]).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        let mut garbage = 4u32.to_le_bytes().to_vec();
        garbage.extend_from_slice(&[0xff; 4]);
        let e = read_frame::<Register>(&mut &garbage[..]).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        // A body cut short is a lost connection, not a bad frame.
        let cut = &bytes[..bytes.len() - 1];
        let mut input = cut;
        read_frame::<Register>(&mut input).unwrap();
        let e = read_frame::<Register>(&mut input).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
    }
}
