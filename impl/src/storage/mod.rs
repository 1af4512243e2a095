//! Where a replica's [`Durable`] state lives: one small trait, two backends.
//!
//! A replica calls [`Storage::save`] for a step's `Save` command and hands the step's messages
//! to the network only once it returns: when `save` returns, the state must survive a crash of
//! the replica ([`DiskStorage`]: a crash of the process too). [`Storage::load`] is what
//! `on_start` recovers from; a damaged record is an error, never an empty start (an acceptor
//! that forgets its promise or its votes breaks agreement).

pub mod data_dir;
mod disk;
mod faulty;
mod memory;

pub use data_dir::{DataDir, DataDirError, Identity};
pub use disk::DiskStorage;
pub use faulty::{FaultyStorage, StorageFault};
pub use memory::MemoryStorage;

use crate::error::StorageError;
use paxos_model::durable::Durable;
use paxos_model::state_machine::{Register, StateMachine};

/// Durable state of every replica of one cluster, by replica index.
pub trait Storage<M: StateMachine = Register>: Send + Sync {
    /// The replica's last saved state; `None` if it never saved.
    fn load(&self, replica: usize) -> Result<Option<Durable<M>>, StorageError>;
    /// Replaces the replica's saved state (moved in: a backend may keep it). Durable when it
    /// returns.
    fn save(&self, replica: usize, durable: Durable<M>) -> Result<(), StorageError>;
    /// A save cut short by a crash, for the crash point `MidSave` (`crate::crash_point`):
    /// leaves what a crash in the middle of [`Storage::save`] can leave, never the new state
    /// whole, so that the next [`Storage::load`] must find the state of the previous save.
    /// `cut` (any number: a seeded draw) picks where the write stops and how. A backend whose
    /// save is atomic leaves the previous state untouched.
    fn save_torn(&self, replica: usize, durable: Durable<M>, cut: u64) -> Result<(), StorageError>;
    /// A short name for reports (`disk`, `memory`).
    fn name(&self) -> &'static str;
    /// fsync calls (`fsync`, `fdatasync`) made so far, for reports (0 for memory).
    fn syncs(&self) -> u64 {
        0
    }
}
