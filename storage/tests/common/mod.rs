//! Shared helpers for the storage integration tests: the test `TypeConfig`, entry builders, a
//! deterministic command generator and a replay oracle built on `State::apply`.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use openraft::storage::RaftLogStorageExt;
use openraft::testing::log_id;
use openraft::{BasicNode, Entry, EntryPayload, Membership};
use raftconnect_storage::model::{
    AssignmentChange, DirtyKeys, SinkOffsetCommit, SourceOffsetCommit, TargetState, WorkUnit,
};
use raftconnect_storage::{Command, LogStore, State};

openraft::declare_raft_types!(
    pub TypeConfig:
        D = raftconnect_storage::Command,
        R = raftconnect_storage::Response,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = std::io::Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type Log = LogStore<TypeConfig>;
pub type Sm = raftconnect_storage::StateMachine<TypeConfig>;

/// A normal entry at `index` (term 1, leader 1).
pub fn normal(index: u64, cmd: Command) -> Entry<TypeConfig> {
    Entry { log_id: log_id(1, 1, index), payload: EntryPayload::Normal(cmd) }
}

/// A membership entry at `index` (term 1, leader 1) with voters {1,2,3} and real node addresses.
pub fn membership(index: u64) -> Entry<TypeConfig> {
    let voters: BTreeSet<u64> = [1, 2, 3].into_iter().collect();
    let nodes: BTreeMap<u64, BasicNode> =
        voters.iter().map(|id| (*id, BasicNode::new(format!("127.0.0.1:{}", 7000 + id)))).collect();
    Entry { log_id: log_id(1, 1, index), payload: EntryPayload::Membership(Membership::new(vec![voters], nodes)) }
}

/// Append and wait for the durability callback.
pub async fn append(log: &mut Log, entries: Vec<Entry<TypeConfig>>) {
    log.blocking_append(entries).await.expect("append");
}

pub fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn put_connector(name: &str, topic: &str) -> Command {
    Command::PutConnector {
        name: name.into(),
        config: config(&[("connector.class", "FileStreamSource"), ("topic", topic)]),
        target_state: None,
    }
}

pub fn assign_task(connector: &str, task: u32, node: u64) -> Command {
    Command::Assign {
        changes: vec![AssignmentChange {
            unit: WorkUnit::Task { connector: connector.into(), task },
            node: Some(node),
        }],
    }
}

/// Source and sink offset commits from `node` for `connector`'s task 0 under `epoch`.
pub fn commit_offsets(node: u64, connector: &str, epoch: u64, offset: i64) -> Command {
    Command::CommitOffsets {
        node,
        source: vec![SourceOffsetCommit {
            connector: connector.into(),
            task: 0,
            epoch,
            partition: format!("{{\"file\":\"{connector}.txt\"}}"),
            offset: format!("{{\"position\":{offset}}}"),
        }],
        sink: vec![SinkOffsetCommit {
            connector: connector.into(),
            task: 0,
            epoch,
            topic: format!("{connector}-topic"),
            partition: (offset % 3) as i32,
            offset,
        }],
    }
}

/// The command the crash-test writer puts at log index `i` (i >= 2; index 1 is a membership
/// entry). Deterministic in `i`, so a rewritten index carries the same payload, and it exercises
/// creates, updates, deletes (key removals), assignments, fenced offset commits (some stale),
/// task configs, statuses and target-state changes.
pub fn command_for(i: u64) -> Command {
    let c = format!("c{}", (i / 20) % 4);
    // Within each block of 20 entries: create/update connector, assign its task 0 and connector
    // unit, then commit offsets under the epoch of the assignment.
    let block = i - i % 20;
    match i % 20 {
        0 => put_connector(&c, &format!("t{i}")),
        1 => Command::Assign {
            changes: vec![
                AssignmentChange { unit: WorkUnit::Task { connector: c.clone(), task: 0 }, node: Some(1 + i % 3) },
                AssignmentChange { unit: WorkUnit::Connector(c.clone()), node: Some(1 + i % 3) },
            ],
        },
        2 => Command::PutTaskConfigs {
            connector: c.clone(),
            epoch: block + 1,
            configs: vec![config(&[("task.class", "T"), ("i", &i.to_string())])],
        },
        3 => Command::ReportStatus {
            unit: WorkUnit::Task { connector: c.clone(), task: 0 },
            node: 1 + (block + 1) % 3,
            epoch: block + 1,
            state: raftconnect_storage::model::UnitState::Running,
            trace: None,
            restarts: 0,
            next_restart_ms: None,
        },
        // Deletes a connector; offsets stay, assignments/statuses/task configs go.
        17 if (i / 20) % 3 == 2 => Command::DeleteConnector { name: format!("c{}", ((i / 20) + 1) % 4) },
        18 => Command::SetTargetState {
            name: c.clone(),
            state: if i % 40 == 18 { TargetState::Paused } else { TargetState::Running },
        },
        // A stale commit (wrong node): rejected, must not change anything.
        19 => commit_offsets(99, &c, block + 1, i as i64),
        _ => commit_offsets(1 + (block + 1) % 3, &c, block + 1, i as i64),
    }
}

/// The entry the crash-test writer puts at index `i`.
pub fn entry_for(i: u64) -> Entry<TypeConfig> {
    if i == 1 {
        membership(1)
    } else {
        normal(i, command_for(i))
    }
}

/// Apply `entries` (normal ones; others carry no app state) to `state` with `State::apply`.
pub fn replay<'a>(state: &mut State, entries: impl IntoIterator<Item = &'a Entry<TypeConfig>>) {
    let mut dirty = DirtyKeys::new();
    for e in entries {
        if let EntryPayload::Normal(cmd) = &e.payload {
            state.apply(e.log_id.index, cmd, &mut dirty);
        }
    }
}

/// The state a snapshot body carries. Mirrors the crate's private `SnapshotBody { state }`;
/// bincode encodes a one-field struct exactly like its field.
pub fn snapshot_state(data: &[u8]) -> State {
    #[derive(serde::Deserialize)]
    struct Body {
        state: State,
    }
    raftconnect_storage::codec::decode_versioned::<Body>(data).expect("decode snapshot body").state
}
