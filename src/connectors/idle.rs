//! `org.raftconnect.tools.IdleSourceConnector` (ours): `tasks.max` tasks that move no data and
//! never fail, for exercising the control plane at scale (thousands of units without a broker).
//! Kafka Connect's Mock connectors make one task whatever `tasks.max` says; this one makes as
//! many as asked.

use raftconnect_storage::model::ConfigMap;

use crate::plugin::api::{ConnectError, ConnectorInstance, Lifecycle, Task, TaskInstance, TaskKind};
use crate::plugin::registry::{ConnectorRuntime, Factory, Plugin, PluginType, OWN_VERSION};

pub const SOURCE: Plugin = Plugin {
    class: "org.raftconnect.tools.IdleSourceConnector",
    aliases: &["Idle", "IdleSource", "IdleSourceConnector"],
    ty: PluginType::Source,
    version: OWN_VERSION,
    config: &[],
    factory: Factory::Connector(ConnectorRuntime {
        connector: connector,
        task: task,
        task_class: "org.raftconnect.tools.IdleSourceTask",
        kind: TaskKind::Inert,
    }),
};

#[derive(Default)]
pub struct IdleConnector {
    config: ConfigMap,
}

impl ConnectorInstance for IdleConnector {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        self.config = config.clone();
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(crate::plugin::api::numbered_task_configs(&self.config, max_tasks, "task.id"))
    }
}

impl Lifecycle for IdleConnector {}

#[derive(Default)]
pub struct IdleTask;

impl TaskInstance for IdleTask {
    fn start(&mut self, _config: &ConfigMap) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl Lifecycle for IdleTask {}

pub fn connector() -> Box<dyn ConnectorInstance> {
    Box::<IdleConnector>::default()
}

pub fn task() -> Task {
    Task::Inert(Box::<IdleTask>::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_as_many_tasks_as_asked() {
        let mut c = IdleConnector::default();
        c.start(&ConfigMap::new()).unwrap();
        let configs = c.task_configs(7).unwrap();
        assert_eq!(configs.len(), 7);
        assert_eq!(configs[6]["task.id"], "6");
    }
}
