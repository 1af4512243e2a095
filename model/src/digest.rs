//! Parts of a checked state hashed once, shared, and kept once.
//!
//! stateright fingerprints each state it generates by hashing *all* of it, and clones all of
//! it to make a successor, although a step changes one actor's state at most, and the ghost
//! record and an actor's storage only now and then. So those parts are [`Shared`]: a value
//! behind an `Arc` with its digest computed at the first hash. Cloning it is a reference
//! count, hashing it one write whatever its size, and a state and its successors share it
//! until a step changes it (`DerefMut` copies it then, if shared, and forgets the digest).
//!
//! An [`Interner`] keeps one copy of equal values that different steps made separately (the
//! same server state, or the same ghost record, reached by different interleavings), so that
//! the states of a breadth-first search's queue share them instead of holding a copy each.
//!
//! A digest is a 64-bit hash of the value with fixed seeds, like stateright's fingerprints:
//! equal values have equal digests (so `Hash` stays consistent with `Eq`), and the digests are
//! the same in every run. Two different values with equal digests would make two states hash
//! alike: as unlikely as a fingerprint collision, which stateright accepts for every state.
//! (Interning compares values, never digests alone.) `Debug` and `Serialize` show the value
//! alone, as if unwrapped.

use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// `value`'s digest: never 0 (0 marks a [`Shared`] digest not computed yet).
fn digest_of<T: Hash>(value: &T) -> u64 {
    // Any fixed seeds do; these are stateright's.
    let seeds =
        ahash::RandomState::with_seeds(123_456_789_987_654_321, 98_765_432_123_456_789, 0, 0);
    seeds.hash_one(value).max(1)
}

/// A shared, copy-on-write value whose digest is computed at the first hash.
pub struct Shared<T>(Arc<Cell<T>>);

struct Cell<T> {
    value: T,
    /// The value's digest, or 0 while not computed (two threads may both compute it: they
    /// store the same number).
    digest: AtomicU64,
    /// Whether an [`Interner`] holds this cell.
    interned: AtomicBool,
    /// [`Shared::memo`]'s verdict: 0 while not computed, 1 false, 2 true.
    memo: AtomicU8,
}

impl<T: Clone> Clone for Cell<T> {
    fn clone(&self) -> Self {
        Cell {
            value: self.value.clone(),
            digest: AtomicU64::new(self.digest.load(Ordering::Relaxed)),
            interned: AtomicBool::new(false),
            memo: AtomicU8::new(self.memo.load(Ordering::Relaxed)),
        }
    }
}

impl<T> Shared<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Shared(Arc::new(Cell {
            value,
            digest: AtomicU64::new(0),
            interned: AtomicBool::new(false),
            memo: AtomicU8::new(0),
        }))
    }

    /// `verdict(value)`, computed once for all the states that share this value (and again
    /// after a change). One verdict per value: every caller must pass the same predicate.
    pub fn memo(&self, verdict: impl FnOnce(&T) -> bool) -> bool {
        match self.0.memo.load(Ordering::Relaxed) {
            0 => {
                let v = verdict(&self.0.value);
                self.0.memo.store(if v { 2 } else { 1 }, Ordering::Relaxed);
                v
            }
            m => m == 2,
        }
    }
}

impl<T: Hash> Shared<T> {
    fn digest(&self) -> u64 {
        match self.0.digest.load(Ordering::Relaxed) {
            0 => {
                let digest = digest_of(&self.0.value);
                self.0.digest.store(digest, Ordering::Relaxed);
                digest
            }
            digest => digest,
        }
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T: Default> Default for Shared<T> {
    fn default() -> Self {
        Shared::new(T::default())
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T: Clone> DerefMut for Shared<T> {
    /// The value, copied first if another state shares it; its digest is forgotten.
    fn deref_mut(&mut self) -> &mut T {
        let cell = Arc::make_mut(&mut self.0);
        *cell.digest.get_mut() = 0;
        *cell.interned.get_mut() = false;
        *cell.memo.get_mut() = 0;
        &mut cell.value
    }
}

impl<T: Hash> Hash for Shared<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.digest());
    }
}

impl<T: PartialEq + Hash> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.digest() == other.digest() && self.0.value == other.0.value)
    }
}

impl<T: Eq + Hash> Eq for Shared<T> {}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.value.fmt(f)
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.value.serialize(serializer)
    }
}

/// Keeps one copy of equal [`Shared`] values, without keeping any alive: it holds a weak
/// reference per digest and forgets those whose value was dropped. Best effort: of two
/// different values with the same digest (as unlikely as a fingerprint collision), the second
/// is left unshared. Thread-safe (sharded locks); interning costs a lookup and, when an equal
/// value is found, a comparison.
pub struct Interner<T> {
    shards: Vec<Padded<Mutex<Shard<T>>>>,
}

/// One cache line (two, for the adjacent-line prefetcher) per lock: threads locking different
/// shards do not slow each other down.
#[repr(align(128))]
struct Padded<T>(T);

struct Shard<T> {
    cells: HashMap<u64, Weak<Cell<T>>, BuildHasherDefault<DigestHasher>>,
    /// Cells added since the last sweep of the dropped ones, and how many were left then.
    added: usize,
    kept: usize,
}

/// The digests are hashes already: the map uses them as they are.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, digest: u64) {
        self.0 = digest;
    }
}

/// Locks per interner: enough that checker threads rarely wait for each other.
const SHARDS: usize = 64;

/// The shard of a digest: from its middle bits (the map uses its low bits and its top ones).
fn shard_of(digest: u64) -> usize {
    (digest >> 32) as usize % SHARDS
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            shards: (0..SHARDS)
                .map(|_| {
                    Padded(Mutex::new(Shard {
                        cells: HashMap::default(),
                        added: 0,
                        kept: 0,
                    }))
                })
                .collect(),
        }
    }
}

impl<T> fmt::Debug for Interner<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Interner")
    }
}

impl<T: Hash + PartialEq> Interner<T> {
    /// Makes `shared` the interned copy of its value: an equal value's copy if one is alive,
    /// else `shared` itself, from now on. Does nothing if `shared` is interned already.
    pub fn intern(&self, shared: &mut Shared<T>) {
        if shared.0.interned.load(Ordering::Relaxed) {
            return;
        }
        let digest = shared.digest();
        let mut shard = self.shards[shard_of(digest)]
            .0
            .lock()
            .expect("an interner's lock is never poisoned: nothing panics under it");
        let known = shard.cells.get(&digest).map(Weak::upgrade);
        match known {
            Some(Some(cell)) => {
                drop(shard);
                if cell.value == shared.0.value {
                    // The copy made by this step is dropped here, outside the lock.
                    shared.0 = cell;
                }
                // Else: another value with the same digest holds the place; leave this one.
            }
            Some(None) | None => {
                shared.0.interned.store(true, Ordering::Relaxed);
                let replaced = shard.cells.insert(digest, Arc::downgrade(&shared.0));
                if replaced.is_none() {
                    shard.added += 1;
                }
                if shard.added > shard.kept.max(64) {
                    // Forget dropped values (amortized: the shard at least doubled since the
                    // last sweep). A weak reference keeps its value's allocation, not its
                    // contents.
                    shard.cells.retain(|_, cell| cell.strong_count() > 0);
                    shard.kept = shard.cells.len();
                    shard.added = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn hash_of<T: Hash>(value: &T) -> u64 {
        digest_of(value)
    }

    #[test]
    fn equal_values_hash_equal_and_a_change_forgets_the_digest() {
        let a = Shared::new(BTreeMap::from([(1, 2)]));
        let mut b = a.clone();
        assert_eq!(hash_of(&a), hash_of(&b));
        b.insert(3, 4);
        assert_ne!(
            hash_of(&a),
            hash_of(&b),
            "the copy was changed, not the original"
        );
        assert_eq!(a.len(), 1);
        b.remove(&3);
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
    }

    #[test]
    fn interning_shares_equal_values_and_keeps_none_alive() {
        let interner = Interner::default();
        let mut a = Shared::new(vec![1, 2]);
        let mut b = Shared::new(vec![1, 2]);
        let mut c = Shared::new(vec![3]);
        interner.intern(&mut a);
        interner.intern(&mut b);
        interner.intern(&mut c);
        assert!(Arc::ptr_eq(&a.0, &b.0), "equal values share one copy");
        assert!(!Arc::ptr_eq(&a.0, &c.0));
        b.push(3);
        assert_eq!(*a, vec![1, 2], "changing a shared copy copies it first");
        interner.intern(&mut b);
        assert!(!Arc::ptr_eq(&a.0, &b.0));
        let weak = Arc::downgrade(&a.0);
        drop(a);
        assert!(weak.upgrade().is_none(), "the interner keeps nothing alive");
        let mut d = Shared::new(vec![1, 2]);
        interner.intern(&mut d);
        assert_eq!(*d, vec![1, 2]);
    }

    #[test]
    fn debug_shows_the_value_alone() {
        let v = vec![(1, "a")];
        assert_eq!(format!("{:#?}", Shared::new(v.clone())), format!("{v:#?}"));
        assert_eq!(format!("{:?}", Shared::new(v.clone())), format!("{v:?}"));
    }
}
