//! A storage that fails on purpose, for tests: it wraps another [`Storage`] and makes one
//! replica's next save fail as a disk can, when a test arms it ([`FaultyStorage::fail_next_save`]).
//!
//! A failed save leaves the replica not knowing what is durable: a write that failed part-way
//! left a torn record; after a failed `fsync` the record may or may not survive (and retrying
//! the `fsync` proves nothing, the kernel may have dropped the dirty pages and cleared the
//! error). So the replica must not go on as if it had saved: it stops with the error and never
//! sends the messages that depended on the save (`replica.rs`). A restart reads the storage
//! again, which is the only way to learn what survived.

use super::Storage;
use crate::config::REPLICAS_MAX;
use crate::error::StorageError;
use paxos_model::durable::Durable;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How an armed save fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageFault {
    /// The write fails part-way: a torn record reaches the file (where it is cut is drawn from
    /// the seed), nothing is synced.
    Write,
    /// The write goes through, the `fsync` fails: the new state may or may not be durable
    /// (here it is written whole and left unsynced).
    Fsync,
}

impl StorageFault {
    fn what(self) -> &'static str {
        match self {
            StorageFault::Write => "write",
            StorageFault::Fsync => "fsync",
        }
    }
}

/// A [`Storage`] whose saves fail when a test says so; otherwise the storage it wraps.
pub struct FaultyStorage {
    inner: Arc<dyn Storage>,
    armed: Vec<Mutex<Option<StorageFault>>>,
    cuts: Mutex<ChaCha8Rng>,
    injected: AtomicU64,
}

impl std::fmt::Debug for FaultyStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyStorage")
            .field("inner", &self.inner.name())
            .field("injected", &self.injected())
            .finish_non_exhaustive()
    }
}

impl FaultyStorage {
    /// Wraps `inner`; `seed` draws where a failed write is cut.
    pub fn new(inner: Arc<dyn Storage>, seed: u64) -> FaultyStorage {
        FaultyStorage {
            inner,
            armed: (0..REPLICAS_MAX).map(|_| Mutex::new(None)).collect(),
            cuts: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            injected: AtomicU64::new(0),
        }
    }

    /// Makes `replica`'s next save fail with `fault` (once).
    ///
    /// # Panics
    /// If `replica` is beyond [`REPLICAS_MAX`].
    pub fn fail_next_save(&self, replica: usize, fault: StorageFault) {
        *self.slot(replica) = Some(fault);
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    fn slot(&self, replica: usize) -> std::sync::MutexGuard<'_, Option<StorageFault>> {
        self.armed
            .get(replica)
            .unwrap_or_else(|| panic!("replica {replica} beyond the limit of {REPLICAS_MAX}"))
            .lock()
            .expect("faulty storage lock")
    }
}

impl Storage for FaultyStorage {
    fn load(&self, replica: usize) -> Result<Option<Durable>, StorageError> {
        self.inner.load(replica)
    }

    fn save(&self, replica: usize, durable: Durable) -> Result<(), StorageError> {
        let Some(fault) = self.slot(replica).take() else {
            return self.inner.save(replica, durable);
        };
        match fault {
            StorageFault::Write => {
                let cut = self.cuts.lock().expect("faulty storage lock").random();
                self.inner.save_torn(replica, durable, cut)?;
            }
            StorageFault::Fsync => self.inner.save(replica, durable)?,
        }
        self.injected.fetch_add(1, Ordering::SeqCst);
        Err(StorageError::Injected {
            replica,
            what: fault.what(),
        })
    }

    fn save_torn(&self, replica: usize, durable: Durable, cut: u64) -> Result<(), StorageError> {
        self.inner.save_torn(replica, durable, cut)
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn syncs(&self) -> u64 {
        self.inner.syncs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{DiskStorage, MemoryStorage};
    use paxos_model::types::{Ballot, ServerId};

    fn promised(round: u32) -> Durable {
        Durable {
            promised: Ballot::new(round, ServerId(0)),
            ..Durable::default()
        }
    }

    #[test]
    fn an_armed_save_fails_once_and_leaves_what_the_fault_says() {
        let dir = tempfile::tempdir().unwrap();
        for inner in [
            Arc::new(MemoryStorage::new()) as Arc<dyn Storage>,
            Arc::new(DiskStorage::open(dir.path()).unwrap()),
        ] {
            let storage = FaultyStorage::new(inner, 7);
            storage.save(1, promised(1)).unwrap();
            storage.fail_next_save(1, StorageFault::Write);
            let e = storage.save(1, promised(2)).unwrap_err();
            assert!(e.to_string().contains("injected write failure"), "{e}");
            assert_eq!(
                storage.load(1).unwrap(),
                Some(promised(1)),
                "torn: the old state"
            );
            storage.save(1, promised(3)).unwrap(); // Once only.
            storage.fail_next_save(1, StorageFault::Fsync);
            let e = storage.save(1, promised(4)).unwrap_err();
            assert!(e.to_string().contains("injected fsync failure"), "{e}");
            assert_eq!(
                storage.load(1).unwrap(),
                Some(promised(4)),
                "written, unsynced"
            );
            assert_eq!(storage.injected(), 2);
        }
    }
}
