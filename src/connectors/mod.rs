//! The connector runtime interface: one trait for a connector instance, one for a task, and
//! the built-in implementations. Plugins are registered in `crate::plugins::PLUGINS`.
//!
//! Calls into connectors and tasks are blocking by contract (a connector may block in `start`);
//! the worker runs them on the blocking pool under timeouts, so a stuck plugin never stalls the
//! planner or other units.

pub mod file;
pub mod mock;

use raftconnect_storage::model::ConfigMap;

/// Why a connector or task failed: its message and a trace, as shown in status.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    pub message: String,
}

impl ConnectError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// The `trace` field of a FAILED status: Kafka Connect shows the Java stack trace; we show
    /// the error class and message.
    pub fn trace(&self) -> String {
        format!("org.apache.kafka.connect.errors.ConnectException: {}", self.message)
    }
}

/// What every running plugin instance (connector or task) supports while it runs.
pub trait Lifecycle: Send {
    /// Called periodically while running; an error fails the instance (for a connector,
    /// Kafka Connect's `ConnectorContext.raiseError`).
    fn check(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
    fn stop(&mut self) {}
}

/// A running connector instance (Kafka Connect's `Connector`).
pub trait ConnectorInstance: Lifecycle {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError>;
    /// Task configs for at most `max_tasks` tasks.
    fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError>;
}

/// A running task. Until the data plane exists, a task is started, checked periodically and
/// stopped; poll/put come with the data-plane issue.
pub trait TaskInstance: Lifecycle {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError>;
}

pub type ConnectorFactory = fn() -> Box<dyn ConnectorInstance>;
pub type TaskFactory = fn() -> Box<dyn TaskInstance>;

/// `tasks.max` of a connector config (validated before it gets here; 1 if absent).
pub fn tasks_max(config: &ConfigMap) -> usize {
    config.get("tasks.max").and_then(|v| v.trim().parse().ok()).filter(|n: &usize| *n >= 1).unwrap_or(1)
}
