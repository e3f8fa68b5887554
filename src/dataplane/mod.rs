//! The data plane: what moves records between tasks and Kafka. The worker decides which
//! tasks run here; this module runs one task's data loop on its own thread.
//!
//! - `source`: poll → convert → produce (idempotent producer) → offsets committable once the
//!   broker acknowledged the record, per source partition in order.
//! - `sink`: assign the partitions the leader spread to the task → seek to the committed
//!   offsets (or earliest) → convert → `put` → `flush` on the committer's tick → offsets.
//! - `offsets`: the node's committer, one Raft entry per interval for all tasks here.
//! - `kafka`: client configs with Kafka Connect's defaults and overrides, metadata.
//! - `security`: Kafka Connect's `security.protocol` / `ssl.*` / `sasl.*` keys in librdkafka's terms.

pub mod kafka;
pub mod offsets;
pub mod security;
pub mod sink;
pub mod source;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use raftconnect_storage::model::ConfigMap;

use crate::config::{with_prefix, ConverterSpec, WorkerConfig};
use crate::convert::{Converter, HeaderConverter};
use crate::plugin::api::ConnectError;
use offsets::{OffsetCommitter, TaskKey};

/// What every task on this node shares.
pub struct DataPlane {
    pub worker: WorkerConfig,
    pub committer: Arc<OffsetCommitter>,
    pub producers: Arc<kafka::ProducerPool>,
    /// Set while the node has lost its lease: stopping tasks drop what is in flight.
    pub abandon: AtomicBool,
}

impl DataPlane {
    pub fn new(worker: WorkerConfig, committer: Arc<OffsetCommitter>, producers: Arc<kafka::ProducerPool>) -> Self {
        Self { worker, committer, producers, abandon: AtomicBool::new(false) }
    }

    pub fn abandoning(&self) -> bool {
        self.abandon.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_abandon(&self, on: bool) {
        self.abandon.store(on, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One task's converters: the connector's own (`key.converter` + `key.converter.*` in its
/// config) or else the worker's.
pub struct Converters {
    pub key: Box<dyn Converter>,
    pub value: Box<dyn Converter>,
    pub header: Box<dyn HeaderConverter>,
}

fn spec(connector: &ConfigMap, key: &str, worker: &ConverterSpec) -> ConverterSpec {
    match connector.get(key).filter(|c| !c.trim().is_empty()) {
        Some(class) => {
            ConverterSpec { class: class.trim().to_string(), config: with_prefix(connector, &format!("{key}.")) }
        }
        None => worker.clone(),
    }
}

impl Converters {
    pub fn for_connector(worker: &WorkerConfig, connector: &ConfigMap) -> Result<Self, ConnectError> {
        let k = spec(connector, "key.converter", &worker.key_converter);
        let v = spec(connector, "value.converter", &worker.value_converter);
        let h = spec(connector, "header.converter", &worker.header_converter);
        let err = |what: &str, e: crate::data::DataError| ConnectError::new(format!("Failed to create {what}: {e}"));
        Ok(Self {
            key: crate::convert::converter(&k.class, &k.config, true).map_err(|e| err("key converter", e))?,
            value: crate::convert::converter(&v.class, &v.config, false).map_err(|e| err("value converter", e))?,
            header: crate::convert::header_converter(&h.class, &h.config).map_err(|e| err("header converter", e))?,
        })
    }
}

/// `errors.tolerance=all`: records that fail conversion (or, for sources, delivery) are
/// skipped instead of failing the task.
pub fn tolerates_errors(connector: &ConfigMap) -> bool {
    connector.get("errors.tolerance").is_some_and(|v| v.trim().eq_ignore_ascii_case("all"))
}

/// Tells a task loop to stop; an idle loop waits on it, so it notices at once.
#[derive(Default)]
pub struct StopSignal {
    stopped: AtomicBool,
    lock: std::sync::Mutex<()>,
    wake: std::sync::Condvar,
}

impl StopSignal {
    pub fn stop(&self) {
        self.stopped.store(true, std::sync::atomic::Ordering::Relaxed);
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.wake.notify_all();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sleep for `d`, or less if stopped meanwhile.
    pub fn wait(&self, d: std::time::Duration) {
        let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if !self.is_stopped() {
            let _ = self.wake.wait_timeout(guard, d);
        }
    }
}

/// Everything one task's data loop needs.
pub struct TaskEnv {
    pub key: TaskKey,
    /// The connector's config (converters, client overrides, error tolerance).
    pub connector_config: ConfigMap,
    pub task_config: ConfigMap,
    pub plane: Arc<DataPlane>,
    /// Set by the supervisor: finish, flush and return.
    pub stop: Arc<StopSignal>,
}

impl TaskEnv {
    pub fn client_id(&self, kind: &str) -> String {
        format!("connector-{kind}-{}-{}", self.key.connector, self.key.task)
    }

    pub fn stopping(&self) -> bool {
        self.stop.is_stopped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Schema, Value};

    #[test]
    fn converters_come_from_the_connector_else_the_worker() {
        let worker = WorkerConfig::default();
        // Worker default: JsonConverter with schemas.
        let c = Converters::for_connector(&worker, &ConfigMap::new()).unwrap();
        let v = c.value.from_connect("t", Some(&Schema::string()), &Value::String("x".into())).unwrap();
        assert_eq!(v.as_deref(), Some(&br#"{"schema":{"type":"string","optional":false},"payload":"x"}"#[..]));
        // The connector's own converter and its sub-configs.
        let cfg: ConfigMap = [
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("value.converter.schemas.enable", "false"),
            ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = Converters::for_connector(&worker, &cfg).unwrap();
        let v = c.value.from_connect("t", Some(&Schema::string()), &Value::String("x".into())).unwrap();
        assert_eq!(v.as_deref(), Some(&br#""x""#[..]));
        let k = c.key.from_connect("t", Some(&Schema::string()), &Value::String("k".into())).unwrap();
        assert_eq!(k.as_deref(), Some(&b"k"[..]));
        // An unknown class fails the task with a clear message.
        let bad: ConfigMap = [("value.converter".to_string(), "com.example.Nope".to_string())].into_iter().collect();
        let err = Converters::for_connector(&worker, &bad).err().expect("unknown converter");
        assert!(err.message.contains("com.example.Nope"), "{}", err.message);
    }
}
