//! [`VecMap`]: an ordered map kept as a sorted vector, for the small maps of a server's state.
//!
//! A server's maps (accepted entries, decisions, proposals, client sessions) hold a handful of
//! entries, and the model checker copies and hashes a server's state at every step that
//! changes it, and keeps thousands of copies. A `BTreeMap` allocates a node for eleven entries
//! even when it holds one, and copying it walks the tree; a sorted vector is one exact-size
//! allocation copied at once. Lookups are binary searches; inserting or removing shifts the
//! entries after it, which costs nothing at these sizes.
//!
//! It behaves like the `BTreeMap` it replaces wherever the protocol can see: iteration in key
//! order, `Debug` as a map (`{k: v, ...}`), serialized as a map, and hashed and compared
//! entry by entry in key order, exactly as a `BTreeMap` is.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Bound, RangeBounds};

/// An ordered map in a vector sorted by key, without duplicate keys.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, key: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|at| &self.entries[at].1)
    }

    /// The value of `key`, mutable.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|at| &mut self.entries[at].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// Sets the value of `key`; returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|at| self.entries.remove(at).1)
    }

    /// Splits the map at `key`: returns the entries from `key` on, keeps those below it.
    pub fn split_off(&mut self, key: &K) -> Self {
        let at = self.entries.partition_point(|(k, _)| k < key);
        VecMap {
            entries: self.entries.split_off(at),
        }
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter(self.entries.iter())
    }

    /// The entries whose keys are in `range`, in key order.
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> Iter<'_, K, V> {
        let start = match range.start_bound() {
            Bound::Included(k) => self.entries.partition_point(|(e, _)| e < k),
            Bound::Excluded(k) => self.entries.partition_point(|(e, _)| e <= k),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(k) => self.entries.partition_point(|(e, _)| e <= k),
            Bound::Excluded(k) => self.entries.partition_point(|(e, _)| e < k),
            Bound::Unbounded => self.entries.len(),
        };
        Iter(self.entries[start..end.max(start)].iter())
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
}

/// An iterator over a [`VecMap`]'s entries, as `BTreeMap`'s: `(&key, &value)` in key order.
#[derive(Clone, Debug)]
pub struct Iter<'a, K, V>(std::slice::Iter<'a, (K, V)>);

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

impl<'a, K: Ord, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// Like `BTreeMap`'s: of two entries with the same key, the later one wins.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = VecMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K: Ord, V> From<BTreeMap<K, V>> for VecMap<K, V> {
    fn from(map: BTreeMap<K, V>) -> Self {
        // Already sorted, keys distinct.
        VecMap {
            entries: map.into_iter().collect(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(deserializer).map(VecMap::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{DefaultHasher, Hash, Hasher};

    fn hash_of<T: Hash>(value: &T) -> u64 {
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        h.finish()
    }

    /// Every operation the protocol uses agrees with `BTreeMap`, and so do `Debug`, `Hash`,
    /// `Ord` and the serialized form.
    #[test]
    fn behaves_like_a_btree_map() {
        let mut b = BTreeMap::new();
        let mut v = VecMap::new();
        for (k, x) in [
            (5u64, 'a'),
            (1, 'b'),
            (9, 'c'),
            (5, 'd'),
            (3, 'e'),
            (7, 'f'),
        ] {
            assert_eq!(v.insert(k, x), b.insert(k, x));
        }
        assert_eq!(v.remove(&9), b.remove(&9));
        assert_eq!(v.remove(&4), b.remove(&4));
        assert_eq!(v.get(&5), b.get(&5));
        assert_eq!(v.contains_key(&2), b.contains_key(&2));
        assert_eq!(v.len(), b.len());
        assert!(v.iter().eq(b.iter()));
        for from in 0..10 {
            assert!(v.range(from..).eq(b.range(from..)), "range {from}..");
            assert!(v.range(..from).eq(b.range(..from)), "range ..{from}");
            assert_eq!(v.range(from..).next_back(), b.range(from..).next_back());
        }
        assert!(v.keys().eq(b.keys()));
        assert!(v.values().eq(b.values()));
        assert_eq!(format!("{v:?}"), format!("{b:?}"));
        assert_eq!(format!("{v:#?}"), format!("{b:#?}"));
        assert_eq!(hash_of(&v), hash_of(&b));
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let back: VecMap<u64, char> =
            serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        assert_eq!(back, v);
        let mut smaller = v.clone();
        smaller.insert(6, 'z');
        let mut b_smaller = b.clone();
        b_smaller.insert(6, 'z');
        assert_eq!(v.cmp(&smaller), b.cmp(&b_smaller));
        let (high, b_high) = (v.split_off(&5), b.split_off(&5));
        assert!(v.iter().eq(b.iter()) && high.iter().eq(b_high.iter()));
        let collected: VecMap<_, _> = [(2, 'x'), (1, 'y'), (2, 'z')].into_iter().collect();
        let b_collected: BTreeMap<_, _> = [(2, 'x'), (1, 'y'), (2, 'z')].into_iter().collect();
        assert!(collected.iter().eq(b_collected.iter()));
    }
}
