//! Where a replica's [`Durable`] state lives: one small trait, two backends.
//!
//! A replica calls [`Storage::save`] for a step's `Save` command and hands the step's messages
//! to the network only once it returns: when `save` returns, the state must survive a crash of
//! the replica ([`DiskStorage`]: a crash of the process too). [`Storage::load`] is what
//! `on_start` recovers from; a damaged record is an error, never an empty start (an acceptor
//! that forgets its promise or its votes breaks agreement).

pub mod data_dir;
mod disk;
mod memory;

pub use data_dir::{DataDir, DataDirError, Identity};
pub use disk::DiskStorage;
pub use memory::MemoryStorage;

use crate::error::StorageError;
use paxos_model::durable::Durable;

/// Durable state of every replica of one cluster, by replica index.
pub trait Storage: Send + Sync {
    /// The replica's last saved state; `None` if it never saved.
    fn load(&self, replica: usize) -> Result<Option<Durable>, StorageError>;
    /// Replaces the replica's saved state (moved in: a backend may keep it). Durable when it
    /// returns.
    fn save(&self, replica: usize, durable: Durable) -> Result<(), StorageError>;
    /// A short name for reports (`disk`, `memory`).
    fn name(&self) -> &'static str;
    /// fsync calls (`fsync`, `fdatasync`) made so far, for reports (0 for memory).
    fn syncs(&self) -> u64 {
        0
    }
}
