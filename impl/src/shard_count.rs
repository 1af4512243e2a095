//! A counter that many threads add to without a locked instruction or a shared cache line:
//! [`ShardCount`].
//!
//! The network counts every message sent and every copy delivered. One `AtomicU64` for all
//! threads made each count a cache-line transfer between the cores of the sender and of the
//! last thread that counted (a client driver and its leader count alternately, once per message
//! each), and its locked `add`, right after the copy went into the destination's channel, waited
//! for that channel write to reach the other core: in a profile of lease reads at 32 clients,
//! that one instruction was a fifth of the client driver's time. Here a thread owns a slot of
//! its own (one of [`SLOTS`], each on its own cache line; taken on its first count, given back
//! when it exits) and adds to it with a plain load and store; a reader sums the slots. Threads
//! beyond [`SLOTS`] at once share one more slot, with a locked add. Nothing here is about the
//! protocol.

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Limit: threads at once that count in a slot of their own.
pub(crate) const SLOTS: usize = 64;

/// Slots no live thread owns, given back by threads that exited.
static FREE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Slots never owned yet start here.
static NEVER_OWNED: AtomicUsize = AtomicUsize::new(0);

/// A thread's slot: `SLOTS` is the shared one.
struct Owned(usize);

impl Owned {
    fn take() -> Owned {
        let free = FREE.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Owned(free.unwrap_or_else(|| {
            NEVER_OWNED
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < SLOTS).then_some(n + 1)
                })
                .unwrap_or(SLOTS)
        }))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // The mutex orders the last store of this thread before the next owner's first load.
        if self.0 < SLOTS {
            FREE.lock().unwrap_or_else(|e| e.into_inner()).push(self.0);
        }
    }
}

thread_local! {
    static SLOT: Owned = Owned::take();
}

/// A count that threads add to in slots of their own; [`ShardCount::get`] sums them.
pub(crate) struct ShardCount {
    /// One per owning thread, then the shared one.
    slots: [CachePadded<AtomicU64>; SLOTS + 1],
}

impl Default for ShardCount {
    fn default() -> Self {
        ShardCount {
            slots: std::array::from_fn(|_| CachePadded::new(AtomicU64::new(0))),
        }
    }
}

impl ShardCount {
    /// Adds `n` to the calling thread's slot.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        // A thread being torn down (its slot gone) counts in the shared slot.
        let slot = SLOT.try_with(|s| s.0).unwrap_or(SLOTS);
        let counter = &self.slots[slot];
        if slot < SLOTS {
            // Only this thread writes this slot: no read-modify-write needed.
            counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
        } else {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The sum of every slot (each read on its own: a count taken while others add is some
    /// value between the counts before and after).
    pub(crate) fn get(&self) -> u64 {
        self.slots.iter().map(|s| s.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// More threads at once than slots (some share), then more again (slots given back).
    #[test]
    fn counts_from_many_threads_add_up() {
        let count = Arc::new(ShardCount::default());
        for _ in 0..2 {
            let barrier = Arc::new(std::sync::Barrier::new(SLOTS + 3));
            let threads: Vec<_> = (0..SLOTS + 3)
                .map(|_| {
                    let (count, barrier) = (Arc::clone(&count), Arc::clone(&barrier));
                    std::thread::spawn(move || {
                        count.add(1);
                        barrier.wait(); // Every thread holds a slot at once.
                        for _ in 0..999 {
                            count.add(1);
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().expect("a counting thread");
            }
        }
        count.add(5);
        assert_eq!(count.get(), 2 * (SLOTS as u64 + 3) * 1000 + 5);
    }
}
