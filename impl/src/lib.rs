//! # A threaded runtime for the Multi-Paxos model
//!
//! The protocol lives in one place: the step functions of [`paxos_model`], behind
//! [`Node::start`](paxos_model::node::Node::start) and
//! [`Node::step`](paxos_model::node::Node::step). The model checker explores them (through its
//! own adapter, which this crate does not use: it depends on `paxos-model` without default
//! features, so without stateright); this crate *runs* them, unchanged, on OS threads, a real
//! clock, crossbeam channels and a disk. It is an interpreter of the steps'
//! [`Output`](paxos_model::output::Output)s, and it never decides anything about the protocol:
//! there is no ballot comparison, no quorum count and no "am I the leader" test in this crate
//! that feeds back into what a replica does. (The runtime *observes* roles and decisions, for
//! tests, reports and for choosing whom the fault schedule crashes.)
//!
//! ## Interpreting an `Output`
//! One thread per replica waits for the first of: a message in its inbox or its earliest timer
//! deadline; it looks at the cluster's orders (crash, shutdown) before every batch, and the
//! cluster disconnects its inbox before an order it waits on, which ends the wait. Each input
//! becomes one step of the core, through the one dispatch [`record::Input::step`] (shared with
//! the replay of recordings through [`record::Input::run`]): [`Node::start`](paxos_model::node::Node::start) with the stored durable state
//! when the replica starts or restarts, otherwise [`Node::step`](paxos_model::node::Node::step)
//! with an [`Input`](paxos_model::node::Input): `Deliver { from, msg }` for a message,
//! `Timeout(timer)` for a timer. The step returns an [`Output`](paxos_model::output::Output),
//! an ordered list of [`Effect`](paxos_model::output::Effect)s, which the runtime executes front
//! to back:
//!
//! - `Persist(durable)`: write the replica's durable state to [`Storage`] (always first);
//! - `SetTimer(timer, range)` / `CancelTimer(timer)`: set a deadline drawn from the range with
//!   the replica's seeded generator (restarting a set timer), or remove it;
//! - `Send(to, msg)`: hand the message to the network, towards a replica or a client;
//! - `Complete { request, result }`: a client's step took the reply to its request (last).
//!
//! Clients are nodes too. A [`Client`] handle runs the model's client step functions in the
//! caller's thread: [`Client::execute`] submits an operation (`Input::Submit(op)`), then feeds
//! the client's inbox (`Deliver`) and its retry timer (`Timeout`) to the client's steps until a
//! step's output has `Complete`. A retry re-sends the same request id, and the replicas'
//! sessions run a command at most once. A [`ClientDriver`] serves many such sessions from one
//! thread (one inbox for all of them), so a workload of hundreds of clients is not hundreds of
//! threads.
//!
//! ## Persist before send
//! The model puts a step's `Persist` before its `Send`s, and the runtime keeps that promise
//! physically: a replica hands a step's messages to the network only after the save returned,
//! and a save returns only once the state is durable ([`DiskStorage`] appends what changed to
//! the replica's log and `fdatasync`s it; each record carries a length and a CRC-32; a torn last
//! record is cut off, and any other damage stops the replica with [`StorageError::Corrupt`]
//! instead of letting it restart empty). To keep fsyncs affordable a replica *group-commits*:
//! it runs every input already waiting (up to [`replica::BATCH_MAX`]), saves once the last
//! durable state those steps produced, then sends all their messages. A crash that falls in the
//! middle of that save ([`crash_point`]) looks as if the unsaved steps never happened: their
//! outputs never left.
//!
//! ## Faults
//! The network ([`net`]) is blind to the protocol. From one seed ([`ClusterConfig::seed`]) it loses
//! messages, duplicates them, and delays each copy by a duration drawn from a range (so
//! messages reorder); a router thread holds delayed copies until they are due. A partition puts
//! replicas on sides that stop hearing each other until healed (clients reach everyone).
//! [`Cluster::crash`] stops a replica's thread at once: its volatile state, timers and inbox are
//! gone, messages to it are dropped; [`Cluster::crash_at`] does so inside the I/O of a batch,
//! after its save, between two sends or in the middle of the save ([`crash_point`]);
//! [`Cluster::restart`] starts it again from storage. [`FaultyStorage`] makes a save fail, and
//! the replica stops with the error instead of going on. Timer
//! durations come from per-replica generators derived from the same seed. Thread scheduling is
//! not deterministic, so a seed reproduces the fault *rates and draws*, not the exact run; the
//! recording reproduces a run exactly.
//!
//! ## Recording
//! An optional [`Recorder`] keeps one global order of everything that happens: each step of
//! each actor (its input, state digests or full states, its outputs), crashes, network drops and
//! duplications, partitions, client invocations and responses. Sequence numbers are taken under
//! one lock, a step is recorded before any of its messages reaches the network, and a delivery
//! is recorded when the receiving step runs, so the order is consistent with causality: it can
//! be replayed through the model's step functions (and, by the property tests, through the
//! checked model's transitions) and must reproduce every recorded state. The events are serde
//! types ([`record`]), written as JSON lines.
//!
//! ## Observation
//! After every step the runtime notes the replica's role, promise and applied slot, and every
//! decision it learned (its state's `learned` map, [`Cluster::decided`]), over all its
//! incarnations, so [`Cluster::check_agreement`] can check that no slot was ever decided two
//! ways.
//!
//! ## Across processes, and services other than the register
//! Everything above is generic over the replicated state machine (`M: StateMachine`, the
//! register by default), as the model's step functions are. [`ReplicaServer`] runs one replica
//! per process over TCP ([`tcp`], admin requests in [`admin`]); `paxos-impl serve` runs it
//! with the key-value map of [`kv`], and [`Client::connect`] is a client of such a cluster,
//! with a client id one of the replicas handed out ([`client_ids`]). The in-process
//! [`Cluster`], its recordings and the property tests use the register, which the model
//! checks.
//!
//! ## Features
//! `bugs` (off by default; only the property tests enable it) adds `ClusterConfig::bug`, which
//! switches on a known-bad protocol variant (`paxos-model`'s `bugs` feature), and
//! `ClusterConfig::runtime_bug`, which switches on a known-bad runtime (`RuntimeBug`: a replica
//! that sends before it saves). Without it the runtime can run neither.
//!
//! ## Example
//! ```
//! use paxos_impl::{Cluster, ClusterConfig};
//! use paxos_model::types::Value;
//!
//! let cluster = Cluster::start(ClusterConfig::new(3)).unwrap();
//! let mut client = cluster.client().unwrap();
//! client.write(Value(7)).unwrap();
//! assert_eq!(client.read().unwrap(), Value(7));
//! cluster.check_agreement().unwrap();
//! cluster.shutdown().unwrap();
//! ```
#![deny(missing_docs)]

pub mod admin;
mod client;
pub mod client_ids;
mod cluster;
mod config;
pub mod crash_point;
pub mod driver;
mod error;
mod host;
pub mod kv;
pub mod net;
mod observe;
pub mod record;
pub mod replica;
pub mod server;
mod shard_count;
pub mod storage;
pub mod tcp;
mod timers;
pub mod transport;
pub mod wait;

pub use client::Client;
pub use cluster::Cluster;
#[cfg(feature = "bugs")]
pub use config::RuntimeBug;
pub use config::{ClusterConfig, StorageChoice, CLIENTS_MAX, CLIENT_WINDOW_MAX, REPLICAS_MAX};
pub use crash_point::CrashPoint;
pub use driver::{ClientDriver, Completion};
pub use error::{ClientError, ClusterError, ConfigError, StorageError};
pub use net::{FaultConfig, NetStats};
pub use observe::{Agreement, Disagreement, ReplicaStatus, RoleView};
pub use record::{Event, EventKind, Recorder, RecorderConfig, StateDetail};
pub use server::{ReplicaServer, ServeConfig, ServeError};
pub use storage::{DiskStorage, FaultyStorage, MemoryStorage, Storage, StorageFault};
pub use tcp::TcpTransport;
pub use transport::Transport;
