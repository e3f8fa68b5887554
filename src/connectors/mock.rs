//! Kafka Connect's test plugins `org.apache.kafka.connect.tools.MockSourceConnector` and
//! `MockSinkConnector`: they need no external system. `mock_mode` = `connector-failure` fails
//! the connector after `delay_ms`; `task-failure` fails its task after `delay_ms`; anything
//! else runs until stopped. One task, as in Kafka Connect. `connector-block` (ours, after Kafka
//! Connect's `BlockingConnectorTest`) blocks forever in `start`, to show it stalls nothing else.

use std::time::{Duration, Instant};

use raftconnect_storage::model::ConfigMap;

use crate::plugin::api::{ConnectError, ConnectorInstance, Lifecycle, Task, TaskInstance, TaskKind};
use crate::plugin::config_def::{key, Check, Config, ConfigKey, ConfigType, DefaultValue, Importance};
use crate::plugin::registry::{ConnectorRuntime, Factory, Plugin, PluginType, KAFKA_VERSION};

/// The Mock connectors' keys.
pub const KEYS: &[ConfigKey] = &[
    key(
        "mock_mode",
        ConfigType::String,
        DefaultValue::Value(""),
        Check::OneOf(&["", "none", "connector-failure", "task-failure", "connector-block"]),
        Importance::High,
        None,
        -1,
        "mock_mode",
        "connector-failure: the connector fails after delay_ms; task-failure: its task fails after delay_ms",
    ),
    key(
        "delay_ms",
        ConfigType::Long,
        DefaultValue::Value("15000"),
        Check::None,
        Importance::High,
        None,
        -1,
        "delay_ms",
        "Milliseconds before the failure of mock_mode",
    ),
];

pub const SOURCE: Plugin = Plugin {
    class: "org.apache.kafka.connect.tools.MockSourceConnector",
    aliases: &["MockSource", "MockSourceConnector"],
    ty: PluginType::Source,
    version: KAFKA_VERSION,
    config: KEYS,
    factory: Factory::Connector(ConnectorRuntime {
        connector: connector,
        task: task,
        task_class: "org.apache.kafka.connect.tools.MockSourceTask",
        kind: TaskKind::Inert,
    }),
};

pub const SINK: Plugin = Plugin {
    class: "org.apache.kafka.connect.tools.MockSinkConnector",
    aliases: &["MockSink", "MockSinkConnector"],
    ty: PluginType::Sink,
    version: KAFKA_VERSION,
    config: KEYS,
    factory: Factory::Connector(ConnectorRuntime {
        connector: connector,
        task: task,
        task_class: "org.apache.kafka.connect.tools.MockSinkTask",
        kind: TaskKind::Inert,
    }),
};

/// `mock_mode` and `delay_ms` as declared.
fn mode_and_delay(config: &ConfigMap) -> Result<(String, Duration), ConnectError> {
    let declared = Config::new(KEYS, config);
    let mode = declared.string("mock_mode")?.unwrap_or_default();
    let delay = Duration::from_millis(u64::try_from(declared.long("delay_ms")?).unwrap_or(0));
    Ok((mode, delay))
}

#[derive(Default)]
pub struct MockConnector {
    config: ConfigMap,
    fail_at: Option<Instant>,
}

impl ConnectorInstance for MockConnector {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        let (mode, delay) = mode_and_delay(config)?;
        if mode == "connector-block" {
            // Blocks its (blocking-pool) thread for good, as a hung plugin would.
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        self.config = config.clone();
        if mode == "connector-failure" {
            self.fail_at = Some(Instant::now() + delay);
        }
        Ok(())
    }

    fn task_configs(&mut self, _max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(vec![self.config.clone()])
    }
}

impl Lifecycle for MockConnector {
    fn needs_check(&self) -> bool {
        self.fail_at.is_some()
    }

    fn check(&mut self) -> Result<(), ConnectError> {
        match self.fail_at {
            Some(t) if Instant::now() >= t => {
                Err(ConnectError::new("Mock connector failed (mock_mode=connector-failure)"))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Default)]
pub struct MockTask {
    fail_at: Option<Instant>,
}

impl TaskInstance for MockTask {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        let (mode, delay) = mode_and_delay(config)?;
        if mode == "task-failure" {
            self.fail_at = Some(Instant::now() + delay);
        }
        Ok(())
    }
}

impl Lifecycle for MockTask {
    fn needs_check(&self) -> bool {
        self.fail_at.is_some()
    }

    fn check(&mut self) -> Result<(), ConnectError> {
        match self.fail_at {
            Some(t) if Instant::now() >= t => Err(ConnectError::new("Mock task failed (mock_mode=task-failure)")),
            _ => Ok(()),
        }
    }
}

pub fn connector() -> Box<dyn ConnectorInstance> {
    Box::<MockConnector>::default()
}

pub fn task() -> Task {
    Task::Inert(Box::<MockTask>::default())
}
