//! Golden encodings of everything the storage writes to disk or sends between nodes.
//!
//! bincode encodes an enum as its variant index (u32, little endian) followed by its fields in
//! declaration order, with no names and no tags. So a log written by one build is readable by
//! the next only if no variant moved, none was inserted before the last one, and no field of an
//! existing variant or record changed type, order or presence. Each value below has fixed
//! contents (every list and option filled, so element types are pinned too) and its encoding is
//! compared to hex checked in here; the hex was produced once by the encoder and pasted.
//!
//! Adding a variant: add it at the end of its enum, add a sample and an arm in the matching
//! `golden_*` function (whose `match` has no wildcard, so a new variant does not compile until it
//! has one), run the test and paste the hex its failure prints. Never change an existing hex
//! string: if one no longer matches, the change breaks stored logs and snapshots.

mod common;

use std::collections::BTreeMap;

use openraft::testing::log_id;
use openraft::{Entry, EntryPayload};
use raftconnect_storage::codec::{self, encode, encode_versioned};
use raftconnect_storage::model::{
    Assignment, AssignmentChange, ConfigMap, ConnectorRecord, Key, LoggerLevel, NodeRecord, Rejection,
    SinkOffsetCommit, SinkPartitions, SourceOffsetCommit, StagedSinkPartitions, StagedTaskConfigs, StatusRecord,
    StatusReport, TargetState, TaskConfigs, TopicPartition, UnitState, WorkUnit,
};
use raftconnect_storage::{Command, Response, State};
use serde::de::DeserializeOwned;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn assert_golden(what: &str, bytes: &[u8], expected: &str) {
    assert_eq!(
        hex(bytes),
        expected,
        "the encoding of {what} changed: stored logs and snapshots would no longer decode"
    );
}

/// Every sample of an enum, in declaration order: sample `i` encodes variant index `i`, and
/// index `samples.len()` is not a variant (so the samples cover the whole enum).
fn assert_covers_every_variant<T: DeserializeOwned + std::fmt::Debug>(what: &str, encodings: &[Vec<u8>]) {
    for (i, bytes) in encodings.iter().enumerate() {
        assert_eq!(bytes[..4], (i as u32).to_le_bytes(), "{what} sample {i} is not variant {i}");
    }
    let mut past_the_end = (encodings.len() as u32).to_le_bytes().to_vec();
    past_the_end.extend_from_slice(&[0; 64]);
    let err = codec::decode::<T>(&past_the_end).expect_err("a variant beyond the samples decoded");
    assert!(
        err.to_string().contains(&format!("variant index 0 <= i < {}", encodings.len())),
        "{what} has a variant without a golden sample: {err}"
    );
}

fn cfg() -> ConfigMap {
    [("k".to_string(), "v".to_string())].into_iter().collect()
}

fn conn() -> WorkUnit {
    WorkUnit::Connector("c".into())
}

fn task(t: u32) -> WorkUnit {
    WorkUnit::Task { connector: "c".into(), task: t }
}

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition { topic: topic.into(), partition }
}

/// One command of every variant, in declaration order.
fn command_samples() -> Vec<Command> {
    vec![
        Command::RegisterNode { id: 1, rest_url: "u".into(), incarnation: "i".into() },
        Command::MarkNodeLeaving { id: 2 },
        Command::ForgetNode { id: 3 },
        Command::PutConnector { name: "c".into(), config: cfg(), target_state: Some(TargetState::Paused) },
        Command::DeleteConnector { name: "c".into() },
        Command::SetTargetState { name: "c".into(), state: TargetState::Stopped },
        Command::PutTaskConfigs { connector: "c".into(), epoch: 4, configs: vec![cfg()] },
        Command::Assign {
            changes: vec![
                AssignmentChange { unit: conn(), node: Some(1) },
                AssignmentChange { unit: task(0), node: None },
            ],
        },
        Command::CommitOffsets {
            node: 1,
            source: vec![SourceOffsetCommit {
                connector: "c".into(),
                task: 0,
                epoch: 5,
                partition: "p".into(),
                offset: "o".into(),
            }],
            sink: vec![SinkOffsetCommit {
                connector: "c".into(),
                task: 1,
                epoch: 6,
                topic: "t".into(),
                partition: 2,
                offset: -7,
            }],
        },
        Command::AssignSinkPartitions { connector: "c".into(), generation: 8, tasks: vec![vec![tp("t", 0)]] },
        Command::AlterOffsets {
            connector: "c".into(),
            reset: true,
            source: vec![("p".into(), Some("o".into())), ("q".into(), None)],
            sink: vec![("t".into(), 1, Some(9)), ("t".into(), 2, None)],
        },
        Command::ReportStatus {
            unit: task(1),
            node: 2,
            epoch: 9,
            state: UnitState::Failed,
            trace: Some("x".into()),
            restarts: 3,
            next_restart_ms: Some(10),
        },
        Command::CreateConnector {
            name: "c".into(),
            request_id: "r".into(),
            config: cfg(),
            target_state: TargetState::Running,
            source_offsets: vec![("p".into(), "o".into())],
            sink_offsets: vec![("t".into(), 0, 11)],
        },
        Command::RequestRestart { connector: "c".into(), include_tasks: true, only_failed: false },
        Command::SetLoggerLevel { logger: "l".into(), level: "DEBUG".into() },
        Command::RequestTaskRestart { connector: "c".into(), task: 4 },
        Command::Revoke { units: vec![conn(), task(2)] },
        Command::ReleaseUnits { node: 3, units: vec![(task(0), 12)] },
        Command::PutTaskConfigsPart { connector: "c".into(), epoch: 13, part: 1, parts: 2, configs: vec![cfg()] },
        Command::SpreadSinkPartitionsPart {
            connector: "c".into(),
            generation: 14,
            task_count: 2,
            part: 0,
            parts: 3,
            tasks: vec![(1, vec![tp("t", 3)])],
        },
        Command::ReportStatuses {
            node: 4,
            reports: vec![StatusReport {
                unit: conn(),
                epoch: 15,
                state: UnitState::Restarting,
                trace: None,
                restarts: 0,
                next_restart_ms: None,
            }],
        },
        Command::Batch { commands: vec![Command::DeleteConnector { name: "d".into() }] },
    ]
}

/// The golden encoding of each command sample. No wildcard arm: a new variant needs a case.
fn golden_command(cmd: &Command) -> &'static str {
    match cmd {
        Command::RegisterNode { .. } => "000000000100000000000000010000000000000075010000000000000069",
        Command::MarkNodeLeaving { .. } => "010000000200000000000000",
        Command::ForgetNode { .. } => "020000000300000000000000",
        Command::PutConnector { .. } => {
            "03000000010000000000000063010000000000000001000000000000006b0100000000000000760101000000"
        }
        Command::DeleteConnector { .. } => "04000000010000000000000063",
        Command::SetTargetState { .. } => "0500000001000000000000006302000000",
        Command::PutTaskConfigs { .. } => concat!(
            "0600000001000000000000006304000000000000000100000000000000010000000000000001000000000000006b0100",
            "00000000000076",
        ),
        Command::Assign { .. } => concat!(
            "070000000200000000000000000000000100000000000000630101000000000000000100000001000000000000006300",
            "00000000",
        ),
        Command::CommitOffsets { .. } => concat!(
            "080000000100000000000000010000000000000001000000000000006300000000050000000000000001000000000000",
            "007001000000000000006f01000000000000000100000000000000630100000006000000000000000100000000000000",
            "7402000000f9ffffffffffffff",
        ),
        Command::AssignSinkPartitions { .. } => concat!(
            "090000000100000000000000630800000000000000010000000000000001000000000000000100000000000000740000",
            "0000",
        ),
        Command::AlterOffsets { .. } => concat!(
            "0a0000000100000000000000630102000000000000000100000000000000700101000000000000006f01000000000000",
            "0071000200000000000000010000000000000074010000000109000000000000000100000000000000740200000000",
        ),
        Command::ReportStatus { .. } => concat!(
            "0b0000000100000001000000000000006301000000020000000000000009000000000000000400000001010000000000",
            "00007803000000010a00000000000000",
        ),
        Command::CreateConnector { .. } => concat!(
            "0c000000010000000000000063010000000000000072010000000000000001000000000000006b010000000000000076",
            "00000000010000000000000001000000000000007001000000000000006f010000000000000001000000000000007400",
            "0000000b00000000000000",
        ),
        Command::RequestRestart { .. } => "0d0000000100000000000000630100",
        Command::SetLoggerLevel { .. } => "0e00000001000000000000006c05000000000000004445425547",
        Command::RequestTaskRestart { .. } => "0f00000001000000000000006304000000",
        Command::Revoke { .. } => {
            "100000000200000000000000000000000100000000000000630100000001000000000000006302000000"
        }
        Command::ReleaseUnits { .. } => {
            "110000000300000000000000010000000000000001000000010000000000000063000000000c00000000000000"
        }
        Command::PutTaskConfigsPart { .. } => concat!(
            "120000000100000000000000630d00000000000000010000000200000001000000000000000100000000000000010000",
            "00000000006b010000000000000076",
        ),
        Command::SpreadSinkPartitionsPart { .. } => concat!(
            "130000000100000000000000630e00000000000000020000000000000003000000010000000000000001000000010000",
            "000000000001000000000000007403000000",
        ),
        Command::ReportStatuses { .. } => concat!(
            "1400000004000000000000000100000000000000000000000100000000000000630f0000000000000005000000000000",
            "000000",
        ),
        Command::Batch { .. } => "15000000010000000000000004000000010000000000000064",
    }
}

/// Every command variant: its bincode encoding, as carried in log entries and forwarded writes.
#[test]
fn command_encodings_are_pinned() {
    let samples = command_samples();
    for cmd in &samples {
        assert_golden(cmd.kind(), &encode(cmd), golden_command(cmd));
    }
    assert_covers_every_variant::<Command>("Command", &samples.iter().map(encode).collect::<Vec<_>>());
}

/// A whole log entry as the log store writes it: the format-version byte, then openraft's
/// `Entry` (log id, then the payload enum) around the command.
#[test]
fn log_entry_encoding_is_pinned() {
    let entry: Entry<common::TypeConfig> =
        Entry { log_id: log_id(2, 1, 5), payload: EntryPayload::Normal(Command::DeleteConnector { name: "c".into() }) };
    assert_golden(
        "a log entry",
        &encode_versioned(&entry),
        "010200000000000000010000000000000005000000000000000100000004000000010000000000000063",
    );
}

fn rejection_samples() -> Vec<Rejection> {
    vec![
        Rejection::UnknownConnector { name: "c".into() },
        Rejection::UnknownNode { id: 1 },
        Rejection::StaleEpoch {
            unit: task(0),
            node: 1,
            epoch: 2,
            current: Some(Assignment { node: 3, epoch: 4, revoking: true }),
        },
        Rejection::NotStopped { name: "c".into() },
        Rejection::IncarnationMismatch { id: 2 },
        Rejection::UnknownTask { connector: "c".into(), task: 5 },
        Rejection::AlreadyExists { name: "c".into() },
        Rejection::ConnectorStopped { name: "c".into() },
        Rejection::PartitionNotOwned { connector: "c".into(), task: 6, topic: "t".into(), partition: 7 },
        Rejection::StaleGeneration { connector: "c".into(), generation: 8 },
        Rejection::PartOutOfOrder { connector: "c".into(), part: 9, expected: 10 },
        Rejection::NotBatchable { kind: "batch".into() },
    ]
}

fn golden_rejection(r: &Rejection) -> &'static str {
    match r {
        Rejection::UnknownConnector { .. } => "00000000010000000000000063",
        Rejection::UnknownNode { .. } => "010000000100000000000000",
        Rejection::StaleEpoch { .. } => concat!(
            "020000000100000001000000000000006300000000010000000000000002000000000000000103000000000000000400",
            "00000000000001",
        ),
        Rejection::NotStopped { .. } => "03000000010000000000000063",
        Rejection::IncarnationMismatch { .. } => "040000000200000000000000",
        Rejection::UnknownTask { .. } => "0500000001000000000000006305000000",
        Rejection::AlreadyExists { .. } => "06000000010000000000000063",
        Rejection::ConnectorStopped { .. } => "07000000010000000000000063",
        Rejection::PartitionNotOwned { .. } => "080000000100000000000000630600000001000000000000007407000000",
        Rejection::StaleGeneration { .. } => "090000000100000000000000630800000000000000",
        Rejection::PartOutOfOrder { .. } => "0a000000010000000000000063090000000a000000",
        Rejection::NotBatchable { .. } => "0b00000005000000000000006261746368",
    }
}

fn response_samples() -> Vec<Response> {
    vec![
        Response::Applied,
        Response::Rejected(Rejection::UnknownNode { id: 1 }),
        Response::PartiallyApplied { applied: 2, rejected: vec![Rejection::UnknownConnector { name: "c".into() }] },
        Response::Batch(vec![Response::Applied, Response::Rejected(Rejection::AlreadyExists { name: "c".into() })]),
    ]
}

fn golden_response(r: &Response) -> &'static str {
    match r {
        Response::Applied => "00000000",
        Response::Rejected(_) => "01000000010000000100000000000000",
        Response::PartiallyApplied { .. } => "0200000002000000010000000000000000000000010000000000000063",
        Response::Batch(_) => "030000000200000000000000000000000100000006000000010000000000000063",
    }
}

/// Every rejection and response variant: a forwarded write's answer travels back in them.
#[test]
fn response_and_rejection_encodings_are_pinned() {
    let rejections = rejection_samples();
    for r in &rejections {
        assert_golden(&format!("{r:?}"), &encode(r), golden_rejection(r));
    }
    assert_covers_every_variant::<Rejection>("Rejection", &rejections.iter().map(encode).collect::<Vec<_>>());
    let responses = response_samples();
    for r in &responses {
        assert_golden(&format!("{r:?}"), &encode(r), golden_response(r));
    }
    assert_covers_every_variant::<Response>("Response", &responses.iter().map(encode).collect::<Vec<_>>());
}

fn key_samples() -> Vec<Key> {
    vec![
        Key::Connector("c".into()),
        Key::TaskConfigs("c".into()),
        Key::Assignment(task(1)),
        Key::SourceOffset("c".into(), "p".into()),
        Key::SinkOffset("c".into(), "t".into(), -2),
        Key::Status(conn()),
        Key::Node(3),
        Key::Logger("l".into()),
        Key::Restart(task(4)),
        Key::SinkPartitions("c".into()),
        Key::StagedTaskConfigs("c".into()),
        Key::StagedSinkPartitions("c".into()),
    ]
}

fn golden_key(k: &Key) -> &'static str {
    match k {
        Key::Connector(_) => "00000000010000000000000063",
        Key::TaskConfigs(_) => "01000000010000000000000063",
        Key::Assignment(_) => "020000000100000001000000000000006301000000",
        Key::SourceOffset(..) => "03000000010000000000000063010000000000000070",
        Key::SinkOffset(..) => "04000000010000000000000063010000000000000074feffffff",
        Key::Status(_) => "0500000000000000010000000000000063",
        Key::Node(_) => "060000000300000000000000",
        Key::Logger(_) => "0700000001000000000000006c",
        Key::Restart(_) => "080000000100000001000000000000006304000000",
        Key::SinkPartitions(_) => "09000000010000000000000063",
        Key::StagedTaskConfigs(_) => "0a000000010000000000000063",
        Key::StagedSinkPartitions(_) => "0b000000010000000000000063",
    }
}

/// Every state key variant. The state-machine tree keys each value by a prefix byte followed by
/// this encoding.
#[test]
fn state_key_encodings_are_pinned() {
    let keys = key_samples();
    for k in &keys {
        assert_golden(&format!("{k:?}"), &encode(k), golden_key(k));
    }
    assert_covers_every_variant::<Key>("Key", &keys.iter().map(encode).collect::<Vec<_>>());
}

/// The enums nested in commands and records, every variant of each.
#[test]
fn nested_enum_encodings_are_pinned() {
    fn golden_target_state(s: TargetState) -> &'static str {
        match s {
            TargetState::Running => "00000000",
            TargetState::Paused => "01000000",
            TargetState::Stopped => "02000000",
        }
    }
    let states = [TargetState::Running, TargetState::Paused, TargetState::Stopped];
    for s in states {
        assert_golden(&format!("{s:?}"), &encode(&s), golden_target_state(s));
    }
    assert_covers_every_variant::<TargetState>("TargetState", &states.iter().map(encode).collect::<Vec<_>>());

    fn golden_unit_state(s: UnitState) -> &'static str {
        match s {
            UnitState::Unassigned => "00000000",
            UnitState::Running => "01000000",
            UnitState::Paused => "02000000",
            UnitState::Stopped => "03000000",
            UnitState::Failed => "04000000",
            UnitState::Restarting => "05000000",
        }
    }
    let states = [
        UnitState::Unassigned,
        UnitState::Running,
        UnitState::Paused,
        UnitState::Stopped,
        UnitState::Failed,
        UnitState::Restarting,
    ];
    for s in states {
        assert_golden(&format!("{s:?}"), &encode(&s), golden_unit_state(s));
    }
    assert_covers_every_variant::<UnitState>("UnitState", &states.iter().map(encode).collect::<Vec<_>>());

    fn golden_unit(u: &WorkUnit) -> &'static str {
        match u {
            WorkUnit::Connector(_) => "00000000010000000000000063",
            WorkUnit::Task { .. } => "0100000001000000000000006307000000",
        }
    }
    let units = [conn(), task(7)];
    for u in &units {
        assert_golden(&format!("{u:?}"), &encode(u), golden_unit(u));
    }
    assert_covers_every_variant::<WorkUnit>("WorkUnit", &units.iter().map(encode).collect::<Vec<_>>());
}

/// A state with one entry in every table: its records are the state-machine tree's values
/// (each written with the format-version byte), and the whole state is a snapshot's body.
fn full_state() -> State {
    let record = |state| StatusRecord {
        state,
        node: 1,
        trace: Some("x".into()),
        epoch: 2,
        restarts: 3,
        next_restart_ms: Some(4),
    };
    State {
        connectors: BTreeMap::from([(
            "c".to_string(),
            ConnectorRecord {
                config: cfg(),
                target_state: TargetState::Paused,
                created_index: 1,
                updated_index: 2,
                created_by: "r".into(),
            },
        )]),
        task_configs: BTreeMap::from([("c".to_string(), TaskConfigs { configs: vec![cfg()], generation: 3 })]),
        assignments: BTreeMap::from([(task(0), Assignment { node: 1, epoch: 4, revoking: true })]),
        source_offsets: BTreeMap::from([(("c".to_string(), "p".to_string()), "o".to_string())]),
        sink_offsets: BTreeMap::from([(("c".to_string(), "t".to_string(), 1), 5)]),
        statuses: BTreeMap::from([(conn(), record(UnitState::Failed))]),
        nodes: BTreeMap::from([(
            1,
            NodeRecord { rest_url: "u".into(), incarnation: "i".into(), leaving: true, registered_index: 6 },
        )]),
        loggers: BTreeMap::from([("l".to_string(), LoggerLevel { level: "INFO".into(), index: 7 })]),
        restarts: BTreeMap::from([(task(1), 8)]),
        sink_partitions: BTreeMap::from([(
            "c".to_string(),
            SinkPartitions { generation: 9, tasks: vec![vec![tp("t", 0)]] },
        )]),
        staged_task_configs: BTreeMap::from([(
            "c".to_string(),
            StagedTaskConfigs { epoch: 10, next_part: 1, parts: 2, configs: vec![cfg()] },
        )]),
        staged_sink_partitions: BTreeMap::from([(
            "c".to_string(),
            StagedSinkPartitions { generation: 11, next_part: 1, parts: 3, tasks: vec![vec![], vec![tp("t", 1)]] },
        )]),
    }
}

/// Every record type stored as a state-machine value, and a whole state (a snapshot body).
#[test]
fn state_value_and_snapshot_encodings_are_pinned() {
    let s = full_state();
    let values: [(&str, Vec<u8>, &str); 12] = [
        (
            "ConnectorRecord",
            encode_versioned(&s.connectors["c"]),
            concat!(
                "01010000000000000001000000000000006b010000000000000076010000000100000000000000020000000000000001",
                "0000000000000072",
            ),
        ),
        (
            "TaskConfigs",
            encode_versioned(&s.task_configs["c"]),
            "010100000000000000010000000000000001000000000000006b0100000000000000760300000000000000",
        ),
        ("Assignment", encode_versioned(&s.assignments[&task(0)]), "010100000000000000040000000000000001"),
        ("a source offset", encode_versioned(&s.source_offsets[&("c".into(), "p".into())]), "0101000000000000006f"),
        ("a sink offset", encode_versioned(&s.sink_offsets[&("c".into(), "t".into(), 1)]), "010500000000000000"),
        (
            "StatusRecord",
            encode_versioned(&s.statuses[&conn()]),
            "0104000000010000000000000001010000000000000078020000000000000003000000010400000000000000",
        ),
        ("NodeRecord", encode_versioned(&s.nodes[&1]), "01010000000000000075010000000000000069010600000000000000"),
        ("LoggerLevel", encode_versioned(&s.loggers["l"]), "010400000000000000494e464f0700000000000000"),
        ("a restart mark", encode_versioned(&s.restarts[&task(1)]), "010800000000000000"),
        (
            "SinkPartitions",
            encode_versioned(&s.sink_partitions["c"]),
            "0109000000000000000100000000000000010000000000000001000000000000007400000000",
        ),
        (
            "StagedTaskConfigs",
            encode_versioned(&s.staged_task_configs["c"]),
            concat!(
                "010a0000000000000001000000020000000100000000000000010000000000000001000000000000006b010000000000",
                "000076",
            ),
        ),
        (
            "StagedSinkPartitions",
            encode_versioned(&s.staged_sink_partitions["c"]),
            concat!(
                "010b00000000000000010000000300000002000000000000000000000000000000010000000000000001000000000000",
                "007401000000",
            ),
        ),
    ];
    for (what, bytes, expected) in &values {
        assert_golden(what, bytes, expected);
    }
    // A snapshot body is `SnapshotBody { state }`: bincode encodes a one-field struct exactly
    // like its field.
    assert_golden(
        "a snapshot body",
        &encode_versioned(&s),
        concat!(
            "010100000000000000010000000000000063010000000000000001000000000000006b01000000000000007601000000",
            "010000000000000002000000000000000100000000000000720100000000000000010000000000000063010000000000",
            "0000010000000000000001000000000000006b0100000000000000760300000000000000010000000000000001000000",
            "010000000000000063000000000100000000000000040000000000000001010000000000000001000000000000006301",
            "000000000000007001000000000000006f01000000000000000100000000000000630100000000000000740100000005",
            "000000000000000100000000000000000000000100000000000000630400000001000000000000000101000000000000",
            "007802000000000000000300000001040000000000000001000000000000000100000000000000010000000000000075",
            "010000000000000069010600000000000000010000000000000001000000000000006c0400000000000000494e464f07",
            "000000000000000100000000000000010000000100000000000000630100000008000000000000000100000000000000",
            "010000000000000063090000000000000001000000000000000100000000000000010000000000000074000000000100",
            "0000000000000100000000000000630a0000000000000001000000020000000100000000000000010000000000000001",
            "000000000000006b01000000000000007601000000000000000100000000000000630b00000000000000010000000300",
            "000002000000000000000000000000000000010000000000000001000000000000007401000000",
        ),
    );
}
