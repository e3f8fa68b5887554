//! What openraft's suite cannot see (reference §1.10, §2.1): reopen after drop keeps vote, log,
//! committed and state; a snapshot install replaces the whole state machine; a snapshot file
//! newer than the persisted state is restored at open; corrupt snapshots are refused.

mod common;

use std::io::Cursor;
use std::path::Path;

use common::*;
use openraft::storage::{RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::testing::log_id;
use openraft::{RaftLogReader, RaftSnapshotBuilder, Vote};
use raftconnect_storage::model::{Rejection, WorkUnit};
use raftconnect_storage::store::validate_snapshot_data;
use raftconnect_storage::{open, OpenError, Response, State};

fn open_store(dir: &Path) -> (Log, Sm) {
    open::<TypeConfig>(dir).expect("open store")
}

/// Everything observable about a store, for before/after comparisons.
#[derive(Debug, PartialEq)]
struct Observed {
    log_state: openraft::storage::LogState<TypeConfig>,
    entries: Vec<openraft::Entry<TypeConfig>>,
    vote: Option<Vote<u64>>,
    committed: Option<openraft::LogId<u64>>,
    applied: Option<openraft::LogId<u64>>,
    membership: openraft::StoredMembership<u64, openraft::BasicNode>,
    handle_state: State,
    handle_applied: Option<openraft::LogId<u64>>,
    watch_index: u64,
}

async fn observe(log: &mut Log, sm: &mut Sm) -> Observed {
    let log_state = log.get_log_state().await.unwrap();
    let entries = log.try_get_log_entries(..).await.unwrap();
    let vote = log.read_vote().await.unwrap();
    let committed = log.read_committed().await.unwrap();
    let (applied, membership) = sm.applied_state().await.unwrap();
    let handle = sm.handle();
    let (handle_state, handle_applied) = handle.read(|a| (a.state.clone(), a.last_applied));
    let watch_index = *handle.applied_watch().borrow();
    Observed { log_state, entries, vote, committed, applied, membership, handle_state, handle_applied, watch_index }
}

/// Store A's history: connectors x and y, x's task 0 assigned, offsets committed, a node.
fn history_a() -> Vec<openraft::Entry<TypeConfig>> {
    vec![
        membership(1),
        normal(2, put_connector("x", "tx")),
        normal(3, put_connector("y", "ty")),
        normal(4, assign_task("x", 0, 1)),
        normal(5, commit_offsets(1, "x", 4, 42)),
        normal(
            6,
            raftconnect_storage::Command::RegisterNode {
                id: 1,
                rest_url: "http://n1:8083".into(),
                incarnation: "inc-1".into(),
            },
        ),
    ]
}

/// Store B's history: only connector z (and its offsets), up to index 7.
fn history_b() -> Vec<openraft::Entry<TypeConfig>> {
    vec![
        membership(1),
        normal(2, put_connector("z", "tz")),
        normal(3, assign_task("z", 0, 2)),
        normal(4, commit_offsets(2, "z", 3, 7)),
        openraft::testing::blank_ent::<TypeConfig>(1, 1, 5),
        normal(6, put_connector("z", "tz2")),
        normal(7, commit_offsets(2, "z", 3, 8)),
    ]
}

/// Append and apply `entries` to a fresh store in `dir`, build a snapshot, return it.
async fn build_snapshot_in(dir: &Path, entries: Vec<openraft::Entry<TypeConfig>>) -> (Snapshot<TypeConfig>, State) {
    let (mut log, mut sm) = open_store(dir);
    append(&mut log, entries.clone()).await;
    sm.apply(entries).await.unwrap();
    let snap = sm.get_snapshot_builder().await.build_snapshot().await.unwrap();
    let state = sm.handle().read(|a| a.state.clone());
    (snap, state)
}

#[tokio::test]
async fn vote_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let vote = Vote::new_committed(7, 3);
    {
        let (mut log, sm) = open_store(dir.path());
        assert_eq!(log.read_vote().await.unwrap(), None);
        log.save_vote(&Vote::new(6, 2)).await.unwrap();
        log.save_vote(&vote).await.unwrap();
        drop(sm);
    }
    let (mut log, _sm) = open_store(dir.path());
    assert_eq!(log.read_vote().await.unwrap(), Some(vote));
}

#[tokio::test]
async fn reopen_after_drop_keeps_log_vote_committed_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut entries = history_a();
    entries.push(normal(7, raftconnect_storage::Command::DeleteConnector { name: "y".into() }));
    entries.push(normal(8, commit_offsets(1, "x", 4, 43)));
    entries.push(normal(9, put_connector("w", "tw")));
    entries.push(normal(10, put_connector("v", "tv")));

    let before = {
        let (mut log, mut sm) = open_store(dir.path());
        append(&mut log, entries[..5].to_vec()).await;
        append(&mut log, entries[5..].to_vec()).await;
        log.save_vote(&Vote::new_committed(1, 1)).await.unwrap();
        log.save_committed(Some(log_id(1, 1, 9))).await.unwrap();
        // Apply in two batches, up to 9 (10 stays unapplied).
        let r1 = sm.apply(entries[..4].to_vec()).await.unwrap();
        let r2 = sm.apply(entries[4..9].to_vec()).await.unwrap();
        assert_eq!(r1.len() + r2.len(), 9);
        assert!(r1.iter().chain(&r2).all(|r| *r == Response::Applied), "{r1:?} {r2:?}");
        log.purge(log_id(1, 1, 3)).await.unwrap();

        let o = observe(&mut log, &mut sm).await;
        // Sanity: the store itself reports what we wrote.
        assert_eq!(o.log_state.last_purged_log_id, Some(log_id(1, 1, 3)));
        assert_eq!(o.log_state.last_log_id, Some(log_id(1, 1, 10)));
        assert_eq!(o.entries, entries[3..].to_vec());
        assert_eq!(o.applied, Some(log_id(1, 1, 9)));
        assert_eq!(o.membership.log_id(), &Some(log_id(1, 1, 1)));
        assert_eq!(o.watch_index, 9);
        let s = &o.handle_state;
        assert!(s.connectors.contains_key("x") && s.connectors.contains_key("w"));
        assert!(!s.connectors.contains_key("y") && !s.connectors.contains_key("v"));
        assert_eq!(s.sink_offsets.len(), 2, "{:?}", s.sink_offsets);
        assert_eq!(s.nodes.len(), 1);
        let mut replayed = State::default();
        replay(&mut replayed, &entries[..9]);
        assert_eq!(*s, replayed);
        o
    };

    let (mut log, mut sm) = open_store(dir.path());
    let after = observe(&mut log, &mut sm).await;
    assert_eq!(after, before);

    // The reopened log continues where it was, and the reopened state applies on top.
    append(&mut log, vec![normal(11, put_connector("u", "tu"))]).await;
    let r = sm.apply(log.try_get_log_entries(10..12).await.unwrap()).await.unwrap();
    assert_eq!(r, vec![Response::Applied, Response::Applied]);
    let mut replayed = State::default();
    replay(&mut replayed, &entries);
    replay(&mut replayed, &[normal(11, put_connector("u", "tu"))]);
    assert_eq!(sm.handle().read(|a| a.state.clone()), replayed);
}

#[tokio::test]
async fn purge_all_and_reopen_keeps_log_state() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _sm) = open_store(dir.path());
        append(&mut log, (1..=5).map(entry_for).collect()).await;
        log.purge(log_id(1, 1, 5)).await.unwrap();
    }
    let (mut log, _sm) = open_store(dir.path());
    let st = log.get_log_state().await.unwrap();
    assert_eq!(st.last_purged_log_id, Some(log_id(1, 1, 5)));
    assert_eq!(st.last_log_id, Some(log_id(1, 1, 5)));
    assert!(log.try_get_log_entries(..).await.unwrap().is_empty());
}

/// A crash in `purge` after `last_purged` reached disk but before the deletions did leaves
/// entries below `last_purged` (the store's own comment calls this harmless). When the purge
/// went beyond the end of the log (openraft purges up to an installed snapshot's last log id),
/// `get_log_state` must still report `last_log_id >= last_purged_log_id`.
#[tokio::test]
async fn interrupted_purge_beyond_log_end_keeps_log_state_consistent() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _sm) = open_store(dir.path());
        append(&mut log, (1..=5).map(entry_for).collect()).await;
    }
    // Simulate the crash state: `last_purged` = 20 persisted, the log's deletions lost.
    {
        let db = sled::open(dir.path().join("sled")).unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert("last_purged", raftconnect_storage::codec::encode_versioned(&log_id::<u64>(1, 1, 20))).unwrap();
        db.flush().unwrap();
    }
    let (mut log, _sm) = open_store(dir.path());
    let st = log.get_log_state().await.unwrap();
    assert_eq!(st.last_purged_log_id, Some(log_id(1, 1, 20)));
    assert_eq!(st.last_log_id, Some(log_id(1, 1, 20)), "last_log_id must be max(last entry, last purged)");
    // The log continues after the purge point without a hole.
    append(&mut log, vec![normal(21, put_connector("a", "t"))]).await;
    let st = log.get_log_state().await.unwrap();
    assert_eq!(st.last_log_id, Some(log_id(1, 1, 21)));
    assert_eq!(log.try_get_log_entries(21..22).await.unwrap().len(), 1);
    // The log view skips the leftovers below `last_purged`.
    let view: Vec<u64> = log.read_entries(0, 100).unwrap().iter().map(|e| e.log_id.index).collect();
    assert_eq!(view, vec![21]);
}

#[tokio::test]
async fn snapshot_install_over_populated_state_leaves_no_stale_keys() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();

    let (snap, state_b) = build_snapshot_in(dir_b.path(), history_b()).await;
    assert_eq!(snap.meta.last_log_id, Some(log_id(1, 1, 7)));
    assert_eq!(state_b.connectors.keys().collect::<Vec<_>>(), vec!["z"]);
    assert_eq!(state_b.source_offsets.len(), 1);
    let snap_data = snap.snapshot.get_ref().clone();

    {
        let (mut log, mut sm) = open_store(dir_a.path());
        append(&mut log, history_a()).await;
        sm.apply(history_a()).await.unwrap();
        let before = sm.handle().read(|a| a.state.clone());
        assert!(before.connectors.contains_key("x") && before.connectors.contains_key("y"));
        assert!(!before.source_offsets.is_empty() && !before.sink_offsets.is_empty());
        assert!(!before.assignments.is_empty() && !before.nodes.is_empty());

        let handle = sm.handle();
        sm.install_snapshot(&snap.meta, Box::new(Cursor::new(snap_data.clone()))).await.unwrap();

        assert_eq!(handle.read(|a| a.state.clone()), state_b, "state after install");
        assert_eq!(handle.read(|a| a.last_applied), Some(log_id(1, 1, 7)));
        assert_eq!(*handle.applied_watch().borrow(), 7);
        let (applied, membership) = sm.applied_state().await.unwrap();
        assert_eq!(applied, snap.meta.last_log_id);
        assert_eq!(membership, snap.meta.last_membership);

        let current = sm.get_current_snapshot().await.unwrap().expect("current snapshot");
        assert_eq!(current.meta, snap.meta);
        assert_eq!(current.snapshot.into_inner(), snap_data);
    }

    // From disk: x and y (and their offsets, assignment, node) are gone there too.
    let (_log, mut sm) = open_store(dir_a.path());
    let reopened = sm.handle().read(|a| a.state.clone());
    assert_eq!(reopened, state_b, "state after reopen");
    assert!(!reopened.connectors.contains_key("x") && !reopened.connectors.contains_key("y"));
    assert!(reopened.nodes.is_empty());
    assert_eq!(sm.applied_state().await.unwrap(), (snap.meta.last_log_id, snap.meta.last_membership.clone()));
    let current = sm.get_current_snapshot().await.unwrap().expect("current snapshot after reopen");
    assert_eq!(current.meta, snap.meta);
    assert_eq!(current.snapshot.into_inner(), snap_data);
}

#[tokio::test]
async fn reopen_restores_state_from_newer_snapshot_file() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let (snap, state_b) = build_snapshot_in(dir_b.path(), history_b()).await;

    // A applied up to 3 (x and y), then "crashed" after the snapshot file (index 7) was written
    // but before its state replaced A's: copy B's snapshot file in while A is closed.
    {
        let (mut log, mut sm) = open_store(dir_a.path());
        append(&mut log, history_a()).await;
        sm.apply(history_a()[..3].to_vec()).await.unwrap();
        assert_eq!(sm.applied_state().await.unwrap().0, Some(log_id(1, 1, 3)));
    }
    std::fs::copy(dir_b.path().join("snapshot.bin"), dir_a.path().join("snapshot.bin")).unwrap();

    for round in 0..2 {
        let (_log, mut sm) = open_store(dir_a.path());
        assert_eq!(sm.handle().read(|a| a.state.clone()), state_b, "round {round}");
        assert_eq!(sm.applied_state().await.unwrap(), (snap.meta.last_log_id, snap.meta.last_membership.clone()));
        assert_eq!(*sm.handle().applied_watch().borrow(), 7);
        assert_eq!(sm.get_current_snapshot().await.unwrap().expect("snapshot").meta, snap.meta);
    }
}

#[tokio::test]
async fn reopen_ignores_snapshot_file_older_than_applied() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    // B's snapshot covers index 3 only.
    let (snap, state_b) = build_snapshot_in(dir_b.path(), history_b()[..3].to_vec()).await;
    assert_eq!(snap.meta.last_log_id, Some(log_id(1, 1, 3)));

    let state_a = {
        let (mut log, mut sm) = open_store(dir_a.path());
        append(&mut log, history_a()).await;
        sm.apply(history_a()).await.unwrap();
        sm.handle().read(|a| a.state.clone())
    };
    assert_ne!(state_a, state_b);
    std::fs::copy(dir_b.path().join("snapshot.bin"), dir_a.path().join("snapshot.bin")).unwrap();

    let (_log, mut sm) = open_store(dir_a.path());
    assert_eq!(sm.handle().read(|a| a.state.clone()), state_a);
    assert_eq!(sm.applied_state().await.unwrap().0, Some(log_id(1, 1, 6)));
}

#[tokio::test]
async fn corrupt_snapshot_body_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (snap, _) = build_snapshot_in(dir.path(), history_b()).await;
    let good = snap.snapshot.get_ref().clone();
    validate_snapshot_data(&good).expect("a built snapshot validates");

    let mut wrong_version = good.clone();
    wrong_version[0] = 0xEE;
    let mut hostile_len = vec![raftconnect_storage::codec::FORMAT_VERSION];
    hostile_len.extend_from_slice(&(1u64 << 40).to_le_bytes());
    hostile_len.extend_from_slice(&[0u8; 32]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("version byte only", good[..1].to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("wrong version", wrong_version),
        ("hostile length", hostile_len),
        (
            "garbage",
            vec![raftconnect_storage::codec::FORMAT_VERSION, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2],
        ),
    ];
    for (what, data) in &cases {
        assert!(validate_snapshot_data(data).is_err(), "{what} must be rejected");
    }

    // install_snapshot refuses it too, leaving state and current snapshot as they were.
    let dir_a = tempfile::tempdir().unwrap();
    let (mut log, mut sm) = open_store(dir_a.path());
    append(&mut log, history_a()).await;
    sm.apply(history_a()).await.unwrap();
    let before = sm.handle().read(|a| a.state.clone());
    let mut meta = snap.meta.clone();
    meta.last_log_id = Some(log_id(1, 1, 50));
    let res = sm.install_snapshot(&meta, Box::new(Cursor::new(cases[2].1.clone()))).await;
    assert!(res.is_err(), "install of a truncated snapshot must fail");
    assert_eq!(sm.handle().read(|a| a.state.clone()), before);
    assert_eq!(sm.applied_state().await.unwrap().0, Some(log_id(1, 1, 6)));
    assert!(sm.get_current_snapshot().await.unwrap().is_none());
}

#[tokio::test]
async fn open_refuses_a_directory_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let (log, sm) = open_store(dir.path());
    match open::<TypeConfig>(dir.path()) {
        Err(OpenError::Locked(p)) => assert_eq!(p, dir.path()),
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("second open of a live directory succeeded"),
    }
    drop((log, sm));
    // Once every handle is gone the directory opens again.
    open::<TypeConfig>(dir.path()).expect("reopen after drop");
}

#[tokio::test]
async fn fenced_offset_commit_is_rejected_through_the_store() {
    // The response of a rejected command reaches openraft's client via `apply`.
    let dir = tempfile::tempdir().unwrap();
    let (mut log, mut sm) = open_store(dir.path());
    let entries = vec![
        normal(1, put_connector("x", "t")),
        normal(2, assign_task("x", 0, 1)),
        normal(3, commit_offsets(2, "x", 2, 5)),
    ];
    append(&mut log, entries.clone()).await;
    let r = sm.apply(entries).await.unwrap();
    // Both items (source and sink) are fenced; nothing applied.
    match &r[2] {
        Response::PartiallyApplied { applied: 0, rejected } => {
            assert_eq!(rejected.len(), 2);
            for rej in rejected {
                assert!(
                    matches!(rej, Rejection::StaleEpoch { unit: WorkUnit::Task { .. }, node: 2, epoch: 2, .. }),
                    "{rej:?}"
                );
            }
        }
        other => panic!("expected both commits rejected, got {other:?}"),
    }
    assert!(sm.handle().read(|a| a.state.source_offsets.is_empty() && a.state.sink_offsets.is_empty()));
}
