//! Where units run: [`WorkUnit`], [`Assignment`] and [`AssignmentChange`], the apply arms that
//! assign, revoke and release units, and the epoch check that fences every write a unit's node
//! makes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{batch_response, DirtyKeys, Key, NodeId, Rejection, Response, State, StatusRecord, UnitState};

/// A unit of work that is assigned to a node: a connector instance or one of its tasks.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum WorkUnit {
    Connector(String),
    Task { connector: String, task: u32 },
}

impl WorkUnit {
    /// Every task unit of `connector`, as a key range: maps keyed by units are sorted by
    /// connector, then task, so a connector's tasks are found without a scan of all units.
    pub fn tasks_of(connector: &str) -> std::ops::RangeInclusive<WorkUnit> {
        WorkUnit::Task { connector: connector.to_string(), task: 0 }..=WorkUnit::Task {
            connector: connector.to_string(),
            task: u32::MAX,
        }
    }

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

/// One change of the assignment: `node: None` revokes the unit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AssignmentChange {
    pub unit: WorkUnit,
    pub node: Option<NodeId>,
}

/// Who made a write fenced by the epoch rule ([`State::check_epoch`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum Writer {
    /// The node the command names (offset commits, status reports, releases).
    Node(NodeId),
    /// Whichever node holds the unit: task configs name no node, only the epoch of the
    /// connector instance that produced them.
    Holder,
}

impl State {
    /// `Command::Assign`: every unit it assigns gets this entry's index as its epoch.
    pub(super) fn assign(&mut self, index: u64, changes: &[AssignmentChange], dirty: &mut DirtyKeys) -> Response {
        for change in changes {
            match change.node {
                Some(node) => {
                    self.assignments.insert(change.unit.clone(), Assignment { node, epoch: index, revoking: false });
                }
                None => {
                    self.assignments.remove(&change.unit);
                }
            }
            dirty.insert(Key::Assignment(change.unit.clone()));
        }
        Response::Applied
    }

    /// `Command::Revoke`: the assigned units among `units` are marked revoking, epochs kept.
    pub(super) fn revoke(&mut self, units: &[WorkUnit], dirty: &mut DirtyKeys) -> Response {
        for unit in units {
            if let Some(a) = self.assignments.get_mut(unit) {
                a.revoking = true;
                dirty.insert(Key::Assignment(unit.clone()));
            }
        }
        Response::Applied
    }

    /// `Command::ReleaseUnits`: each unit `node` still holds under the given epoch is
    /// unassigned, and (while its connector exists) its status becomes UNASSIGNED.
    pub(super) fn release_units(&mut self, node: NodeId, units: &[(WorkUnit, u64)], dirty: &mut DirtyKeys) -> Response {
        let mut rejected = Vec::new();
        let mut applied = 0u32;
        for (unit, epoch) in units {
            match self.check_epoch(unit, Writer::Node(node), *epoch) {
                Ok(()) => {
                    self.assignments.remove(unit);
                    dirty.insert(Key::Assignment(unit.clone()));
                    if self.connectors.contains_key(unit.connector()) {
                        let status = StatusRecord {
                            state: UnitState::Unassigned,
                            node,
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

    /// The epoch rule, the one check that fences every write a unit's node makes (offset
    /// commits, status reports, releases, task configs): a write for `unit` made under `epoch`
    /// applies only while the unit's current assignment has that epoch and, when the writer
    /// names its node, is to that node. The epoch is the log index of the entry that made the
    /// assignment, so a write from an earlier placement of the unit, or from a node that lost
    /// it, is refused even when it arrives late.
    pub(super) fn check_epoch(&self, unit: &WorkUnit, writer: Writer, epoch: u64) -> Result<(), Rejection> {
        let current = self.assignments.get(unit).copied();
        let node = match writer {
            Writer::Node(node) => node,
            // A stale write names no node: the rejection shows the current holder (0 if none).
            Writer::Holder => current.map_or(0, |a| a.node),
        };
        match current {
            Some(a) if a.epoch == epoch && a.node == node => Ok(()),
            _ => Err(Rejection::StaleEpoch { unit: unit.clone(), node, epoch, current }),
        }
    }
}

/// The units of connector `name` (its connector unit, then its tasks) that are keys of `m`.
pub(super) fn units_of<V>(m: &BTreeMap<WorkUnit, V>, name: &str) -> Vec<WorkUnit> {
    let connector = WorkUnit::Connector(name.to_string());
    m.get_key_value(&connector)
        .map(|(u, _)| u.clone())
        .into_iter()
        .chain(m.range(WorkUnit::tasks_of(name)).map(|(u, _)| u.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::*;

    #[test]
    fn the_epoch_rule_wants_the_current_epoch_and_the_named_node() {
        // Task 0 of c is assigned to node 1 at index 2.
        let s = with_assigned_task();
        let t = task("c", 0);
        let current = Some(Assignment { node: 1, epoch: 2, revoking: false });
        assert_eq!(s.check_epoch(&t, Writer::Node(1), 2), Ok(()));
        assert_eq!(s.check_epoch(&t, Writer::Holder, 2), Ok(()));
        let stale = |node, epoch, current| Err(Rejection::StaleEpoch { unit: t.clone(), node, epoch, current });
        assert_eq!(s.check_epoch(&t, Writer::Node(2), 2), stale(2, 2, current));
        assert_eq!(s.check_epoch(&t, Writer::Node(1), 1), stale(1, 1, current));
        // A writer that names no node is shown as the current holder.
        assert_eq!(s.check_epoch(&t, Writer::Holder, 1), stale(1, 1, current));
        let unassigned = task("c", 9);
        assert_eq!(
            s.check_epoch(&unassigned, Writer::Holder, 2),
            Err(Rejection::StaleEpoch { unit: unassigned.clone(), node: 0, epoch: 2, current: None })
        );
    }
}
