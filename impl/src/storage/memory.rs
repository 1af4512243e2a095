//! In-memory storage: survives a simulated crash of a replica (its thread), not of the process.

use super::Storage;
use crate::error::StorageError;
use paxos_model::durable::Durable;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Saved states in a map owned by the cluster, outside the replica threads.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    saved: Mutex<BTreeMap<usize, Durable>>,
}

impl MemoryStorage {
    /// Empty storage: every replica starts fresh.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Storage for MemoryStorage {
    fn load(&self, replica: usize) -> Result<Option<Durable>, StorageError> {
        Ok(self
            .saved
            .lock()
            .expect("storage lock")
            .get(&replica)
            .cloned())
    }

    fn save(&self, replica: usize, durable: &Durable) -> Result<(), StorageError> {
        self.saved
            .lock()
            .expect("storage lock")
            .insert(replica, durable.clone());
        Ok(())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
