//! `org.raftconnect.tools.DatagenSourceConnector` (alias `Datagen`): generated records for
//! benchmarks and demos.
//!
//! Configs: `topic` (required), `rate` (records per second per task, 0 = as fast as the
//! producer takes them; default 0), `record.size` (value bytes, default 100), `key.space`
//! (number of distinct keys, 0 = no key; default 0), `max.records` (per task, −1 = unlimited;
//! default −1), `batch.size` (records per poll, default 10 000). `tasks.max` tasks.
//!
//! Task *i*: source partition `{"task": i}`, offset `{"seq": n}`; a restarted task continues
//! after its committed seq. Values are strings: the seq, zero-padded to `record.size`; keys
//! `key-<seq mod key.space>`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use raftconnect_storage::model::ConfigMap;
use serde_json::json;

use crate::data::{Schema, Value};
use crate::plugin::api::{
    now_ms, ConnectError, ConnectorInstance, Lifecycle, SourceOffset, SourcePartition, SourceRecord, SourceTask,
    SourceTaskContext, Task, TaskKind,
};
use crate::plugin::config_def::{key, Check, Config, ConfigKey, ConfigType, DefaultValue, Importance};
use crate::plugin::registry::{ConnectorRuntime, Factory, Plugin, PluginType, OWN_VERSION};

/// Largest `record.size` (bytes of a value).
pub const MAX_RECORD_SIZE: usize = 16 << 20;
/// Largest `batch.size` (records per poll).
pub const MAX_BATCH: usize = 100_000;
/// Datagen's keys, with the bounds its task relies on.
pub const KEYS: &[ConfigKey] = &[
    key(
        "topic",
        ConfigType::String,
        DefaultValue::Required,
        Check::NonEmpty,
        Importance::High,
        None,
        -1,
        "topic",
        "The topic to publish data to",
    ),
    key(
        "rate",
        ConfigType::Long,
        DefaultValue::Value("0"),
        Check::AtLeast(0),
        Importance::High,
        None,
        -1,
        "rate",
        "Records per second per task; 0 produces as fast as the producer takes them",
    ),
    key(
        "record.size",
        ConfigType::Int,
        DefaultValue::Value("100"),
        Check::Between(0, MAX_RECORD_SIZE as i64),
        Importance::Medium,
        None,
        -1,
        "record.size",
        "Value size in bytes",
    ),
    key(
        "key.space",
        ConfigType::Long,
        DefaultValue::Value("0"),
        Check::AtLeast(0),
        Importance::Medium,
        None,
        -1,
        "key.space",
        "Number of distinct keys; 0 sends records without a key",
    ),
    key(
        "max.records",
        ConfigType::Long,
        DefaultValue::Value("-1"),
        Check::None,
        Importance::Medium,
        None,
        -1,
        "max.records",
        "Records per task before it goes idle; -1 for no limit",
    ),
    key(
        "batch.size",
        ConfigType::Int,
        DefaultValue::Value("10000"),
        Check::Between(1, MAX_BATCH as i64),
        Importance::Low,
        None,
        -1,
        "batch.size",
        "Records per poll (fewer when they would exceed 16 MiB of values)",
    ),
];

pub const SOURCE: Plugin = Plugin {
    class: "org.raftconnect.tools.DatagenSourceConnector",
    aliases: &["Datagen", "DatagenSource", "DatagenSourceConnector"],
    ty: PluginType::Source,
    version: OWN_VERSION,
    config: KEYS,
    factory: Factory::Connector(ConnectorRuntime {
        connector,
        task,
        task_class: "org.raftconnect.tools.DatagenSourceTask",
        kind: TaskKind::Source,
    }),
};

/// Value bytes one poll generates at most: `record.size` × `batch.size` may be far more.
const POLL_BYTES: usize = 16 << 20;

#[derive(Default)]
pub struct Datagen {
    config: ConfigMap,
}

impl ConnectorInstance for Datagen {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        Config::new(KEYS, config).string("topic")?;
        self.config = config.clone();
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(crate::plugin::api::numbered_task_configs(&self.config, max_tasks, "task.id"))
    }
}

impl Lifecycle for Datagen {}

pub struct DatagenTask {
    topic: Arc<str>,
    partition: SourcePartition,
    rate: u64,
    size: usize,
    key_space: u64,
    max: Option<u64>,
    batch: usize,
    next: u64,
    generated: u64,
    started: Instant,
    string: Arc<Schema>,
}

impl Default for DatagenTask {
    fn default() -> Self {
        Self {
            topic: Arc::from(""),
            partition: Arc::from("{}"),
            rate: 0,
            size: 100,
            key_space: 0,
            max: None,
            batch: 10_000,
            next: 0,
            generated: 0,
            started: Instant::now(),
            string: Arc::new(Schema::string()),
        }
    }
}

impl SourceTask for DatagenTask {
    fn start(&mut self, context: SourceTaskContext, config: &ConfigMap) -> Result<(), ConnectError> {
        let declared = Config::new(KEYS, config);
        self.topic = Arc::from(declared.string("topic")?.unwrap_or_default());
        // The task number the connector gave this task config (the context's when absent).
        let task: u32 = match config.get("task.id") {
            None => context.task,
            Some(v) => v.trim().parse().map_err(|_| ConnectError::new(format!("Invalid task.id {v}")))?,
        };
        self.rate = declared.count("rate")? as u64;
        self.size = declared.count("record.size")?;
        self.key_space = declared.count("key.space")? as u64;
        self.max = u64::try_from(declared.long("max.records")?).ok();
        self.batch = declared.count("batch.size")?;
        let partition = json!({ "task": task });
        self.partition = crate::plugin::api::source_partition(&partition);
        self.next = match context.offset(&partition).as_ref().and_then(|o| o.get("seq")) {
            Some(v) => v.as_u64().ok_or_else(|| ConnectError::new(format!("Invalid seq offset: {v}")))? + 1,
            None => 0,
        };
        self.started = Instant::now();
        Ok(())
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, ConnectError> {
        // At most POLL_BYTES of values per poll, however large records and batches are.
        let mut due = (self.batch as u64).min((POLL_BYTES / self.size.max(1)).max(1) as u64);
        if let Some(max) = self.max {
            due = due.min(max.saturating_sub(self.next));
        }
        if self.rate > 0 {
            let allowed = (self.started.elapsed().as_secs_f64() * self.rate as f64) as u64;
            due = due.min(allowed.saturating_sub(self.generated));
        }
        if due == 0 {
            std::thread::sleep(Duration::from_millis(if self.rate > 0 { 5 } else { 100 }));
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut records = Vec::with_capacity(due.min(10_000) as usize);
        for _ in 0..due {
            let seq = self.next;
            self.next += 1;
            self.generated += 1;
            let value = format!("{seq:0>width$}", width = self.size);
            let mut r = SourceRecord::new(
                &self.partition,
                SourceOffset::Counter("seq", seq as i64),
                &self.topic,
                Some(self.string.clone()),
                Value::String(value),
            );
            if self.key_space > 0 {
                r.key_schema = Some(self.string.clone());
                r.key = Value::String(format!("key-{}", seq % self.key_space));
            }
            r.timestamp = Some(now);
            records.push(r);
        }
        Ok(records)
    }
}

pub fn connector() -> Box<dyn ConnectorInstance> {
    Box::<Datagen>::default()
}

pub fn task() -> Task {
    Task::Source(Box::<DatagenTask>::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_sized_keyed_records_up_to_max_and_resumes() {
        let mut t = DatagenTask::default();
        let ctx = SourceTaskContext { connector: "d".into(), task: 0, offsets: Box::new(|_| Some(json!({"seq": 9}))) };
        let cfg: ConfigMap =
            [("topic", "t"), ("record.size", "8"), ("key.space", "3"), ("max.records", "12"), ("task.id", "0")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        t.start(ctx, &cfg).unwrap();
        let r = t.poll().unwrap();
        assert_eq!(r.len(), 2, "seqs 10 and 11, then max.records");
        assert_eq!(r[0].value, Value::String("00000010".into()));
        assert_eq!(r[0].key, Value::String("key-1".into()));
        assert!(t.poll().unwrap().is_empty());
    }
}
