//! The key-value service that `paxos-impl serve` replicates: a [`StateMachine`] over a map of
//! string keys to string values, with `put`, `get`, `delete` and compare-and-set.
//!
//! The protocol does not know this type: it replicates any [`StateMachine`] (the model checks
//! it with the register). This one is ordinary application code, and a template for another
//! service: commands are data ([`KvOp`]), outputs are data ([`KvOutput`]), [`Kv::apply`] is
//! deterministic (a `BTreeMap`, no clock, no randomness), and the state is its own snapshot.
//!
//! Every key is an independent register (with compare-and-set): a history of the service is
//! linearizable if and only if each key's is, which is how the cluster fault test checks it
//! (`impl/tests/harness/checkers.rs`).

use crate::client::Client;
use crate::error::ClientError;
use paxos_model::state_machine::StateMachine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Limit: the length of a key, in bytes.
pub const KEY_BYTES_MAX: usize = 1024;
/// Limit: the length of a value, in bytes. With [`paxos_model::config::ServerConfig`]'s batch
/// of at most 64 commands, a batch stays well under the TCP transport's frame limit.
pub const VALUE_BYTES_MAX: usize = 16 * 1024;

/// The replicated map.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Kv {
    map: BTreeMap<String, String>,
}

/// A command of the key-value service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KvOp {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Reads `key`.
    Get {
        /// The key.
        key: String,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: String,
    },
    /// Sets `key` to `new` if its value is `expected` (`None`: if it has none).
    Cas {
        /// The key.
        key: String,
        /// The value the key must hold (`None`: the key must be missing).
        expected: Option<String>,
        /// The value to set.
        new: String,
    },
}

impl KvOp {
    /// The key the command is on.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Put { key, .. }
            | KvOp::Get { key }
            | KvOp::Delete { key }
            | KvOp::Cas { key, .. } => key,
        }
    }

    /// Checks the limits ([`KEY_BYTES_MAX`], [`VALUE_BYTES_MAX`]): what a client must do before
    /// it submits the command.
    pub fn validate(&self) -> Result<(), String> {
        if self.key().len() > KEY_BYTES_MAX {
            return Err(format!(
                "a key of {} bytes (at most {KEY_BYTES_MAX})",
                self.key().len()
            ));
        }
        let values = match self {
            KvOp::Put { value, .. } => vec![value],
            KvOp::Cas { expected, new, .. } => expected.iter().chain([new]).collect(),
            KvOp::Get { .. } | KvOp::Delete { .. } => vec![],
        };
        match values.iter().find(|v| v.len() > VALUE_BYTES_MAX) {
            Some(v) => Err(format!(
                "a value of {} bytes (at most {VALUE_BYTES_MAX})",
                v.len()
            )),
            None => Ok(()),
        }
    }
}

/// What a [`KvOp`] returns.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KvOutput {
    /// `Put`: done.
    Put,
    /// `Get`: the key's value, if it has one.
    Value(Option<String>),
    /// `Delete`: whether the key existed.
    Deleted(bool),
    /// `Cas`: whether the value was set; if not, the key's current value.
    Cas {
        /// The key held the expected value, and now holds the new one.
        swapped: bool,
        /// The value the key held before (what the comparison saw).
        previous: Option<String>,
    },
}

impl StateMachine for Kv {
    type Op = KvOp;
    type Output = KvOutput;

    fn apply(&mut self, op: &KvOp) -> KvOutput {
        match op {
            KvOp::Put { key, value } => {
                self.map.insert(key.clone(), value.clone());
                KvOutput::Put
            }
            KvOp::Get { key } => KvOutput::Value(self.map.get(key).cloned()),
            KvOp::Delete { key } => KvOutput::Deleted(self.map.remove(key).is_some()),
            KvOp::Cas { key, expected, new } => {
                let previous = self.map.get(key).cloned();
                let swapped = previous == *expected;
                if swapped {
                    self.map.insert(key.clone(), new.clone());
                }
                KvOutput::Cas { swapped, previous }
            }
        }
    }

    fn is_read_only(op: &KvOp) -> bool {
        matches!(op, KvOp::Get { .. })
    }

    fn read(&self, op: &KvOp) -> KvOutput {
        match op {
            KvOp::Get { key } => KvOutput::Value(self.map.get(key).cloned()),
            other => panic!("read() of a command that writes: {other:?}"),
        }
    }
}

impl Kv {
    /// The value of `key`, if it has one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// How many keys have a value.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no key has a value.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A client of the key-value service; the operations wait at most the client's timeout.
impl Client<Kv> {
    /// Sets `key` to `value`.
    pub fn put(&mut self, key: &str, value: &str) -> Result<(), ClientError<Kv>> {
        let op = KvOp::Put {
            key: key.into(),
            value: value.into(),
        };
        match self.execute(op)? {
            KvOutput::Put => Ok(()),
            other => panic!("client {:?}: a put returned {other:?}", self.id()),
        }
    }

    /// The value of `key`, if it has one.
    pub fn get(&mut self, key: &str) -> Result<Option<String>, ClientError<Kv>> {
        match self.execute(KvOp::Get { key: key.into() })? {
            KvOutput::Value(value) => Ok(value),
            other => panic!("client {:?}: a get returned {other:?}", self.id()),
        }
    }

    /// Removes `key`; whether it existed.
    pub fn delete(&mut self, key: &str) -> Result<bool, ClientError<Kv>> {
        match self.execute(KvOp::Delete { key: key.into() })? {
            KvOutput::Deleted(existed) => Ok(existed),
            other => panic!("client {:?}: a delete returned {other:?}", self.id()),
        }
    }

    /// Sets `key` to `new` if it holds `expected` (`None`: if it is missing). `Ok(Ok(()))` if
    /// it did; `Ok(Err(current))` with the value it holds if it did not.
    pub fn cas(
        &mut self,
        key: &str,
        expected: Option<&str>,
        new: &str,
    ) -> Result<Result<(), Option<String>>, ClientError<Kv>> {
        let op = KvOp::Cas {
            key: key.into(),
            expected: expected.map(Into::into),
            new: new.into(),
        };
        match self.execute(op)? {
            KvOutput::Cas { swapped: true, .. } => Ok(Ok(())),
            KvOutput::Cas {
                swapped: false,
                previous,
            } => Ok(Err(previous)),
            other => panic!("client {:?}: a cas returned {other:?}", self.id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(key: &str, value: &str) -> KvOp {
        KvOp::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    fn get(key: &str) -> KvOp {
        KvOp::Get { key: key.into() }
    }

    #[test]
    fn put_get_delete_and_cas_on_independent_keys() {
        let mut kv = Kv::default();
        assert_eq!(kv.apply(&get("a")), KvOutput::Value(None));
        assert_eq!(kv.apply(&put("a", "1")), KvOutput::Put);
        assert_eq!(kv.apply(&put("b", "2")), KvOutput::Put);
        assert_eq!(kv.apply(&get("a")), KvOutput::Value(Some("1".into())));
        let cas = |expected: Option<&str>, new: &str| KvOp::Cas {
            key: "a".into(),
            expected: expected.map(Into::into),
            new: new.into(),
        };
        assert_eq!(
            kv.apply(&cas(Some("0"), "3")),
            KvOutput::Cas {
                swapped: false,
                previous: Some("1".into())
            }
        );
        assert_eq!(kv.get("a"), Some("1"));
        assert_eq!(
            kv.apply(&cas(Some("1"), "3")),
            KvOutput::Cas {
                swapped: true,
                previous: Some("1".into())
            }
        );
        assert_eq!(kv.get("a"), Some("3"));
        assert_eq!(
            kv.apply(&KvOp::Delete { key: "a".into() }),
            KvOutput::Deleted(true)
        );
        assert_eq!(
            kv.apply(&KvOp::Delete { key: "a".into() }),
            KvOutput::Deleted(false)
        );
        // A missing key: compare-and-set against `None` creates it.
        assert!(matches!(
            kv.apply(&cas(None, "4")),
            KvOutput::Cas { swapped: true, .. }
        ));
        assert_eq!(
            (kv.get("a"), kv.get("b"), kv.len()),
            (Some("4"), Some("2"), 2)
        );
    }

    #[test]
    fn only_get_is_read_only_and_read_answers_it_without_a_change() {
        let mut kv = Kv::default();
        kv.apply(&put("k", "v"));
        let before = kv.clone();
        assert!(Kv::is_read_only(&get("k")));
        assert_eq!(kv.read(&get("k")), KvOutput::Value(Some("v".into())));
        assert_eq!(kv, before);
        for op in [
            put("k", "w"),
            KvOp::Delete { key: "k".into() },
            KvOp::Cas {
                key: "k".into(),
                expected: None,
                new: "x".into(),
            },
        ] {
            assert!(!Kv::is_read_only(&op), "{op:?}");
        }
    }

    #[test]
    fn oversized_keys_and_values_are_refused_before_they_are_sent() {
        assert!(put("k", "v").validate().is_ok());
        let long_key = "k".repeat(KEY_BYTES_MAX + 1);
        let err = get(&long_key).validate().unwrap_err();
        assert!(err.contains("key of 1025 bytes"), "{err}");
        let long_value = "v".repeat(VALUE_BYTES_MAX + 1);
        assert!(put("k", &long_value).validate().is_err());
        let cas = KvOp::Cas {
            key: "k".into(),
            expected: Some(long_value),
            new: "v".into(),
        };
        assert!(cas.validate().is_err());
    }
}
