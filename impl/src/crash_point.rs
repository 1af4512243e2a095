//! Crash points inside a batch's I/O: where a crash can fall *within* a save and its sends, not
//! only between two batches.
//!
//! A replica runs a batch of steps, saves the last durable state they produced, then hands their
//! messages to the network (`replica.rs`, "Group commit"). [`crate::Cluster::crash`] stops a
//! replica between two batches, where that order cannot be seen: everything of the batch was
//! done. A real process dies anywhere, so [`crate::Cluster::crash_at`] arms one of these points
//! in a replica, which crashes there in its next batch that has it:
//!
//! - [`CrashPoint::AfterSave`]: the save returned, no message left yet (a batch that saves and
//!   sends). The state is durable, its messages are lost: a network may lose them anyway.
//! - [`CrashPoint::BetweenSends`]: some of the batch's messages left, the rest never will (a
//!   batch with two sends or more; which send is the first one lost is drawn from the seed).
//! - [`CrashPoint::MidSave`]: the save is cut short ([`crate::Storage::save_torn`]: a torn log
//!   record or rewrite, where it is cut drawn from the seed) and nothing is sent. The batch's
//!   steps from the first that persisted on are lost as a whole: the replica restarts from the
//!   previous save, and none of their messages may have left (they did not: the sends come
//!   after the save). A torn write that happens to reach the disk whole is the `AfterSave` case.
//!
//! With the sends after the save, each point is harmless: what restarts is a state no message
//! went beyond. A runtime that sends first (the known-bad `RuntimeBug::SendBeforeSave`, with the
//! `bugs` feature) is not: at `BetweenSends` or `MidSave` its messages are out while the state
//! they report is lost, and the recording shows it (the crash's `unsaved` steps had their
//! messages delivered).
//!
//! The crash is recorded (`EventKind::Crash`) with its point and the number of the replica's
//! last steps whose save did not reach storage, so a replay knows which steps the restart
//! forgets. Crash points fall only in the I/O of a batch of steps, never in a replica's start.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Limit: how long [`crate::Cluster::crash_at`] waits for a replica to reach a crash point
/// before it crashes the replica between two batches instead.
pub const CRASH_POINT_WAIT_MAX: Duration = Duration::from_secs(5);

/// Where inside a batch's I/O a replica crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CrashPoint {
    /// After the batch's save returned, before its first send.
    AfterSave,
    /// Between two of the batch's sends.
    BetweenSends,
    /// In the middle of the batch's save: a torn write, nothing sent.
    MidSave,
}

impl CrashPoint {
    /// Every crash point.
    pub const ALL: [CrashPoint; 3] = [
        CrashPoint::AfterSave,
        CrashPoint::BetweenSends,
        CrashPoint::MidSave,
    ];

    /// Whether a batch that saves (or not) and has `sends` messages has this point. A batch
    /// that has not keeps the point armed for a later one.
    pub(crate) fn fits(self, saves: bool, sends: usize) -> bool {
        match self {
            CrashPoint::AfterSave => saves && sends > 0,
            CrashPoint::BetweenSends => sends >= 2,
            CrashPoint::MidSave => saves,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_fits_only_a_batch_that_has_it() {
        let fitting = |point: CrashPoint| {
            [
                (false, 0),
                (false, 1),
                (false, 2),
                (true, 0),
                (true, 1),
                (true, 2),
            ]
            .into_iter()
            .filter(|&(saves, sends)| point.fits(saves, sends))
            .collect::<Vec<_>>()
        };
        assert_eq!(fitting(CrashPoint::AfterSave), [(true, 1), (true, 2)]);
        assert_eq!(fitting(CrashPoint::BetweenSends), [(false, 2), (true, 2)]);
        assert_eq!(
            fitting(CrashPoint::MidSave),
            [(true, 0), (true, 1), (true, 2)]
        );
    }
}
