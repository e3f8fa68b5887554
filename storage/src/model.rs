//! The replicated data model, version 1: the closed [`Command`] enum, the [`State`] it builds and
//! the deterministic, infallible [`State::apply`].
//!
//! Everything Kafka Connect keeps in its three internal topics (configs, offsets, status) and in
//! its group leader's memory (assignments) lives here. A command that no longer applies (stale
//! epoch, unknown connector, offsets altered while running) is answered with a [`Rejection`];
//! `apply` itself never fails and never panics.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Raft node id. Stable for the life of a data directory.
pub type NodeId = u64;

/// A connector's or task's key/value configuration, as Kafka Connect stores it.
pub type ConfigMap = BTreeMap<String, String>;

/// The state a user asked a connector to be in (Kafka Connect's `TargetState`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetState {
    Running,
    Paused,
    Stopped,
}

/// A unit of work that is assigned to a node: a connector instance or one of its tasks.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum WorkUnit {
    Connector(String),
    Task { connector: String, task: u32 },
}

impl WorkUnit {
    pub fn connector(&self) -> &str {
        match self {
            WorkUnit::Connector(c) => c,
            WorkUnit::Task { connector, .. } => connector,
        }
    }
}

impl std::fmt::Display for WorkUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkUnit::Connector(c) => write!(f, "{c}"),
            WorkUnit::Task { connector, task } => write!(f, "{connector}-{task}"),
        }
    }
}

/// Which node runs a unit, and the epoch (log index of the entry that made the assignment).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub node: NodeId,
    pub epoch: u64,
    /// The planner asked the node to give the unit up (a cooperative move): the node stops it,
    /// commits its final offsets (still under this epoch) and releases it.
    pub revoking: bool,
}

/// Kafka Connect's externally visible connector/task states.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UnitState {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StatusRecord {
    pub state: UnitState,
    pub node: NodeId,
    pub trace: Option<String>,
    pub epoch: u64,
    /// Automatic restarts since the unit last ran healthily.
    pub restarts: u32,
    /// When the next automatic restart is due (ms since the epoch), if one is scheduled.
    pub next_restart_ms: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorRecord {
    pub config: ConfigMap,
    pub target_state: TargetState,
    /// Log index of the entry that created the connector.
    pub created_index: u64,
    /// Log index of the entry that last changed its config.
    pub updated_index: u64,
    /// The id of the create request that made the connector ("" if made by a config PUT of
    /// an older kind): lets a node whose forwarded create lost its answer find out whether it
    /// was applied.
    pub created_by: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TaskConfigs {
    pub configs: Vec<ConfigMap>,
    /// Log index of the entry that wrote them (Kafka Connect's task-config generation).
    pub generation: u64,
}

/// The node registry entry. Role (voter/learner) comes from the Raft membership, not from here.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    pub rest_url: String,
    /// Identity of the data directory the node runs from; an id is never reused by another one.
    pub incarnation: String,
    /// Set when the node announced a graceful leave.
    pub leaving: bool,
    pub registered_index: u64,
}

/// Source offsets are Kafka Connect's `Map<String, ?>` partition and offset, kept as canonical
/// JSON text (sorted keys) so the model stays bincode-friendly and comparisons are exact.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SourceOffsetCommit {
    pub connector: String,
    pub task: u32,
    pub epoch: u64,
    pub partition: String,
    pub offset: String,
}

/// A Kafka topic-partition.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

/// Which topic-partitions each task of a sink connector consumes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct SinkPartitions {
    /// The task-config generation the spread was made for; stale once the configs change.
    pub generation: u64,
    pub tasks: Vec<Vec<TopicPartition>>,
}

impl SinkPartitions {
    /// The partitions of `task`, if the spread is for the task configs of `generation`.
    pub fn of_task(&self, generation: u64, task: u32) -> Option<&[TopicPartition]> {
        (self.generation == generation).then(|| self.tasks.get(task as usize).map(Vec::as_slice).unwrap_or(&[]))
    }
}

/// JSON text with object keys sorted at every level: how a source partition (or offset) is
/// kept, so equal maps are equal keys.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let sorted: BTreeMap<&String, serde_json::Value> = m.iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SinkOffsetCommit {
    pub connector: String,
    pub task: u32,
    pub epoch: u64,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// One change of the assignment: `node: None` revokes the unit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AssignmentChange {
    pub unit: WorkUnit,
    pub node: Option<NodeId>,
}

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
}

impl Command {
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
        }
    }
}

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
}

/// A key of the persisted state: one sled value per key, so an apply rewrites only what changed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Connector(String),
    TaskConfigs(String),
    Assignment(WorkUnit),
    SourceOffset(String, String),
    SinkOffset(String, String, i32),
    Status(WorkUnit),
    Node(NodeId),
    Logger(String),
    Restart(WorkUnit),
    SinkPartitions(String),
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
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LoggerLevel {
    pub level: String,
    pub index: u64,
}

/// Keys changed by one or more applies; the store persists exactly these.
pub type DirtyKeys = BTreeSet<Key>;

impl State {
    /// Apply one command at log index `index`. Deterministic and infallible.
    pub fn apply(&mut self, index: u64, cmd: &Command, dirty: &mut DirtyKeys) -> Response {
        match cmd {
            Command::RegisterNode { id, rest_url, incarnation } => {
                if let Some(existing) = self.nodes.get_mut(id) {
                    if existing.incarnation != *incarnation {
                        return Response::Rejected(Rejection::IncarnationMismatch { id: *id });
                    }
                    existing.rest_url = rest_url.clone();
                    existing.leaving = false;
                } else {
                    self.nodes.insert(
                        *id,
                        NodeRecord {
                            rest_url: rest_url.clone(),
                            incarnation: incarnation.clone(),
                            leaving: false,
                            registered_index: index,
                        },
                    );
                }
                dirty.insert(Key::Node(*id));
                Response::Applied
            }
            Command::MarkNodeLeaving { id } => match self.nodes.get_mut(id) {
                Some(n) => {
                    n.leaving = true;
                    dirty.insert(Key::Node(*id));
                    Response::Applied
                }
                None => Response::Rejected(Rejection::UnknownNode { id: *id }),
            },
            Command::ForgetNode { id } => {
                if self.nodes.remove(id).is_none() {
                    return Response::Rejected(Rejection::UnknownNode { id: *id });
                }
                dirty.insert(Key::Node(*id));
                Response::Applied
            }
            Command::PutConnector { name, config, target_state } => {
                match self.connectors.get_mut(name) {
                    Some(c) => {
                        c.config = config.clone();
                        c.updated_index = index;
                    }
                    None => {
                        self.connectors.insert(
                            name.clone(),
                            ConnectorRecord {
                                config: config.clone(),
                                target_state: target_state.unwrap_or(TargetState::Running),
                                created_index: index,
                                updated_index: index,
                                created_by: String::new(),
                            },
                        );
                    }
                }
                dirty.insert(Key::Connector(name.clone()));
                Response::Applied
            }
            Command::DeleteConnector { name } => {
                if self.connectors.remove(name).is_none() {
                    return Response::Rejected(Rejection::UnknownConnector { name: name.clone() });
                }
                dirty.insert(Key::Connector(name.clone()));
                if self.task_configs.remove(name).is_some() {
                    dirty.insert(Key::TaskConfigs(name.clone()));
                }
                if self.sink_partitions.remove(name).is_some() {
                    dirty.insert(Key::SinkPartitions(name.clone()));
                }

                self.remove_units(|u| u.connector() == name, dirty);
                Response::Applied
            }
            Command::SetTargetState { name, state } => match self.connectors.get_mut(name) {
                Some(c) => {
                    c.target_state = *state;
                    dirty.insert(Key::Connector(name.clone()));
                    if *state == TargetState::Stopped {
                        self.drop_tasks(index, name, dirty);
                    }
                    Response::Applied
                }
                None => Response::Rejected(Rejection::UnknownConnector { name: name.clone() }),
            },
            Command::PutTaskConfigs { connector, epoch, configs } => {
                match self.connectors.get(connector) {
                    None => return Response::Rejected(Rejection::UnknownConnector { name: connector.clone() }),
                    Some(c) if c.target_state == TargetState::Stopped => {
                        return Response::Rejected(Rejection::ConnectorStopped { name: connector.clone() })
                    }
                    Some(_) => {}
                }
                let unit = WorkUnit::Connector(connector.clone());
                let current = self.assignments.get(&unit).copied();
                if current.map(|a| a.epoch) != Some(*epoch) {
                    let node = current.map(|a| a.node).unwrap_or_default();
                    return Response::Rejected(Rejection::StaleEpoch { unit, node, epoch: *epoch, current });
                }
                self.task_configs
                    .insert(connector.clone(), TaskConfigs { configs: configs.clone(), generation: index });
                dirty.insert(Key::TaskConfigs(connector.clone()));
                Response::Applied
            }
            Command::Assign { changes } => {
                for change in changes {
                    match change.node {
                        Some(node) => {
                            self.assignments
                                .insert(change.unit.clone(), Assignment { node, epoch: index, revoking: false });
                        }
                        None => {
                            self.assignments.remove(&change.unit);
                        }
                    }
                    dirty.insert(Key::Assignment(change.unit.clone()));
                }
                Response::Applied
            }
            Command::CommitOffsets { node, source, sink } => {
                let mut rejected = Vec::new();
                let mut applied = 0u32;
                for c in source {
                    let unit = WorkUnit::Task { connector: c.connector.clone(), task: c.task };
                    match self.check_epoch(&unit, *node, c.epoch) {
                        Ok(()) => {
                            self.source_offsets.insert((c.connector.clone(), c.partition.clone()), c.offset.clone());
                            dirty.insert(Key::SourceOffset(c.connector.clone(), c.partition.clone()));
                            applied += 1;
                        }
                        Err(r) => rejected.push(r),
                    }
                }
                for c in sink {
                    let unit = WorkUnit::Task { connector: c.connector.clone(), task: c.task };
                    match self.check_epoch(&unit, *node, c.epoch).and_then(|()| self.check_sink_owner(c)) {
                        Ok(()) => {
                            self.sink_offsets.insert((c.connector.clone(), c.topic.clone(), c.partition), c.offset);
                            dirty.insert(Key::SinkOffset(c.connector.clone(), c.topic.clone(), c.partition));
                            applied += 1;
                        }
                        Err(r) => rejected.push(r),
                    }
                }
                batch_response(applied, rejected)
            }
            Command::AssignSinkPartitions { connector, generation, tasks } => {
                let current = self.task_configs.get(connector).map(|t| t.generation);
                if !self.connectors.contains_key(connector) {
                    return Response::Rejected(Rejection::UnknownConnector { name: connector.clone() });
                }
                if current != Some(*generation) {
                    return Response::Rejected(Rejection::StaleGeneration {
                        connector: connector.clone(),
                        generation: *generation,
                    });
                }
                self.sink_partitions
                    .insert(connector.clone(), SinkPartitions { generation: *generation, tasks: tasks.clone() });
                dirty.insert(Key::SinkPartitions(connector.clone()));
                Response::Applied
            }
            Command::AlterOffsets { connector, reset, source, sink } => {
                match self.connectors.get(connector) {
                    None => return Response::Rejected(Rejection::UnknownConnector { name: connector.clone() }),
                    Some(c) if c.target_state != TargetState::Stopped => {
                        return Response::Rejected(Rejection::NotStopped { name: connector.clone() })
                    }
                    // Its tasks have not all stopped and committed their final offsets yet.
                    Some(_)
                        if self
                            .assignments
                            .keys()
                            .any(|u| matches!(u, WorkUnit::Task { connector: c, .. } if c == connector)) =>
                    {
                        return Response::Rejected(Rejection::NotStopped { name: connector.clone() })
                    }
                    Some(_) => {}
                }
                if *reset {
                    let src: Vec<_> = self.source_offsets.keys().filter(|k| &k.0 == connector).cloned().collect();
                    for k in src {
                        self.source_offsets.remove(&k);
                        dirty.insert(Key::SourceOffset(k.0, k.1));
                    }
                    let snk: Vec<_> = self.sink_offsets.keys().filter(|k| &k.0 == connector).cloned().collect();
                    for k in snk {
                        self.sink_offsets.remove(&k);
                        dirty.insert(Key::SinkOffset(k.0, k.1, k.2));
                    }
                }
                for (partition, offset) in source {
                    let k = (connector.clone(), partition.clone());
                    match offset {
                        Some(o) => self.source_offsets.insert(k, o.clone()),
                        None => self.source_offsets.remove(&k),
                    };
                    dirty.insert(Key::SourceOffset(connector.clone(), partition.clone()));
                }
                for (topic, partition, offset) in sink {
                    let k = (connector.clone(), topic.clone(), *partition);
                    match offset {
                        Some(o) => self.sink_offsets.insert(k, *o),
                        None => self.sink_offsets.remove(&k),
                    };
                    dirty.insert(Key::SinkOffset(connector.clone(), topic.clone(), *partition));
                }
                Response::Applied
            }
            Command::ReportStatus { unit, node, epoch, state, trace, restarts, next_restart_ms } => {
                if !self.connectors.contains_key(unit.connector()) {
                    return Response::Rejected(Rejection::UnknownConnector { name: unit.connector().to_string() });
                }
                if let Err(r) = self.check_epoch(unit, *node, *epoch) {
                    return Response::Rejected(r);
                }
                self.statuses.insert(
                    unit.clone(),
                    StatusRecord {
                        state: *state,
                        node: *node,
                        trace: trace.clone(),
                        epoch: *epoch,
                        restarts: *restarts,
                        next_restart_ms: *next_restart_ms,
                    },
                );
                dirty.insert(Key::Status(unit.clone()));
                Response::Applied
            }
            Command::CreateConnector { name, request_id, config, target_state, source_offsets, sink_offsets } => {
                if self.connectors.contains_key(name) {
                    return Response::Rejected(Rejection::AlreadyExists { name: name.clone() });
                }
                self.connectors.insert(
                    name.clone(),
                    ConnectorRecord {
                        config: config.clone(),
                        target_state: *target_state,
                        created_index: index,
                        updated_index: index,
                        created_by: request_id.clone(),
                    },
                );
                dirty.insert(Key::Connector(name.clone()));
                for (partition, offset) in source_offsets {
                    self.source_offsets.insert((name.clone(), partition.clone()), offset.clone());
                    dirty.insert(Key::SourceOffset(name.clone(), partition.clone()));
                }
                for (topic, partition, offset) in sink_offsets {
                    self.sink_offsets.insert((name.clone(), topic.clone(), *partition), *offset);
                    dirty.insert(Key::SinkOffset(name.clone(), topic.clone(), *partition));
                }
                Response::Applied
            }
            Command::RequestRestart { connector, include_tasks, only_failed } => {
                if !self.connectors.contains_key(connector) {
                    return Response::Rejected(Rejection::UnknownConnector { name: connector.clone() });
                }
                for unit in self.restart_plan(connector, *include_tasks, *only_failed) {
                    self.restarts.insert(unit.clone(), index);
                    dirty.insert(Key::Restart(unit));
                }
                Response::Applied
            }
            Command::RequestTaskRestart { connector, task } => {
                if !self.connectors.contains_key(connector) {
                    return Response::Rejected(Rejection::UnknownConnector { name: connector.clone() });
                }
                let count = self.task_configs.get(connector).map(|t| t.configs.len()).unwrap_or(0);
                if *task as usize >= count {
                    return Response::Rejected(Rejection::UnknownTask { connector: connector.clone(), task: *task });
                }
                let unit = WorkUnit::Task { connector: connector.clone(), task: *task };
                self.restarts.insert(unit.clone(), index);
                dirty.insert(Key::Restart(unit));
                Response::Applied
            }
            Command::SetLoggerLevel { logger, level } => {
                self.loggers.insert(logger.clone(), LoggerLevel { level: level.clone(), index });
                dirty.insert(Key::Logger(logger.clone()));
                Response::Applied
            }
            Command::Revoke { units } => {
                for unit in units {
                    if let Some(a) = self.assignments.get_mut(unit) {
                        a.revoking = true;
                        dirty.insert(Key::Assignment(unit.clone()));
                    }
                }
                Response::Applied
            }
            Command::ReleaseUnits { node, units } => {
                let mut rejected = Vec::new();
                let mut applied = 0u32;
                for (unit, epoch) in units {
                    match self.check_epoch(unit, *node, *epoch) {
                        Ok(()) => {
                            self.assignments.remove(unit);
                            dirty.insert(Key::Assignment(unit.clone()));
                            if self.connectors.contains_key(unit.connector()) {
                                let status = StatusRecord {
                                    state: UnitState::Unassigned,
                                    node: *node,
                                    trace: None,
                                    epoch: *epoch,
                                    restarts: 0,
                                    next_restart_ms: None,
                                };
                                self.statuses.insert(unit.clone(), status);
                                dirty.insert(Key::Status(unit.clone()));
                            }
                            applied += 1;
                        }
                        Err(r) => rejected.push(r),
                    }
                }
                batch_response(applied, rejected)
            }
        }
    }

    /// The units a restart request restarts (Kafka Connect's `buildRestartPlan`): the
    /// connector unless `only_failed` and it is not FAILED; with `include_tasks`, each task
    /// unless `only_failed` and it is not FAILED.
    pub fn restart_plan(&self, connector: &str, include_tasks: bool, only_failed: bool) -> Vec<WorkUnit> {
        let failed = |u: &WorkUnit| self.statuses.get(u).map(|s| s.state == UnitState::Failed).unwrap_or(false);
        let mut units = Vec::new();
        let c = WorkUnit::Connector(connector.to_string());
        if !only_failed || failed(&c) {
            units.push(c);
        }
        if include_tasks {
            let count = self.task_configs.get(connector).map(|t| t.configs.len()).unwrap_or(0) as u32;
            for task in 0..count {
                let t = WorkUnit::Task { connector: connector.to_string(), task };
                if !only_failed || failed(&t) {
                    units.push(t);
                }
            }
        }
        units
    }

    /// STOPPED means zero tasks: empty task configs and no task statuses. The tasks'
    /// assignments are marked revoking rather than removed: each node stops its tasks, commits
    /// their final offsets under their epochs and releases them (`ReleaseUnits` removes them).
    fn drop_tasks(&mut self, index: u64, name: &str, dirty: &mut DirtyKeys) {
        self.task_configs.insert(name.to_string(), TaskConfigs { configs: Vec::new(), generation: index });
        dirty.insert(Key::TaskConfigs(name.to_string()));
        let is_task = |u: &WorkUnit| matches!(u, WorkUnit::Task { connector, .. } if connector == name);
        for (unit, a) in self.assignments.iter_mut().filter(|(u, _)| is_task(u)) {
            a.revoking = true;
            dirty.insert(Key::Assignment(unit.clone()));
        }
        let gone: Vec<WorkUnit> =
            self.statuses.keys().chain(self.restarts.keys()).filter(|u| is_task(u)).cloned().collect();
        for unit in gone {
            if self.statuses.remove(&unit).is_some() {
                dirty.insert(Key::Status(unit.clone()));
            }
            if self.restarts.remove(&unit).is_some() {
                dirty.insert(Key::Restart(unit));
            }
        }
    }

    /// Remove the assignments and statuses of every unit matching `which`.
    fn remove_units(&mut self, which: impl Fn(&WorkUnit) -> bool, dirty: &mut DirtyKeys) {
        let units: Vec<WorkUnit> =
            self.assignments.keys().chain(self.statuses.keys()).filter(|u| which(u)).cloned().collect();
        let marked: Vec<WorkUnit> = self.restarts.keys().filter(|u| which(u)).cloned().collect();
        for unit in marked {
            self.restarts.remove(&unit);
            dirty.insert(Key::Restart(unit));
        }
        for unit in units {
            self.assignments.remove(&unit);
            self.statuses.remove(&unit);
            dirty.insert(Key::Assignment(unit.clone()));
            dirty.insert(Key::Status(unit));
        }
    }

    /// A sink offset is current only from the task the partition is spread to (when a spread
    /// exists: offsets written before the data plane knew partitions are not fenced by it).
    fn check_sink_owner(&self, c: &SinkOffsetCommit) -> Result<(), Rejection> {
        let Some(spread) = self.sink_partitions.get(&c.connector) else { return Ok(()) };
        let owned = spread
            .tasks
            .get(c.task as usize)
            .is_some_and(|tps| tps.iter().any(|tp| tp.topic == c.topic && tp.partition == c.partition));
        if owned {
            Ok(())
        } else {
            Err(Rejection::PartitionNotOwned {
                connector: c.connector.clone(),
                task: c.task,
                topic: c.topic.clone(),
                partition: c.partition,
            })
        }
    }

    /// A write by `node` under `epoch` for `unit` is current only if it matches the assignment.
    fn check_epoch(&self, unit: &WorkUnit, node: NodeId, epoch: u64) -> Result<(), Rejection> {
        let current = self.assignments.get(unit).copied();
        match current {
            Some(a) if a.node == node && a.epoch == epoch => Ok(()),
            _ => Err(Rejection::StaleEpoch { unit: unit.clone(), node, epoch, current }),
        }
    }
}

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

    fn cfg(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn task(c: &str, t: u32) -> WorkUnit {
        WorkUnit::Task { connector: c.into(), task: t }
    }

    fn put(name: &str, target_state: Option<TargetState>) -> Command {
        Command::PutConnector { name: name.into(), config: cfg(&[("topic", name)]), target_state }
    }

    fn assign(unit: WorkUnit, node: NodeId) -> Command {
        Command::Assign { changes: vec![AssignmentChange { unit, node: Some(node) }] }
    }

    fn source(c: &str, t: u32, epoch: u64, partition: &str, offset: &str) -> SourceOffsetCommit {
        SourceOffsetCommit { connector: c.into(), task: t, epoch, partition: partition.into(), offset: offset.into() }
    }

    fn sink(c: &str, t: u32, epoch: u64, topic: &str, partition: i32, offset: i64) -> SinkOffsetCommit {
        SinkOffsetCommit { connector: c.into(), task: t, epoch, topic: topic.into(), partition, offset }
    }

    /// Apply `cmds` at indexes 1, 2, … and return the responses.
    fn run(state: &mut State, cmds: &[Command]) -> Vec<Response> {
        let mut dirty = DirtyKeys::new();
        cmds.iter().enumerate().map(|(i, c)| state.apply(i as u64 + 1, c, &mut dirty)).collect()
    }

    /// Connector `c` with task 0 assigned to node 1 at index 2, and its connector unit at index 3.
    fn with_assigned_task() -> State {
        let mut s = State::default();
        let r = run(&mut s, &[put("c", None), assign(task("c", 0), 1), assign(WorkUnit::Connector("c".into()), 1)]);
        assert!(r.iter().all(|r| *r == Response::Applied), "{r:?}");
        s
    }

    fn apply_at(s: &mut State, index: u64, cmd: Command) -> (Response, DirtyKeys) {
        let mut dirty = DirtyKeys::new();
        let r = s.apply(index, &cmd, &mut dirty);
        (r, dirty)
    }

    #[test]
    fn current_offset_commit_applies() {
        let mut s = with_assigned_task();
        let (r, dirty) = apply_at(
            &mut s,
            10,
            Command::CommitOffsets {
                node: 1,
                source: vec![source("c", 0, 2, "p", "o1")],
                sink: vec![sink("c", 0, 2, "t", 0, 5)],
            },
        );
        assert_eq!(r, Response::Applied);
        assert_eq!(s.source_offsets.get(&("c".into(), "p".into())), Some(&"o1".to_string()));
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 0)), Some(&5));
        assert!(dirty.contains(&Key::SourceOffset("c".into(), "p".into())));
        assert!(dirty.contains(&Key::SinkOffset("c".into(), "t".into(), 0)));
    }

    #[test]
    fn sink_partition_spread_is_per_generation_and_fences_sink_commits() {
        let mut s = with_assigned_task();
        let tp = |t: &str, p: i32| TopicPartition { topic: t.into(), partition: p };
        let (r, _) =
            apply_at(&mut s, 5, Command::PutTaskConfigs { connector: "c".into(), epoch: 3, configs: vec![cfg(&[])] });
        assert_eq!(r, Response::Applied);
        // A spread for other task configs is stale.
        let (r, _) = apply_at(
            &mut s,
            6,
            Command::AssignSinkPartitions { connector: "c".into(), generation: 4, tasks: vec![vec![tp("t", 0)]] },
        );
        assert_eq!(r, Response::Rejected(Rejection::StaleGeneration { connector: "c".into(), generation: 4 }));
        let (r, dirty) = apply_at(
            &mut s,
            7,
            Command::AssignSinkPartitions { connector: "c".into(), generation: 5, tasks: vec![vec![tp("t", 0)]] },
        );
        assert_eq!(r, Response::Applied);
        assert!(dirty.contains(&Key::SinkPartitions("c".into())));
        assert_eq!(s.sink_partitions["c"].of_task(5, 0), Some(&[tp("t", 0)][..]));
        assert_eq!(s.sink_partitions["c"].of_task(4, 0), None);
        // Task 0 (epoch 2) may commit t-0 but not t-1, which is not spread to it.
        let (r, _) = apply_at(
            &mut s,
            8,
            Command::CommitOffsets {
                node: 1,
                source: vec![],
                sink: vec![sink("c", 0, 2, "t", 0, 5), sink("c", 0, 2, "t", 1, 9)],
            },
        );
        assert_eq!(
            r,
            Response::PartiallyApplied {
                applied: 1,
                rejected: vec![Rejection::PartitionNotOwned {
                    connector: "c".into(),
                    task: 0,
                    topic: "t".into(),
                    partition: 1
                }]
            }
        );
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 0)), Some(&5));
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 1)), None);
        // Deleting the connector removes its spread.
        let (r, dirty) = apply_at(&mut s, 9, Command::DeleteConnector { name: "c".into() });
        assert_eq!(r, Response::Applied);
        assert!(s.sink_partitions.is_empty() && dirty.contains(&Key::SinkPartitions("c".into())));
    }

    #[test]
    fn offset_commit_with_stale_epoch_or_wrong_node_is_rejected() {
        let mut s = with_assigned_task();
        apply_at(
            &mut s,
            4,
            Command::CommitOffsets { node: 1, source: vec![source("c", 0, 2, "p", "o1")], sink: vec![] },
        );
        // Reassign the task to node 2 at index 5: epoch 2 is now stale.
        assert_eq!(apply_at(&mut s, 5, assign(task("c", 0), 2)).0, Response::Applied);
        let before = s.clone();
        let current = Some(Assignment { node: 2, epoch: 5, revoking: false });

        // Old owner, old epoch.
        let (r, dirty) = apply_at(
            &mut s,
            6,
            Command::CommitOffsets { node: 1, source: vec![source("c", 0, 2, "p", "o2")], sink: vec![] },
        );
        assert_eq!(r, Response::Rejected(Rejection::StaleEpoch { unit: task("c", 0), node: 1, epoch: 2, current }));
        assert!(dirty.is_empty());
        // Right epoch, wrong node.
        let (r, _) = apply_at(
            &mut s,
            7,
            Command::CommitOffsets { node: 1, source: vec![], sink: vec![sink("c", 0, 5, "t", 0, 9)] },
        );
        assert_eq!(r, Response::Rejected(Rejection::StaleEpoch { unit: task("c", 0), node: 1, epoch: 5, current }));
        // Right node, wrong epoch.
        let (r, _) = apply_at(
            &mut s,
            8,
            Command::CommitOffsets { node: 2, source: vec![source("c", 0, 2, "p", "o3")], sink: vec![] },
        );
        assert_eq!(r, Response::Rejected(Rejection::StaleEpoch { unit: task("c", 0), node: 2, epoch: 2, current }));
        // Unassigned task.
        let (r, _) = apply_at(
            &mut s,
            9,
            Command::CommitOffsets { node: 2, source: vec![source("c", 7, 5, "p", "o4")], sink: vec![] },
        );
        assert_eq!(
            r,
            Response::Rejected(Rejection::StaleEpoch { unit: task("c", 7), node: 2, epoch: 5, current: None })
        );
        assert_eq!(s, before, "rejected commits changed the state");
        assert_eq!(s.source_offsets.get(&("c".into(), "p".into())), Some(&"o1".to_string()));

        // The current owner under the current epoch applies.
        let (r, _) = apply_at(
            &mut s,
            10,
            Command::CommitOffsets { node: 2, source: vec![source("c", 0, 5, "p", "o5")], sink: vec![] },
        );
        assert_eq!(r, Response::Applied);
        assert_eq!(s.source_offsets.get(&("c".into(), "p".into())), Some(&"o5".to_string()));
    }

    #[test]
    fn offset_batch_with_some_stale_items_is_partially_applied() {
        let mut s = with_assigned_task();
        // Task 1 of c belongs to node 2.
        apply_at(&mut s, 4, assign(task("c", 1), 2));
        let (r, _) = apply_at(
            &mut s,
            5,
            Command::CommitOffsets {
                node: 1,
                source: vec![source("c", 0, 2, "p0", "a"), source("c", 1, 4, "p1", "b")],
                sink: vec![sink("c", 0, 2, "t", 0, 1), sink("c", 0, 99, "t", 1, 2)],
            },
        );
        assert_eq!(
            r,
            Response::PartiallyApplied {
                applied: 2,
                rejected: vec![
                    Rejection::StaleEpoch {
                        unit: task("c", 1),
                        node: 1,
                        epoch: 4,
                        current: Some(Assignment { node: 2, epoch: 4, revoking: false })
                    },
                    Rejection::StaleEpoch {
                        unit: task("c", 0),
                        node: 1,
                        epoch: 99,
                        current: Some(Assignment { node: 1, epoch: 2, revoking: false })
                    },
                ],
            }
        );
        assert_eq!(s.source_offsets.len(), 1);
        assert!(s.source_offsets.contains_key(&("c".into(), "p0".into())));
        assert_eq!(s.sink_offsets.len(), 1);
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 0)), Some(&1));
    }

    #[test]
    fn alter_offsets_is_refused_unless_stopped() {
        let mut s = with_assigned_task();
        apply_at(
            &mut s,
            4,
            Command::CommitOffsets {
                node: 1,
                source: vec![source("c", 0, 2, "p", "o1")],
                sink: vec![sink("c", 0, 2, "t", 0, 3)],
            },
        );
        let alter = Command::AlterOffsets {
            connector: "c".into(),
            reset: true,
            source: vec![("q".into(), Some("o9".into()))],
            sink: vec![],
        };
        for (i, state) in [TargetState::Running, TargetState::Paused].into_iter().enumerate() {
            apply_at(&mut s, 5 + i as u64 * 2, Command::SetTargetState { name: "c".into(), state });
            let before = s.clone();
            let (r, dirty) = apply_at(&mut s, 6 + i as u64 * 2, alter.clone());
            assert_eq!(r, Response::Rejected(Rejection::NotStopped { name: "c".into() }), "{state:?}");
            assert!(dirty.is_empty());
            assert_eq!(s, before);
        }
        let (r, _) = apply_at(
            &mut s,
            9,
            Command::AlterOffsets { connector: "nope".into(), reset: false, source: vec![], sink: vec![] },
        );
        assert_eq!(r, Response::Rejected(Rejection::UnknownConnector { name: "nope".into() }));

        apply_at(&mut s, 10, Command::SetTargetState { name: "c".into(), state: TargetState::Stopped });
        // Stopped, but task 0 has not committed its final offsets and released yet.
        let (r, _) = apply_at(&mut s, 11, alter.clone());
        assert_eq!(r, Response::Rejected(Rejection::NotStopped { name: "c".into() }));
        let a = s.assignments[&task("c", 0)];
        assert!(a.revoking);
        let (r, _) = apply_at(&mut s, 12, Command::ReleaseUnits { node: a.node, units: vec![(task("c", 0), a.epoch)] });
        assert_eq!(r, Response::Applied);
        let (r, _) = apply_at(&mut s, 13, alter);
        assert_eq!(r, Response::Applied);
        // reset cleared p and the sink offset; q was written.
        assert_eq!(s.source_offsets.len(), 1);
        assert_eq!(s.source_offsets.get(&("c".into(), "q".into())), Some(&"o9".to_string()));
        assert!(s.sink_offsets.is_empty());
    }

    #[test]
    fn delete_connector_removes_assignments_statuses_task_configs_but_keeps_offsets() {
        let mut s = with_assigned_task();
        let mut d = DirtyKeys::new();
        let cmds = [
            Command::PutTaskConfigs { connector: "c".into(), epoch: 3, configs: vec![cfg(&[("k", "v")])] },
            Command::ReportStatus {
                unit: task("c", 0),
                node: 1,
                epoch: 2,
                state: UnitState::Running,
                trace: None,
                restarts: 0,
                next_restart_ms: None,
            },
            Command::ReportStatus {
                unit: WorkUnit::Connector("c".into()),
                node: 1,
                epoch: 3,
                state: UnitState::Running,
                trace: None,
                restarts: 0,
                next_restart_ms: None,
            },
            Command::CommitOffsets {
                node: 1,
                source: vec![source("c", 0, 2, "p", "o")],
                sink: vec![sink("c", 0, 2, "t", 0, 7)],
            },
            // Another connector that must be left alone.
            put("other", None),
            assign(task("other", 0), 2),
        ];
        for (i, c) in cmds.iter().enumerate() {
            assert_eq!(s.apply(4 + i as u64, c, &mut d), Response::Applied, "{c:?}");
        }
        assert_eq!(s.statuses.len(), 2);
        assert_eq!(s.task_configs.len(), 1);

        let (r, dirty) = apply_at(&mut s, 20, Command::DeleteConnector { name: "c".into() });
        assert_eq!(r, Response::Applied);
        assert!(!s.connectors.contains_key("c"));
        assert!(s.task_configs.is_empty());
        assert!(s.statuses.is_empty());
        assert_eq!(s.assignments.keys().collect::<Vec<_>>(), vec![&task("other", 0)]);
        assert!(s.connectors.contains_key("other"));
        // Offsets stay so a re-created connector resumes.
        assert_eq!(s.source_offsets.get(&("c".into(), "p".into())), Some(&"o".to_string()));
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 0)), Some(&7));
        // The store persists removals through the dirty set.
        for k in [
            Key::Connector("c".into()),
            Key::TaskConfigs("c".into()),
            Key::Assignment(task("c", 0)),
            Key::Assignment(WorkUnit::Connector("c".into())),
            Key::Status(task("c", 0)),
            Key::Status(WorkUnit::Connector("c".into())),
        ] {
            assert!(dirty.contains(&k), "{k:?} not dirty");
        }
        assert!(!dirty.iter().any(|k| matches!(k, Key::SourceOffset(..) | Key::SinkOffset(..))));

        let (r, _) = apply_at(&mut s, 21, Command::DeleteConnector { name: "c".into() });
        assert_eq!(r, Response::Rejected(Rejection::UnknownConnector { name: "c".into() }));
    }

    #[test]
    fn register_node_with_a_different_incarnation_is_rejected() {
        let mut s = State::default();
        let reg = |url: &str, inc: &str| Command::RegisterNode { id: 7, rest_url: url.into(), incarnation: inc.into() };
        assert_eq!(apply_at(&mut s, 1, reg("http://a:8083", "dir-1")).0, Response::Applied);
        apply_at(&mut s, 2, Command::MarkNodeLeaving { id: 7 });
        assert!(s.nodes[&7].leaving);
        let before = s.clone();

        let (r, dirty) = apply_at(&mut s, 3, reg("http://b:8083", "dir-2"));
        assert_eq!(r, Response::Rejected(Rejection::IncarnationMismatch { id: 7 }));
        assert!(dirty.is_empty());
        assert_eq!(s, before);

        // Same incarnation: URL updated, leaving cleared, registration index kept.
        assert_eq!(apply_at(&mut s, 4, reg("http://c:8083", "dir-1")).0, Response::Applied);
        let n = &s.nodes[&7];
        assert_eq!((n.rest_url.as_str(), n.leaving, n.registered_index), ("http://c:8083", false, 1));
    }

    #[test]
    fn put_connector_keeps_target_state_on_update() {
        let mut s = State::default();
        apply_at(&mut s, 1, put("c", Some(TargetState::Paused)));
        assert_eq!(s.connectors["c"].target_state, TargetState::Paused);
        apply_at(&mut s, 2, put("d", None));
        assert_eq!(s.connectors["d"].target_state, TargetState::Running);

        apply_at(&mut s, 3, Command::SetTargetState { name: "c".into(), state: TargetState::Stopped });
        let (r, _) = apply_at(
            &mut s,
            4,
            Command::PutConnector {
                name: "c".into(),
                config: cfg(&[("topic", "new")]),
                target_state: Some(TargetState::Running),
            },
        );
        assert_eq!(r, Response::Applied);
        let c = &s.connectors["c"];
        assert_eq!(c.target_state, TargetState::Stopped, "update must keep the target state");
        assert_eq!(c.config, cfg(&[("topic", "new")]));
        assert_eq!((c.created_index, c.updated_index), (1, 4));
    }

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

    fn create(name: &str, request_id: &str) -> Command {
        Command::CreateConnector {
            name: name.into(),
            request_id: request_id.into(),
            config: cfg(&[("topic", name)]),
            target_state: TargetState::Paused,
            source_offsets: vec![(r#"{"filename":"a"}"#.into(), r#"{"position":3}"#.into())],
            sink_offsets: vec![],
        }
    }

    #[test]
    fn create_is_create_only_and_carries_its_offsets_and_request_id() {
        let mut state = State::default();
        let r = run(&mut state, &[create("c", "req-1"), create("c", "req-2")]);
        assert_eq!(r[0], Response::Applied);
        assert_eq!(r[1], Response::Rejected(Rejection::AlreadyExists { name: "c".into() }));
        let c = &state.connectors["c"];
        assert_eq!(c.created_by, "req-1", "the second create changed nothing");
        assert_eq!(c.target_state, TargetState::Paused);
        assert_eq!(state.source_offsets[&("c".to_string(), r#"{"filename":"a"}"#.to_string())], r#"{"position":3}"#);
    }

    #[test]
    fn stopping_drops_task_configs_and_statuses_and_revokes_task_assignments() {
        let mut state = with_assigned_task();
        let name = state.connectors.keys().next().cloned().unwrap();
        assert!(state.assignments.keys().any(|u| matches!(u, WorkUnit::Task { .. })));
        run(&mut state, &[Command::SetTargetState { name: name.clone(), state: TargetState::Stopped }]);
        assert_eq!(state.task_configs[&name].configs.len(), 0);
        // The task keeps its epoch until it released: its final offset commit is accepted.
        let a = state.assignments[&task(&name, 0)];
        assert!(a.revoking);
        let mut dirty = DirtyKeys::new();
        let commit =
            Command::CommitOffsets { node: a.node, source: vec![source(&name, 0, a.epoch, "p", "o")], sink: vec![] };
        assert_eq!(state.apply(20, &commit, &mut dirty), Response::Applied);
        assert!(!state.statuses.keys().any(|u| matches!(u, WorkUnit::Task { .. })));
        assert_eq!(state.connectors[&name].target_state, TargetState::Stopped);
    }

    #[test]
    fn restart_requests_mark_exactly_the_units_of_their_plan() {
        let mut state = State::default();
        run(&mut state, &[put("c", None)]);
        state.task_configs.insert("c".into(), TaskConfigs { configs: vec![ConfigMap::new(); 2], generation: 1 });
        let t0 = task("c", 0);
        let t1 = task("c", 1);
        state.statuses.insert(
            t1.clone(),
            StatusRecord {
                state: UnitState::Failed,
                node: 1,
                trace: None,
                epoch: 1,
                restarts: 0,
                next_restart_ms: None,
            },
        );
        let restart =
            |include_tasks, only_failed| Command::RequestRestart { connector: "c".into(), include_tasks, only_failed };
        let mut dirty = DirtyKeys::new();
        state.apply(10, &restart(true, false), &mut dirty);
        assert_eq!(state.restarts.len(), 3, "connector and both tasks");
        // A later, smaller request still marks what it restarts: nothing is lost.
        state.apply(11, &restart(true, true), &mut dirty);
        assert_eq!(state.restarts[&t1], 11, "the failed task is marked by the later request");
        assert_eq!(state.restarts[&t0], 10, "the healthy task is not");
        assert_eq!(state.restarts[&WorkUnit::Connector("c".into())], 10, "nor the healthy connector");
        assert_eq!(
            state.apply(12, &Command::RequestTaskRestart { connector: "c".into(), task: 5 }, &mut dirty),
            Response::Rejected(Rejection::UnknownTask { connector: "c".into(), task: 5 })
        );
        // Stopping drops the tasks and their marks.
        state.apply(13, &Command::SetTargetState { name: "c".into(), state: TargetState::Stopped }, &mut dirty);
        assert!(!state.restarts.contains_key(&t0) && !state.restarts.contains_key(&t1));
        assert_eq!(
            state.apply(14, &Command::PutTaskConfigs { connector: "c".into(), epoch: 0, configs: vec![] }, &mut dirty),
            Response::Rejected(Rejection::ConnectorStopped { name: "c".into() })
        );
    }
}
