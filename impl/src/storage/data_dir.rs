//! A data directory's identity and its lock: what keeps a replica from starting on the wrong
//! state, or on none.
//!
//! An acceptor that starts empty after it promised or voted can break agreement: that is the
//! `volatile-acceptor` known-bad variant, and a mistyped `--data-dir` would do exactly that. So a
//! replica of a real deployment (`paxos-impl serve`) never creates its directory: `paxos-impl
//! init --data-dir DIR --id N --cluster ID` does, once, and writes [`IDENTITY_FILE`] in it.
//! [`DataDir::open`] then refuses, with a [`DataDirError`]:
//!
//! - a **missing** directory, or one with no identity file (never initialized);
//! - a **foreign** one: its identity names another cluster or another replica id;
//! - a **locked** one: another process holds it ([`LOCK_FILE`], an exclusive `flock`, released
//!   by the kernel when the holder exits, even on `kill -9`, so a stale lock cannot exist).
//!
//! `init` makes the identity durable before anything depends on it: the file is written to a
//! temporary name, fsynced, renamed, and the directory is fsynced; when `init` created the
//! directory, its parent is fsynced too (a directory entry is only durable once its parent is).
//!
//! The in-process cluster's storage ([`super::DiskStorage::open`]) holds the same lock, and
//! refuses a directory that has an identity (one replica's directory of a real deployment).

use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The identity file in a data directory.
pub const IDENTITY_FILE: &str = "identity.json";
/// The lock file in a data directory.
pub const LOCK_FILE: &str = "lock";
/// Limit: the length of a cluster id, in bytes.
pub const CLUSTER_ID_LEN_MAX: usize = 64;

/// Whose state a data directory holds: one replica of one cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The cluster's name, chosen by the operator at `init`.
    pub cluster: String,
    /// The replica's index in the cluster (its `--id`).
    pub replica: usize,
}

/// Why a data directory cannot be used. Each message is one line, naming the directory.
#[derive(Debug, Error)]
pub enum DataDirError {
    /// The directory does not exist, or has no identity file.
    #[error("data directory {path} is not initialized (no {IDENTITY_FILE}); run `paxos-impl init --data-dir {path} --id N --cluster ID` first", path = .path.display())]
    Missing {
        /// The directory.
        path: PathBuf,
    },
    /// The directory belongs to another cluster or replica.
    #[error("data directory {path} belongs to replica {found_replica} of cluster '{found_cluster}', not replica {replica} of cluster '{cluster}'", path = .path.display(), found_replica = .found.replica, found_cluster = .found.cluster, replica = .expected.replica, cluster = .expected.cluster)]
    Foreign {
        /// The directory.
        path: PathBuf,
        /// Its identity.
        found: Identity,
        /// The identity asked for.
        expected: Identity,
    },
    /// The directory holds a real deployment's replica, and an in-process cluster was pointed
    /// at it.
    #[error("data directory {path} belongs to replica {} of cluster '{}' (a `serve` directory), not to an in-process cluster", .found.replica, .found.cluster, path = .path.display())]
    NotInProcess {
        /// The directory.
        path: PathBuf,
        /// Its identity.
        found: Identity,
    },
    /// Another process holds the directory's lock.
    #[error("data directory {path} is locked by another process ({path}/{LOCK_FILE})", path = .path.display())]
    Locked {
        /// The directory.
        path: PathBuf,
    },
    /// `init` on a directory that already has an identity.
    #[error("data directory {path} is already initialized (replica {} of cluster '{}')", .found.replica, .found.cluster, path = .path.display())]
    AlreadyInitialized {
        /// The directory.
        path: PathBuf,
        /// Its identity.
        found: Identity,
    },
    /// The identity file cannot be parsed.
    #[error("identity file {path} is damaged: {reason}", path = .path.display())]
    BadIdentity {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A cluster id that is empty, too long, or not made of `[A-Za-z0-9._-]`.
    #[error(
        "cluster id '{0}' is invalid (1 to {CLUSTER_ID_LEN_MAX} characters of A-Z a-z 0-9 . _ -)"
    )]
    BadClusterId(String),
    /// A replica index at or beyond [`crate::REPLICAS_MAX`].
    #[error("replica id {0} is out of range (at most {max})", max = crate::REPLICAS_MAX - 1)]
    BadReplica(usize),
    /// Reading, writing, locking or syncing failed.
    #[error("data directory {path}: {source}", path = .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn check_cluster_id(cluster: &str) -> Result<(), DataDirError> {
    let ok = !cluster.is_empty()
        && cluster.len() <= CLUSTER_ID_LEN_MAX
        && cluster
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(DataDirError::BadClusterId(cluster.to_string()))
    }
}

/// The identity stored in `dir`, `None` if it has none (or `dir` does not exist).
pub fn read_identity(dir: &Path) -> Result<Option<Identity>, DataDirError> {
    let path = dir.join(IDENTITY_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(&path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| DataDirError::BadIdentity {
            path,
            reason: e.to_string(),
        })
}

/// `paxos-impl init`: creates `dir` (and its missing parents) if needed and writes `identity`
/// in it, durably (see the module docs). Refuses a directory that already has an identity,
/// and one another process holds.
pub fn init(dir: &Path, identity: &Identity) -> Result<(), DataDirError> {
    check_cluster_id(&identity.cluster)?;
    if identity.replica >= crate::REPLICAS_MAX {
        return Err(DataDirError::BadReplica(identity.replica));
    }
    let created = !dir.exists();
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let _lock = lock(dir)?;
    if let Some(found) = read_identity(dir)? {
        return Err(DataDirError::AlreadyInitialized {
            path: dir.to_path_buf(),
            found,
        });
    }
    let path = dir.join(IDENTITY_FILE);
    let tmp = dir.join(format!("{IDENTITY_FILE}.tmp"));
    let mut bytes = serde_json::to_vec(identity).expect("an identity encodes");
    bytes.push(b'\n');
    replace_file(dir, &tmp, &path, &bytes).map_err(io_error(&path))?;
    if created {
        sync_parent(dir)?;
    }
    Ok(())
}

/// fsyncs the directory that holds `dir`'s entry.
fn sync_parent(dir: &Path) -> Result<(), DataDirError> {
    let absolute = std::path::absolute(dir).map_err(io_error(dir))?;
    let parent = absolute.parent().unwrap_or(Path::new("/"));
    File::open(parent)
        .and_then(|f| f.sync_all())
        .map_err(io_error(parent))
}

/// An exclusive, non-blocking `flock` on `dir`'s lock file, held while the file is open.
pub(crate) fn lock(dir: &Path) -> Result<File, DataDirError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error(&path))?;
    // SAFETY: `flock` on a file descriptor this function owns; it touches no memory.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(file);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Err(DataDirError::Locked {
            path: dir.to_path_buf(),
        })
    } else {
        Err(io_error(&path)(e))
    }
}

/// An initialized data directory of the expected identity, locked by this process until
/// dropped.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    identity: Identity,
    lock: File,
}

impl DataDir {
    /// Opens `dir` for replica `expected`: refuses a missing, foreign or locked directory.
    pub fn open(dir: &Path, expected: &Identity) -> Result<DataDir, DataDirError> {
        let missing = || DataDirError::Missing {
            path: dir.to_path_buf(),
        };
        if !dir.is_dir() {
            return Err(missing());
        }
        // Identity before lock: a foreign directory is reported as foreign even while its
        // owner runs. Then again under the lock, in case an `init` was racing.
        let found = read_identity(dir)?.ok_or_else(missing)?;
        let lock = lock(dir)?;
        let found = read_identity(dir)?.unwrap_or(found);
        if found != *expected {
            return Err(DataDirError::Foreign {
                path: dir.to_path_buf(),
                found,
                expected: expected.clone(),
            });
        }
        Ok(DataDir {
            path: dir.to_path_buf(),
            identity: found,
            lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The open lock file: the directory stays locked while it lives.
    pub(crate) fn into_lock(self) -> File {
        self.lock
    }
}

/// Replaces `path` (in directory `dir`) with `bytes`, atomically and durably: written to `tmp`,
/// fsynced, renamed over `path`, then the directory fsynced so the rename survives a crash.
pub(crate) fn replace_file(dir: &Path, tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(tmp, path)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(cluster: &str, replica: usize) -> Identity {
        Identity {
            cluster: cluster.into(),
            replica,
        }
    }

    #[test]
    fn init_then_open_and_every_refusal() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/replica-1");
        // Missing: no directory, then a directory with no identity.
        let e = DataDir::open(&dir, &id("c", 1)).unwrap_err();
        assert!(matches!(e, DataDirError::Missing { .. }), "{e}");
        fs::create_dir_all(&dir).unwrap();
        let e = DataDir::open(&dir, &id("c", 1)).unwrap_err();
        assert!(matches!(e, DataDirError::Missing { .. }), "{e}");
        fs::remove_dir(&dir).unwrap();

        init(&dir, &id("c", 1)).unwrap();
        assert_eq!(read_identity(&dir).unwrap(), Some(id("c", 1)));
        let e = init(&dir, &id("c", 1)).unwrap_err();
        assert!(matches!(e, DataDirError::AlreadyInitialized { .. }), "{e}");

        // Foreign: another cluster, another replica.
        for other in [id("d", 1), id("c", 2)] {
            let e = DataDir::open(&dir, &other).unwrap_err();
            assert!(matches!(e, DataDirError::Foreign { .. }), "{e}");
        }
        // Locked while a first open holds it; free again once it is dropped.
        let held = DataDir::open(&dir, &id("c", 1)).unwrap();
        assert_eq!(held.identity(), &id("c", 1));
        let e = DataDir::open(&dir, &id("c", 1)).unwrap_err();
        assert!(matches!(e, DataDirError::Locked { .. }), "{e}");
        drop(held);
        DataDir::open(&dir, &id("c", 1)).unwrap();

        // A damaged identity is an error, not a fresh start.
        fs::write(dir.join(IDENTITY_FILE), b"{\"cluster\":").unwrap();
        let e = DataDir::open(&dir, &id("c", 1)).unwrap_err();
        assert!(matches!(e, DataDirError::BadIdentity { .. }), "{e}");

        for bad in ["", "a b", "x/y", &"z".repeat(CLUSTER_ID_LEN_MAX + 1)] {
            let e = init(&root.path().join("bad"), &id(bad, 0)).unwrap_err();
            assert!(matches!(e, DataDirError::BadClusterId(_)), "{e}");
        }
        for e in [
            DataDir::open(&dir, &id("c", 1)).unwrap_err(),
            DataDir::open(&root.path().join("none"), &id("c", 1)).unwrap_err(),
        ] {
            assert_eq!(e.to_string().lines().count(), 1, "{e}");
        }
    }
}
