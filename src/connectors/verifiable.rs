//! Kafka Connect's test plugins for bounce tests (§8.3), under their Java class names:
//! `org.apache.kafka.connect.tools.VerifiableSourceConnector` / `VerifiableSinkConnector`.
//!
//! - Source task *i*: source partition `{"id": i}`, offset `{"seqno": n}`, resumes at the
//!   committed seqno + 1. Record key = task id (INT32), value = seqno (INT64), or with
//!   `complete.record.data=true` a struct `{name, task, topic, time_ms, seqno}`. At most
//!   `throughput` records per second per task (negative: unthrottled). One JSON line per polled
//!   record `{"name","task","topic","time_ms","seqno"}` and one per acknowledged record with
//!   `"committed": true`.
//! - Sink: one JSON line per received record `{"name","task"(= key),"sinkTask","topic",
//!   "time_ms","seqno"(= value),"offset"}` and, on flush, the same with `"flushed": true`.
//!
//! Lines go to stdout as in Kafka Connect, or (ours) appended to `output.file` when set, one
//! `write` per line so that tasks on several nodes of one machine can share a file.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use raftconnect_storage::model::ConfigMap;
use serde_json::json;

use crate::data::{Field, Schema, Value};
use crate::plugin::api::{
    now_ms, ConnectError, ConnectorInstance, Lifecycle, SinkRecord, SinkTask, SourceOffset, SourcePartition,
    SourceRecord, SourceTask, SourceTaskContext, Task, TaskKind,
};
use crate::plugin::config_def::{key, Check, Config, ConfigKey, ConfigType, DefaultValue, Importance};
use crate::plugin::registry::{ConnectorRuntime, Factory, Plugin, PluginType, KAFKA_VERSION};

const OUTPUT_FILE_KEY: ConfigKey = key(
    "output.file",
    ConfigType::String,
    DefaultValue::Null,
    Check::None,
    Importance::Low,
    None,
    -1,
    "output.file",
    "(raftconnect) Append the JSON lines to this file instead of printing them to standard output",
);

/// `VerifiableSourceConnector`'s keys.
pub const SOURCE_KEYS: &[ConfigKey] = &[
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
        "throughput",
        ConfigType::Long,
        DefaultValue::Value("-1"),
        Check::None,
        Importance::High,
        None,
        -1,
        "throughput",
        "Records per second per task (negative: unthrottled)",
    ),
    key(
        "complete.record.data",
        ConfigType::Boolean,
        DefaultValue::Value("false"),
        Check::None,
        Importance::Low,
        None,
        -1,
        "complete.record.data",
        "Send the whole record data (a struct) instead of the seqno alone",
    ),
    OUTPUT_FILE_KEY,
];

/// `VerifiableSinkConnector`'s keys.
pub const SINK_KEYS: &[ConfigKey] = &[OUTPUT_FILE_KEY];

pub const SINK: Plugin = Plugin {
    class: "org.apache.kafka.connect.tools.VerifiableSinkConnector",
    aliases: &["VerifiableSink", "VerifiableSinkConnector"],
    ty: PluginType::Sink,
    version: KAFKA_VERSION,
    config: SINK_KEYS,
    factory: Factory::Connector(ConnectorRuntime {
        connector: connector,
        task: sink_task,
        task_class: "org.apache.kafka.connect.tools.VerifiableSinkTask",
        kind: TaskKind::Sink,
    }),
};

pub const SOURCE: Plugin = Plugin {
    class: "org.apache.kafka.connect.tools.VerifiableSourceConnector",
    aliases: &["VerifiableSource", "VerifiableSourceConnector"],
    ty: PluginType::Source,
    version: KAFKA_VERSION,
    config: SOURCE_KEYS,
    factory: Factory::Connector(ConnectorRuntime {
        connector: connector,
        task: source_task,
        task_class: "org.apache.kafka.connect.tools.VerifiableSourceTask",
        kind: TaskKind::Source,
    }),
};

/// Where the JSON lines go.
enum Output {
    Stdout,
    File(std::fs::File),
}

impl Output {
    fn open(declared: Config<'_>) -> Result<Self, ConnectError> {
        match declared.non_blank("output.file")? {
            None => Ok(Output::Stdout),
            Some(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map(Output::File)
                .map_err(|e| ConnectError::new(format!("Couldn't open output.file '{path}': {e}"))),
        }
    }

    fn line(&mut self, v: &serde_json::Value) {
        let mut bytes = v.to_string().into_bytes();
        bytes.push(b'\n');
        let res = match self {
            Output::Stdout => std::io::stdout().lock().write_all(&bytes),
            Output::File(f) => f.write_all(&bytes),
        };
        if let Err(e) = res {
            tracing::warn!(error = %e, "Verifiable connector could not write its output line.");
        }
    }
}

/// Both connectors: `tasks.max` copies of the config, each with its task `id`.
#[derive(Default)]
pub struct VerifiableConnector {
    config: ConfigMap,
}

impl ConnectorInstance for VerifiableConnector {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        self.config = config.clone();
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(crate::plugin::api::numbered_task_configs(&self.config, max_tasks, "id"))
    }
}

impl Lifecycle for VerifiableConnector {}

fn task_id(config: &ConfigMap) -> Result<i32, ConnectError> {
    config
        .get("id")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ConnectError::new("Verifiable task config has no valid 'id'"))
}

pub struct VerifiableSourceTask {
    name: String,
    id: i32,
    topic: Arc<str>,
    /// Records per second; None = unthrottled.
    throughput: Option<f64>,
    complete: bool,
    partition: SourcePartition,
    seqno: i64,
    started: Instant,
    sent: u64,
    out: Output,
}

impl Default for VerifiableSourceTask {
    fn default() -> Self {
        Self {
            name: String::new(),
            id: 0,
            topic: Arc::from(""),
            throughput: None,
            complete: false,
            partition: Arc::from("{}"),
            seqno: 0,
            started: Instant::now(),
            sent: 0,
            out: Output::Stdout,
        }
    }
}

impl VerifiableSourceTask {
    fn data(&self, seqno: i64, time_ms: i64) -> serde_json::Value {
        json!({ "name": self.name, "task": self.id, "topic": &*self.topic, "time_ms": time_ms, "seqno": seqno })
    }
}

impl SourceTask for VerifiableSourceTask {
    fn start(&mut self, context: SourceTaskContext, config: &ConfigMap) -> Result<(), ConnectError> {
        self.name = config.get("name").cloned().unwrap_or_else(|| context.connector.clone());
        self.id = task_id(config)?;
        let declared = Config::new(SOURCE_KEYS, config);
        self.topic = Arc::from(declared.string("topic")?.unwrap_or_default());
        let throughput = declared.long("throughput")?;
        self.throughput = (throughput >= 0).then_some(throughput as f64);
        self.complete = declared.boolean("complete.record.data")?;
        let partition = json!({ "id": self.id });
        self.partition = crate::plugin::api::source_partition(&partition);
        self.seqno = match context.offset(&partition).as_ref().and_then(|o| o.get("seqno")) {
            Some(v) => v.as_i64().ok_or_else(|| ConnectError::new(format!("Invalid seqno offset: {v}")))? + 1,
            None => 0,
        };
        self.out = Output::open(declared)?;
        self.started = Instant::now();
        Ok(())
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, ConnectError> {
        // Records due by now under the throughput, at most 1000 per poll.
        let due = match self.throughput {
            None => 1000,
            Some(t) => {
                let allowed = (self.started.elapsed().as_secs_f64() * t) as u64;
                let due = allowed.saturating_sub(self.sent).min(1000);
                if due == 0 {
                    let next = Duration::from_secs_f64((self.sent + 1) as f64 / t.max(0.001));
                    let wait = next.saturating_sub(self.started.elapsed()).min(Duration::from_millis(100));
                    std::thread::sleep(wait);
                    return Ok(Vec::new());
                }
                due
            }
        };
        let now = now_ms();
        let mut records = Vec::with_capacity(due as usize);
        for _ in 0..due {
            let seqno = self.seqno;
            self.seqno += 1;
            self.sent += 1;
            let data = self.data(seqno, now);
            self.out.line(&data);
            let (schema, value) = if self.complete {
                let schema = Schema::structure(vec![
                    Field { name: "name".into(), schema: Schema::string() },
                    Field { name: "task".into(), schema: Schema::int32() },
                    Field { name: "topic".into(), schema: Schema::string() },
                    Field { name: "time_ms".into(), schema: Schema::int64() },
                    Field { name: "seqno".into(), schema: Schema::int64() },
                ]);
                let value = Value::Struct(vec![
                    ("name".into(), Value::String(self.name.clone())),
                    ("task".into(), Value::Int32(self.id)),
                    ("topic".into(), Value::String(self.topic.to_string())),
                    ("time_ms".into(), Value::Int64(now)),
                    ("seqno".into(), Value::Int64(seqno)),
                ]);
                (Arc::new(schema), value)
            } else {
                (Arc::new(Schema::int64()), Value::Int64(seqno))
            };
            let mut r = SourceRecord::new(
                &self.partition,
                SourceOffset::Counter("seqno", seqno),
                &self.topic,
                Some(schema),
                value,
            );
            r.key_schema = Some(Arc::new(Schema::int32()));
            r.key = Value::Int32(self.id);
            r.timestamp = Some(now);
            records.push(r);
        }
        Ok(records)
    }

    fn wants_commit_record(&self) -> bool {
        true
    }

    fn commit_record(&mut self, _partition: &str, offset: &SourceOffset) {
        let Some(seqno) = offset.get_i64("seqno") else { return };
        let mut data = self.data(seqno, now_ms());
        data["committed"] = json!(true);
        self.out.line(&data);
    }
}

pub struct VerifiableSinkTask {
    name: String,
    id: i32,
    unflushed: Vec<serde_json::Value>,
    out: Output,
}

impl Default for VerifiableSinkTask {
    fn default() -> Self {
        Self { name: String::new(), id: 0, unflushed: Vec::new(), out: Output::Stdout }
    }
}

/// A Connect value as the JSON Jackson would print for it: the schemaless JsonConverter's.
fn to_json(v: &Value) -> serde_json::Value {
    use crate::convert::Converter;
    let bytes = crate::convert::json::JsonConverter::with_schemas(false).from_connect("", None, v);
    bytes.ok().flatten().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(serde_json::Value::Null)
}

impl SinkTask for VerifiableSinkTask {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        self.name = config.get("name").cloned().unwrap_or_default();
        self.id = task_id(config)?;
        self.out = Output::open(Config::new(SINK_KEYS, config))?;
        Ok(())
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectError> {
        let now = now_ms();
        for r in &records {
            // With complete.record.data the value is a struct carrying the seqno.
            let seqno = match &r.value {
                Value::Struct(fields) => fields.iter().find(|(k, _)| k == "seqno").map(|(_, v)| to_json(v)),
                other => Some(to_json(other)),
            };
            let data = json!({
                "name": self.name,
                "task": to_json(&r.key),
                "sinkTask": self.id,
                "topic": &*r.topic,
                "time_ms": now,
                "seqno": seqno,
                "offset": r.kafka_offset,
            });
            self.out.line(&data);
            self.unflushed.push(data);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ConnectError> {
        let now = now_ms();
        for mut data in std::mem::take(&mut self.unflushed) {
            data["time_ms"] = json!(now);
            data["flushed"] = json!(true);
            self.out.line(&data);
        }
        Ok(())
    }
}

pub fn connector() -> Box<dyn ConnectorInstance> {
    Box::<VerifiableConnector>::default()
}

pub fn source_task() -> Task {
    Task::Source(Box::<VerifiableSourceTask>::default())
}

pub fn sink_task() -> Task {
    Task::Sink(Box::<VerifiableSinkTask>::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn source_resumes_after_the_committed_seqno_and_logs_polls_and_commits() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let mut t = VerifiableSourceTask::default();
        let ctx = SourceTaskContext {
            connector: "vs".into(),
            task: 1,
            offsets: Box::new(|p| (p == r#"{"id":1}"#).then(|| json!({"seqno": 41}))),
        };
        let config = cfg(&[
            ("name", "vs"),
            ("id", "1"),
            ("topic", "t"),
            ("throughput", "-1"),
            ("output.file", out.to_str().unwrap()),
        ]);
        t.start(ctx, &config).unwrap();
        let records = t.poll().unwrap();
        assert_eq!(records.len(), 1000);
        assert_eq!(records[0].value, Value::Int64(42));
        assert_eq!(records[0].key, Value::Int32(1));
        assert_eq!(records[0].source_offset.to_json(), json!({"seqno": 42}));
        t.commit_record(&records[0].source_partition, &records[0].source_offset);
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1001);
        assert_eq!(lines[0]["seqno"], 42);
        assert_eq!(lines[0]["task"], 1);
        assert_eq!(lines[1000]["committed"], true);
        assert_eq!(lines[1000]["seqno"], 42);
    }

    #[test]
    fn source_throttles() {
        let mut t = VerifiableSourceTask::default();
        let ctx = SourceTaskContext { connector: "vs".into(), task: 0, offsets: Box::new(|_| None) };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        t.start(
            ctx,
            &cfg(&[("id", "0"), ("topic", "t"), ("throughput", "10"), ("output.file", out.to_str().unwrap())]),
        )
        .unwrap();
        let mut n = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(500) {
            n += t.poll().unwrap().len();
        }
        assert!(n <= 6, "10 records/s for 0.5 s gave {n}");
    }

    #[test]
    fn sink_logs_received_then_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let mut t = VerifiableSinkTask::default();
        t.start(&cfg(&[("name", "vk"), ("id", "2"), ("output.file", out.to_str().unwrap())])).unwrap();
        let r = SinkRecord::schemaless(17, Value::Int32(1), Value::Int64(5));
        t.put(vec![r]).unwrap();
        t.flush().unwrap();
        let lines: Vec<serde_json::Value> =
            std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0]["task"].clone(), lines[0]["sinkTask"].clone(), lines[0]["seqno"].clone()),
            (json!(1), json!(2), json!(5))
        );
        assert_eq!(lines[0]["offset"], 17);
        assert_eq!(lines[1]["flushed"], true);
    }
}
