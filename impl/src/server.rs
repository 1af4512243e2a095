//! One replica in its own process, over TCP: the core of `paxos-impl serve`.
//!
//! The very same replica thread as the in-process cluster ([`crate::replica`]: batch, save,
//! then send), with a [`TcpTransport`] where the cluster has its channel network, and a
//! `DiskStorage` opened for exactly this replica (`DiskStorage::open_replica`: a missing,
//! foreign or locked data directory is refused before anything starts). Clients are
//! [`Client::over_tcp`] handles in other processes: they connect to the replicas' client
//! addresses and get their replies on the same connections.
//!
//! Its transport answers status requests on the client address from the observer
//! ([`crate::admin`]), and, when asked for (`fault_injection`), obeys partition orders.
//!
//! A watcher thread logs what an operator wants to see through `tracing`: role and ballot
//! changes (observed after each step, never fed back into the replica) and a replica failure.

use crate::admin::new_client_id;
use crate::admin::StatusReport;
use crate::client::{Client, ClientParts};
use crate::client_ids::ClientIds;
use crate::config::{ClusterConfig, REPLICAS_MAX};
use crate::net::INBOX_MAX;
use crate::observe::{Observer, ReplicaStatus, RoleView};
use crate::record::Input;
use crate::replica::{Control, Exit, Replica};
use crate::storage::Storage;
use crate::tcp::{StatusSource, TcpOptions, TcpTransport};
use crate::transport::Transport;
use crossbeam_channel::Sender;
use paxos_model::state_machine::{Register, StateMachine};
use paxos_model::types::ClientId;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the watcher looks at the replica's observed role.
const WATCH_EVERY: Duration = Duration::from_millis(20);

/// What a replica process needs.
pub struct ServeConfig<M: StateMachine = Register> {
    /// This replica's index in `peers`.
    pub id: usize,
    /// Every replica's peer address, by index (this one's included).
    pub peers: Vec<SocketAddr>,
    /// Listeners: the peer address, and the client address if it differs.
    pub listeners: Vec<TcpListener>,
    /// The replica's storage (for a deployment: `DiskStorage::open_replica`).
    pub storage: Arc<dyn Storage<M>>,
    /// Seed of the replica's timer durations.
    pub seed: u64,
    /// Obey fault-injection orders from loopback (test harnesses only: [`crate::admin`]).
    pub fault_injection: bool,
    /// Where this replica's client ids come from ([`crate::client_ids`]; for a deployment:
    /// `ClientIds::open` on its data directory).
    pub client_ids: Arc<ClientIds>,
}

/// Why a replica process could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `--id` is not an index of `--peers`, or there are too many peers.
    #[error(
        "replica id {id} is not an index of the {peers} peer address(es) (at most {REPLICAS_MAX})"
    )]
    BadId {
        /// The id.
        id: usize,
        /// How many peers.
        peers: usize,
    },
    /// The stored state cannot be read.
    #[error(transparent)]
    Storage(#[from] crate::StorageError),
    /// A socket or thread could not be set up.
    #[error("network: {0}")]
    Io(#[from] io::Error),
}

/// A running replica process. Dropping it stops the replica.
pub struct ReplicaServer<M: StateMachine = Register> {
    id: usize,
    transport: Arc<TcpTransport<M>>,
    observer: Arc<Observer<M>>,
    control: Sender<Control>,
    replica: Option<JoinHandle<Exit>>,
    watcher: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl<M: StateMachine> ReplicaServer<M> {
    /// Loads the replica's stored state, starts its transport, its thread and its watcher.
    pub fn start(cfg: ServeConfig<M>) -> Result<ReplicaServer<M>, ServeError> {
        let ServeConfig {
            id,
            peers,
            listeners,
            storage,
            seed,
            fault_injection,
            client_ids,
        } = cfg;
        let n = peers.len();
        if id >= n || n > REPLICAS_MAX {
            return Err(ServeError::BadId { id, peers: n });
        }
        let stored = storage.load(id)?;
        tracing::info!(
            replica = id,
            replicas = n,
            recovered = stored.is_some(),
            promised = ?stored.as_ref().map(|d| d.promised),
            "starting"
        );
        let observer = Arc::new(Observer::new(n, false));
        observer.set_up(id, true);
        let status: StatusSource = {
            let observer = Arc::clone(&observer);
            Arc::new(move || StatusReport::of(id, &observer.status(id)))
        };
        let options = TcpOptions {
            status: Some(status),
            fault_injection,
            client_ids: Some(client_ids),
        };
        let (tx, inbox) = crossbeam_channel::bounded(INBOX_MAX);
        let transport = Arc::new(TcpTransport::start_with(
            id, &peers, listeners, tx, options,
        )?);
        for addr in transport.listen_addrs() {
            tracing::info!(replica = id, %addr, fault_injection, "listening");
        }
        let (control, control_rx) = crossbeam_channel::unbounded();
        let worker = Replica {
            id,
            cfg: ClusterConfig::new(n).server_config(),
            storage,
            net: Arc::clone(&transport) as Arc<dyn Transport<M>>,
            observer: Some(Arc::clone(&observer)),
            recorder: None,
            inbox,
            control: control_rx,
            timer_seed: seed,
            crash_seed: seed,
            #[cfg(feature = "bugs")]
            runtime_bug: None,
        };
        let replica = std::thread::Builder::new()
            .name(format!("replica-{id}"))
            .spawn(move || {
                std::panic::catch_unwind(AssertUnwindSafe(|| {
                    worker.run(Input::Start { storage: stored })
                }))
                .unwrap_or_else(|_| Exit::Failed("the replica thread panicked".into()))
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let observer = Arc::clone(&observer);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("watcher".into())
                .spawn(move || watch(id, &observer, &stop))?
        };
        Ok(ReplicaServer {
            id,
            transport,
            observer,
            control,
            replica: Some(replica),
            watcher: Some(watcher),
            stop,
        })
    }

    /// The transport's listening addresses.
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        self.transport.listen_addrs()
    }

    /// The replica as last observed: role, promise, applied slot.
    pub fn status(&self) -> ReplicaStatus {
        self.observer.status(self.id)
    }

    /// The transport's counts (frames rejected, messages dropped, ...).
    pub fn transport_stats(&self) -> crate::tcp::TcpStats {
        self.transport.stats()
    }

    /// Whether the replica thread stopped on its own (a storage failure or a panic).
    pub fn failed(&self) -> bool {
        self.replica.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Blocks until the replica thread ends on its own; returns its failure.
    pub fn wait(mut self) -> String {
        let exit = self.replica.take().map(|h| h.join());
        match exit {
            Some(Ok(Exit::Failed(e))) => e,
            other => format!("the replica stopped: {other:?}"),
        }
    }

    /// Stops the replica (a clean shutdown; its storage stays).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        let _ = self.control.send(Control::Shutdown);
        if let Some(replica) = self.replica.take() {
            let _ = replica.join();
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

impl<M: StateMachine> Drop for ReplicaServer<M> {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Logs role and ballot changes and a failure, as observed after the replica's steps.
fn watch<M: StateMachine>(id: usize, observer: &Observer<M>, stop: &AtomicBool) {
    let mut last: Option<ReplicaStatus> = None;
    while !stop.load(Ordering::SeqCst) {
        let now = observer.status(id);
        let changed = last.as_ref().is_none_or(|l| l.role != now.role);
        if changed {
            match now.role {
                RoleView::Leader(ballot) => tracing::info!(replica = id, ?ballot, "became leader"),
                RoleView::Candidate(ballot) => {
                    tracing::info!(replica = id, ?ballot, "campaigning (Phase 1)")
                }
                RoleView::Follower => {
                    tracing::info!(replica = id, promised = ?now.promised, "following")
                }
            }
        } else if last.as_ref().is_some_and(|l| l.promised != now.promised) {
            tracing::debug!(replica = id, promised = ?now.promised, "promised a higher ballot");
        }
        if now.failure.is_some() && last.as_ref().is_none_or(|l| l.failure.is_none()) {
            tracing::error!(replica = id, failure = ?now.failure, "replica failed");
        }
        last = Some(now);
        std::thread::sleep(WATCH_EVERY);
    }
}

impl<M: StateMachine> Client<M> {
    /// A client in its own process, talking to the replicas at `client_addrs` (their client
    /// addresses, by replica index) over TCP.
    ///
    /// `id` must be unique among every client the cluster's stored state will ever know of
    /// (sessions are keyed by it: two clients with one id would see each other's replies as
    /// duplicates): one from [`Client::connect`]'s source, [`crate::admin::new_client_id`], or
    /// chosen by the caller from a range no replica hands out (below
    /// [`crate::client_ids::CLIENT_ID_MIN`], at least `client_addrs.len()`).
    pub fn over_tcp(
        id: ClientId,
        client_addrs: &[SocketAddr],
        timeout: Duration,
        seed: u64,
    ) -> io::Result<Client<M>> {
        let n = client_addrs.len();
        let actor = id.0 as usize;
        if actor < n {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("client id {actor} is a replica's (ids below {n} are replicas')"),
            ));
        }
        let (tx, inbox) = crossbeam_channel::bounded(INBOX_MAX);
        let transport = TcpTransport::start(actor, client_addrs, Vec::new(), tx)?;
        Ok(Client::new(ClientParts {
            id: actor,
            node: ClusterConfig::new(n).node(actor),
            net: Arc::new(transport),
            inbox,
            recorder: None,
            stopped: Arc::new(AtomicBool::new(false)),
            timeout,
            timer_seed: seed,
        }))
    }
}

impl<M: StateMachine> Client<M> {
    /// A new client session of the cluster at `client_addrs`: it asks the replicas, in turn
    /// from a random one, for a fresh client id ([`crate::client_ids`]), then connects
    /// ([`Client::over_tcp`]). `Err`: no replica handed out an id within `timeout` each; the
    /// error names every replica asked and why it gave none.
    pub fn connect(
        client_addrs: &[SocketAddr],
        timeout: Duration,
        seed: u64,
    ) -> io::Result<Client<M>> {
        let n = client_addrs.len();
        let mut why = Vec::with_capacity(n);
        let mut kind = io::ErrorKind::InvalidInput;
        for k in 0..n {
            let addr = client_addrs[(seed as usize + k) % n];
            match new_client_id(addr, timeout) {
                Ok(id) => return Client::over_tcp(id, client_addrs, timeout, seed),
                Err(e) => {
                    kind = e.kind();
                    why.push(format!("{addr}: {e}"));
                }
            }
        }
        if why.is_empty() {
            why.push("no replica address".into());
        }
        Err(io::Error::new(
            kind,
            format!("no replica handed out a client id ({})", why.join("; ")),
        ))
    }
}
