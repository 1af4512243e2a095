//! How a thread waits for its inbox: look, then yield the core while looking again for a
//! while, and only then sleep.
//!
//! A thread that sleeps on an empty channel is woken by the next sender with a `futex` call,
//! which costs the sender a system call and both a context switch, several microseconds in all:
//! more than the step that message asks for. On this runtime's busy path the next message comes
//! within microseconds (a follower's next `Accept`, the leader's next `Accepted`, a client's
//! reply), so a waiting thread first yields its core to whoever has work ([`YIELD_MAX`]) and
//! sleeps only if nothing came meanwhile. Yielding, not spinning: on a machine with fewer cores
//! than busy threads, the core goes to a thread that has work. Nothing here is about the
//! protocol; only when a message is taken.

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

/// Limit: how long a thread whose inbox is empty yields its core, looking between yields,
/// before it sleeps.
pub const YIELD_MAX: Duration = Duration::from_micros(100);

/// The next message of `inbox`, waiting until `deadline` at most: looks, yields the core for up
/// to [`YIELD_MAX`] looking between yields, then sleeps on the channel. (Never inlined, so that
/// a profile tells waiting from working: `impl/scripts/bench-instructions.sh`.)
#[inline(never)]
pub fn recv_deadline<T>(inbox: &Receiver<T>, deadline: Instant) -> Result<T, RecvTimeoutError> {
    match inbox.try_recv() {
        Ok(message) => return Ok(message),
        Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
        Err(TryRecvError::Empty) => {}
    }
    let yield_until = (Instant::now() + YIELD_MAX).min(deadline);
    loop {
        std::thread::yield_now();
        match inbox.try_recv() {
            Ok(message) => return Ok(message),
            Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => {}
        }
        if Instant::now() >= yield_until {
            break;
        }
    }
    inbox.recv_deadline(deadline)
}
