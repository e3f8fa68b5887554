//! The replicated data model, format version 1: the closed [`Command`] enum, the [`State`] it
//! builds and the deterministic, infallible [`State::apply`].
//!
//! Everything Kafka Connect keeps in its three internal topics (configs, offsets, status) and in
//! its group leader's memory (assignments) lives here. A command that no longer applies (stale
//! epoch, unknown connector, offsets altered while running) is answered with a [`Rejection`];
//! `apply` itself never fails and never panics.
//!
//! One file per concept, each with its types and the `apply` arms that change them; `apply`
//! here only dispatches:
//! - `command`: [`Command`] and [`Rejection`];
//! - `assignment`: [`WorkUnit`], [`Assignment`], assigning, revoking, releasing, the epoch check;
//! - `connectors`: [`ConnectorRecord`], [`TargetState`], task configs, restart requests;
//! - `offsets`: source and sink offset commits, offset changes, [`canonical_json`];
//! - `sink_partitions`: the spread of a sink connector's partitions over its tasks;
//! - `status`: [`UnitState`], [`StatusRecord`], status reports;
//! - `nodes`: the node registry and cluster-scoped log levels;
//! - `keys`: [`Key`], one per persisted value, and its byte codec for the state-machine tree.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

mod assignment;
mod command;
mod connectors;
pub(crate) mod keys;
mod nodes;
mod offsets;
mod sink_partitions;
mod status;
#[cfg(test)]
mod test_support;

use assignment::units_of;
pub use assignment::{Assignment, AssignmentChange, WorkUnit};
pub use command::{Command, Rejection, MAX_COMMAND_BYTES};
pub use connectors::{ConnectorRecord, StagedTaskConfigs, TargetState, TaskConfigs};
pub use keys::{DirtyKeys, Key};
pub use nodes::{LoggerLevel, NodeRecord};
pub use offsets::{canonical_json, SinkOffsetCommit, SourceOffsetCommit};
pub use sink_partitions::{SinkPartitions, StagedSinkPartitions, TopicPartition};
pub use status::{StatusRecord, StatusReport, UnitState};

/// Raft node id. Stable for the life of a data directory.
pub type NodeId = u64;

/// A connector's or task's key/value configuration, as Kafka Connect stores it.
pub type ConfigMap = BTreeMap<String, String>;

/// The result of applying one log entry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    #[default]
    Applied,
    Rejected(Rejection),
    /// A batch command (offset commits) of which some items were rejected.
    PartiallyApplied {
        applied: u32,
        rejected: Vec<Rejection>,
    },
    /// The answers to a [`Command::Batch`], in its order.
    Batch(Vec<Response>),
}

/// The replicated state. Cheap to clone at this scale (configs, assignments, offsets, status).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub connectors: BTreeMap<String, ConnectorRecord>,
    pub task_configs: BTreeMap<String, TaskConfigs>,
    pub assignments: BTreeMap<WorkUnit, Assignment>,
    /// (connector, partition JSON) → offset JSON.
    pub source_offsets: BTreeMap<(String, String), String>,
    /// (connector, topic, partition) → next offset to consume.
    pub sink_offsets: BTreeMap<(String, String, i32), i64>,
    pub statuses: BTreeMap<WorkUnit, StatusRecord>,
    pub nodes: BTreeMap<NodeId, NodeRecord>,
    /// Cluster-scoped log levels: logger → (level, log index of the change).
    pub loggers: BTreeMap<String, LoggerLevel>,
    /// Restart requests per unit: the log index of the latest request that restarts it.
    pub restarts: BTreeMap<WorkUnit, u64>,
    /// Sink connectors: the leader's spread of topic-partitions over tasks.
    pub sink_partitions: BTreeMap<String, SinkPartitions>,
    /// Task configs of a multi-part write, until its last part makes them current.
    pub staged_task_configs: BTreeMap<String, StagedTaskConfigs>,
    /// Sink partition spreads of a multi-part write, until its last part installs them.
    pub staged_sink_partitions: BTreeMap<String, StagedSinkPartitions>,
}

impl State {
    /// Apply one command at log index `index`. Deterministic and infallible.
    pub fn apply(&mut self, index: u64, cmd: &Command, dirty: &mut DirtyKeys) -> Response {
        match cmd {
            Command::RegisterNode { id, rest_url, incarnation } => {
                self.register_node(index, *id, rest_url, incarnation, dirty)
            }
            Command::MarkNodeLeaving { id } => self.mark_node_leaving(*id, dirty),
            Command::ForgetNode { id } => self.forget_node(*id, dirty),
            Command::PutConnector { name, config, target_state } => {
                self.put_connector(index, name, config, *target_state, dirty)
            }
            Command::DeleteConnector { name } => self.delete_connector(name, dirty),
            Command::SetTargetState { name, state } => self.set_target_state(index, name, *state, dirty),
            Command::PutTaskConfigs { connector, epoch, configs } => {
                self.put_task_configs(index, connector, *epoch, configs, dirty)
            }
            Command::PutTaskConfigsPart { connector, epoch, part, parts, configs } => {
                let at = PartOf { part: *part, parts: *parts };
                outcome(self.put_task_configs_part(index, connector, *epoch, at, configs, dirty))
            }
            Command::Assign { changes } => self.assign(index, changes, dirty),
            Command::CommitOffsets { node, source, sink } => self.commit_offsets(*node, source, sink, dirty),
            Command::AssignSinkPartitions { connector, generation, tasks } => {
                self.assign_sink_partitions(connector, *generation, tasks, dirty)
            }
            Command::SpreadSinkPartitionsPart { connector, generation, task_count, part, parts, tasks } => {
                let at = PartOf { part: *part, parts: *parts };
                outcome(self.spread_sink_partitions_part(connector, *generation, *task_count, at, tasks, dirty))
            }
            Command::AlterOffsets { connector, reset, source, sink } => {
                self.alter_offsets(connector, *reset, source, sink, dirty)
            }
            Command::ReportStatus { unit, node, epoch, state, trace, restarts, next_restart_ms } => {
                let report = StatusReport {
                    unit: unit.clone(),
                    epoch: *epoch,
                    state: *state,
                    trace: trace.clone(),
                    restarts: *restarts,
                    next_restart_ms: *next_restart_ms,
                };
                outcome(self.report_status(*node, report, dirty))
            }
            Command::Batch { commands } => self.apply_batch(index, commands, dirty),
            Command::ReportStatuses { node, reports } => self.report_statuses(*node, reports, dirty),
            Command::CreateConnector { name, request_id, config, target_state, source_offsets, sink_offsets } => {
                let created = self.create_connector(index, name, request_id, config, *target_state, dirty);
                outcome(created.map(|()| self.write_initial_offsets(name, source_offsets, sink_offsets, dirty)))
            }
            Command::RequestRestart { connector, include_tasks, only_failed } => {
                self.request_restart(index, connector, *include_tasks, *only_failed, dirty)
            }
            Command::RequestTaskRestart { connector, task } => {
                self.request_task_restart(index, connector, *task, dirty)
            }
            Command::SetLoggerLevel { logger, level } => self.set_logger_level(index, logger, level, dirty),
            Command::Revoke { units } => self.revoke(units, dirty),
            Command::ReleaseUnits { node, units } => self.release_units(*node, units, dirty),
        }
    }

    /// `Command::Batch`: each write applies in order under the entry's index, answered on its
    /// own; a write whose [`Command::batch_key`] is none, or taken by an earlier write of the
    /// batch, is refused.
    fn apply_batch(&mut self, index: u64, commands: &[Command], dirty: &mut DirtyKeys) -> Response {
        let mut keys = BTreeSet::new();
        let responses = commands
            .iter()
            .map(|c| {
                if c.batch_key().is_some_and(|k| keys.insert(k)) {
                    self.apply(index, c, dirty)
                } else {
                    Response::Rejected(Rejection::NotBatchable { kind: c.kind().to_string() })
                }
            })
            .collect();
        Response::Batch(responses)
    }
}

/// Part `part` of `parts` of a multi-part write.
#[derive(Clone, Copy)]
struct PartOf {
    part: u32,
    parts: u32,
}

impl PartOf {
    /// Part 0 (re)starts the staging; any other part must be `expected`, the staged next part
    /// (0 when nothing matching is staged). Parts outside `0..parts` never apply, which also
    /// refuses every part of a write announcing zero parts.
    fn check_order(self, connector: &str, expected: u32) -> Result<(), Rejection> {
        if self.part >= self.parts || (self.part != 0 && self.part != expected) {
            return Err(Rejection::PartOutOfOrder { connector: connector.to_string(), part: self.part, expected });
        }
        Ok(())
    }

    fn is_first(self) -> bool {
        self.part == 0
    }

    /// Only meaningful after `check_order` (so `part < parts`).
    fn is_last(self) -> bool {
        self.part.saturating_add(1) == self.parts
    }
}

/// The answer to a write that applies whole or not at all.
fn outcome(result: Result<(), Rejection>) -> Response {
    match result {
        Ok(()) => Response::Applied,
        Err(r) => Response::Rejected(r),
    }
}

/// The answer to a write of independent items, from how many applied and why the others did not.
fn batch_response(applied: u32, rejected: Vec<Rejection>) -> Response {
    match (applied, rejected.len()) {
        (_, 0) => Response::Applied,
        (0, 1) => Response::Rejected(rejected.into_iter().next().expect("one rejection")),
        _ => Response::PartiallyApplied { applied, rejected },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::*;

    /// A mixed history, with rejected and partially applied commands among the applied ones.
    fn history() -> Vec<Command> {
        vec![
            Command::RegisterNode { id: 1, rest_url: "u1".into(), incarnation: "i1".into() },
            Command::RegisterNode { id: 2, rest_url: "u2".into(), incarnation: "i2".into() },
            put("a", None),
            put("b", Some(TargetState::Stopped)),
            Command::Assign {
                changes: vec![
                    AssignmentChange { unit: WorkUnit::Connector("a".into()), node: Some(1) },
                    AssignmentChange { unit: task("a", 0), node: Some(2) },
                    AssignmentChange { unit: task("b", 0), node: Some(1) },
                ],
            },
            Command::PutTaskConfigs { connector: "a".into(), epoch: 5, configs: vec![cfg(&[("x", "1")])] },
            Command::PutTaskConfigs { connector: "a".into(), epoch: 4, configs: vec![] },
            Command::CommitOffsets {
                node: 2,
                source: vec![source("a", 0, 5, "p", "1"), source("a", 0, 4, "p", "2")],
                sink: vec![sink("b", 0, 5, "t", 1, 10)],
            },
            Command::ReportStatus {
                unit: task("a", 0),
                node: 2,
                epoch: 5,
                state: UnitState::Failed,
                trace: Some("boom".into()),
                restarts: 0,
                next_restart_ms: None,
            },
            Command::AlterOffsets {
                connector: "b".into(),
                reset: false,
                source: vec![],
                sink: vec![("t".into(), 2, Some(3))],
            },
            Command::AlterOffsets { connector: "a".into(), reset: true, source: vec![], sink: vec![] },
            Command::Assign { changes: vec![AssignmentChange { unit: task("b", 0), node: None }] },
            Command::MarkNodeLeaving { id: 2 },
            Command::ForgetNode { id: 9 },
            Command::DeleteConnector { name: "b".into() },
            put("b", None),
            Command::ForgetNode { id: 1 },
        ]
    }

    #[test]
    fn apply_is_deterministic() {
        let (mut s1, mut s2) = (State::default(), State::default());
        let (mut d1, mut d2) = (DirtyKeys::new(), DirtyKeys::new());
        let mut r1 = Vec::new();
        let mut r2 = Vec::new();
        for (i, c) in history().iter().enumerate() {
            r1.push(s1.apply(i as u64 + 1, c, &mut d1));
        }
        // The second replica gets the commands as decoded from the wire/log.
        for (i, c) in history().iter().enumerate() {
            let c: Command = crate::codec::decode(&crate::codec::encode(c)).unwrap();
            r2.push(s2.apply(i as u64 + 1, &c, &mut d2));
        }
        assert_eq!(r1, r2);
        assert_eq!(s1, s2);
        assert_eq!(d1, d2);
        assert_eq!(crate::codec::encode(&s1), crate::codec::encode(&s2));
        // The history is not trivial: it has applied, rejected and partially applied commands.
        assert!(r1.iter().any(|r| matches!(r, Response::Rejected(_))));
        assert!(r1.iter().any(|r| matches!(r, Response::PartiallyApplied { .. })));
        assert!(!s1.connectors.is_empty() && !s1.source_offsets.is_empty());
        // Rejected at the same index on both replicas: applying again from scratch gives the
        // same state (no hidden dependence on anything but the commands and indexes).
        let mut s3 = State::default();
        run(&mut s3, &history());
        assert_eq!(s3, s1);
    }

    #[test]
    fn a_batch_applies_each_write_under_its_index_and_refuses_nesting_and_shared_keys() {
        let mut s = State::default();
        let mut dirty = DirtyKeys::new();
        let put =
            |name: &str| Command::PutConnector { name: name.into(), config: cfg(&[("a", "1")]), target_state: None };
        let batch = Command::Batch {
            commands: vec![
                put("a"),
                put("b"),
                Command::DeleteConnector { name: "zzz".into() },
                put("a"),
                Command::Batch { commands: vec![put("c")] },
                Command::Revoke { units: vec![] },
                Command::Assign { changes: vec![] },
            ],
        };
        assert!(batch.changes_layout());
        let r = s.apply(7, &batch, &mut dirty);
        let Response::Batch(rs) = r else { panic!("{r:?}") };
        assert_eq!(rs.len(), 7);
        assert_eq!(rs[0], Response::Applied);
        assert_eq!(rs[1], Response::Applied);
        assert_eq!(rs[2], Response::Rejected(Rejection::UnknownConnector { name: "zzz".into() }));
        assert_eq!(
            rs[3],
            Response::Rejected(Rejection::NotBatchable { kind: "put_connector".into() }),
            "a's second write"
        );
        assert_eq!(rs[4], Response::Rejected(Rejection::NotBatchable { kind: "batch".into() }));
        assert_eq!(rs[5], Response::Applied, "the planner's write shares the entry");
        assert_eq!(rs[6], Response::Rejected(Rejection::NotBatchable { kind: "assign".into() }), "one per writer");
        assert_eq!(s.connectors["a"].created_index, 7);
        assert_eq!(s.connectors["b"].created_index, 7);
        assert!(!s.connectors.contains_key("c"));
    }
}
