//! # A threaded runtime for the Multi-Paxos model
//!
//! The protocol lives in one place: the step functions of [`paxos_model`], written as a
//! stateright [`Actor`](stateright::actor::Actor). The model checker explores them; this crate
//! *runs* them, unchanged, on OS threads, a real clock, crossbeam channels and a disk. It is an
//! interpreter of the actor's outputs, like stateright's own `actor::spawn` (which does the same
//! over UDP), and it never decides anything about the protocol: there is no ballot comparison,
//! no quorum count and no "am I the leader" test in this crate that feeds back into what a
//! replica does. (The runtime *observes* roles and decisions, for tests, reports and for
//! choosing whom the fault schedule crashes.)
//!
//! ## Interpreting `Out`
//! One thread per replica waits for the first of: a message in its inbox, its earliest timer
//! deadline, or an order from the cluster (crash, shutdown). Each input becomes one call of a
//! handler: `on_msg` for a message, `on_timeout` for a timer, `on_start` with the stored durable
//! state when the replica starts or restarts. The handler returns stateright `Command`s, which
//! the runtime executes in the order the model emits them:
//!
//! - `Save(durable)`: write the replica's durable state to [`Storage`];
//! - `SetTimer(timer, range)` / `CancelTimer(timer)`: set a deadline drawn from the range with
//!   the replica's seeded generator (restarting a set timer), or remove it;
//! - `Send(to, msg)`: hand the message to the network, towards a replica or a client;
//! - `ChooseRandom`: not used by a cluster's actors (clients submit explicitly, below).
//!
//! Clients are actors too. A [`Client`] handle runs the model's client step functions in the
//! caller's thread: [`Client::execute`] submits an operation through `on_random` (the model's
//! submit step), then feeds the client's inbox to `on_msg` and its retry timer to `on_timeout`
//! until a step takes the reply (`paxos_model::client::takes_reply`). A retry re-sends the same
//! request id, and the replicas' sessions run a command at most once.
//!
//! ## Persist before send
//! The model emits a step's `Save` before its `Send`s, and the runtime keeps that promise
//! physically: a replica hands a step's messages to the network only after the save returned,
//! and a save returns only once the state is durable ([`DiskStorage`] writes a temporary file,
//! fsyncs it, renames it over the old one and fsyncs the directory; the file carries a length
//! and a CRC-32, and a damaged file stops the replica with [`StorageError::Corrupt`] instead of
//! letting it restart empty). To keep fsyncs affordable a replica *group-commits*: it runs every
//! input already waiting (up to [`replica::BATCH_MAX`]), saves once the last durable state those
//! steps produced, then sends all their messages. A crash falls between batches, so it looks
//! as if the unsaved steps never happened: their outputs never left.
//!
//! ## Faults
//! The network ([`net`]) is blind to the protocol. From one seed ([`ClusterConfig::seed`]) it loses
//! messages, duplicates them, and delays each copy by a duration drawn from a range (so
//! messages reorder); a router thread holds delayed copies until they are due. A partition puts
//! replicas on sides that stop hearing each other until healed (clients reach everyone).
//! [`Cluster::crash`] stops a replica's thread at once: its volatile state, timers and inbox are
//! gone, messages to it are dropped; [`Cluster::restart`] starts it again from storage. Timer
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
//! be replayed through the model's step functions (and stateright's `Model::next_state`) and
//! must reproduce every recorded state. The events are serde types ([`record`]), written as JSON
//! lines.
//!
//! ## Observation
//! After every step the runtime notes the replica's role, promise and applied slot, and every
//! decision in its state's log ([`Cluster::decided`]), over all its incarnations, so
//! [`Cluster::check_agreement`] can check that no slot was ever decided two ways.
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

mod client;
mod cluster;
mod config;
mod error;
mod host;
pub mod net;
mod observe;
pub mod record;
pub mod replica;
pub mod storage;
mod timers;

pub use client::Client;
pub use cluster::Cluster;
pub use config::{ClusterConfig, StorageChoice, CLIENTS_MAX, REPLICAS_MAX};
pub use error::{ClientError, ClusterError, ConfigError, StorageError};
pub use net::{FaultConfig, NetStats};
pub use observe::{Agreement, Disagreement, ReplicaStatus, RoleView};
pub use record::{Event, EventKind, Recorder, RecorderConfig, StateDetail};
pub use storage::{DiskStorage, MemoryStorage, Storage};
