//! `paxos-impl serve`: one replica of the key-value service ([`Kv`]) in this process, over TCP,
//! on its initialized data directory.
//!
//! Refusals (exit 2, one line on stderr): invalid arguments, a data directory that is missing,
//! not initialized, foreign (another cluster or id) or locked by another process, an address
//! that cannot be bound. Then it serves until killed; a replica that stops on its own (a
//! storage failure) ends the process with exit 1.

use super::args::ServeArgs;
use paxos_impl::client_ids::ClientIds;
use paxos_impl::kv::Kv;
use paxos_impl::storage::{DiskStorage, Identity};
use paxos_impl::{ReplicaServer, ServeConfig};
use std::net::TcpListener;
use std::sync::Arc;

/// Why `serve` did not start (exit 2), or stopped (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum ServeFailure {
    /// Refused before starting (exit 2).
    #[error("{0}")]
    Refused(String),
    /// The replica stopped on its own (exit 1).
    #[error("replica failed: {0}")]
    Failed(String),
}

/// Runs the replica until it fails (it never returns otherwise).
pub fn serve(args: ServeArgs) -> Result<(), ServeFailure> {
    let refused = |e: &dyn std::fmt::Display| ServeFailure::Refused(e.to_string());
    let peers = args.peers;
    let Some(peer_addr) = peers.get(args.id).copied() else {
        return Err(ServeFailure::Refused(format!(
            "--id {} is not an index of the {} --peers address(es)",
            args.id,
            peers.len()
        )));
    };
    let identity = Identity {
        cluster: args.cluster,
        replica: args.id,
    };
    let storage =
        DiskStorage::<Kv>::open_replica(&args.data_dir, &identity).map_err(|e| refused(&e))?;
    let client_ids = ClientIds::open(args.data_dir.clone(), args.id, peers.len())
        .map_err(|e| ServeFailure::Refused(format!("client ids: {e}")))?;
    let bind = |addr| {
        TcpListener::bind(addr)
            .map_err(|e| ServeFailure::Refused(format!("cannot listen on {addr}: {e}")))
    };
    let mut listeners = vec![bind(peer_addr)?];
    if let Some(client_addr) = args.client_addr.filter(|a| *a != peer_addr) {
        listeners.push(bind(client_addr)?);
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .init();
    let server = ReplicaServer::start(ServeConfig {
        id: args.id,
        peers,
        listeners,
        storage: Arc::new(storage),
        seed: args.seed.unwrap_or_else(rand::random),
        fault_injection: args.fault_injection,
        client_ids: Arc::new(client_ids),
    })
    .map_err(|e| refused(&e))?;
    let failure = server.wait();
    tracing::error!(replica = args.id, %failure, "replica stopped");
    Err(ServeFailure::Failed(failure))
}
