//! Kafka Connect's test plugins `org.apache.kafka.connect.tools.MockSourceConnector` and
//! `MockSinkConnector`: they need no external system. `mock_mode` = `connector-failure` fails
//! the connector after `delay_ms`; `task-failure` fails its task after `delay_ms`; anything
//! else runs until stopped. One task, as in Kafka Connect. `connector-block` (ours, after Kafka
//! Connect's `BlockingConnectorTest`) blocks forever in `start`, to show it stalls nothing else.

use std::time::{Duration, Instant};

use raftconnect_storage::model::ConfigMap;

use super::{ConnectError, ConnectorInstance, Lifecycle, TaskInstance};

pub const DEFAULT_DELAY_MS: u64 = 15_000;

fn delay(config: &ConfigMap) -> Duration {
    Duration::from_millis(config.get("delay_ms").and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_DELAY_MS))
}

#[derive(Default)]
pub struct MockConnector {
    config: ConfigMap,
    fail_at: Option<Instant>,
}

impl ConnectorInstance for MockConnector {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        if config.get("mock_mode").map(String::as_str) == Some("connector-block") {
            // Blocks its (blocking-pool) thread for good, as a hung plugin would.
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        self.config = config.clone();
        if config.get("mock_mode").map(String::as_str) == Some("connector-failure") {
            self.fail_at = Some(Instant::now() + delay(config));
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
        if config.get("mock_mode").map(String::as_str) == Some("task-failure") {
            self.fail_at = Some(Instant::now() + delay(config));
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

pub fn task() -> super::Task {
    super::Task::Control(Box::<MockTask>::default())
}
