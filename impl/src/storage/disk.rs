//! Disk storage: one file per replica, `replica-<i>.durable`, replaced atomically.
//!
//! A save writes a temporary file, fsyncs it, renames it over the old file and fsyncs the
//! directory, so after a crash the file holds either the old or the new state, whole. The file
//! is a header followed by the state as JSON:
//!
//! ```text
//! "PAXOSDUR" (8 bytes) | format version: u32 LE | body length: u64 LE | CRC-32 of body: u32 LE | body
//! ```
//!
//! A file with a wrong magic, version, length or checksum, or a body that does not parse, is
//! [`StorageError::Corrupt`]: the replica refuses to start rather than start empty.

use super::Storage;
use crate::error::StorageError;
use paxos_model::durable::Durable;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const MAGIC: &[u8; 8] = b"PAXOSDUR";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 4;
/// Limit: a durable state larger than this is refused as corrupt rather than read.
const BODY_LEN_MAX: u64 = 256 * 1024 * 1024;

/// One file per replica in a data directory.
#[derive(Debug)]
pub struct DiskStorage {
    dir: PathBuf,
    syncs: AtomicU64,
}

impl DiskStorage {
    /// Storage in `dir`, created if missing. Fails if the directory cannot be created or
    /// written (checked by creating and removing a temporary file).
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        tempfile::NamedTempFile::new_in(&dir)?; // Probes that files can be created (removed on drop).
        Ok(DiskStorage {
            dir,
            syncs: AtomicU64::new(0),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `replica`'s state.
    pub fn path(&self, replica: usize) -> PathBuf {
        self.dir.join(format!("replica-{replica}.durable"))
    }

    fn io_error(path: &Path, source: io::Error) -> StorageError {
        StorageError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The file's bytes for `body`.
fn encode(body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// The body of a file, checked; `Err` says what is wrong.
fn decode(bytes: &[u8]) -> Result<&[u8], String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "{} bytes, shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        ));
    }
    let (header, body) = bytes.split_at(HEADER_LEN);
    if &header[..8] != MAGIC {
        return Err("bad magic number".into());
    }
    let version = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(format!("unknown format version {version}"));
    }
    let len = u64::from_le_bytes(header[12..20].try_into().expect("8 bytes"));
    if len > BODY_LEN_MAX || len != body.len() as u64 {
        return Err(format!(
            "header says {len} body bytes, file has {}",
            body.len()
        ));
    }
    let crc = u32::from_le_bytes(header[20..24].try_into().expect("4 bytes"));
    let actual = crc32fast::hash(body);
    if crc != actual {
        return Err(format!(
            "checksum mismatch (header {crc:#010x}, body {actual:#010x})"
        ));
    }
    Ok(body)
}

impl Storage for DiskStorage {
    fn load(&self, replica: usize) -> Result<Option<Durable>, StorageError> {
        let path = self.path(replica);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Self::io_error(&path, e)),
        };
        let corrupt = |reason: String| StorageError::Corrupt {
            replica,
            path: path.clone(),
            reason,
        };
        let body = decode(&bytes).map_err(corrupt)?;
        let durable = serde_json::from_slice(body)
            .map_err(|e| corrupt(format!("body does not parse: {e}")))?;
        Ok(Some(durable))
    }

    fn save(&self, replica: usize, durable: Durable) -> Result<(), StorageError> {
        let body = serde_json::to_vec(&durable)
            .map_err(|source| StorageError::Encode { replica, source })?;
        let path = self.path(replica);
        let tmp = path.with_extension("durable.tmp");
        let write = || -> io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            file.write_all(&encode(&body))?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        self.syncs.fetch_add(2, Ordering::Relaxed);
        write().map_err(|e| Self::io_error(&path, e))
    }

    fn name(&self) -> &'static str {
        "disk"
    }

    fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paxos_model::durable::AcceptedEntry;
    use paxos_model::types::{
        Ballot, ClientCommand, ClientId, Command, Op, RequestId, ServerId, Slot, Value,
    };

    #[test]
    fn saves_and_loads_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::open(dir.path()).unwrap();
        assert!(storage.load(0).unwrap().is_none());
        let mut durable = Durable {
            promised: Ballot::new(3, ServerId(1)),
            ..Durable::default()
        };
        let command = ClientCommand {
            client: ClientId(4),
            request: RequestId(2),
            op: Op::Write(Value(9)),
        };
        durable.snapshot.apply(&Command::Client(command));
        durable.accepted.insert(
            Slot(1),
            AcceptedEntry {
                ballot: durable.promised,
                command: Command::NoOp,
            },
        );
        storage.save(0, durable.clone()).unwrap();
        assert_eq!(storage.load(0).unwrap(), Some(durable));

        let path = storage.path(0);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        let err = storage.load(0).unwrap_err();
        assert!(
            matches!(&err, StorageError::Corrupt { reason, .. } if reason.contains("checksum")),
            "{err}"
        );

        fs::write(&path, b"PAXOS").unwrap();
        assert!(matches!(storage.load(0), Err(StorageError::Corrupt { .. })));
    }
}
