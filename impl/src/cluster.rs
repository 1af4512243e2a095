//! A running cluster: replica threads, the network, storage, observation, and the faults a test
//! or the CLI injects (crash, restart, partition, heal).

use crate::client::{Client, ClientParts};
use crate::config::{ClusterConfig, StorageChoice, CLIENTS_MAX};
use crate::crash_point::{CrashPoint, CRASH_POINT_WAIT_MAX};
use crate::driver::{ClientDriver, DriverParts};
use crate::error::{ClusterError, ConfigError};
use crate::net::{Net, NetStats};
use crate::observe::{Agreement, Disagreement, Observer, ReplicaStatus, RoleView};
use crate::record::{EventKind, Input, Recorder};
use crate::replica::{Control, Exit, Replica};
use crate::storage::{DataDirError, DiskStorage, MemoryStorage, Storage};
use crossbeam_channel::Sender;
use paxos_model::config::ServerConfig;
use paxos_model::durable::Durable;
use paxos_model::server::Decision;
use paxos_model::types::{Ballot, Slot, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Salt that separates the network's random stream from the timers'.
const NET_SALT: u64 = 0x6e65_7477_6f72_6b21;
/// Salt that separates the crash points' draws from the timers'.
const CRASH_SALT: u64 = 0x6372_6173_6821_7074;

/// A replica's thread while it runs, and how often it was started.
#[derive(Default)]
struct ReplicaSlot {
    running: Option<(Sender<Control>, JoinHandle<Exit>)>,
    incarnation: u32,
}

/// A running Multi-Paxos cluster. Dropping it shuts it down (every thread stopped and joined).
pub struct Cluster {
    cfg: ClusterConfig,
    server_cfg: ServerConfig,
    storage: Arc<dyn Storage>,
    net: Arc<Net>,
    observer: Arc<Observer>,
    recorder: Option<Recorder>,
    stopped: Arc<AtomicBool>,
    next_client: AtomicUsize,
    first_client: usize,
    replicas: Mutex<Vec<ReplicaSlot>>,
    router: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("replicas", &self.cfg.replicas)
            .field("storage", &self.storage.name())
            .finish_non_exhaustive()
    }
}

/// The seed of an actor's timer durations in one incarnation.
fn timer_seed(seed: u64, actor: usize, incarnation: u32) -> u64 {
    seed ^ (actor as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ u64::from(incarnation).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
}

/// The first client number (`client id - replicas`) not used by any client the stored states
/// know of. Client ids must be fresh for the lifetime of the stored state: a new client's
/// request numbers start at 0 again, and the replicas' sessions would take them for old
/// duplicates of a reused id's requests and never run them.
fn first_fresh_client(stored: &[Option<Durable>], replicas: usize) -> usize {
    let known = stored.iter().flatten().flat_map(|durable| {
        let sessions = durable.snapshot.sessions.keys().map(|c| c.0 as usize);
        let accepted = durable.accepted.values().flat_map(|e| {
            e.command
                .client_commands()
                .iter()
                .map(|c| c.client.0 as usize)
        });
        sessions.chain(accepted)
    });
    known
        .max()
        .map_or(0, |max| (max + 1).saturating_sub(replicas))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".into()
    }
}

impl Cluster {
    /// Checks the configuration, opens storage, reads every replica's stored state (any damaged
    /// one is an error: nothing starts), and starts every replica.
    pub fn start(cfg: ClusterConfig) -> Result<Cluster, ClusterError> {
        cfg.validate()?;
        let storage: Arc<dyn Storage> = match &cfg.storage {
            StorageChoice::Memory => Arc::new(MemoryStorage::new()),
            StorageChoice::Disk(dir) => Arc::new(DiskStorage::open(dir).map_err(|e| match e {
                DataDirError::Io { path, source } => ConfigError::DataDir { path, source },
                refused => ConfigError::DataDirRefused(refused),
            })?),
            StorageChoice::Shared(storage) => Arc::clone(storage),
        };
        let stored: Vec<Option<Durable>> = (0..cfg.replicas)
            .map(|replica| {
                storage
                    .load(replica)
                    .map_err(|source| ClusterError::Storage { replica, source })
            })
            .collect::<Result<_, _>>()?;
        let net = Arc::new(Net::new(
            cfg.faults.clone(),
            cfg.replicas,
            cfg.seed ^ NET_SALT,
            cfg.recorder.clone(),
        ));
        let router = Net::spawn_router(&net);
        let first_client = first_fresh_client(&stored, cfg.replicas);
        let cluster = Cluster {
            server_cfg: cfg.server_config(),
            storage,
            observer: Arc::new(Observer::new(cfg.replicas, true)),
            recorder: cfg.recorder.clone(),
            stopped: Arc::new(AtomicBool::new(false)),
            next_client: AtomicUsize::new(first_client),
            first_client,
            replicas: Mutex::new((0..cfg.replicas).map(|_| ReplicaSlot::default()).collect()),
            router: Mutex::new(router),
            net,
            cfg,
        };
        {
            let mut replicas = cluster.lock_replicas();
            for (replica, storage) in stored.into_iter().enumerate() {
                cluster.spawn(&mut replicas[replica], replica, Input::Start { storage });
            }
        }
        Ok(cluster)
    }

    fn lock_replicas(&self) -> std::sync::MutexGuard<'_, Vec<ReplicaSlot>> {
        self.replicas.lock().expect("replicas lock")
    }

    /// Starts a replica's thread (its first step is `on_start` with `start`'s storage).
    fn spawn(&self, slot: &mut ReplicaSlot, replica: usize, start: Input) {
        slot.incarnation += 1;
        let (control_tx, control) = crossbeam_channel::unbounded();
        let worker = Replica {
            id: replica,
            cfg: self.server_cfg.clone(),
            storage: Arc::clone(&self.storage),
            net: Arc::clone(&self.net) as Arc<dyn crate::transport::Transport>,
            observer: self.cfg.observe.then(|| Arc::clone(&self.observer)),
            recorder: self.recorder.clone(),
            inbox: self.net.connect(replica),
            control,
            timer_seed: timer_seed(self.cfg.seed, replica, slot.incarnation),
            crash_seed: timer_seed(self.cfg.seed ^ CRASH_SALT, replica, slot.incarnation),
            #[cfg(feature = "bugs")]
            runtime_bug: self.cfg.runtime_bug,
        };
        self.observer.set_up(replica, true);
        let net = Arc::clone(&self.net);
        let observer = Arc::clone(&self.observer);
        let recorder = self.recorder.clone();
        let handle = std::thread::Builder::new()
            .name(format!("replica-{replica}"))
            .spawn(move || {
                let exit = std::panic::catch_unwind(AssertUnwindSafe(|| worker.run(start)))
                    .unwrap_or_else(|payload| {
                        Exit::Failed(format!("panicked: {}", panic_message(&*payload)))
                    });
                if let Exit::Failed(error) = &exit {
                    // It stays down (never goes on after a failed save) until restarted.
                    tracing::error!(replica, %error, "replica stopped");
                    net.disconnect(replica);
                    observer.set_failure(replica, error.clone());
                    if let Some(recorder) = recorder.filter(Recorder::wants_steps) {
                        recorder.record(EventKind::Failed {
                            actor: replica,
                            error: error.clone(),
                        });
                    }
                }
                exit
            })
            .expect("spawn a replica thread");
        slot.running = Some((control_tx, handle));
    }

    fn check_replica(&self, replica: usize) -> Result<(), ClusterError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(ClusterError::Shutdown);
        }
        if replica >= self.cfg.replicas {
            return Err(ClusterError::NoSuchReplica {
                replica,
                replicas: self.cfg.replicas,
            });
        }
        Ok(())
    }

    /// Joins a replica's thread after telling it `order`.
    fn stop(&self, replica: usize, slot: &mut ReplicaSlot, order: Control) -> Option<Exit> {
        let (control, handle) = slot.running.take()?;
        // Messages to it are dropped from now on, and its wait for input ends: it looks at its
        // orders (`replica.rs`, "Orders").
        self.net.disconnect(replica);
        let _ = control.send(order); // It may have stopped on its own already.
        let exit = handle.join().unwrap_or_else(|payload| {
            Exit::Failed(format!("panicked: {}", panic_message(&*payload)))
        });
        self.net.disconnect(replica);
        self.observer.set_up(replica, false);
        Some(exit)
    }

    /// Crashes a replica: its thread stops at once, losing its volatile state, timers and every
    /// message in its inbox; messages to it are dropped until it restarts. Its storage stays.
    pub fn crash(&self, replica: usize) -> Result<(), ClusterError> {
        self.check_replica(replica)?;
        let mut replicas = self.lock_replicas();
        match self.stop(replica, &mut replicas[replica], Control::Crash) {
            None => Err(ClusterError::WrongState {
                replica,
                state: "down",
            }),
            Some(Exit::Crashed(_) | Exit::Shutdown) => Ok(()),
            Some(Exit::Failed(message)) => Err(ClusterError::ReplicaFailed { replica, message }),
        }
    }

    /// Crashes a replica *inside* the I/O of its next batch that has `point`
    /// ([`crate::crash_point`]: a save and a send for `AfterSave`, two sends for `BetweenSends`,
    /// a save for `MidSave`; which send is the first lost and where the save is torn are drawn
    /// from the cluster's seed). If no batch has it within `wait` (at most
    /// [`CRASH_POINT_WAIT_MAX`]), crashes it between two batches instead, as [`Cluster::crash`].
    /// Returns where it crashed: `Some(point)`, or `None` between two batches.
    pub fn crash_at(
        &self,
        replica: usize,
        point: CrashPoint,
        wait: Duration,
    ) -> Result<Option<CrashPoint>, ClusterError> {
        self.check_replica(replica)?;
        let mut replicas = self.lock_replicas();
        let slot = &mut replicas[replica];
        let Some((control, handle)) = &slot.running else {
            return Err(ClusterError::WrongState {
                replica,
                state: "down",
            });
        };
        let _ = control.send(Control::CrashAt(point)); // It may have stopped on its own already.
        let deadline = Instant::now() + wait.min(CRASH_POINT_WAIT_MAX);
        while !handle.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        match self.stop(replica, slot, Control::Crash) {
            Some(Exit::Crashed(at)) => Ok(at),
            Some(Exit::Shutdown) | None => Err(ClusterError::Shutdown),
            Some(Exit::Failed(message)) => Err(ClusterError::ReplicaFailed { replica, message }),
        }
    }

    /// Restarts a crashed replica from its storage (`on_start` with the stored state). A damaged
    /// stored state is an error and the replica stays down: it never restarts empty.
    pub fn restart(&self, replica: usize) -> Result<(), ClusterError> {
        self.check_replica(replica)?;
        let mut replicas = self.lock_replicas();
        let slot = &mut replicas[replica];
        let finished = slot
            .running
            .as_ref()
            .is_some_and(|(_, handle)| handle.is_finished());
        if finished {
            self.stop(replica, slot, Control::Shutdown); // Stopped on its own: reap it.
        }
        if slot.running.is_some() {
            return Err(ClusterError::WrongState {
                replica,
                state: "running",
            });
        }
        let storage = match self.storage.load(replica) {
            Ok(storage) => storage,
            Err(source) => {
                self.observer.set_failure(replica, source.to_string());
                return Err(ClusterError::Storage { replica, source });
            }
        };
        self.spawn(slot, replica, Input::Recover { storage });
        Ok(())
    }

    /// Splits the replicas: each listed group is one side, the replicas not listed form one more.
    /// Replicas on different sides stop hearing each other; clients still reach every replica.
    pub fn partition(&self, groups: &[Vec<usize>]) -> Result<(), ClusterError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(ClusterError::Shutdown);
        }
        let mut of = vec![0u32; self.cfg.replicas];
        let mut seen = BTreeSet::new();
        for (side, group) in groups.iter().enumerate() {
            for &replica in group {
                if replica >= self.cfg.replicas || !seen.insert(replica) {
                    return Err(ClusterError::Partition(format!(
                        "replica {replica} is out of range or listed twice in {groups:?}"
                    )));
                }
                of[replica] = side as u32 + 1;
            }
        }
        self.net.set_groups(Some(of));
        Ok(())
    }

    /// Cuts `replicas` off from the others (one side of a partition).
    pub fn isolate(&self, replicas: &[usize]) -> Result<(), ClusterError> {
        self.partition(&[replicas.to_vec()])
    }

    /// Ends any partition.
    pub fn heal(&self) {
        self.net.set_groups(None);
    }

    /// Each replica's partition side, if a partition is in force.
    pub fn partition_groups(&self) -> Option<Vec<u32>> {
        self.net.groups()
    }

    /// `sessions` new clients served by one thread, the caller's: a [`ClientDriver`] (each
    /// session is a client as [`Cluster::client`] makes one, with its own id).
    pub fn client_driver(&self, sessions: usize) -> Result<ClientDriver, ClusterError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(ClusterError::Shutdown);
        }
        let k = self.next_client.fetch_add(sessions, Ordering::SeqCst);
        if k + sessions - self.first_client > CLIENTS_MAX {
            return Err(ClusterError::TooManyClients { max: CLIENTS_MAX });
        }
        let first_id = self.cfg.replicas + k;
        let nodes = (first_id..first_id + sessions)
            .map(|id| (self.cfg.node(id), timer_seed(self.cfg.seed, id, 1)))
            .collect();
        Ok(ClientDriver::new(DriverParts {
            first_id,
            nodes,
            net: Arc::clone(&self.net),
            recorder: self.recorder.clone(),
            stopped: Arc::clone(&self.stopped),
        }))
    }

    /// A new client (actor ids `replicas..`), which first asks replica `id % replicas`.
    pub fn client(&self) -> Result<Client, ClusterError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(ClusterError::Shutdown);
        }
        let k = self.next_client.fetch_add(1, Ordering::SeqCst);
        if k - self.first_client >= CLIENTS_MAX {
            return Err(ClusterError::TooManyClients { max: CLIENTS_MAX });
        }
        let id = self.cfg.replicas + k;
        Ok(Client::new(ClientParts {
            id,
            node: self.cfg.node(id),
            net: Arc::clone(&self.net) as Arc<dyn crate::transport::Transport>,
            inbox: self.net.connect(id),
            recorder: self.recorder.clone(),
            stopped: Arc::clone(&self.stopped),
            timeout: self.cfg.client_timeout,
            timer_seed: timer_seed(self.cfg.seed, id, 1),
        }))
    }

    /// The configuration the cluster runs with.
    pub fn config(&self) -> &ClusterConfig {
        &self.cfg
    }

    /// Number of replicas.
    pub fn replicas(&self) -> usize {
        self.cfg.replicas
    }

    /// The storage backend's name (`disk`, `memory`).
    pub fn storage_name(&self) -> &'static str {
        self.storage.name()
    }

    /// fsync calls the storage made so far (0 in memory).
    pub fn storage_syncs(&self) -> u64 {
        self.storage.syncs()
    }

    /// A replica as last observed.
    pub fn status(&self, replica: usize) -> ReplicaStatus {
        self.observer.status(replica)
    }

    /// A replica's register as last observed (after its latest step that applied a slot).
    pub fn register(&self, replica: usize) -> Value {
        self.observer
            .machine(replica)
            .map_or(Value(0), |register| register.value)
    }

    /// Every replica as last observed.
    pub fn statuses(&self) -> Vec<ReplicaStatus> {
        (0..self.cfg.replicas).map(|r| self.status(r)).collect()
    }

    /// The running replica that leads the highest ballot, as last observed (observation only:
    /// a deposed leader may not know it yet).
    pub fn leader(&self) -> Option<usize> {
        self.statuses()
            .iter()
            .enumerate()
            .filter(|(_, s)| s.up)
            .filter_map(|(r, s)| match s.role {
                RoleView::Leader(ballot) => Some((ballot, r)),
                _ => None,
            })
            .max()
            .map(|(_, r)| r)
    }

    /// Waits at most `timeout` for [`Cluster::leader`] to name a replica.
    pub fn wait_for_leader(&self, timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(leader) = self.leader() {
                return Some(leader);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Every decision `replica` was observed to learn, over all its incarnations.
    pub fn decided(&self, replica: usize) -> BTreeMap<Slot, Decision> {
        self.observer.decided(replica)
    }

    /// Every ballot some replica was observed leading.
    pub fn leader_ballots(&self) -> BTreeSet<Ballot> {
        self.observer.leader_ballots()
    }

    /// Agreement over every decision observed: no slot with two different commands.
    pub fn check_agreement(&self) -> Result<Agreement, Disagreement> {
        self.observer.check_agreement()
    }

    /// Message counts so far.
    pub fn net_stats(&self) -> NetStats {
        self.net.stats()
    }

    /// The recorder, if the cluster records.
    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }

    /// Stops and joins every thread (idempotent; also done on drop). Clients still waiting get
    /// [`crate::ClientError::Shutdown`]. Reports the first replica that had failed on its own.
    pub fn shutdown(&self) -> Result<(), ClusterError> {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let mut first_failure = None;
        {
            let mut replicas = self.lock_replicas();
            for (replica, slot) in replicas.iter_mut().enumerate() {
                if let Some(Exit::Failed(message)) = self.stop(replica, slot, Control::Shutdown) {
                    first_failure.get_or_insert(ClusterError::ReplicaFailed { replica, message });
                }
            }
        }
        self.net.stop_router();
        if let Some(router) = self.router.lock().expect("router lock").take() {
            router.join().expect("the router thread does not panic");
        }
        if let Some(recorder) = &self.recorder {
            if let Err(e) = recorder.flush() {
                first_failure.get_or_insert(ClusterError::Recording(e));
            }
        }
        first_failure.map_or(Ok(()), Err)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
