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
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorRecord {
    pub config: ConfigMap,
    pub target_state: TargetState,
    /// Log index of the entry that created the connector.
    pub created_index: u64,
    /// Log index of the entry that last changed its config.
    pub updated_index: u64,
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
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Add a node to the registry, or update the URL of a node with the same incarnation.
    RegisterNode { id: NodeId, rest_url: String, incarnation: String },
    /// The node announced it is leaving: its work is to be moved at once.
    MarkNodeLeaving { id: NodeId },
    /// Drop a node from the registry (after it left the Raft membership).
    ForgetNode { id: NodeId },
    /// Create a connector or replace its config. `target_state` applies on create only
    /// (Kafka Connect's `initial_state`); updates keep the current target state.
    PutConnector { name: String, config: ConfigMap, target_state: Option<TargetState> },
    /// Delete a connector with its task configs, assignments and statuses. Offsets are kept,
    /// as in Kafka Connect, so a connector re-created under the same name resumes.
    DeleteConnector { name: String },
    SetTargetState { name: String, state: TargetState },
    /// Task configs produced by the connector instance running under `epoch`.
    PutTaskConfigs { connector: String, epoch: u64, configs: Vec<ConfigMap> },
    /// A new assignment. The epoch of every unit it assigns is this entry's log index.
    Assign { changes: Vec<AssignmentChange> },
    /// One node's coalesced offset commits; each is fenced by its task's epoch.
    CommitOffsets { node: NodeId, source: Vec<SourceOffsetCommit>, sink: Vec<SinkOffsetCommit> },
    /// The offsets REST API (KIP-875): only while the connector is STOPPED. `None` deletes.
    /// `reset` first clears every offset of the connector.
    AlterOffsets {
        connector: String,
        reset: bool,
        source: Vec<(String, Option<String>)>,
        sink: Vec<(String, i32, Option<i64>)>,
    },
    /// A status report from the node running `unit` under `epoch`.
    ReportStatus { unit: WorkUnit, node: NodeId, epoch: u64, state: UnitState, trace: Option<String> },
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
            Command::AlterOffsets { .. } => "alter_offsets",
            Command::ReportStatus { .. } => "report_status",
        }
    }
}

/// Why a command did not (fully) apply. Deterministic: every replica computes the same one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    UnknownConnector { name: String },
    UnknownNode { id: NodeId },
    /// A write made under an epoch that is no longer the unit's current assignment.
    StaleEpoch { unit: WorkUnit, node: NodeId, epoch: u64, current: Option<Assignment> },
    /// Offsets may only be altered while the connector is STOPPED.
    NotStopped { name: String },
    /// A node id already belongs to another data directory.
    IncarnationMismatch { id: NodeId },
    /// A task index beyond the connector's current task configs.
    UnknownTask { connector: String, task: u32 },
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::UnknownConnector { name } => write!(f, "Connector {name} not found"),
            Rejection::UnknownNode { id } => write!(f, "Node {id} not found"),
            Rejection::StaleEpoch { unit, node, epoch, current } => write!(
                f,
                "stale epoch for {unit}: node {node} epoch {epoch}, current assignment {current:?}"
            ),
            Rejection::NotStopped { name } => write!(
                f,
                "Connectors must be in the STOPPED state before their offsets can be modified. \
                 This can be done for the specified connector by issuing a 'PUT' request to the \
                 '/connectors/{name}/stop' endpoint"
            ),
            Rejection::IncarnationMismatch { id } => {
                write!(f, "Node id {id} is already in use by another data directory")
            }
            Rejection::UnknownTask { connector, task } => write!(f, "Task {connector}-{task} not found"),
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
    PartiallyApplied { applied: u32, rejected: Vec<Rejection> },
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
                let units: Vec<WorkUnit> = self
                    .assignments
                    .keys()
                    .chain(self.statuses.keys())
                    .filter(|u| u.connector() == name)
                    .cloned()
                    .collect();
                for unit in units {
                    self.assignments.remove(&unit);
                    self.statuses.remove(&unit);
                    dirty.insert(Key::Assignment(unit.clone()));
                    dirty.insert(Key::Status(unit));
                }
                Response::Applied
            }
            Command::SetTargetState { name, state } => match self.connectors.get_mut(name) {
                Some(c) => {
                    c.target_state = *state;
                    dirty.insert(Key::Connector(name.clone()));
                    Response::Applied
                }
                None => Response::Rejected(Rejection::UnknownConnector { name: name.clone() }),
            },
            Command::PutTaskConfigs { connector, epoch, configs } => {
                if !self.connectors.contains_key(connector) {
                    return Response::Rejected(Rejection::UnknownConnector { name: connector.clone() });
                }
                let unit = WorkUnit::Connector(connector.clone());
                let current = self.assignments.get(&unit).copied();
                if current.map(|a| a.epoch) != Some(*epoch) {
                    let node = current.map(|a| a.node).unwrap_or_default();
                    return Response::Rejected(Rejection::StaleEpoch { unit, node, epoch: *epoch, current });
                }
                self.task_configs.insert(
                    connector.clone(),
                    TaskConfigs { configs: configs.clone(), generation: index },
                );
                dirty.insert(Key::TaskConfigs(connector.clone()));
                Response::Applied
            }
            Command::Assign { changes } => {
                for change in changes {
                    match change.node {
                        Some(node) => {
                            self.assignments.insert(change.unit.clone(), Assignment { node, epoch: index });
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
                    match self.check_epoch(&unit, *node, c.epoch) {
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
            Command::AlterOffsets { connector, reset, source, sink } => {
                match self.connectors.get(connector) {
                    None => {
                        return Response::Rejected(Rejection::UnknownConnector { name: connector.clone() })
                    }
                    Some(c) if c.target_state != TargetState::Stopped => {
                        return Response::Rejected(Rejection::NotStopped { name: connector.clone() })
                    }
                    Some(_) => {}
                }
                if *reset {
                    let src: Vec<_> =
                        self.source_offsets.keys().filter(|k| &k.0 == connector).cloned().collect();
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
            Command::ReportStatus { unit, node, epoch, state, trace } => {
                if !self.connectors.contains_key(unit.connector()) {
                    return Response::Rejected(Rejection::UnknownConnector { name: unit.connector().to_string() });
                }
                if let Err(r) = self.check_epoch(unit, *node, *epoch) {
                    return Response::Rejected(r);
                }
                self.statuses.insert(
                    unit.clone(),
                    StatusRecord { state: *state, node: *node, trace: trace.clone(), epoch: *epoch },
                );
                dirty.insert(Key::Status(unit.clone()));
                Response::Applied
            }
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
