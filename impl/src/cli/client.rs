//! `paxos-impl client`: one operation on the register of a `serve` cluster over TCP, the
//! replicas' status, or a closed-loop benchmark (`bench`, in `bench.rs`).
//!
//! The client finds the leader itself (the model's client step: a retry goes to the next
//! replica, and replicas forward to the leader they know) and retries with the same request id.
//!
//! **Client ids.** Sessions are keyed by client id, so an id must never be reused while the
//! cluster remembers it: a second process with the same id would start again at request 1 and
//! get the first process's old replies. The runtime cannot pick a fresh id without scanning
//! replica state (what the in-process cluster does), so `--id` defaults to a random 32-bit id
//! (the model's `ClientId` is a `u32`): two clients collide with probability about k²/2³³ for k
//! clients ever. Pass `--id` to choose one yourself. `bench` uses consecutive ids from it, one
//! per client of each run.

use super::args::{ClientArgs, ClientOp};
use super::bench;
use paxos_impl::admin::query_status;
use paxos_impl::Client;
use paxos_model::types::{ClientId, Value};

/// The lowest random client id: far above any replica id.
pub(super) const RANDOM_ID_MIN: u32 = 1 << 16;

/// Why `client` failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientFailure {
    /// Invalid arguments (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The operation failed: a timeout, a replica that did not answer (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl From<String> for ClientFailure {
    fn from(e: String) -> Self {
        ClientFailure::Failed(e)
    }
}

/// Runs the operation; prints `ok` for a write, the value for a read, one line per replica for
/// `status`. `Err`: one line.
pub fn client(args: ClientArgs) -> Result<(), ClientFailure> {
    if let ClientOp::Bench(bench) = &args.op {
        bench::validate(bench).map_err(ClientFailure::Usage)?;
    }
    let n = args.cluster.len() as u32;
    // `bench` takes consecutive ids from this one: room for all of them above it.
    let ids_needed = match &args.op {
        // At most 16 numbers of at most 1,024 each (validated above).
        ClientOp::Bench(bench) => bench.clients.iter().map(|c| *c as u32).sum::<u32>(),
        _ => 1,
    };
    let id = args.id.unwrap_or_else(|| {
        rand::random_range(n.max(RANDOM_ID_MIN)..u32::MAX.saturating_sub(ids_needed))
    });
    if id < n {
        return Err(ClientFailure::Usage(format!(
            "--id {id} is a replica's (client ids start at {n})"
        )));
    }
    let connect = || {
        Client::over_tcp(ClientId(id), &args.cluster, args.timeout, rand::random())
            .map_err(|e| e.to_string())
    };
    match args.op {
        ClientOp::Write { value } => {
            connect()?.write(Value(value)).map_err(|e| e.to_string())?;
            println!("ok");
        }
        ClientOp::Read => {
            let Value(v) = connect()?.read().map_err(|e| e.to_string())?;
            println!("{v}");
        }
        ClientOp::Status => status(&args.cluster, args.timeout)?,
        ClientOp::Bench(bench_args) => bench::run(&args.cluster, id, args.timeout, &bench_args)?,
    }
    Ok(())
}

/// One line per replica: its status, or why it did not answer.
fn status(cluster: &[std::net::SocketAddr], timeout: std::time::Duration) -> Result<(), String> {
    let mut silent = 0;
    for (replica, addr) in cluster.iter().enumerate() {
        match query_status(*addr, timeout) {
            Ok(report) if report.replica as usize != replica => {
                silent += 1;
                println!(
                    "replica {replica} ({addr}): answered as replica {} (is --cluster in replica order?)",
                    report.replica
                );
            }
            Ok(report) => println!("replica {replica} ({addr}): {report}"),
            Err(e) => {
                silent += 1;
                println!("replica {replica} ({addr}): no answer ({e})");
            }
        }
    }
    match silent {
        0 => Ok(()),
        k => Err(format!(
            "{k} of {} replica(s) did not answer",
            cluster.len()
        )),
    }
}
