//! The connector runtime interface (Kafka Connect's `Connector`, `SourceTask`, `SinkTask` and
//! their records): one trait for a connector instance, one per kind of task.
//!
//! Calls into connectors and tasks are blocking by contract (a connector may block in `start`);
//! the worker runs them on the blocking pool under timeouts, so a stuck plugin never stalls the
//! planner or other units.

use raftconnect_storage::model::ConfigMap;

use crate::data::{Schema, SchemaAndValue, Value};

/// Why a connector or task failed: its message and a trace, as shown in status.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    pub message: String,
}

impl From<super::config_def::ConfigError> for ConnectError {
    fn from(e: super::config_def::ConfigError) -> Self {
        ConnectError::new(e.0)
    }
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
    /// Whether `check` can fail: instances whose `check` does nothing are not polled, so
    /// thousands of idle units cost no plugin calls.
    fn needs_check(&self) -> bool {
        false
    }
    fn stop(&mut self) {}
}

/// A running connector instance (Kafka Connect's `Connector`).
pub trait ConnectorInstance: Lifecycle {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError>;
    /// Task configs for at most `max_tasks` tasks.
    fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError>;
}

/// A task that moves no data (the mock connectors' tasks): started, checked, stopped.
pub trait TaskInstance: Lifecycle {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError>;
}

/// Reads the committed offset of a canonical source partition.
pub type OffsetReader = Box<dyn Fn(&str) -> Option<serde_json::Value> + Send + Sync>;

/// Where a source task reads the offsets committed for its source partitions (Kafka Connect's
/// `OffsetStorageReader`), and who it is.
pub struct SourceTaskContext {
    pub connector: String,
    pub task: u32,
    /// Canonical partition JSON → committed offset.
    pub offsets: OffsetReader,
}

impl SourceTaskContext {
    /// The committed offset of a source partition.
    pub fn offset(&self, partition: &serde_json::Value) -> Option<serde_json::Value> {
        (self.offsets)(&raftconnect_storage::model::canonical_json(partition))
    }
}

/// A source partition as the runtime keys it: canonical JSON text, shared by the records of
/// one partition.
pub type SourcePartition = std::sync::Arc<str>;

/// A source offset (Kafka Connect's `Map<String, ?>`). Most connectors count: `Counter` is
/// the one-field map `{"<key>": n}` without building a JSON map per record.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceOffset {
    Counter(&'static str, i64),
    /// Any other map (boxed: records stay small on the hot path).
    Json(Box<serde_json::Value>),
}

impl SourceOffset {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            SourceOffset::Counter(k, n) => serde_json::json!({ *k: n }),
            SourceOffset::Json(v) => (**v).clone(),
        }
    }

    /// The canonical JSON text the state keeps.
    pub fn canonical(&self) -> String {
        match self {
            SourceOffset::Counter(k, n) => {
                format!("{{{}:{n}}}", serde_json::Value::String((*k).to_string()))
            }
            SourceOffset::Json(v) => raftconnect_storage::model::canonical_json(v),
        }
    }

    /// No offset (records that cannot be resumed from, like stdin's).
    pub fn is_null(&self) -> bool {
        matches!(self, SourceOffset::Json(v) if v.is_null())
    }

    /// No offset.
    pub fn null() -> Self {
        SourceOffset::Json(Box::new(serde_json::Value::Null))
    }

    /// The integer under `key`.
    pub fn get_i64(&self, key: &str) -> Option<i64> {
        match self {
            SourceOffset::Counter(k, n) => (*k == key).then_some(*n),
            SourceOffset::Json(v) => v.get(key).and_then(serde_json::Value::as_i64),
        }
    }
}

/// Kafka Connect's `SourceRecord`.
#[derive(Clone, Debug)]
pub struct SourceRecord {
    pub source_partition: SourcePartition,
    pub source_offset: SourceOffset,
    pub topic: std::sync::Arc<str>,
    pub kafka_partition: Option<i32>,
    /// Schemas are shared (`Arc`): a record moves through the hot path by value.
    pub key_schema: Option<std::sync::Arc<Schema>>,
    pub key: Value,
    pub value_schema: Option<std::sync::Arc<Schema>>,
    pub value: Value,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Option<Schema>, Value)>,
}

impl SourceRecord {
    /// A record with a value only (no key, headers or timestamp).
    pub fn new(
        partition: &SourcePartition,
        offset: SourceOffset,
        topic: &std::sync::Arc<str>,
        schema: Option<std::sync::Arc<Schema>>,
        value: Value,
    ) -> Self {
        Self {
            source_partition: partition.clone(),
            source_offset: offset,
            topic: topic.clone(),
            kafka_partition: None,
            key_schema: None,
            key: Value::Null,
            value_schema: schema,
            value,
            timestamp: None,
            headers: Vec::new(),
        }
    }
}

/// The canonical key of a source partition map.
pub fn source_partition(partition: &serde_json::Value) -> SourcePartition {
    raftconnect_storage::model::canonical_json(partition).into()
}

/// Kafka Connect's `SourceTask`. Calls are blocking and come from one thread; `poll` should
/// return within about 100 ms when there is nothing to read, so the task stops promptly.
pub trait SourceTask: Send {
    fn start(&mut self, context: SourceTaskContext, config: &ConfigMap) -> Result<(), ConnectError>;
    /// The next records (empty when there are none yet).
    fn poll(&mut self) -> Result<Vec<SourceRecord>, ConnectError>;
    /// Whether `commit_record` should be called for each acknowledged record.
    fn wants_commit_record(&self) -> bool {
        false
    }
    /// A record was acknowledged by the broker (`commitRecord`).
    fn commit_record(&mut self, _partition: &str, _offset: &SourceOffset) {}
    /// Called once at stop, after the last acknowledgements and before the final offset
    /// commit (Kafka Connect also calls `commit` after each periodic commit).
    fn commit(&mut self) {}
    fn stop(&mut self) {}
}

/// Kafka Connect's `SinkRecord`.
#[derive(Clone, Debug)]
pub struct SinkRecord {
    pub topic: std::sync::Arc<str>,
    pub kafka_partition: i32,
    pub kafka_offset: i64,
    pub key_schema: Option<Schema>,
    pub key: Value,
    pub value_schema: Option<Schema>,
    pub value: Value,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, SchemaAndValue)>,
}

impl SinkRecord {
    /// A schemaless record of topic `t`, partition 0 (for tests of sink tasks).
    #[cfg(test)]
    pub fn schemaless(offset: i64, key: Value, value: Value) -> Self {
        Self {
            topic: std::sync::Arc::from("t"),
            kafka_partition: 0,
            kafka_offset: offset,
            key_schema: None,
            key,
            value_schema: None,
            value,
            timestamp: None,
            headers: Vec::new(),
        }
    }
}

/// Kafka Connect's `SinkTask`. Calls are blocking and come from one thread.
pub trait SinkTask: Send {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError>;
    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectError>;
    /// Make everything given to `put` durable in the external system; the offsets of those
    /// records are committed after this returns.
    fn flush(&mut self) -> Result<(), ConnectError>;
    fn stop(&mut self) {}
}

/// What a plugin's tasks run as, known without instantiating one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// Runs, is checked and stops, moving no data (the Mock and Idle connectors' tasks).
    Inert,
    Source,
    Sink,
}

/// What a task class runs as.
pub enum Task {
    /// Moves no data.
    Inert(Box<dyn TaskInstance>),
    Source(Box<dyn SourceTask>),
    Sink(Box<dyn SinkTask>),
}

pub type ConnectorFactory = fn() -> Box<dyn ConnectorInstance>;
pub type TaskFactory = fn() -> Task;

/// `max_tasks` copies of a connector config, each with its task number under `key`.
pub fn numbered_task_configs(config: &ConfigMap, max_tasks: usize, key: &str) -> Vec<ConfigMap> {
    (0..max_tasks)
        .map(|i| {
            let mut c = config.clone();
            c.insert(key.to_string(), i.to_string());
            c
        })
        .collect()
}

/// The most tasks one connector may have (`tasks.max` is validated against it): each task is a
/// unit the cluster places, supervises and reports on, and a connector asked for billions of
/// tasks must not take down the node that builds their configs.
pub const MAX_TASKS: usize = 10_000;

/// `tasks.max` of a connector config (validated before it gets here; 1 if absent), never more
/// than [`MAX_TASKS`] even for a config stored before that bound.
pub fn tasks_max(config: &ConfigMap) -> usize {
    config.get("tasks.max").and_then(|v| v.trim().parse().ok()).filter(|n: &usize| *n >= 1).unwrap_or(1).min(MAX_TASKS)
}

/// Wall-clock milliseconds since the epoch (record timestamps, `time_ms`).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
