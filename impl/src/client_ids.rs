//! Client ids for clients in other processes, handed out by the replicas: unique for the
//! cluster's lifetime, without scanning replica state and without a round of consensus.
//!
//! Sessions are keyed by client id (`specs/multipaxos.md`, "Applying and replying"), so an id
//! must never be used by two clients: the second would start again at request 0 and be
//! answered from the first one's session. A new client asks any replica for an id
//! (`Wire::NewClientId` on an admin connection, [`crate::admin::new_client_id`]). Each replica
//! hands out ids from its own blocks, which no other replica's blocks overlap:
//!
//! ```text
//! id = CLIENT_ID_MIN + (block × replicas + replica) × CLIENT_ID_BLOCK + i,   0 ≤ i < CLIENT_ID_BLOCK
//! ```
//!
//! and it reserves each block durably before handing out its first id: the number of the next
//! unreserved block is written to `client-ids` in the replica's data directory (atomically:
//! temporary file, fsync, rename, fsync of the directory). After a crash the replica starts at
//! that block, so an id it handed out before the crash is never handed out again (the rest of a
//! block is skipped). One fsync per [`CLIENT_ID_BLOCK`] clients; a replica can hand out about
//! 2³²/n ids in all (then it says they are exhausted).
//!
//! This is not a protocol decision: it only keeps ids apart, as the ids of replicas are kept
//! apart by configuration. (The in-process cluster, whose client ids are also actor indexes,
//! numbers its clients itself.)

use crate::storage::data_dir::replace_file;
use paxos_model::types::ClientId;
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

/// The lowest id a replica hands out (far above every replica's id).
pub const CLIENT_ID_MIN: u32 = 1 << 16;
/// Limit: ids in one durably reserved block.
pub const CLIENT_ID_BLOCK: u32 = 1024;
/// The file, in a replica's data directory, that holds the next unreserved block.
pub const CLIENT_IDS_FILE: &str = "client-ids";

/// One replica's allocator of client ids.
#[derive(Debug)]
pub struct ClientIds {
    replica: u32,
    replicas: u32,
    /// The data directory (`None`: kept in memory, for tests).
    dir: Option<PathBuf>,
    state: Mutex<Blocks>,
}

#[derive(Debug)]
struct Blocks {
    /// The block ids come from now, and the next id's index in it (`CLIENT_ID_BLOCK`: used up).
    block: u64,
    next: u32,
    /// Blocks below this one are reserved (durably, with a directory).
    reserved: u64,
}

impl ClientIds {
    /// The allocator of replica `replica` of `replicas`, persisted in `dir` (its data
    /// directory). A damaged `client-ids` file is an error: starting again from block 0 could
    /// hand out an id twice.
    pub fn open(dir: PathBuf, replica: usize, replicas: usize) -> io::Result<ClientIds> {
        let path = dir.join(CLIENT_IDS_FILE);
        let reserved = match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().parse::<u64>().map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not a block number ({e}): {text:?}", path.display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        Ok(ClientIds::new(Some(dir), replica, replicas, reserved))
    }

    /// An allocator kept in memory (a replica without a data directory: tests).
    pub fn in_memory(replica: usize, replicas: usize) -> ClientIds {
        ClientIds::new(None, replica, replicas, 0)
    }

    fn new(dir: Option<PathBuf>, replica: usize, replicas: usize, reserved: u64) -> ClientIds {
        assert!(replica < replicas, "replica {replica} of {replicas}");
        ClientIds {
            replica: replica as u32,
            replicas: replicas as u32,
            dir,
            state: Mutex::new(Blocks {
                block: reserved,
                next: CLIENT_ID_BLOCK,
                reserved,
            }),
        }
    }

    /// A client id no client of the cluster had before (durably: after a crash this replica
    /// never hands it out again).
    pub fn allocate(&self) -> io::Result<ClientId> {
        let mut s = self.state.lock().expect("client ids lock");
        if s.next == CLIENT_ID_BLOCK {
            // The block is used up (or none was taken since the start): reserve the next one.
            let block = s.reserved;
            if let Some(dir) = &self.dir {
                let path = dir.join(CLIENT_IDS_FILE);
                let tmp = dir.join(format!("{CLIENT_IDS_FILE}.tmp"));
                replace_file(dir, &tmp, &path, format!("{}\n", block + 1).as_bytes())?;
            }
            s.reserved = block + 1;
            s.block = block;
            s.next = 0;
        }
        let index = (s.block * u64::from(self.replicas) + u64::from(self.replica))
            * u64::from(CLIENT_ID_BLOCK)
            + u64::from(s.next);
        let id = u64::from(CLIENT_ID_MIN) + index;
        let id = u32::try_from(id).map_err(|_| {
            io::Error::other(format!(
                "replica {} has handed out all its client ids",
                self.replica
            ))
        })?;
        s.next += 1;
        Ok(ClientId(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn replicas_hand_out_disjoint_ids_and_a_restart_never_repeats_one() {
        let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let open = |r: usize| ClientIds::open(dirs[r].path().to_path_buf(), r, 3).unwrap();
        let mut seen = BTreeSet::new();
        for r in 0..3 {
            let ids = open(r);
            for _ in 0..CLIENT_ID_BLOCK + 5 {
                let id = ids.allocate().unwrap();
                assert!(id.0 >= CLIENT_ID_MIN);
                assert!(seen.insert(id), "{id:?} twice");
            }
        }
        // Restarts (a crash at any point is a restart from the file): new ids only.
        for round in 0..2 {
            for r in 0..3 {
                let ids = open(r);
                for _ in 0..3 {
                    let id = ids.allocate().unwrap();
                    assert!(seen.insert(id), "{id:?} again after restart {round}");
                }
            }
        }
        assert_eq!(
            std::fs::read_to_string(dirs[0].path().join(CLIENT_IDS_FILE)).unwrap(),
            "4\n",
            "two blocks, then one per restart"
        );
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CLIENT_IDS_FILE), "twelve").unwrap();
        let e = ClientIds::open(dir.path().to_path_buf(), 0, 3).unwrap_err();
        assert!(e.to_string().contains("not a block number"), "{e}");
    }

    #[test]
    fn ids_run_out_with_an_error() {
        let ids = ClientIds::new(None, 2, 3, u64::from(u32::MAX) / 3072);
        let e = ids.allocate().unwrap_err();
        assert!(e.to_string().contains("all its client ids"), "{e}");
    }
}
