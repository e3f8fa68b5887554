//! Connectors: [`ConnectorRecord`] with its [`TargetState`], the [`TaskConfigs`] its instance
//! writes (whole, or staged part by part as [`StagedTaskConfigs`]), and restart requests with
//! their planning.

use serde::{Deserialize, Serialize};

use super::assignment::Writer;
use super::{units_of, ConfigMap, DirtyKeys, Key, PartOf, Rejection, Response, State, UnitState, WorkUnit};

/// The state a user asked a connector to be in (Kafka Connect's `TargetState`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetState {
    Running,
    Paused,
    Stopped,
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

/// Task configs received in [`PutTaskConfigsPart`](super::Command::PutTaskConfigsPart)s, not yet
/// current: the parts `0..next_part` of `parts` written by the connector instance running under
/// `epoch`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StagedTaskConfigs {
    pub epoch: u64,
    pub next_part: u32,
    pub parts: u32,
    pub configs: Vec<ConfigMap>,
}

impl State {
    /// `Command::PutConnector`: create, or replace the config and keep the target state.
    pub(super) fn put_connector(
        &mut self,
        index: u64,
        name: &str,
        config: &ConfigMap,
        target_state: Option<TargetState>,
        dirty: &mut DirtyKeys,
    ) -> Response {
        match self.connectors.get_mut(name) {
            Some(c) => {
                c.config = config.clone();
                c.updated_index = index;
            }
            None => {
                self.connectors.insert(
                    name.to_string(),
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
        dirty.insert(Key::Connector(name.to_string()));
        Response::Applied
    }

    /// `Command::CreateConnector`, less its initial offsets: refused if the name exists.
    pub(super) fn create_connector(
        &mut self,
        index: u64,
        name: &str,
        request_id: &str,
        config: &ConfigMap,
        target_state: TargetState,
        dirty: &mut DirtyKeys,
    ) -> Result<(), Rejection> {
        if self.connectors.contains_key(name) {
            return Err(Rejection::AlreadyExists { name: name.to_string() });
        }
        self.connectors.insert(
            name.to_string(),
            ConnectorRecord {
                config: config.clone(),
                target_state,
                created_index: index,
                updated_index: index,
                created_by: request_id.to_string(),
            },
        );
        dirty.insert(Key::Connector(name.to_string()));
        Ok(())
    }

    /// `Command::DeleteConnector`: the connector with its task configs, spread, staged writes,
    /// assignments, statuses and restart marks. Its offsets stay.
    pub(super) fn delete_connector(&mut self, name: &str, dirty: &mut DirtyKeys) -> Response {
        if self.connectors.remove(name).is_none() {
            return Response::Rejected(Rejection::UnknownConnector { name: name.to_string() });
        }
        dirty.insert(Key::Connector(name.to_string()));
        if self.task_configs.remove(name).is_some() {
            dirty.insert(Key::TaskConfigs(name.to_string()));
        }
        if self.sink_partitions.remove(name).is_some() {
            dirty.insert(Key::SinkPartitions(name.to_string()));
        }
        self.clear_staged_task_configs(name, dirty);
        self.clear_staged_sink_partitions(name, dirty);

        self.remove_units(name, dirty);
        Response::Applied
    }

    /// `Command::SetTargetState`; STOPPED also drops the connector's tasks.
    pub(super) fn set_target_state(
        &mut self,
        index: u64,
        name: &str,
        state: TargetState,
        dirty: &mut DirtyKeys,
    ) -> Response {
        match self.connectors.get_mut(name) {
            Some(c) => {
                c.target_state = state;
                dirty.insert(Key::Connector(name.to_string()));
                if state == TargetState::Stopped {
                    self.drop_tasks(index, name, dirty);
                }
                Response::Applied
            }
            None => Response::Rejected(Rejection::UnknownConnector { name: name.to_string() }),
        }
    }

    /// `Command::PutTaskConfigs`: a whole write, generation `index`.
    pub(super) fn put_task_configs(
        &mut self,
        index: u64,
        connector: &str,
        epoch: u64,
        configs: &[ConfigMap],
        dirty: &mut DirtyKeys,
    ) -> Response {
        if let Err(r) = self.check_task_configs_writer(connector, epoch) {
            return Response::Rejected(r);
        }
        self.install_task_configs(index, connector, configs.to_vec(), dirty);
        Response::Applied
    }

    /// `Command::RequestRestart`: marks every unit of the restart plan with `index`.
    pub(super) fn request_restart(
        &mut self,
        index: u64,
        connector: &str,
        include_tasks: bool,
        only_failed: bool,
        dirty: &mut DirtyKeys,
    ) -> Response {
        if !self.connectors.contains_key(connector) {
            return Response::Rejected(Rejection::UnknownConnector { name: connector.to_string() });
        }
        for unit in self.restart_plan(connector, include_tasks, only_failed) {
            self.restarts.insert(unit.clone(), index);
            dirty.insert(Key::Restart(unit));
        }
        Response::Applied
    }

    /// `Command::RequestTaskRestart`: marks one configured task with `index`.
    pub(super) fn request_task_restart(
        &mut self,
        index: u64,
        connector: &str,
        task: u32,
        dirty: &mut DirtyKeys,
    ) -> Response {
        if !self.connectors.contains_key(connector) {
            return Response::Rejected(Rejection::UnknownConnector { name: connector.to_string() });
        }
        let count = self.task_configs.get(connector).map(|t| t.configs.len()).unwrap_or(0);
        if task as usize >= count {
            return Response::Rejected(Rejection::UnknownTask { connector: connector.to_string(), task });
        }
        let unit = WorkUnit::Task { connector: connector.to_string(), task };
        self.restarts.insert(unit.clone(), index);
        dirty.insert(Key::Restart(unit));
        Response::Applied
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
        // Half-written task configs must not become current after the stop; a staged spread
        // was for the task configs just replaced.
        self.clear_staged_task_configs(name, dirty);
        self.clear_staged_sink_partitions(name, dirty);
        for (unit, a) in self.assignments.range_mut(WorkUnit::tasks_of(name)) {
            a.revoking = true;
            dirty.insert(Key::Assignment(unit.clone()));
        }
        let gone: Vec<WorkUnit> = self
            .statuses
            .range(WorkUnit::tasks_of(name))
            .map(|(u, _)| u)
            .chain(self.restarts.range(WorkUnit::tasks_of(name)).map(|(u, _)| u))
            .cloned()
            .collect();
        for unit in gone {
            if self.statuses.remove(&unit).is_some() {
                dirty.insert(Key::Status(unit.clone()));
            }
            if self.restarts.remove(&unit).is_some() {
                dirty.insert(Key::Restart(unit));
            }
        }
    }

    /// Remove the assignments, statuses and restart marks of a connector's units (key ranges,
    /// not a scan of every unit).
    fn remove_units(&mut self, name: &str, dirty: &mut DirtyKeys) {
        let mut units = units_of(&self.assignments, name);
        units.extend(units_of(&self.statuses, name));
        let marked = units_of(&self.restarts, name);
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

    /// Task configs are written by the connector instance running under the connector's current
    /// epoch, and not while it is STOPPED.
    fn check_task_configs_writer(&self, connector: &str, epoch: u64) -> Result<(), Rejection> {
        match self.connectors.get(connector) {
            None => return Err(Rejection::UnknownConnector { name: connector.to_string() }),
            Some(c) if c.target_state == TargetState::Stopped => {
                return Err(Rejection::ConnectorStopped { name: connector.to_string() })
            }
            Some(_) => {}
        }
        self.check_epoch(&WorkUnit::Connector(connector.to_string()), Writer::Holder, epoch)
    }

    /// Make `configs` the connector's current task configs, generation `index`. Any staged
    /// multi-part write is superseded, and a staged spread (made for older task configs) could
    /// never complete: both go.
    fn install_task_configs(&mut self, index: u64, connector: &str, configs: Vec<ConfigMap>, dirty: &mut DirtyKeys) {
        self.task_configs.insert(connector.to_string(), TaskConfigs { configs, generation: index });
        dirty.insert(Key::TaskConfigs(connector.to_string()));
        self.clear_staged_task_configs(connector, dirty);
        self.clear_staged_sink_partitions(connector, dirty);
    }

    fn clear_staged_task_configs(&mut self, connector: &str, dirty: &mut DirtyKeys) {
        if self.staged_task_configs.remove(connector).is_some() {
            dirty.insert(Key::StagedTaskConfigs(connector.to_string()));
        }
    }

    /// One part of a multi-part task-config write. Everything is checked before anything
    /// changes, so a rejected part leaves the state as it was.
    pub(super) fn put_task_configs_part(
        &mut self,
        index: u64,
        connector: &str,
        epoch: u64,
        at: PartOf,
        configs: &[ConfigMap],
        dirty: &mut DirtyKeys,
    ) -> Result<(), Rejection> {
        self.check_task_configs_writer(connector, epoch)?;
        let expected = match self.staged_task_configs.get(connector) {
            Some(s) if s.epoch == epoch && s.parts == at.parts => s.next_part,
            _ => 0,
        };
        at.check_order(connector, expected)?;
        let mut so_far = match self.staged_task_configs.remove(connector) {
            Some(s) if !at.is_first() => s.configs,
            _ => Vec::new(),
        };
        so_far.extend_from_slice(configs);
        dirty.insert(Key::StagedTaskConfigs(connector.to_string()));
        if at.is_last() {
            self.install_task_configs(index, connector, so_far, dirty);
        } else {
            let staged = StagedTaskConfigs { epoch, next_part: at.part + 1, parts: at.parts, configs: so_far };
            self.staged_task_configs.insert(connector.to_string(), staged);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::*;
    use crate::model::{Assignment, AssignmentChange, Command, StatusRecord, TopicPartition};

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

    #[test]
    fn task_config_parts_become_current_only_with_the_last_part() {
        // Connector c's instance runs under epoch 3.
        let mut s = with_assigned_task();
        let (r, dirty) = apply_at(&mut s, 10, tc_part(3, 0, 3, configs(2, "a")));
        assert_eq!(r, Response::Applied);
        assert!(dirty.contains(&Key::StagedTaskConfigs("c".into())));
        assert!(!s.task_configs.contains_key("c"), "staged configs are not visible");
        apply_at(&mut s, 11, tc_part(3, 1, 3, configs(1, "b")));
        assert_eq!(s.staged_task_configs["c"].next_part, 2);
        assert!(!s.task_configs.contains_key("c"));
        let (r, dirty) = apply_at(&mut s, 12, tc_part(3, 2, 3, configs(1, "c")));
        assert_eq!(r, Response::Applied);
        let mut all = configs(2, "a");
        all.extend(configs(1, "b"));
        all.extend(configs(1, "c"));
        assert_eq!(s.task_configs["c"], TaskConfigs { configs: all, generation: 12 });
        assert!(s.staged_task_configs.is_empty());
        assert!(dirty.contains(&Key::TaskConfigs("c".into())) && dirty.contains(&Key::StagedTaskConfigs("c".into())));
        // A single-part write is a whole write.
        apply_at(&mut s, 13, tc_part(3, 0, 1, configs(1, "d")));
        assert_eq!(s.task_configs["c"], TaskConfigs { configs: configs(1, "d"), generation: 13 });
    }

    #[test]
    fn out_of_order_stale_and_orphan_task_config_parts_are_rejected() {
        let mut s = with_assigned_task();
        let ooo = |part, expected| Rejection::PartOutOfOrder { connector: "c".into(), part, expected };
        // Nothing staged: only part 0 may start.
        assert_rejected_unchanged(&mut s, 10, tc_part(3, 1, 3, configs(1, "x")), ooo(1, 0));
        apply_at(&mut s, 11, tc_part(3, 0, 3, configs(1, "a")));
        // Skipping a part, repeating one, another part count, outside 0..parts, zero parts.
        assert_rejected_unchanged(&mut s, 12, tc_part(3, 2, 3, configs(1, "x")), ooo(2, 1));
        assert_rejected_unchanged(&mut s, 12, tc_part(3, 1, 4, configs(1, "x")), ooo(1, 0));
        assert_rejected_unchanged(&mut s, 12, tc_part(3, 3, 3, configs(1, "x")), ooo(3, 1));
        assert_rejected_unchanged(&mut s, 12, tc_part(3, u32::MAX, 3, vec![]), ooo(u32::MAX, 1));
        assert_rejected_unchanged(&mut s, 12, tc_part(3, 0, 0, vec![]), ooo(0, 0));
        assert_rejected_unchanged(&mut s, 12, tc_part(3, u32::MAX, u32::MAX, vec![]), ooo(u32::MAX, 0));
        assert_rejected_unchanged(&mut s, 12, tc_part(3, u32::MAX - 1, u32::MAX, vec![]), ooo(u32::MAX - 1, 0));
        // A part of another epoch: stale while epoch 3 is current.
        let current = Some(Assignment { node: 1, epoch: 3, revoking: false });
        assert_rejected_unchanged(
            &mut s,
            12,
            tc_part(2, 1, 3, configs(1, "x")),
            Rejection::StaleEpoch { unit: WorkUnit::Connector("c".into()), node: 1, epoch: 2, current },
        );
        // The connector instance moved (epoch 13): the old epoch's parts are stale, and the new
        // epoch's part 1 does not continue the old epoch's staging.
        apply_at(&mut s, 13, assign(WorkUnit::Connector("c".into()), 2));
        let current = Some(Assignment { node: 2, epoch: 13, revoking: false });
        assert_rejected_unchanged(
            &mut s,
            14,
            tc_part(3, 1, 3, configs(1, "x")),
            Rejection::StaleEpoch { unit: WorkUnit::Connector("c".into()), node: 2, epoch: 3, current },
        );
        assert_rejected_unchanged(&mut s, 14, tc_part(13, 1, 3, configs(1, "x")), ooo(1, 0));
        assert!(!s.task_configs.contains_key("c"));
        // A new part 0 restarts the staging: the old epoch's part is dropped.
        apply_at(&mut s, 15, tc_part(13, 0, 2, configs(1, "new")));
        assert_eq!(
            s.staged_task_configs["c"],
            StagedTaskConfigs { epoch: 13, next_part: 1, parts: 2, configs: configs(1, "new") }
        );
        apply_at(&mut s, 16, tc_part(13, 0, 2, configs(1, "newer")));
        apply_at(&mut s, 17, tc_part(13, 1, 2, configs(1, "last")));
        let mut want = configs(1, "newer");
        want.extend(configs(1, "last"));
        assert_eq!(s.task_configs["c"], TaskConfigs { configs: want, generation: 17 });

        // Deleted connector: its staging is gone, and its parts are rejected.
        apply_at(&mut s, 18, tc_part(13, 0, 2, configs(1, "x")));
        let (r, dirty) = apply_at(&mut s, 19, Command::DeleteConnector { name: "c".into() });
        assert_eq!(r, Response::Applied);
        assert!(s.staged_task_configs.is_empty() && dirty.contains(&Key::StagedTaskConfigs("c".into())));
        assert_rejected_unchanged(
            &mut s,
            20,
            tc_part(13, 1, 2, configs(1, "x")),
            Rejection::UnknownConnector { name: "c".into() },
        );
        assert_rejected_unchanged(
            &mut s,
            20,
            tc_part(13, 0, 2, configs(1, "x")),
            Rejection::UnknownConnector { name: "c".into() },
        );
    }

    #[test]
    fn stopping_or_a_whole_write_drops_staged_task_configs() {
        let mut s = with_assigned_task();
        apply_at(&mut s, 10, tc_part(3, 0, 2, configs(1, "a")));
        let (r, dirty) =
            apply_at(&mut s, 11, Command::PutTaskConfigs { connector: "c".into(), epoch: 3, configs: configs(2, "w") });
        assert_eq!(r, Response::Applied);
        assert!(s.staged_task_configs.is_empty() && dirty.contains(&Key::StagedTaskConfigs("c".into())));
        // The staging is gone: its next part no longer applies and the whole write stays.
        assert_rejected_unchanged(
            &mut s,
            12,
            tc_part(3, 1, 2, configs(1, "b")),
            Rejection::PartOutOfOrder { connector: "c".into(), part: 1, expected: 0 },
        );
        assert_eq!(s.task_configs["c"].configs, configs(2, "w"));

        apply_at(&mut s, 13, tc_part(3, 0, 2, configs(1, "a")));
        let spread = Command::SpreadSinkPartitionsPart {
            connector: "c".into(),
            generation: 11,
            task_count: 2,
            part: 0,
            parts: 2,
            tasks: vec![(1, vec![TopicPartition { topic: "t".into(), partition: 0 }])],
        };
        assert_eq!(apply_at(&mut s, 13, spread).0, Response::Applied);
        let (_, dirty) =
            apply_at(&mut s, 14, Command::SetTargetState { name: "c".into(), state: TargetState::Stopped });
        assert!(s.staged_task_configs.is_empty() && dirty.contains(&Key::StagedTaskConfigs("c".into())));
        assert!(s.staged_sink_partitions.is_empty() && dirty.contains(&Key::StagedSinkPartitions("c".into())));
        assert_rejected_unchanged(
            &mut s,
            15,
            tc_part(3, 1, 2, configs(1, "b")),
            Rejection::ConnectorStopped { name: "c".into() },
        );
        assert!(s.task_configs["c"].configs.is_empty());
    }

    #[test]
    fn deleting_or_stopping_a_connector_touches_only_its_own_units_by_key_range() {
        let mut s = State::default();
        let mut dirty = DirtyKeys::new();
        for name in ["a", "ab", "b"] {
            let put = Command::PutConnector { name: name.into(), config: cfg(&[]), target_state: None };
            s.apply(1, &put, &mut dirty);
            let mut changes = vec![AssignmentChange { unit: WorkUnit::Connector(name.into()), node: Some(1) }];
            changes.extend((0..3).map(|t| AssignmentChange { unit: task(name, t), node: Some(1) }));
            s.apply(2, &Command::Assign { changes }, &mut dirty);
        }
        s.apply(3, &Command::SetTargetState { name: "b".into(), state: TargetState::Stopped }, &mut dirty);
        assert!((0..3).all(|t| s.assignments[&task("b", t)].revoking), "b's tasks are revoked");
        assert!(!s.assignments[&WorkUnit::Connector("b".into())].revoking);
        s.apply(4, &Command::DeleteConnector { name: "a".into() }, &mut dirty);
        let left: Vec<String> = s.assignments.keys().map(ToString::to_string).collect();
        assert_eq!(left, ["ab", "b", "ab-0", "ab-1", "ab-2", "b-0", "b-1", "b-2"]);
        assert!(s.assignments.values().filter(|a| a.revoking).count() == 3, "only b's tasks");
    }
}
