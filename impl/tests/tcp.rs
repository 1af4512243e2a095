//! The TCP transport between replica "processes" (three `ReplicaServer`s in this test's process,
//! each with its own sockets, exactly what `paxos-impl serve` runs): a client over TCP gets
//! answers, and garbage or an oversized frame closes only that connection while the replicas
//! keep serving.

use paxos_impl::storage::MemoryStorage;
use paxos_impl::tcp::{write_frame, Wire, FRAME_BYTES_MAX};
use paxos_impl::{Client, ReplicaServer, ServeConfig};
use paxos_model::types::{ClientId, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

fn cluster(n: usize) -> (Vec<ReplicaServer>, Vec<SocketAddr>) {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    let servers = listeners
        .into_iter()
        .enumerate()
        .map(|(id, listener)| {
            ReplicaServer::start(ServeConfig {
                id,
                peers: addrs.clone(),
                listeners: vec![listener],
                storage: Arc::new(MemoryStorage::new()),
                seed: 7 + id as u64,
            })
            .unwrap()
        })
        .collect();
    (servers, addrs)
}

/// Sends `bytes` on a fresh connection and waits until the replica closes it.
fn closed_after(addr: SocketAddr, bytes: &[u8]) -> bool {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(bytes).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 16];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        // A reset is a close too; a timeout is not.
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn a_client_over_tcp_survives_garbage_and_oversized_frames() {
    let (servers, addrs) = cluster(3);
    let mut client = Client::over_tcp(ClientId(3), &addrs, TIMEOUT, 1).unwrap();
    client.write(Value(7)).unwrap();
    assert_eq!(client.read().unwrap(), Value(7));

    for addr in &addrs {
        // Bytes that are no frame: a length, then a body that does not decode.
        let mut garbage = 9u32.to_le_bytes().to_vec();
        garbage.extend_from_slice(b"\xff\xff\xff\xffgarbage");
        assert!(closed_after(*addr, &garbage), "garbage to {addr}");
        // A length beyond the limit: refused before reading (or allocating) the body.
        assert!(
            closed_after(*addr, &(FRAME_BYTES_MAX + 1).to_le_bytes()),
            "oversized frame to {addr}"
        );
        // A message before any hello.
        let mut early = Vec::new();
        write_frame(
            &mut early,
            &Wire::Msg(paxos_model::msg::Msg::Reply {
                request: paxos_model::types::RequestId(1),
                result: paxos_model::types::OpResult::WriteOk,
            }),
        )
        .unwrap();
        assert!(
            closed_after(*addr, &early),
            "message before hello to {addr}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while servers
        .iter()
        .any(|s| s.transport_stats().frames_rejected < 3)
    {
        assert!(Instant::now() < deadline, "rejections not counted");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Every replica is still up and the cluster still serves.
    assert!(servers.iter().all(|s| !s.failed()));
    client.write(Value(8)).unwrap();
    assert_eq!(client.read().unwrap(), Value(8));
    let mut other = Client::over_tcp(ClientId(4), &addrs, TIMEOUT, 2).unwrap();
    assert_eq!(other.read().unwrap(), Value(8));
    for server in servers {
        server.stop();
    }
}
