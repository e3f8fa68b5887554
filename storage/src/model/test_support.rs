//! Builders and checks shared by the model's unit tests.

use serde::Serialize;

use super::*;

pub(super) fn cfg(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub(super) fn task(c: &str, t: u32) -> WorkUnit {
    WorkUnit::Task { connector: c.into(), task: t }
}

pub(super) fn put(name: &str, target_state: Option<TargetState>) -> Command {
    Command::PutConnector { name: name.into(), config: cfg(&[("topic", name)]), target_state }
}

pub(super) fn assign(unit: WorkUnit, node: NodeId) -> Command {
    Command::Assign { changes: vec![AssignmentChange { unit, node: Some(node) }] }
}

pub(super) fn source(c: &str, t: u32, epoch: u64, partition: &str, offset: &str) -> SourceOffsetCommit {
    SourceOffsetCommit { connector: c.into(), task: t, epoch, partition: partition.into(), offset: offset.into() }
}

pub(super) fn sink(c: &str, t: u32, epoch: u64, topic: &str, partition: i32, offset: i64) -> SinkOffsetCommit {
    SinkOffsetCommit { connector: c.into(), task: t, epoch, topic: topic.into(), partition, offset }
}

/// Apply `cmds` at indexes 1, 2, … and return the responses.
pub(super) fn run(state: &mut State, cmds: &[Command]) -> Vec<Response> {
    let mut dirty = DirtyKeys::new();
    cmds.iter().enumerate().map(|(i, c)| state.apply(i as u64 + 1, c, &mut dirty)).collect()
}

/// Connector `c` with task 0 assigned to node 1 at index 2, and its connector unit at index 3.
pub(super) fn with_assigned_task() -> State {
    let mut s = State::default();
    let r = run(&mut s, &[put("c", None), assign(task("c", 0), 1), assign(WorkUnit::Connector("c".into()), 1)]);
    assert!(r.iter().all(|r| *r == Response::Applied), "{r:?}");
    s
}

pub(super) fn apply_at(s: &mut State, index: u64, cmd: Command) -> (Response, DirtyKeys) {
    let mut dirty = DirtyKeys::new();
    let r = s.apply(index, &cmd, &mut dirty);
    (r, dirty)
}

pub(super) fn create(name: &str, request_id: &str) -> Command {
    Command::CreateConnector {
        name: name.into(),
        request_id: request_id.into(),
        config: cfg(&[("topic", name)]),
        target_state: TargetState::Paused,
        source_offsets: vec![(r#"{"filename":"a"}"#.into(), r#"{"position":3}"#.into())],
        sink_offsets: vec![],
    }
}

pub(super) fn configs(n: usize, tag: &str) -> Vec<ConfigMap> {
    (0..n).map(|i| cfg(&[("task", &i.to_string()), ("tag", tag)])).collect()
}

pub(super) fn tc_part(epoch: u64, part: u32, parts: u32, configs: Vec<ConfigMap>) -> Command {
    Command::PutTaskConfigsPart { connector: "c".into(), epoch, part, parts, configs }
}

/// `cmd` at `index` is rejected with `expected` and changes nothing at all.
pub(super) fn assert_rejected_unchanged(s: &mut State, index: u64, cmd: Command, expected: Rejection) {
    let before = s.clone();
    let (r, dirty) = apply_at(s, index, cmd.clone());
    assert_eq!(r, Response::Rejected(expected), "{cmd:?}");
    assert!(dirty.is_empty(), "{cmd:?}: {dirty:?}");
    assert_eq!(*s, before, "{cmd:?}");
}

pub(super) fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition { topic: topic.into(), partition }
}

pub(super) fn spread_part(
    generation: u64,
    task_count: u32,
    part: u32,
    parts: u32,
    tasks: Vec<(u32, Vec<TopicPartition>)>,
) -> Command {
    Command::SpreadSinkPartitionsPart { connector: "c".into(), generation, task_count, part, parts, tasks }
}

/// `with_assigned_task` plus three task configs at generation 5.
pub(super) fn with_three_tasks() -> State {
    let mut s = with_assigned_task();
    let (r, _) =
        apply_at(&mut s, 5, Command::PutTaskConfigs { connector: "c".into(), epoch: 3, configs: configs(3, "t") });
    assert_eq!(r, Response::Applied);
    s
}

/// The first four bytes of a value's encoding: the bincode variant index (u32 LE, fixint).
pub(super) fn variant_index<T: Serialize>(v: &T) -> u32 {
    let bytes = crate::codec::encode(v);
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
