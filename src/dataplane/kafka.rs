//! Kafka clients for tasks (rdkafka), with Kafka Connect's client defaults and override
//! precedence (§3.1, §3.5): runtime defaults < worker `producer.` / `consumer.` <
//! connector `producer.override.` / `consumer.override.`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use raftconnect_storage::model::{ConfigMap, TopicPartition};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::Message;

use crate::config::{with_prefix, WorkerConfig};

/// Java client keys that librdkafka does not know; dropped (they are implied by how we use
/// the client) rather than failing client creation.
const JAVA_ONLY: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "max.block.ms",
    "buffer.memory",
    "max.poll.records",
    "max.poll.interval.ms",
    "interceptor.classes",
    "partitioner.class",
];

/// Logs librdkafka's lines through tracing, under the task's fields.
#[derive(Clone)]
pub struct LogContext {
    pub client: String,
}

impl LogContext {
    fn log_line(&self, level: RDKafkaLogLevel, fac: &str, msg: &str) {
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", client = %self.client, facility = fac, "{msg}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", client = %self.client, facility = fac, "{msg}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", client = %self.client, facility = fac, "{msg}")
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target: "librdkafka", client = %self.client, facility = fac, "{msg}")
            }
        }
    }
}

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.log_line(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", client = %self.client, error = %error, "{reason}");
    }
}

impl ConsumerContext for LogContext {}

/// The outcome of one produced record: its sequence number and an error, if it failed.
pub type Ack = (u64, Option<String>);

/// A producer context that collects delivery reports; `poll` runs them on the task's thread.
pub struct AckContext {
    pub log: LogContext,
    pub acks: Mutex<Vec<Ack>>,
}

impl ClientContext for AckContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.log.log_line(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.log.error(error, reason);
    }
}

impl ProducerContext for AckContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let err = match result {
            Ok(_) => None,
            Err((e, m)) => Some(format!("{e} (topic {}, partition {})", m.topic(), m.partition())),
        };
        self.acks.lock().unwrap_or_else(|p| p.into_inner()).push((seq as u64, err));
    }
}

fn apply(cfg: &mut ClientConfig, props: &BTreeMap<String, String>) {
    for (k, v) in props {
        if JAVA_ONLY.contains(&k.as_str()) {
            tracing::debug!(key = %k, "Java-only client setting ignored.");
            continue;
        }
        cfg.set(k, v);
    }
}

/// The producer config of a source task.
pub fn producer_config(worker: &WorkerConfig, connector: &ConfigMap, client_id: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("client.id", client_id)
        // Kafka Connect: acks=all and no reordering. Idempotence gives both without
        // capping in-flight requests at one, and no duplicates from the producer's retries.
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        // delivery.timeout.ms = infinite in Kafka Connect; librdkafka's 0 means infinite.
        .set("message.timeout.ms", "0");
    apply(&mut cfg, &worker.producer);
    apply(&mut cfg, &with_prefix(connector, "producer.override."));
    cfg
}

/// The consumer config of a sink task: a group id is required by librdkafka even for
/// `assign()`, but no group protocol is spoken and nothing is committed to Kafka.
pub fn consumer_config(
    worker: &WorkerConfig,
    connector_name: &str,
    connector: &ConfigMap,
    client_id: &str,
) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("client.id", client_id)
        .set("group.id", format!("connect-{connector_name}"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("queued.min.messages", "1000000");
    apply(&mut cfg, &worker.consumer);
    apply(&mut cfg, &with_prefix(connector, "consumer.override."));
    // Offsets live in Raft: never let a worker or connector setting turn Kafka commits on.
    cfg.set("enable.auto.commit", "false");
    cfg
}

/// A client for metadata only (the leader's partition discovery).
pub fn metadata_client(worker: &WorkerConfig) -> Result<BaseConsumer<LogContext>, KafkaError> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers).set("group.id", "raftconnect-metadata");
    apply(&mut cfg, &worker.consumer);
    cfg.create_with_context(LogContext { client: "raftconnect-metadata".into() })
}

/// Every topic-partition the broker knows, internal topics (`__…`) excluded.
pub fn topic_partitions(
    client: &BaseConsumer<LogContext>,
    timeout: Duration,
) -> Result<Vec<TopicPartition>, KafkaError> {
    use rdkafka::consumer::Consumer;
    let md = client.fetch_metadata(None, timeout)?;
    let mut out = Vec::new();
    for t in md.topics() {
        if t.name().starts_with("__") || t.error().is_some() {
            continue;
        }
        for p in t.partitions() {
            out.push(TopicPartition { topic: t.name().to_string(), partition: p.id() });
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_properties;

    #[test]
    fn client_settings_precedence_runtime_then_worker_then_connector() {
        let worker = WorkerConfig::from_props(&parse_properties(
            "bootstrap.servers=b:1\nproducer.linger.ms=20\nproducer.compression.type=lz4\nproducer.max.block.ms=9\n\
             consumer.fetch.min.bytes=7\nconsumer.enable.auto.commit=true\n",
        ))
        .unwrap();
        let connector: ConfigMap = [
            ("producer.override.compression.type", "gzip"),
            ("consumer.override.fetch.min.bytes", "9"),
            ("consumer.override.enable.auto.commit", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = producer_config(&worker, &connector, "connector-producer-c-0");
        assert_eq!(p.get("bootstrap.servers"), Some("b:1"));
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        assert_eq!(p.get("linger.ms"), Some("20"), "worker producer.* over the runtime default");
        assert_eq!(p.get("compression.type"), Some("gzip"), "connector producer.override.* over the worker");
        assert_eq!(p.get("max.block.ms"), None, "Java-only settings are dropped");
        assert_eq!(p.get("client.id"), Some("connector-producer-c-0"));
        let c = consumer_config(&worker, "c", &connector, "connector-consumer-c-0");
        assert_eq!(c.get("group.id"), Some("connect-c"));
        assert_eq!(c.get("fetch.min.bytes"), Some("9"));
        assert_eq!(c.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(c.get("enable.auto.commit"), Some("false"), "offsets live in Raft, never in Kafka");
    }
}
