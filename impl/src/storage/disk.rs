//! Disk storage: one append-only log per replica, `replica-<i>.durable`, one `fdatasync` per save.
//!
//! A save appends one record, what changed since the previous save (the promise if it moved, the
//! accepted entries added or changed, the slots dropped by compaction, the snapshot if it moved),
//! and `fdatasync`s the file. A replica saves once per batch of steps (group commit, see
//! `replica.rs`), so one sync covers every step of the batch. Recovery replays the records from
//! an empty state. When the log passes [`LOG_BYTES_MAX`], the next save writes a fresh log
//! holding the whole state as one record (temporary file, fsync, rename, fsync of the directory).
//!
//! ```text
//! file:   "PAXOSLOG" (8 bytes) | format version: u32 LE | record*
//! record: body length: u32 LE | CRC-32 of body: u32 LE | body (a `Delta`, JSON)
//! ```
//!
//! # Damage
//! A crash in the middle of an append can leave a **torn tail**: the last record cut short, or
//! zero-filled, whole or from some byte on (the file grew, the data never reached the disk; from
//! inside its length field on, the length reads short). Its save never returned, so no
//! message depended on it: the record is dropped and the file cut back to the last whole record.
//! Anything else is [`StorageError::Corrupt`] and the replica refuses to start rather than start
//! empty: a file that is not ours (wrong magic, unknown version, shorter than the header), a
//! record that fails its checksum or does not parse while more bytes follow it, a record longer
//! than [`RECORD_LEN_MAX`]. (A file of the previous format, the whole state in one checksummed
//! body, has another magic number and is refused the same way.)

use super::data_dir::{self, DataDir, DataDirError, Identity};
use super::Storage;
use crate::config::REPLICAS_MAX;
use crate::error::StorageError;
use paxos_model::durable::{AcceptedEntry, Durable};
use paxos_model::state_machine::{AppliedState, Register, StateMachine};
use paxos_model::types::{Ballot, Slot};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

const MAGIC: &[u8; 8] = b"PAXOSLOG";
const VERSION: u32 = 2;
const HEADER_LEN: usize = 8 + 4;
const RECORD_HEADER_LEN: usize = 4 + 4;
/// Limit: one record's body; a longer one is refused as corrupt rather than read.
pub const RECORD_LEN_MAX: u32 = 64 * 1024 * 1024;
/// Limit: a log longer than this is rewritten as one record of the whole state at the next save.
pub const LOG_BYTES_MAX: u64 = 32 * 1024 * 1024;

/// What changed between two saved states.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound = "")]
struct Delta<M: StateMachine> {
    /// The promise, if it changed.
    promised: Option<Ballot>,
    /// Accepted entries added or changed.
    put: Vec<(Slot, AcceptedEntry<M>)>,
    /// Accepted entries dropped (compacted).
    removed: Vec<Slot>,
    /// The snapshot, if it changed.
    snapshot: Option<AppliedState<M>>,
}

impl<M: StateMachine> Delta<M> {
    /// From `old` to `new`.
    fn between(old: &Durable<M>, new: &Durable<M>) -> Delta<M> {
        Delta {
            promised: (old.promised != new.promised).then_some(new.promised),
            put: new
                .accepted
                .iter()
                .filter(|(slot, entry)| old.accepted.get(slot) != Some(entry))
                .map(|(slot, entry)| (*slot, entry.clone()))
                .collect(),
            removed: old
                .accepted
                .keys()
                .filter(|slot| new.accepted.get(slot).is_none())
                .copied()
                .collect(),
            snapshot: (old.snapshot != new.snapshot).then(|| new.snapshot.clone()),
        }
    }

    fn apply(self, durable: &mut Durable<M>) {
        if let Some(promised) = self.promised {
            durable.promised = promised;
        }
        for slot in &self.removed {
            durable.accepted.remove(slot);
        }
        for (slot, entry) in self.put {
            durable.accepted.insert(slot, entry);
        }
        if let Some(snapshot) = self.snapshot {
            durable.snapshot = snapshot;
        }
    }
}

/// A replica's open log and the state its records add up to.
#[derive(Debug)]
struct Log<M: StateMachine> {
    file: File,
    state: Durable<M>,
    bytes: u64,
}

/// One log file per replica in a data directory.
#[derive(Debug)]
pub struct DiskStorage<M: StateMachine = Register> {
    dir: PathBuf,
    logs: Vec<Mutex<Option<Log<M>>>>,
    syncs: AtomicU64,
    /// The directory's lock, held as long as the storage lives.
    _lock: File,
}

impl<M: StateMachine> DiskStorage<M> {
    /// The storage of an in-process cluster's replicas in `dir`, created if missing. Fails if
    /// the directory cannot be created or written (checked by creating and removing a temporary
    /// file), if another process holds it, or if it is one replica's directory of a real
    /// deployment (it has an identity: `storage/data_dir.rs`).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, DataDirError> {
        let dir = dir.into();
        let io = |source| DataDirError::Io {
            path: dir.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(io)?;
        tempfile::NamedTempFile::new_in(&dir).map_err(io)?; // Probes that files can be created.
        let lock = data_dir::lock(&dir)?;
        if let Some(found) = data_dir::read_identity(&dir)? {
            return Err(DataDirError::NotInProcess { path: dir, found });
        }
        Ok(Self::with_lock(dir, lock))
    }

    /// The storage of one replica of a real deployment (`paxos-impl serve`): `dir` must have
    /// been initialized for exactly `identity` (`paxos-impl init`), and is locked for as long
    /// as the storage lives. A missing, foreign or locked directory is refused.
    pub fn open_replica(dir: &Path, identity: &Identity) -> Result<Self, DataDirError> {
        let data_dir = DataDir::open(dir, identity)?;
        let lock = data_dir.into_lock();
        Ok(Self::with_lock(dir.to_path_buf(), lock))
    }

    fn with_lock(dir: PathBuf, lock: File) -> Self {
        DiskStorage {
            dir,
            logs: (0..REPLICAS_MAX).map(|_| Mutex::new(None)).collect(),
            syncs: AtomicU64::new(0),
            _lock: lock,
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `replica`'s log.
    pub fn path(&self, replica: usize) -> PathBuf {
        self.dir.join(format!("replica-{replica}.durable"))
    }

    fn io_error(path: &Path, source: io::Error) -> StorageError {
        StorageError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn slot(&self, replica: usize) -> MutexGuard<'_, Option<Log<M>>> {
        self.logs
            .get(replica)
            .unwrap_or_else(|| panic!("replica {replica} beyond the limit of {REPLICAS_MAX}"))
            .lock()
            .expect("storage lock")
    }

    /// Reads `replica`'s log, cuts off a torn tail, and opens it for appending.
    fn open_log(&self, replica: usize) -> Result<Option<Log<M>>, StorageError> {
        let path = self.path(replica);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Self::io_error(&path, e)),
        };
        let (state, good) = decode(&bytes).map_err(|reason| StorageError::Corrupt {
            replica,
            path: path.clone(),
            reason,
        })?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Self::io_error(&path, e))?;
        if good < bytes.len() {
            // A torn tail: its save never returned. Cut it off before appending after it.
            file.set_len(good as u64)
                .and_then(|()| file.sync_data())
                .map_err(|e| Self::io_error(&path, e))?;
        }
        Ok(Some(Log {
            file,
            state,
            bytes: good as u64,
        }))
    }

    /// Writes a fresh log holding `durable` as one record: temporary file, fsync, rename,
    /// fsync of the directory (so the file at its name always starts with a whole header).
    fn rewrite(&self, replica: usize, durable: Durable<M>) -> Result<Log<M>, StorageError> {
        let path = self.path(replica);
        let tmp = path.with_extension("durable.tmp");
        let mut bytes = header();
        append_record(&mut bytes, &Delta::between(&Durable::default(), &durable))
            .map_err(|source| StorageError::Encode { replica, source })?;
        let write = || -> io::Result<File> {
            data_dir::replace_file(&self.dir, &tmp, &path, &bytes)?;
            OpenOptions::new().append(true).open(&path)
        };
        let file = write().map_err(|e| Self::io_error(&path, e))?;
        self.syncs.fetch_add(2, Ordering::Relaxed);
        Ok(Log {
            file,
            state: durable,
            bytes: bytes.len() as u64,
        })
    }

    /// Appends what changed since the last save and syncs it (or rewrites a long log).
    fn save_in(
        &self,
        slot: &mut Option<Log<M>>,
        replica: usize,
        durable: Durable<M>,
    ) -> Result<(), StorageError> {
        if slot.is_none() {
            *slot = self.open_log(replica)?;
        }
        let log = match slot.as_mut() {
            Some(log) if log.bytes <= LOG_BYTES_MAX => log,
            _ => {
                *slot = Some(self.rewrite(replica, durable)?);
                return Ok(());
            }
        };
        let mut bytes = Vec::new();
        append_record(&mut bytes, &Delta::between(&log.state, &durable))
            .map_err(|source| StorageError::Encode { replica, source })?;
        let path = self.path(replica);
        log.file
            .write_all(&bytes)
            .and_then(|()| log.file.sync_data())
            .map_err(|e| Self::io_error(&path, e))?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        log.bytes += bytes.len() as u64;
        log.state = durable;
        Ok(())
    }
}

fn header() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes
}

/// Appends one framed record of `delta` to `out`.
fn append_record<M: StateMachine>(
    out: &mut Vec<u8>,
    delta: &Delta<M>,
) -> Result<(), serde_json::Error> {
    let body = serde_json::to_vec(delta)?;
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(())
}

/// The state a log adds up to, and the length of its whole records (the rest is a torn tail);
/// `Err` says what is wrong with a damaged or foreign file.
fn decode<M: StateMachine>(bytes: &[u8]) -> Result<(Durable<M>, usize), String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "{} bytes, shorter than the {HEADER_LEN}-byte header: not a log of ours",
            bytes.len()
        ));
    }
    if &bytes[..8] != MAGIC {
        return Err("bad magic number: not a log of ours (or of an older format)".into());
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(format!("unknown format version {version}"));
    }
    let mut state = Durable::default();
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let torn = || rest.iter().all(|b| *b == 0);
        if rest.len() < RECORD_HEADER_LEN {
            return Ok((state, at)); // A record header cut short: torn.
        }
        if rest[4..].iter().all(|b| *b == 0) {
            // At most the length field written, partly (it then reads short), and nothing after
            // it: torn. A whole record never has a zero checksum over a zero body.
            return Ok((state, at));
        }
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        if len > RECORD_LEN_MAX {
            return Err(format!(
                "record at byte {at} says {len} bytes, more than the limit {RECORD_LEN_MAX}"
            ));
        }
        let end = RECORD_HEADER_LEN + len as usize;
        if rest.len() < end || torn() {
            return Ok((state, at)); // The last record cut short, or zero-filled: torn.
        }
        let body = &rest[RECORD_HEADER_LEN..end];
        let actual = crc32fast::hash(body);
        if crc != actual && end == rest.len() && body.last() == Some(&0) {
            // The last record, its end never written (a JSON body ends with `}`, never 0): torn.
            return Ok((state, at));
        }
        if crc != actual {
            return Err(format!(
                "record at byte {at}: checksum mismatch (header {crc:#010x}, body {actual:#010x})"
            ));
        }
        let delta: Delta<M> = serde_json::from_slice(body)
            .map_err(|e| format!("record at byte {at} does not parse: {e}"))?;
        delta.apply(&mut state);
        at += end;
    }
    Ok((state, at))
}

impl<M: StateMachine> Storage<M> for DiskStorage<M> {
    fn load(&self, replica: usize) -> Result<Option<Durable<M>>, StorageError> {
        let log = self.open_log(replica)?;
        let durable = log.as_ref().map(|log| log.state.clone());
        *self.slot(replica) = log;
        Ok(durable)
    }

    fn save(&self, replica: usize, durable: Durable<M>) -> Result<(), StorageError> {
        let mut slot = self.slot(replica);
        let saved = self.save_in(&mut slot, replica, durable);
        if saved.is_err() {
            // What reached the file is unknown (a record written in part, an fsync that
            // failed): forget the open log, so that nothing is ever appended after it. The next
            // load reads the file again (and refuses it if it is damaged).
            *slot = None;
        }
        saved
    }

    fn save_torn(&self, replica: usize, durable: Durable<M>, cut: u64) -> Result<(), StorageError> {
        let mut slot = self.slot(replica);
        if slot.is_none() {
            *slot = self.open_log(replica)?;
        }
        let path = self.path(replica);
        let encode = |from: &Durable<M>, out: &mut Vec<u8>| {
            append_record(out, &Delta::between(from, &durable))
                .map_err(|source| StorageError::Encode { replica, source })
        };
        let written = match slot.as_mut() {
            Some(log) if log.bytes <= LOG_BYTES_MAX => {
                let mut record = Vec::new();
                encode(&log.state, &mut record)?;
                log.file.write_all(&torn(&record, cut))
            }
            _ => {
                // A rewrite cut short: the temporary file holds part of the new log, and the
                // rename that would have replaced the old one never happened.
                let mut bytes = header();
                encode(&Durable::default(), &mut bytes)?;
                fs::write(path.with_extension("durable.tmp"), torn(&bytes, cut))
            }
        };
        *slot = None; // The crash loses the open log: the next load reads the file again.
        written.map_err(|e| Self::io_error(&path, e))
    }

    fn name(&self) -> &'static str {
        "disk"
    }

    fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

/// What a crash in the middle of writing `bytes` can leave: the first `cut mod len` of them,
/// alone (cut short) or followed by zeros up to their length (the file grew, the data did not
/// all reach the disk; which, by the parity of `cut / len`). Never all of them.
fn torn(bytes: &[u8], cut: u64) -> Vec<u8> {
    let len = bytes.len() as u64;
    let mut out = bytes[..(cut % len) as usize].to_vec();
    if (cut / len) % 2 == 1 {
        out.resize(bytes.len(), 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use paxos_model::state_machine::{ClientCommand, Command};
    use paxos_model::types::{ClientId, Op, RequestId, ServerId, Value};

    fn state(round: u32, slots: u64) -> Durable {
        let mut durable = Durable {
            promised: Ballot::new(round, ServerId(1)),
            ..Durable::default()
        };
        let command = ClientCommand {
            client: ClientId(4),
            request: RequestId(2),
            op: Op::Write(Value(9)),
        };
        durable
            .snapshot
            .apply(&Command::Client(command), 1, |_, _| {});
        for slot in 1..=slots {
            durable.accepted.insert(
                Slot(slot),
                AcceptedEntry {
                    ballot: durable.promised,
                    command: Command::NoOp,
                },
            );
        }
        durable
    }

    #[test]
    fn saves_and_loads_the_sum_of_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        assert!(storage.load(0).unwrap().is_none());
        let mut last = Durable::default();
        for (round, slots) in [(1, 1), (1, 3), (2, 3), (2, 1), (3, 0)] {
            last = state(round, slots);
            storage.save(0, last.clone()).unwrap();
        }
        assert_eq!(storage.load(0).unwrap(), Some(last.clone()));
        // A new storage on the same directory (a restarted process) reads the same.
        drop(storage); // Releases the directory's lock.
        let again = DiskStorage::<Register>::open(dir.path()).unwrap();
        assert_eq!(again.load(0).unwrap(), Some(last.clone()));
        let next = state(4, 2);
        again.save(0, next.clone()).unwrap();
        assert_eq!(again.load(0).unwrap(), Some(next));
    }

    #[test]
    fn a_torn_tail_is_cut_off_and_the_log_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        storage.save(0, state(1, 1)).unwrap();
        storage.save(0, state(2, 2)).unwrap();
        let path = storage.path(0);
        let whole = fs::read(&path).unwrap();
        // The second record cut short, then zero-filled: both torn, both give the first state.
        let cut = whole.len() - 5;
        fs::write(&path, &whole[..cut]).unwrap();
        drop(storage);
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        assert_eq!(storage.load(0).unwrap(), Some(state(1, 1)));
        let mut zeroed = fs::read(&path).unwrap();
        zeroed.extend_from_slice(&[0u8; 40]);
        fs::write(&path, &zeroed).unwrap();
        drop(storage);
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        assert_eq!(storage.load(0).unwrap(), Some(state(1, 1)));
        // The last record whole in length, its end never written.
        storage.save(0, state(2, 2)).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 3..].fill(0);
        fs::write(&path, &bytes).unwrap();
        drop(storage);
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        assert_eq!(storage.load(0).unwrap(), Some(state(1, 1)));
        storage.save(0, state(3, 1)).unwrap();
        drop(storage);
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        assert_eq!(storage.load(0).unwrap(), Some(state(3, 1)));
    }

    #[test]
    fn a_zero_filled_tail_with_a_partly_written_length_is_torn() {
        // The file grew by a whole record, but only the first bytes of its length field reached
        // the disk: the length reads short, the checksum and body are zeros.
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        storage.save(0, state(1, 1)).unwrap();
        let path = storage.path(0);
        let first = fs::read(&path).unwrap();
        storage.save(0, state(2, 2_000)).unwrap(); // A record of over 64 KiB: 3 length bytes.
        let whole = fs::read(&path).unwrap();
        assert!(whole.len() - first.len() > RECORD_HEADER_LEN + (1 << 16));
        drop(storage);
        for written in 1..RECORD_HEADER_LEN {
            let mut bytes = whole.clone();
            bytes[first.len() + written..].fill(0);
            fs::write(&path, &bytes).unwrap();
            let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
            assert_eq!(
                storage.load(0).unwrap(),
                Some(state(1, 1)),
                "{written} bytes of the record written"
            );
            assert_eq!(fs::read(&path).unwrap(), first, "the torn tail is cut off");
        }
    }

    #[test]
    fn a_save_cut_short_anywhere_leaves_the_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        storage.save(0, state(1, 1)).unwrap();
        let path = storage.path(0);
        let before = fs::read(&path).unwrap();
        storage.save(0, state(2, 3)).unwrap();
        let record = fs::read(&path).unwrap().len() - before.len();
        drop(storage);
        // Cuts in and around the record header, in the body and at its very end, each as a
        // short write and as a zero-filled one, of the record `state(2, 3)` would append.
        let r = record as u64;
        let cuts = (0..=RECORD_HEADER_LEN as u64 + 1).chain([r / 2, r - 2, r - 1]);
        for cut in cuts.flat_map(|c| [c, c + r]) {
            fs::write(&path, &before).unwrap();
            let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
            storage.save_torn(0, state(2, 3), cut).unwrap();
            let len = fs::read(&path).unwrap().len();
            let expected = before.len()
                + if cut < record as u64 {
                    cut as usize
                } else {
                    record
                };
            assert_eq!(len, expected, "cut {cut}: the file holds the torn write");
            assert_eq!(storage.load(0).unwrap(), Some(state(1, 1)), "cut {cut}");
            assert_eq!(
                fs::read(&path).unwrap(),
                before,
                "cut {cut}: torn tail cut off"
            );
            storage.save(0, state(3, 2)).unwrap();
            drop(storage);
            let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
            assert_eq!(storage.load(0).unwrap(), Some(state(3, 2)), "cut {cut}");
        }
        // A rewrite cut short leaves the old log in place (and a partial temporary file, which
        // the next rewrite replaces).
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        for cut in [0, 7, 40, 1_000_003] {
            storage.save(0, state(4, 1)).unwrap();
            storage.slot(0).as_mut().unwrap().bytes = LOG_BYTES_MAX + 1;
            storage.save_torn(0, state(5, 2), cut).unwrap();
            assert_eq!(storage.load(0).unwrap(), Some(state(4, 1)), "cut {cut}");
        }
        storage.slot(0).as_mut().unwrap().bytes = LOG_BYTES_MAX + 1;
        storage.save(0, state(6, 1)).unwrap();
        drop(storage);
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        assert_eq!(storage.load(0).unwrap(), Some(state(6, 1)));
        // Never saved: a first save cut short leaves nothing to load.
        storage.save_torn(1, state(1, 1), 5).unwrap();
        assert_eq!(storage.load(1).unwrap(), None);
    }

    #[test]
    fn a_failed_save_forgets_the_open_log() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        storage.save(0, state(1, 1)).unwrap();
        // The file replaced by a directory: the append fails, and the open log is dropped.
        let path = storage.path(0);
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        storage.slot(0).as_mut().unwrap().file = File::open(dir.path()).unwrap();
        assert!(matches!(
            storage.save(0, state(2, 1)),
            Err(StorageError::Io { .. })
        ));
        assert!(storage.slot(0).is_none());
    }

    #[test]
    fn damage_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        storage.save(0, state(1, 1)).unwrap();
        storage.save(0, state(2, 2)).unwrap();
        let path = storage.path(0);
        let whole = fs::read(&path).unwrap();
        // A flipped bit in the first record, with a whole record after it.
        let mut bytes = whole.clone();
        bytes[HEADER_LEN + RECORD_HEADER_LEN + 3] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        let err = storage.load(0).unwrap_err();
        assert!(
            matches!(&err, StorageError::Corrupt { reason, .. } if reason.contains("checksum")),
            "{err}"
        );
        // A flipped bit in the last record is damage too, not a torn tail.
        let mut bytes = whole.clone();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(storage.load(0), Err(StorageError::Corrupt { .. })));
        drop(storage);
        for foreign in [
            &b"PAXOS"[..],
            b"PAXOSDUR\x01\0\0\0 a state of the old format",
        ] {
            fs::write(&path, foreign).unwrap();
            let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
            let err = storage.load(0).unwrap_err();
            assert!(matches!(&err, StorageError::Corrupt { .. }), "{err}");
            drop(storage);
            // A save on top of a damaged log refuses too: never a silent fresh start.
            let fresh = DiskStorage::<Register>::open(dir.path()).unwrap();
            assert!(fresh.save(0, state(9, 1)).is_err());
        }
    }

    #[test]
    fn a_locked_or_replica_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        let e = DiskStorage::<Register>::open(dir.path()).unwrap_err();
        assert!(matches!(e, DataDirError::Locked { .. }), "{e}");
        drop(storage);
        DiskStorage::<Register>::open(dir.path()).unwrap();

        // A `serve` replica's directory: only `open_replica` with its identity opens it.
        let identity = Identity {
            cluster: "c1".into(),
            replica: 2,
        };
        let replica_dir = dir.path().join("r2");
        data_dir::init(&replica_dir, &identity).unwrap();
        let e = DiskStorage::<Register>::open(&replica_dir).unwrap_err();
        assert!(matches!(e, DataDirError::NotInProcess { .. }), "{e}");
        let storage = DiskStorage::<Register>::open_replica(&replica_dir, &identity).unwrap();
        storage.save(2, state(1, 1)).unwrap();
        let e = DiskStorage::<Register>::open_replica(&replica_dir, &identity).unwrap_err();
        assert!(matches!(e, DataDirError::Locked { .. }), "{e}");
        drop(storage);
        let storage = DiskStorage::<Register>::open_replica(&replica_dir, &identity).unwrap();
        assert_eq!(storage.load(2).unwrap(), Some(state(1, 1)));
        let e =
            DiskStorage::<Register>::open_replica(&dir.path().join("none"), &identity).unwrap_err();
        assert!(matches!(e, DataDirError::Missing { .. }), "{e}");
    }

    #[test]
    fn a_long_log_is_rewritten_as_one_record() {
        let dir = tempfile::tempdir().unwrap();
        let storage = DiskStorage::<Register>::open(dir.path()).unwrap();
        storage.save(0, state(1, 1)).unwrap();
        storage.slot(0).as_mut().unwrap().bytes = LOG_BYTES_MAX + 1;
        storage.save(0, state(2, 3)).unwrap();
        let bytes = fs::read(storage.path(0)).unwrap();
        let len = u32::from_le_bytes(bytes[HEADER_LEN..HEADER_LEN + 4].try_into().unwrap());
        assert_eq!(bytes.len(), HEADER_LEN + RECORD_HEADER_LEN + len as usize);
        assert_eq!(storage.load(0).unwrap(), Some(state(2, 3)));
    }
}
