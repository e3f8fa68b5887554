//! Statuses: Kafka Connect's externally visible [`UnitState`] of each unit, as [`StatusRecord`]s
//! written by [`StatusReport`]s from the node running the unit under its epoch.

use serde::{Deserialize, Serialize};

use super::assignment::Writer;
use super::{batch_response, DirtyKeys, Key, NodeId, Rejection, Response, State, WorkUnit};

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

/// One unit's status in a [`ReportStatuses`](super::Command::ReportStatuses) batch: what a
/// [`ReportStatus`](super::Command::ReportStatus) carries, less the node (the batch's).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    pub unit: WorkUnit,
    pub epoch: u64,
    pub state: UnitState,
    pub trace: Option<String>,
    pub restarts: u32,
    pub next_restart_ms: Option<u64>,
}

impl State {
    /// `Command::ReportStatuses`: each report applies (or is rejected) on its own.
    pub(super) fn report_statuses(
        &mut self,
        node: NodeId,
        reports: &[StatusReport],
        dirty: &mut DirtyKeys,
    ) -> Response {
        let mut rejected = Vec::new();
        let mut applied = 0u32;
        for report in reports {
            match self.report_status(node, report.clone(), dirty) {
                Ok(()) => applied += 1,
                Err(r) => rejected.push(r),
            }
        }
        batch_response(applied, rejected)
    }

    /// One status report by `node`, the same for `Command::ReportStatus` and each report of
    /// `Command::ReportStatuses`: only from the node running the unit under its epoch.
    pub(super) fn report_status(
        &mut self,
        node: NodeId,
        report: StatusReport,
        dirty: &mut DirtyKeys,
    ) -> Result<(), Rejection> {
        if !self.connectors.contains_key(report.unit.connector()) {
            return Err(Rejection::UnknownConnector { name: report.unit.connector().to_string() });
        }
        self.check_epoch(&report.unit, Writer::Node(node), report.epoch)?;
        dirty.insert(Key::Status(report.unit.clone()));
        self.statuses.insert(
            report.unit,
            StatusRecord {
                state: report.state,
                node,
                trace: report.trace,
                epoch: report.epoch,
                restarts: report.restarts,
                next_restart_ms: report.next_restart_ms,
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::*;
    use crate::model::{Assignment, Command};

    fn status_report(unit: WorkUnit, epoch: u64, state: UnitState) -> StatusReport {
        StatusReport { unit, epoch, state, trace: Some(format!("{state:?}")), restarts: 2, next_restart_ms: Some(9) }
    }

    #[test]
    fn status_reports_apply_each_as_a_report_status_would() {
        let base = with_assigned_task();
        let reports = vec![
            status_report(task("c", 0), 2, UnitState::Running),
            status_report(WorkUnit::Connector("c".into()), 1, UnitState::Running), // stale
            status_report(task("gone", 0), 2, UnitState::Failed),                  // unknown connector
            status_report(WorkUnit::Connector("c".into()), 3, UnitState::Paused),
        ];
        let mut batched = base.clone();
        let (r, dirty) = apply_at(&mut batched, 10, Command::ReportStatuses { node: 1, reports: reports.clone() });
        let mut single = base.clone();
        let mut single_dirty = DirtyKeys::new();
        let singles: Vec<Response> = reports
            .iter()
            .map(|rep| {
                let cmd = Command::ReportStatus {
                    unit: rep.unit.clone(),
                    node: 1,
                    epoch: rep.epoch,
                    state: rep.state,
                    trace: rep.trace.clone(),
                    restarts: rep.restarts,
                    next_restart_ms: rep.next_restart_ms,
                };
                single.apply(10, &cmd, &mut single_dirty)
            })
            .collect();
        assert_eq!(batched, single);
        assert_eq!(dirty, single_dirty);
        let rejected: Vec<Rejection> = singles
            .into_iter()
            .filter_map(|r| match r {
                Response::Rejected(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(rejected.len(), 2);
        assert_eq!(r, Response::PartiallyApplied { applied: 2, rejected });
        assert_eq!(batched.statuses[&WorkUnit::Connector("c".into())].state, UnitState::Paused);
        assert_eq!(batched.statuses[&task("c", 0)].restarts, 2);

        let mut s = base.clone();
        assert_eq!(apply_at(&mut s, 11, Command::ReportStatuses { node: 1, reports: vec![] }).0, Response::Applied);
        let stale = vec![status_report(task("c", 0), 2, UnitState::Running)];
        assert_eq!(
            apply_at(&mut s, 12, Command::ReportStatuses { node: 2, reports: stale }).0,
            Response::Rejected(Rejection::StaleEpoch {
                unit: task("c", 0),
                node: 2,
                epoch: 2,
                current: Some(Assignment { node: 1, epoch: 2, revoking: false })
            })
        );
        assert_eq!(s, base);
    }
}
