//! The TCP transport between replica "processes" (three `ReplicaServer`s in this test's process,
//! each with its own sockets, exactly what `paxos-impl serve` runs): a client over TCP gets
//! answers, and garbage or an oversized frame closes only that connection while the replicas
//! keep serving. The admin requests on the same addresses: status, and partition orders
//! (obeyed only with fault injection on).

use paxos_impl::admin::{query_status, send_control, Control, RoleName, StatusReport};
use paxos_impl::client_ids::{ClientIds, CLIENT_ID_MIN};
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
    cluster_with(n, false)
}

fn cluster_with(n: usize, fault_injection: bool) -> (Vec<ReplicaServer>, Vec<SocketAddr>) {
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
                fault_injection,
                client_ids: Arc::new(ClientIds::in_memory(id, n)),
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
        write_frame::<paxos_model::state_machine::Register>(
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

fn statuses(addrs: &[SocketAddr]) -> Vec<StatusReport> {
    addrs
        .iter()
        .map(|a| query_status(*a, TIMEOUT).unwrap())
        .collect()
}

/// Waits until one replica leads a ballot above `above` and every replica applied `slot`.
fn settled(addrs: &[SocketAddr], above: paxos_model::types::Ballot, slot: u64) -> StatusReport {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let all = statuses(addrs);
        let leaders: Vec<_> = all
            .iter()
            .filter(|s| s.role == RoleName::Leader && s.ballot > above)
            .collect();
        let applied = all
            .iter()
            .all(|s| s.applied.is_some_and(|a| a.0 >= slot) && s.commit >= s.applied);
        if let ([leader], true) = (&leaders[..], applied) {
            return (*leader).clone();
        }
        assert!(Instant::now() < deadline, "never settled: {all:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn status_and_partition_orders_on_the_client_address() {
    let (servers, addrs) = cluster_with(3, true);
    let mut client = Client::over_tcp(ClientId(3), &addrs, TIMEOUT, 1).unwrap();
    client.write(Value(1)).unwrap();
    client.write(Value(2)).unwrap();
    let first = settled(&addrs, paxos_model::types::Ballot::ZERO, 1);
    for (id, s) in statuses(&addrs).iter().enumerate() {
        assert_eq!(s.replica as usize, id);
        assert!(s.promised >= first.ballot, "{s:?}");
        assert!(s.to_string().contains(" applied "), "{s}");
    }

    // Orders the replica cannot obey are refused and change nothing.
    let old = first.replica as usize;
    let e = send_control(
        addrs[old],
        Control::Isolate {
            peers: vec![old as u32],
        },
        TIMEOUT,
    );
    assert!(e.unwrap_err().to_string().contains("cannot isolate"));
    let (plain, plain_addrs) = cluster(1);
    let e = send_control(plain_addrs[0], Control::Heal, TIMEOUT).unwrap_err();
    assert!(e.to_string().contains("fault injection is off"), "{e}");
    drop(plain);

    // Cut the leader off from both others (each side drops both directions): the other two
    // elect a higher ballot and go on; the old leader commits nothing new.
    for (id, addr) in addrs.iter().enumerate() {
        let peers = if id == old {
            (0..3).filter(|p| *p != old as u32).collect()
        } else {
            vec![old as u32]
        };
        send_control(*addr, Control::Isolate { peers }, TIMEOUT).unwrap();
    }
    client.write(Value(3)).unwrap();
    let cut_off = query_status(addrs[old], TIMEOUT).unwrap();
    assert!(cut_off.commit.unwrap().0 < 2, "{cut_off:?}");
    assert!(servers[old].transport_stats().partitioned > 0);
    for addr in &addrs {
        send_control(*addr, Control::Heal, TIMEOUT).unwrap();
    }
    // Healed: everyone applies slot 2 (the third write) under one new leader.
    let second = settled(&addrs, first.ballot, 2);
    assert_ne!(second.ballot, first.ballot);
    assert_eq!(client.read().unwrap(), Value(3));
    for server in servers {
        server.stop();
    }
}

#[test]
fn new_clients_get_ids_no_other_client_had_from_any_replica() {
    let (_servers, addrs) = cluster(3);
    let mut ids = std::collections::BTreeSet::new();
    for seed in 0..6 {
        // Seeds 0..6 start at each replica twice.
        let mut client: Client = Client::connect(&addrs, TIMEOUT, seed).unwrap();
        assert!(client.id().0 >= CLIENT_ID_MIN, "{:?}", client.id());
        assert!(
            ids.insert(client.id()),
            "{:?} handed out twice",
            client.id()
        );
        client.write(Value(seed + 1)).unwrap();
        assert_eq!(client.read().unwrap(), Value(seed + 1));
    }
    let admin = paxos_impl::admin::new_client_id(addrs[1], TIMEOUT).unwrap();
    assert!(ids.insert(admin), "{admin:?} handed out twice");
}
