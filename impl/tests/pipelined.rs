//! Pipelined sessions: a client driver's session keeps up to the cluster's client window of
//! commands outstanding, each executed once and answered, whatever order they are decided in.

mod common;

use common::*;
use paxos_impl::ClientError;
use paxos_model::types::{Op, OpResult, Value};
use std::time::{Duration, Instant};

#[test]
fn a_session_keeps_its_window_full_and_every_command_is_answered_once() {
    // A network that delays every copy by up to 2 ms, so requests overtake each other.
    let cluster = start(3, 7, |cfg| {
        cfg.client_window = 4;
        cfg.faults.delay = Duration::ZERO..Duration::from_millis(2);
    });
    let mut driver = cluster.client_driver(2).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut done = Vec::new();
    let mut submitted = 0u64;
    let mut answered = 0;
    // 40 writes of distinct values per session, then a read each.
    while answered < 80 {
        for session in 0..2 {
            while submitted < 80 && driver.can_submit(session) {
                submitted += 1;
                driver.submit(session, Op::Write(Value(submitted))).unwrap();
            }
            assert!(driver.pending(session).len() <= 4, "the window holds");
        }
        if submitted < 80 {
            // The window is full: a fifth submit is refused, and nothing is lost by it.
            let full = (0..2).find(|s| !driver.can_submit(*s));
            if let Some(session) = full {
                let refused = driver.submit(session, Op::Read);
                assert!(
                    matches!(refused, Err(ClientError::Busy { .. })),
                    "{refused:?}"
                );
            }
        }
        driver.poll(deadline, &mut done).unwrap();
        assert!(
            Instant::now() < deadline,
            "no progress: {answered} answered"
        );
        for c in done.drain(..) {
            assert_eq!(c.result, OpResult::WriteOk);
            answered += 1;
        }
    }
    cluster.check_agreement().unwrap();
    // Every write ran exactly once: a read sees the last value decided, which is one of them.
    driver.submit(0, Op::Read).unwrap();
    driver.poll(deadline, &mut done).unwrap();
    assert!(matches!(done[0].result, OpResult::ReadOk(Value(v)) if (1..=80).contains(&v)));
    drop(driver);
    cluster.shutdown().unwrap();
}

#[test]
fn a_client_window_above_the_limit_is_refused() {
    let mut cfg = paxos_impl::ClusterConfig::new(3);
    cfg.client_window = paxos_impl::CLIENT_WINDOW_MAX + 1;
    let err = cfg.validate().unwrap_err().to_string();
    assert!(
        err.contains("--client-window must be between 1 and 64"),
        "{err}"
    );
    cfg.client_window = 0;
    assert!(cfg.validate().is_err());
}
