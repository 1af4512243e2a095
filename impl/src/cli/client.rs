//! `paxos-impl client`: one operation on the register of a `serve` cluster, over TCP.
//!
//! The client finds the leader itself (the model's client step: a retry goes to the next
//! replica, and replicas forward to the leader they know) and retries with the same request id.
//!
//! **Client ids.** Sessions are keyed by client id, so an id must never be reused while the
//! cluster remembers it: a second process with the same id would start again at request 1 and
//! get the first process's old replies. The runtime cannot pick a fresh id without scanning
//! replica state (what the in-process cluster does), so `--id` defaults to a random 32-bit id
//! (the model's `ClientId` is a `u32`): two clients collide with probability about k²/2³³ for k
//! clients ever. Pass `--id` to choose one yourself.

use super::args::{ClientArgs, ClientOp};
use paxos_impl::Client;
use paxos_model::types::{ClientId, Value};

/// Runs the operation; prints `ok` for a write, the value for a read. `Err`: one line.
pub fn client(args: ClientArgs) -> Result<(), String> {
    let n = args.cluster.len() as u32;
    let id = args
        .id
        .unwrap_or_else(|| rand::random_range(n.max(1 << 16)..u32::MAX));
    if id < n {
        return Err(format!(
            "--id {id} is a replica's (client ids start at {n})"
        ));
    }
    let mut client = Client::over_tcp(ClientId(id), &args.cluster, args.timeout, rand::random())
        .map_err(|e| e.to_string())?;
    match args.op {
        ClientOp::Write { value } => {
            client.write(Value(value)).map_err(|e| e.to_string())?;
            println!("ok");
        }
        ClientOp::Read => {
            let Value(v) = client.read().map_err(|e| e.to_string())?;
            println!("{v}");
        }
    }
    Ok(())
}
