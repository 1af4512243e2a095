//! # Multi-Paxos, model-checked
//!
//! A Multi-Paxos whose step functions are checked exhaustively by stateright and then run for
//! real by the threaded runtime (`paxos-impl`), unchanged.
//!
//! `n` servers are proposers, acceptors and learners at once; clients submit commands of a
//! replicated state machine (any [`state_machine::StateMachine`]; the model checker checks the
//! protocol with the [`state_machine::Register`], the runtime also serves a key-value map, and
//! `tests/state_machine.rs` runs one written in the test). A server whose election timer fires runs Phase 1 for a higher ballot over every slot
//! it has not applied yet; with a majority of promises it re-proposes, slot by slot, the
//! highest-ballot value it learned (a no-op where there is none), then serves new commands with
//! Phase 2 alone (Prepare-skip). Decided slots are applied in order to the state machine; client
//! sessions make each command run at most once. An acceptor persists its promise and accepted
//! entries before any reply that depends on them.
//!
//! The protocol is written down in `specs/multipaxos.md`; each handler cites its section.
//!
//! - [`types`], [`msg`], [`durable`], [`state_machine`]: the vocabulary; [`vec_map`]: the small
//!   ordered map the states keep it in.
//! - [`server`]: the server's step functions; [`client`]: the client's; [`node`]: either, and
//!   the one dispatch from an input to its handler; [`output`]: what a step asks its driver to
//!   do, in the order it must be done; [`rules`]: every path through a handler, named.
//! - [`config`]: step-function configuration (real clusters; bounds only for checking).
//! - [`bug`]: known-bad variants; they can be switched on only with the `bugs` feature.
//! - [`actor`] (feature `checker`): the one adapter to stateright.
//! - [`checking`] (feature `checker`): the checked model, its properties and the runner;
//!   [`coverage`]: how often the checker took each rule; [`digest`]: parts of a checked state
//!   hashed once, shared, and kept once.
//!
//! The protocol modules use nothing of stateright: a runtime depends on this crate with
//! `default-features = false` and gets the step functions alone.
#![deny(missing_docs)]

#[cfg(feature = "checker")]
pub mod actor;
pub mod bug;
#[cfg(feature = "checker")]
pub mod checking;
pub mod client;
pub mod config;
#[cfg(feature = "checker")]
pub mod coverage;
#[cfg(feature = "checker")]
pub mod digest;
pub mod durable;
pub mod msg;
pub mod node;
pub mod output;
pub mod rules;
pub mod server;
pub mod state_machine;
pub mod types;
pub mod vec_map;
