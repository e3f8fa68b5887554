//! Kafka clients for tasks (rdkafka), with Kafka Connect's client defaults and override
//! precedence (§3.1, §3.5): runtime defaults < worker `producer.` / `consumer.` <
//! connector `producer.override.` / `consumer.override.`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use raftconnect_storage::model::{ConfigMap, TopicPartition};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, Producer, ProducerContext};
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

/// librdkafka's log lines, through tracing with the client's name.
fn log_line(client: &str, level: RDKafkaLogLevel, fac: &str, msg: &str) {
    match level {
        RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
            tracing::error!(target: "librdkafka", client, facility = fac, "{msg}")
        }
        RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", client, facility = fac, "{msg}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", client, facility = fac, "{msg}")
        }
        RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", client, facility = fac, "{msg}"),
    }
}

/// Logs librdkafka's lines through tracing, under the client's name.
#[derive(Clone)]
pub struct LogContext {
    pub client: String,
}

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        log_line(&self.client, level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", client = %self.client, error = %error, "{reason}");
    }
}

impl ConsumerContext for LogContext {}

/// The outcome of one produced record: its sequence number and an error, if it failed.
pub type Ack = (u64, Option<String>);

/// A producer context that collects delivery reports; `poll` runs them on the task's thread.
/// Its client name changes when a spare producer is handed to a task.
pub struct AckContext {
    pub client: Mutex<String>,
    pub acks: Mutex<Vec<Ack>>,
}

impl AckContext {
    pub fn new(client: &str) -> Self {
        Self { client: Mutex::new(client.to_string()), acks: Mutex::default() }
    }

    fn client(&self) -> String {
        self.client.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl ClientContext for AckContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        log_line(&self.client(), level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", client = %self.client(), error = %error, "{reason}");
    }
}

pub type TaskProducer = rdkafka::producer::BaseProducer<AckContext>;

/// One idle producer with the worker's default producer settings, kept ready for the next
/// source task. An idempotent producer waits about half a second for its producer id (a fixed
/// librdkafka timer) before it sends anything; a task that takes the spare does not, which
/// shortens every source task start, failover included.
pub struct ProducerPool {
    worker: WorkerConfig,
    /// The spare and its number (the thread serving a spare stops once it is taken).
    spare: Mutex<Option<(u64, TaskProducer)>>,
    made: std::sync::atomic::AtomicU64,
}

/// A client config without its `client.id`, to compare settings.
fn settings(cfg: &ClientConfig) -> BTreeMap<String, String> {
    cfg.config_map()
        .into_iter()
        .filter(|(k, _)| *k != "client.id")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl ProducerPool {
    pub fn new(worker: WorkerConfig) -> Arc<Self> {
        Arc::new(Self { worker, spare: Mutex::new(None), made: std::sync::atomic::AtomicU64::new(0) })
    }

    fn spare_config(&self) -> ClientConfig {
        producer_config(&self.worker, &ConfigMap::new(), "raftconnect-producer-spare")
    }

    /// The spare, if `config` has the default settings; a new spare is made in the background.
    /// A connector that names its own `client.id` gets its own producer: the broker knows the
    /// spare by the spare's id.
    pub fn take(self: &Arc<Self>, config: &ClientConfig, client: &str) -> Option<TaskProducer> {
        if settings(config) != settings(&self.spare_config()) || config.get("client.id") != Some(client) {
            return None;
        }
        let p = self.spare.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.refill();
        let (_, p) = p?;
        *p.context().client.lock().unwrap_or_else(|e| e.into_inner()) = client.to_string();
        Some(p)
    }

    /// Make a spare in the background, if there is none.
    pub fn refill(self: &Arc<Self>) {
        let pool = self.clone();
        std::thread::spawn(move || {
            if pool.spare.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                return;
            }
            let created: Result<TaskProducer, _> =
                pool.spare_config().create_with_context(AckContext::new("raftconnect-producer-spare"));
            let mine = match created {
                Ok(p) => {
                    let mut spare = pool.spare.lock().unwrap_or_else(|e| e.into_inner());
                    if spare.is_some() {
                        return;
                    }
                    let n = pool.made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    *spare = Some((n, p));
                    n
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot create a spare producer.");
                    return;
                }
            };
            // Serve its events (errors while the broker is away) until a task takes it.
            loop {
                std::thread::sleep(Duration::from_secs(1));
                match pool.spare.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    Some((n, p)) if *n == mine => p.poll(Duration::ZERO),
                    _ => return,
                }
            }
        });
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
        // Prefetch deep (3× the throughput of the default, kafka-broker.md §5), bounded in
        // bytes per task, and never pause fetching for a whole second when the queue is full.
        .set("queued.min.messages", "1000000")
        .set("queued.max.messages.kbytes", "16384")
        .set("fetch.queue.backoff.ms", "10");
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

/// Every topic-partition the broker knows, and the topics it reported with an error.
pub fn topic_partitions(
    client: &BaseConsumer<LogContext>,
    timeout: Duration,
) -> Result<(Vec<TopicPartition>, std::collections::BTreeSet<String>), KafkaError> {
    use rdkafka::consumer::Consumer;
    let md = client.fetch_metadata(None, timeout)?;
    let mut out = Vec::new();
    let mut errored = std::collections::BTreeSet::new();
    for t in md.topics() {
        if t.error().is_some() {
            errored.insert(t.name().to_string());
            continue;
        }
        for p in t.partitions() {
            out.push(TopicPartition { topic: t.name().to_string(), partition: p.id() });
        }
    }
    out.sort();
    Ok((out, errored))
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
