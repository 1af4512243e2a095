//! `paxos-impl client`: one operation on the key-value service of a `serve` cluster over TCP
//! (`put`, `get`, `delete`, `cas`), the replicas' status, or a closed-loop benchmark (`bench`,
//! in `bench.rs`).
//!
//! The client finds the leader itself (the model's client step: a retry goes to the next
//! replica, and replicas forward to the leader they know) and retries with the same request id.
//!
//! **Client ids.** Sessions are keyed by client id, so an id must never be reused while the
//! cluster remembers it: a second process with the same id would start again at request 0 and
//! get the first process's old replies. Without `--id`, the client asks a replica for an id no
//! client had before (`paxos_impl::client_ids`: each replica hands out ids from blocks it
//! reserved durably, disjoint from every other replica's). `--id` chooses one yourself, from the
//! range no replica hands out (from the number of replicas up to `CLIENT_ID_MIN`, 65,536); then
//! keeping it unique is up to you. `bench` uses one new id per client (or consecutive ids
//! from `--id`).

use super::args::{ClientArgs, ClientOp};
use super::bench;
use paxos_impl::admin::query_status;
use paxos_impl::client_ids::CLIENT_ID_MIN;
use paxos_impl::kv::{Kv, KvOp};
use paxos_impl::{Client, ClientError};
use paxos_model::types::ClientId;

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

/// A write that failed: after a timeout its outcome is unknown, and the message says so.
fn write_failed(e: ClientError<Kv>) -> ClientFailure {
    let unknown = matches!(e, ClientError::Timeout { .. });
    ClientFailure::Failed(if unknown {
        format!("{e}; its outcome is unknown: it may have run, or may still run (at most once)")
    } else {
        e.to_string()
    })
}

impl From<String> for ClientFailure {
    fn from(e: String) -> Self {
        ClientFailure::Failed(e)
    }
}

/// Runs the operation; prints `ok` for a put or a successful cas, the value alone for a get,
/// one line per replica for `status`. `Err`: one line (a missing key, a failed cas, a timeout).
pub fn client(args: ClientArgs) -> Result<(), ClientFailure> {
    if let ClientOp::Bench(bench) = &args.op {
        bench::validate(bench).map_err(ClientFailure::Usage)?;
    }
    let n = args.cluster.len() as u32;
    // `bench` takes consecutive ids from `--id`: room for all of them below the replicas' range.
    let ids_needed = match &args.op {
        // At most 16 numbers of at most 1,024 each (validated above).
        ClientOp::Bench(bench) => bench.clients.iter().map(|c| *c as u32).sum::<u32>(),
        _ => 1,
    };
    if let Some(id) = args.id {
        if id < n || id + ids_needed > CLIENT_ID_MIN {
            return Err(ClientFailure::Usage(format!(
                "--id {id}: choose ids from {n} (the replicas' are below) up to {CLIENT_ID_MIN} \
                 (the replicas hand out the ids above); {ids_needed} needed"
            )));
        }
    }
    let connect = |op: KvOp| {
        op.validate().map_err(ClientFailure::Usage)?;
        let client = match args.id {
            Some(id) => {
                Client::<Kv>::over_tcp(ClientId(id), &args.cluster, args.timeout, rand::random())
            }
            None => Client::<Kv>::connect(&args.cluster, args.timeout, rand::random()),
        };
        Ok::<_, ClientFailure>(client.map_err(|e| e.to_string())?)
    };
    match args.op {
        ClientOp::Put { key, value } => {
            let op = KvOp::Put {
                key: key.clone(),
                value: value.clone(),
            };
            connect(op)?.put(&key, &value).map_err(write_failed)?;
            println!("ok");
        }
        ClientOp::Get { key } => {
            let op = KvOp::Get { key: key.clone() };
            match connect(op)?.get(&key).map_err(|e| e.to_string())? {
                Some(value) => println!("{value}"),
                None => return Err(ClientFailure::Failed(format!("key not found: {key}"))),
            }
        }
        ClientOp::Delete { key } => {
            let op = KvOp::Delete { key: key.clone() };
            if connect(op)?.delete(&key).map_err(write_failed)? {
                println!("deleted");
            } else {
                return Err(ClientFailure::Failed(format!("key not found: {key}")));
            }
        }
        ClientOp::Cas { key, old, new } => {
            let op = KvOp::Cas {
                key: key.clone(),
                expected: Some(old.clone()),
                new: new.clone(),
            };
            match connect(op)?
                .cas(&key, Some(&old), &new)
                .map_err(write_failed)?
            {
                Ok(()) => println!("ok"),
                Err(Some(current)) => {
                    return Err(ClientFailure::Failed(format!(
                        "cas failed: {key} holds {current:?}, not {old:?}"
                    )))
                }
                Err(None) => {
                    return Err(ClientFailure::Failed(format!(
                        "cas failed: key not found: {key}"
                    )))
                }
            }
        }
        ClientOp::Status => status(&args.cluster, args.timeout)?,
        ClientOp::Bench(bench_args) => {
            bench::run(&args.cluster, args.id, args.timeout, &bench_args)?
        }
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
