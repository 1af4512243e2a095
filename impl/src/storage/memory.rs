//! In-memory storage: survives a simulated crash of a replica (its thread), not of the process.
//!
//! Each replica has its own slot, so replicas never wait for one another, and a save moves the
//! state in (the step's persisted state, which the replica no longer needs): no copy.

use super::Storage;
use crate::config::REPLICAS_MAX;
use crate::error::StorageError;
use paxos_model::durable::Durable;
use std::sync::Mutex;

/// Saved states, one slot per replica, owned by the cluster outside the replica threads.
#[derive(Debug)]
pub struct MemoryStorage {
    saved: Vec<Mutex<Option<Durable>>>,
}

impl Default for MemoryStorage {
    fn default() -> Self {
        MemoryStorage {
            saved: (0..REPLICAS_MAX).map(|_| Mutex::new(None)).collect(),
        }
    }
}

impl MemoryStorage {
    /// Empty storage: every replica starts fresh.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self, replica: usize) -> std::sync::MutexGuard<'_, Option<Durable>> {
        self.saved
            .get(replica)
            .unwrap_or_else(|| panic!("replica {replica} beyond the limit of {REPLICAS_MAX}"))
            .lock()
            .expect("storage lock")
    }
}

impl Storage for MemoryStorage {
    fn load(&self, replica: usize) -> Result<Option<Durable>, StorageError> {
        Ok(self.slot(replica).clone())
    }

    fn save(&self, replica: usize, durable: Durable) -> Result<(), StorageError> {
        let old = self.slot(replica).replace(durable);
        drop(old); // Freed outside the lock.
        Ok(())
    }

    /// A save replaces the slot at once: cut short, it never happened.
    fn save_torn(&self, _replica: usize, durable: Durable, _cut: u64) -> Result<(), StorageError> {
        drop(durable);
        Ok(())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
