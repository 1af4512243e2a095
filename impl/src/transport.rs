//! The boundary between a replica thread and whatever carries its messages.
//!
//! A replica hands each message of a batch to a [`Transport`] after the batch's save returned
//! (persist before send, `replica.rs`), and takes what arrives from one inbox, a channel of
//! `Envelope`s, whoever fills it. Two implementations:
//!
//! - `crate::net::Net`: crossbeam channels inside one process, with seeded fault injection
//!   (loss, duplication, delay, partitions) and the recording of every drop;
//! - [`crate::tcp::TcpTransport`]: length-prefixed frames over TCP between processes, one
//!   bounded send queue per peer, reconnecting with backoff.
//!
//! A transport never looks inside a message and never blocks a replica for long: when it cannot
//! deliver (a full queue, a peer down) it drops the message, which Paxos tolerates (a lost
//! message is one the asynchronous network may delay forever).

use crate::record::DropReason;
use paxos_model::msg::Msg;
use paxos_model::state_machine::{Register, StateMachine};

/// Carries messages from a replica to other actors.
pub trait Transport<M: StateMachine = Register>: Send + Sync {
    /// Hands `msg` from actor `src` to actor `dst`. Returns at once; the message may be lost.
    fn send(&self, src: usize, dst: usize, msg: Msg<M>);

    /// Hands every message of `sends` from actor `src`, in order, as [`Transport::send`] does
    /// one by one (the default); a transport may carry those for one destination together.
    fn send_all(&self, src: usize, sends: &mut dyn Iterator<Item = (usize, Msg<M>)>) {
        for (dst, msg) in sends {
            self.send(src, dst, msg);
        }
    }

    /// A copy the replica itself drops (its inbox at a crash): counted, recorded if the
    /// transport records.
    fn drop_copy(&self, src: usize, dst: usize, msg: Msg<M>, reason: DropReason);

    /// `actor` goes away (a client handle dropped): messages to it are dropped from now on.
    fn disconnect(&self, actor: usize);
}
