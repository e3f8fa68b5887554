//! [`Command`], every write to the replicated state, and [`Rejection`], why one did not apply.

use serde::{Deserialize, Serialize};

use super::{
    Assignment, AssignmentChange, ConfigMap, NodeId, SinkOffsetCommit, SourceOffsetCommit, StatusReport, TargetState,
    TopicPartition, UnitState, WorkUnit,
};

/// Largest command accepted into the log, as bincode bytes (keeps every sled value far below its
/// blob threshold). Commands the cluster writes itself are cut to fit with
/// [`Command::split_to_fit`]; user-written ones over it are refused.
pub const MAX_COMMAND_BYTES: usize = 64 << 10;

/// Every write to the replicated state. Closed: a new kind of write is a new variant and a new
/// format version.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Add a node to the registry, or update the URL of a node with the same incarnation.
    RegisterNode {
        id: NodeId,
        rest_url: String,
        incarnation: String,
    },
    /// The node announced it is leaving: its work is to be moved at once.
    MarkNodeLeaving {
        id: NodeId,
    },
    /// Drop a node from the registry (after it left the Raft membership).
    ForgetNode {
        id: NodeId,
    },
    /// Create a connector or replace its config. `target_state` applies on create only
    /// (Kafka Connect's `initial_state`); updates keep the current target state.
    PutConnector {
        name: String,
        config: ConfigMap,
        target_state: Option<TargetState>,
    },
    /// Delete a connector with its task configs, assignments and statuses. Offsets are kept,
    /// as in Kafka Connect, so a connector re-created under the same name resumes.
    DeleteConnector {
        name: String,
    },
    SetTargetState {
        name: String,
        state: TargetState,
    },
    /// Task configs produced by the connector instance running under `epoch`.
    PutTaskConfigs {
        connector: String,
        epoch: u64,
        configs: Vec<ConfigMap>,
    },
    /// A new assignment. The epoch of every unit it assigns is this entry's log index.
    Assign {
        changes: Vec<AssignmentChange>,
    },
    /// One node's coalesced offset commits; each is fenced by its task's epoch.
    CommitOffsets {
        node: NodeId,
        source: Vec<SourceOffsetCommit>,
        sink: Vec<SinkOffsetCommit>,
    },
    /// The leader's spread of a sink connector's topic-partitions over its tasks, for the task
    /// configs of `generation`. `tasks[i]` is what task i consumes (no consumer group).
    AssignSinkPartitions {
        connector: String,
        generation: u64,
        tasks: Vec<Vec<TopicPartition>>,
    },
    /// The offsets REST API (KIP-875): only while the connector is STOPPED. `None` deletes.
    /// `reset` first clears every offset of the connector.
    AlterOffsets {
        connector: String,
        reset: bool,
        source: Vec<(String, Option<String>)>,
        sink: Vec<(String, i32, Option<i64>)>,
    },
    /// A status report from the node running `unit` under `epoch`.
    ReportStatus {
        unit: WorkUnit,
        node: NodeId,
        epoch: u64,
        state: UnitState,
        trace: Option<String>,
        restarts: u32,
        next_restart_ms: Option<u64>,
    },
    /// Create a connector, atomically with its initial offsets (KIP-995). Refused if the name
    /// exists, so a retried create can never make a second connector.
    CreateConnector {
        name: String,
        /// Unique per create request (see `ConnectorRecord::created_by`).
        request_id: String,
        config: ConfigMap,
        target_state: TargetState,
        /// (partition JSON, offset JSON) for source connectors.
        source_offsets: Vec<(String, String)>,
        /// (topic, partition, offset) for sink connectors.
        sink_offsets: Vec<(String, i32, i64)>,
    },
    /// A restart request (KIP-745). `apply` decides, from the replicated statuses, which units
    /// it restarts and marks each with this entry's index; the nodes running them restart them.
    RequestRestart {
        connector: String,
        include_tasks: bool,
        only_failed: bool,
    },
    /// A cluster-wide log level (`PUT /admin/loggers/{l}?scope=cluster`).
    SetLoggerLevel {
        logger: String,
        level: String,
    },
    /// A restart request for one task, executed by the node that runs it.
    RequestTaskRestart {
        connector: String,
        task: u32,
    },
    /// Ask the nodes running `units` to give them up (first half of a cooperative move).
    Revoke {
        units: Vec<WorkUnit>,
    },
    /// A node gave units up (after a revoke, or leaving): each is unassigned if the node still
    /// holds it under that epoch, and its status becomes UNASSIGNED.
    ReleaseUnits {
        node: NodeId,
        units: Vec<(WorkUnit, u64)>,
    },
    // New variants go at the end only: bincode encodes the variant index, so inserting one in
    // the middle would reinterpret every stored log entry (the variant-order test pins this).
    /// Part `part` of `parts` of task configs too large for one entry (Kafka Connect writes task
    /// configs, then a commit record). Parts come in log order from the connector instance
    /// running under `epoch`; the last one makes their concatenated configs current as
    /// [`Command::PutTaskConfigs`] would, with this entry's index as the generation.
    PutTaskConfigsPart {
        connector: String,
        epoch: u64,
        part: u32,
        parts: u32,
        configs: Vec<ConfigMap>,
    },
    /// Part `part` of `parts` of a sink partition spread over `task_count` tasks, too large for
    /// one [`Command::AssignSinkPartitions`]: each `(task, partitions)` pair is appended to that
    /// task's list, and the last part installs the whole spread.
    SpreadSinkPartitionsPart {
        connector: String,
        generation: u64,
        task_count: u32,
        part: u32,
        parts: u32,
        tasks: Vec<(u32, Vec<TopicPartition>)>,
    },
    /// Many status reports of one node; each applies (or is rejected) as a
    /// [`Command::ReportStatus`] would.
    ReportStatuses {
        node: NodeId,
        reports: Vec<StatusReport>,
    },
    /// Several independent writes in one entry (the leader's group commit: one fsync serves
    /// them all). They apply in order, under the entry's index, each answered on its own; at
    /// most one per [`Command::batch_key`], so none depends on another's index.
    Batch {
        commands: Vec<Command>,
    },
}

impl Command {
    /// Who a write comes from, as far as batching goes: writes with different keys may share one
    /// entry ([`Command::Batch`], the leader's group commit). Each writer (a connector's users
    /// and its connector unit, the planner, a node's status reporter, committer, releases or
    /// registration) awaits each write before the next, and writes of different writers
    /// commute; so no write in a batch depends on another's index. None for a batch, and for
    /// offset commits and releases, which the leader proposes alone.
    pub fn batch_key(&self) -> Option<String> {
        let key = match self {
            Command::PutConnector { name, .. }
            | Command::CreateConnector { name, .. }
            | Command::DeleteConnector { name }
            | Command::SetTargetState { name, .. } => format!("connector:{name}"),
            Command::PutTaskConfigs { connector, .. }
            | Command::PutTaskConfigsPart { connector, .. }
            | Command::SpreadSinkPartitionsPart { connector, .. }
            | Command::AssignSinkPartitions { connector, .. }
            | Command::RequestRestart { connector, .. }
            | Command::RequestTaskRestart { connector, .. }
            | Command::AlterOffsets { connector, .. } => format!("connector:{connector}"),
            Command::Assign { .. } | Command::Revoke { .. } => "planner".to_string(),
            Command::RegisterNode { id, .. } | Command::MarkNodeLeaving { id } | Command::ForgetNode { id } => {
                format!("node:{id}")
            }
            // A node's offset commits and releases go alone: batched, a final commit was seen
            // lost on a graceful handoff (bounce tests, 3 in 11 runs); not understood yet.
            Command::CommitOffsets { .. } => return None,
            Command::ReportStatus { node, .. } | Command::ReportStatuses { node, .. } => format!("statuses:{node}"),
            Command::ReleaseUnits { .. } => return None,
            Command::SetLoggerLevel { logger, .. } => format!("logger:{logger}"),
            Command::Batch { .. } => return None,
        };
        Some(key)
    }

    /// Whether applying it can change where units should run: the connectors, their task
    /// counts and target states, the assignments or the node registry. Offsets, statuses,
    /// sink spreads, restarts and log levels cannot.
    pub fn changes_layout(&self) -> bool {
        match self {
            Command::RegisterNode { .. }
            | Command::MarkNodeLeaving { .. }
            | Command::ForgetNode { .. }
            | Command::PutConnector { .. }
            | Command::DeleteConnector { .. }
            | Command::SetTargetState { .. }
            | Command::PutTaskConfigs { .. }
            | Command::PutTaskConfigsPart { .. }
            | Command::Assign { .. }
            | Command::CreateConnector { .. }
            | Command::Revoke { .. }
            | Command::ReleaseUnits { .. } => true,
            Command::Batch { commands } => commands.iter().any(Command::changes_layout),
            Command::CommitOffsets { .. }
            | Command::AssignSinkPartitions { .. }
            | Command::SpreadSinkPartitionsPart { .. }
            | Command::AlterOffsets { .. }
            | Command::ReportStatus { .. }
            | Command::ReportStatuses { .. }
            | Command::RequestRestart { .. }
            | Command::SetLoggerLevel { .. }
            | Command::RequestTaskRestart { .. } => false,
        }
    }

    /// Whether applying it can change what a node should run or how: everything except offset
    /// commits, statuses, offset changes of a stopped connector and log levels (the bulk of the
    /// log at scale), which the workers need not look at.
    pub fn affects_units(&self) -> bool {
        match self {
            Command::CommitOffsets { .. }
            | Command::ReportStatus { .. }
            | Command::ReportStatuses { .. }
            | Command::AlterOffsets { .. }
            | Command::SetLoggerLevel { .. } => false,
            Command::Batch { commands } => commands.iter().any(Command::affects_units),
            _ => true,
        }
    }

    /// Short name of the variant, as shown in log views.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::RegisterNode { .. } => "register_node",
            Command::MarkNodeLeaving { .. } => "mark_node_leaving",
            Command::ForgetNode { .. } => "forget_node",
            Command::PutConnector { .. } => "put_connector",
            Command::DeleteConnector { .. } => "delete_connector",
            Command::SetTargetState { .. } => "set_target_state",
            Command::PutTaskConfigs { .. } => "put_task_configs",
            Command::Assign { .. } => "assign",
            Command::CommitOffsets { .. } => "commit_offsets",
            Command::AssignSinkPartitions { .. } => "assign_sink_partitions",
            Command::AlterOffsets { .. } => "alter_offsets",
            Command::ReportStatus { .. } => "report_status",
            Command::CreateConnector { .. } => "create_connector",
            Command::RequestRestart { .. } => "request_restart",
            Command::SetLoggerLevel { .. } => "set_logger_level",
            Command::RequestTaskRestart { .. } => "request_task_restart",
            Command::Revoke { .. } => "revoke",
            Command::ReleaseUnits { .. } => "release_units",
            Command::PutTaskConfigsPart { .. } => "put_task_configs_part",
            Command::SpreadSinkPartitionsPart { .. } => "spread_sink_partitions_part",
            Command::ReportStatuses { .. } => "report_statuses",
            Command::Batch { .. } => "batch",
        }
    }
}

/// Why a command did not (fully) apply. Deterministic: every replica computes the same one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    UnknownConnector {
        name: String,
    },
    UnknownNode {
        id: NodeId,
    },
    /// A write made under an epoch that is no longer the unit's current assignment.
    StaleEpoch {
        unit: WorkUnit,
        node: NodeId,
        epoch: u64,
        current: Option<Assignment>,
    },
    /// Offsets may only be altered while the connector is STOPPED.
    NotStopped {
        name: String,
    },
    /// A node id already belongs to another data directory.
    IncarnationMismatch {
        id: NodeId,
    },
    /// A task index beyond the connector's current task configs.
    UnknownTask {
        connector: String,
        task: u32,
    },
    AlreadyExists {
        name: String,
    },
    /// Task configs for a connector that is STOPPED (it has no tasks).
    ConnectorStopped {
        name: String,
    },
    /// A sink offset for a partition the task does not own (any more).
    PartitionNotOwned {
        connector: String,
        task: u32,
        topic: String,
        partition: i32,
    },
    /// A sink partition spread made for task configs that have since changed.
    StaleGeneration {
        connector: String,
        generation: u64,
    },
    /// A part of a multi-part write that does not continue the staged parts: not the next
    /// part, of another epoch/generation or part count, or outside `0..parts`.
    PartOutOfOrder {
        connector: String,
        part: u32,
        expected: u32,
    },
    /// A batch inside a batch, or a write that may not share an entry.
    NotBatchable {
        kind: String,
    },
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::UnknownConnector { name } => write!(f, "Connector {name} not found"),
            Rejection::UnknownNode { id } => write!(f, "Node {id} not found"),
            Rejection::StaleEpoch { unit, node, epoch, current } => {
                write!(f, "stale epoch for {unit}: node {node} epoch {epoch}, current assignment {current:?}")
            }
            Rejection::NotStopped { name } => write!(f, "Connector {name} is not STOPPED"),
            Rejection::IncarnationMismatch { id } => {
                write!(f, "Node id {id} is already in use by another data directory")
            }
            Rejection::UnknownTask { connector, task } => write!(f, "Task {connector}-{task} not found"),
            Rejection::AlreadyExists { name } => write!(f, "Connector {name} already exists"),
            Rejection::ConnectorStopped { name } => write!(f, "Connector {name} is STOPPED and has no tasks"),
            Rejection::PartitionNotOwned { connector, task, topic, partition } => {
                write!(f, "Task {connector}-{task} does not own {topic}-{partition}")
            }
            Rejection::StaleGeneration { connector, generation } => {
                write!(f, "Task configs of {connector} changed since generation {generation}")
            }
            Rejection::PartOutOfOrder { connector, part, expected } => {
                write!(
                    f,
                    "Part {part} of a multi-part write for {connector} is out of order (expected part {expected})"
                )
            }
            Rejection::NotBatchable { kind } => write!(f, "A {kind} write cannot be part of a batch"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::*;
    use crate::model::Response;

    /// Stored log entries and snapshots are decoded by variant index: a variant inserted
    /// anywhere but at the end would silently reinterpret them. These pins fail then.
    #[test]
    fn variant_order_is_pinned() {
        let unit = || WorkUnit::Connector("c".into());
        let commands = [
            (Command::RegisterNode { id: 1, rest_url: "u".into(), incarnation: "i".into() }, "register_node"),
            (Command::MarkNodeLeaving { id: 1 }, "mark_node_leaving"),
            (Command::ForgetNode { id: 1 }, "forget_node"),
            (put("c", None), "put_connector"),
            (Command::DeleteConnector { name: "c".into() }, "delete_connector"),
            (Command::SetTargetState { name: "c".into(), state: TargetState::Paused }, "set_target_state"),
            (Command::PutTaskConfigs { connector: "c".into(), epoch: 1, configs: vec![] }, "put_task_configs"),
            (assign(unit(), 1), "assign"),
            (Command::CommitOffsets { node: 1, source: vec![], sink: vec![] }, "commit_offsets"),
            (
                Command::AssignSinkPartitions { connector: "c".into(), generation: 1, tasks: vec![] },
                "assign_sink_partitions",
            ),
            (
                Command::AlterOffsets { connector: "c".into(), reset: false, source: vec![], sink: vec![] },
                "alter_offsets",
            ),
            (
                Command::ReportStatus {
                    unit: unit(),
                    node: 1,
                    epoch: 1,
                    state: UnitState::Running,
                    trace: None,
                    restarts: 0,
                    next_restart_ms: None,
                },
                "report_status",
            ),
            (create("c", "r"), "create_connector"),
            (
                Command::RequestRestart { connector: "c".into(), include_tasks: true, only_failed: false },
                "request_restart",
            ),
            (Command::SetLoggerLevel { logger: "l".into(), level: "INFO".into() }, "set_logger_level"),
            (Command::RequestTaskRestart { connector: "c".into(), task: 0 }, "request_task_restart"),
            (Command::Revoke { units: vec![] }, "revoke"),
            (Command::ReleaseUnits { node: 1, units: vec![] }, "release_units"),
            (tc_part(1, 0, 1, vec![]), "put_task_configs_part"),
            (spread_part(1, 0, 0, 1, vec![]), "spread_sink_partitions_part"),
            (Command::ReportStatuses { node: 1, reports: vec![] }, "report_statuses"),
            (Command::Batch { commands: vec![] }, "batch"),
        ];
        for (i, (cmd, kind)) in commands.iter().enumerate() {
            assert_eq!(cmd.kind(), *kind);
            assert_eq!(variant_index(cmd), i as u32, "{kind} moved");
        }

        let rejections = [
            Rejection::UnknownConnector { name: "c".into() },
            Rejection::UnknownNode { id: 1 },
            Rejection::StaleEpoch { unit: unit(), node: 1, epoch: 1, current: None },
            Rejection::NotStopped { name: "c".into() },
            Rejection::IncarnationMismatch { id: 1 },
            Rejection::UnknownTask { connector: "c".into(), task: 0 },
            Rejection::AlreadyExists { name: "c".into() },
            Rejection::ConnectorStopped { name: "c".into() },
            Rejection::PartitionNotOwned { connector: "c".into(), task: 0, topic: "t".into(), partition: 0 },
            Rejection::StaleGeneration { connector: "c".into(), generation: 1 },
            Rejection::PartOutOfOrder { connector: "c".into(), part: 1, expected: 0 },
            Rejection::NotBatchable { kind: "batch".into() },
        ];
        for (i, r) in rejections.iter().enumerate() {
            assert_eq!(variant_index(r), i as u32, "{r:?} moved");
            assert!(!r.to_string().is_empty());
        }

        let responses = [
            Response::Applied,
            Response::Rejected(Rejection::UnknownNode { id: 1 }),
            Response::PartiallyApplied { applied: 1, rejected: vec![] },
            Response::Batch(vec![]),
        ];
        for (i, r) in responses.iter().enumerate() {
            assert_eq!(variant_index(r), i as u32, "{r:?} moved");
        }
    }

    #[test]
    fn part_out_of_order_reads_well() {
        let r = Rejection::PartOutOfOrder { connector: "c".into(), part: 3, expected: 1 };
        assert_eq!(r.to_string(), "Part 3 of a multi-part write for c is out of order (expected part 1)");
    }
}
