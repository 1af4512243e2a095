//! The recorder's history file: client invocations and returns only, in time order. (Whether a
//! recording replays through the model is checked once, by the property tests' replay:
//! `proptests/src/replay.rs`.)

mod common;

use common::*;
use paxos_impl::record::{read_events, EventKind, RecorderConfig};
use paxos_impl::Recorder;

#[test]
fn a_history_file_holds_client_events_only() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let recorder = Recorder::new(RecorderConfig {
        history: Some(history.clone()),
        ..RecorderConfig::default()
    })
    .unwrap();
    let cluster = start(3, 42, |cfg| cfg.recorder = Some(recorder));
    let mut client = cluster.client().unwrap();
    write_all(&mut client, 1..=3);
    cluster.shutdown().unwrap();
    let events = read_events(&history).unwrap();
    assert_eq!(events.len(), 8, "4 invocations, 4 returns");
    assert!(events
        .iter()
        .all(|e| matches!(e.kind, EventKind::Invoke { .. } | EventKind::Return { .. })));
    assert!(events.windows(2).all(|w| w[0].at_us <= w[1].at_us));
}
