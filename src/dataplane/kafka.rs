//! Kafka clients for tasks (rdkafka), with Kafka Connect's client defaults and override
//! precedence (§3.1, §3.5): runtime defaults < top-level `security.protocol` / `ssl.*` /
//! `sasl.*` < worker `producer.` / `consumer.` < connector `producer.override.` /
//! `consumer.override.`. The metadata client takes the top-level security keys and the
//! worker's `consumer.` keys. The security keys are translated by [`super::security`].
//!
//! Every layer is checked when it is first seen: the worker's (top-level, `producer.`,
//! `consumer.`, `admin.`) when the worker config loads, a connector's `*.override.` layers when
//! its config is validated ([`check_overrides`]; a layer holding a config-provider placeholder
//! is checked when the task starts instead). A layer is translated ([`client_layer`]), then each
//! of its settings is given to librdkafka's config parser without making a client, so an
//! unknown name or a bad value is refused with the key named, never dropped.
//!
//! Java client keys librdkafka does not know (Kafka Connect users have them in their configs):
//!
//! | key | here |
//! |---|---|
//! | `key.serializer`, `value.serializer` | `ByteArraySerializer` (what tasks send: the converters' bytes) accepted; others refused |
//! | `key.deserializer`, `value.deserializer` | `ByteArrayDeserializer` accepted; others refused |
//! | `max.block.ms` | `9223372036854775807` (Kafka Connect's default: a full producer queue is waited on without a bound, as source tasks do) accepted; others refused |
//! | `buffer.memory` (bytes) | translated to `queue.buffering.max.kbytes` (rounded up); refused with it in the same layer |
//! | `max.poll.records` | honoured by sink tasks (records per `put`), not given to librdkafka; must be an INT ≥ 1 |
//! | `interceptor.classes` | empty accepted; any class refused (Java interceptors cannot run) |
//! | `partitioner.class` | `…producer.internals.DefaultPartitioner` → `partitioner=murmur2_random` (Java's key hashing); others refused |
//! | `max.poll.interval.ms` | librdkafka's own setting of that name (no group is joined: no effect, as `session.timeout.ms`) |
//!
//! raftconnect makes no Kafka admin client: the worker's `admin.` and a connector's
//! `admin.override.` keys are checked like the others and apply to no client (one log line).

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

use super::security::{self, ClientConfigError, Props};
use crate::config::{with_prefix, WorkerConfig};

pub const BYTE_ARRAY_SERIALIZER: &str = "org.apache.kafka.common.serialization.ByteArraySerializer";
pub const BYTE_ARRAY_DESERIALIZER: &str = "org.apache.kafka.common.serialization.ByteArrayDeserializer";
const DEFAULT_PARTITIONER: &str = "org.apache.kafka.clients.producer.internals.DefaultPartitioner";

/// The client-override prefixes of a connector config (KIP-458).
pub const OVERRIDE_PREFIXES: [&str; 3] = ["producer.override.", "consumer.override.", "admin.override."];

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

    fn spare_config(&self) -> Result<ClientConfig, ClientConfigError> {
        producer_config(&self.worker, &ConfigMap::new(), "raftconnect-producer-spare")
    }

    /// The spare, if `config` has the default settings; a new spare is made in the background.
    /// A connector that names its own `client.id` gets its own producer: the broker knows the
    /// spare by the spare's id.
    pub fn take(self: &Arc<Self>, config: &ClientConfig, client: &str) -> Option<TaskProducer> {
        let Ok(spare) = self.spare_config() else { return None };
        if settings(config) != settings(&spare) || config.get("client.id") != Some(client) {
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
            let created: Result<TaskProducer, String> = pool.spare_config().map_err(|e| e.to_string()).and_then(|c| {
                c.create_with_context(AckContext::new("raftconnect-producer-spare")).map_err(|e| e.to_string())
            });
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

fn apply(cfg: &mut ClientConfig, settings: &Props) {
    for (k, v) in settings {
        cfg.set(k, v);
    }
}

/// A Java-only key of a layer (see the module comment), or any other key as it is.
fn java_key(prefix: &str, k: &str, v: &str, layer: &Props, out: &mut Props) -> Result<(), ClientConfigError> {
    let refuse = |reason: &str| Err(ClientConfigError::invalid(&format!("{prefix}{k}"), v, reason));
    let trimmed = v.trim();
    match k {
        "key.serializer" | "value.serializer" if trimmed != BYTE_ARRAY_SERIALIZER => refuse(
            "tasks send the converters' bytes as they are (org.apache.kafka.common.serialization.ByteArraySerializer); \
             other serializers cannot run here",
        ),
        "key.deserializer" | "value.deserializer" if trimmed != BYTE_ARRAY_DESERIALIZER => refuse(
            "tasks read the records' bytes as they are \
             (org.apache.kafka.common.serialization.ByteArrayDeserializer); other deserializers cannot run here",
        ),
        "key.serializer" | "value.serializer" | "key.deserializer" | "value.deserializer" => Ok(()),
        "max.block.ms" => match trimmed.parse::<i64>() {
            Ok(i64::MAX) => Ok(()),
            Ok(_) => refuse(
                "source tasks wait for room in the producer queue without a bound, as Kafka Connect's default \
                 9223372036854775807 does; no other value is supported",
            ),
            Err(_) => refuse("Not a number of type LONG"),
        },
        "buffer.memory" => {
            if layer.contains_key("queue.buffering.max.kbytes") {
                return refuse(&format!("{prefix}buffer.memory and {prefix}queue.buffering.max.kbytes may not both be set"));
            }
            match trimmed.parse::<i64>() {
                Ok(bytes) if bytes >= 0 => {
                    let kbytes = (bytes.saturating_add(1023) / 1024).clamp(1, i32::MAX as i64);
                    out.insert("queue.buffering.max.kbytes".into(), kbytes.to_string());
                    Ok(())
                }
                Ok(_) => refuse("Value must be at least 0"),
                Err(_) => refuse("Not a number of type LONG"),
            }
        }
        "max.poll.records" => match trimmed.parse::<i32>() {
            Ok(n) if n >= 1 => Ok(()),
            Ok(_) => refuse("Value must be at least 1"),
            Err(_) => refuse("Not a number of type INT"),
        },
        "interceptor.classes" if !trimmed.is_empty() => {
            refuse("Java client interceptors cannot run here (librdkafka clients)")
        }
        "interceptor.classes" => Ok(()),
        "partitioner.class" => match trimmed {
            "" => Ok(()),
            DEFAULT_PARTITIONER if layer.contains_key("partitioner") => {
                refuse(&format!("{prefix}partitioner.class and {prefix}partitioner may not both be set"))
            }
            DEFAULT_PARTITIONER => {
                out.insert("partitioner".into(), "murmur2_random".into());
                Ok(())
            }
            _ => refuse(
                "Java partitioners cannot run here: org.apache.kafka.clients.producer.internals.DefaultPartitioner \
                 (librdkafka's murmur2_random) or librdkafka's own partitioner setting is accepted",
            ),
        },
        _ => {
            out.insert(k.to_string(), v.to_string());
            Ok(())
        }
    }
}

/// Give each setting to librdkafka's config parser (no client is made): unknown names and
/// values it refuses are reported with the key named (and a secret value hidden).
fn native_check(prefix: &str, settings: &Props) -> Result<(), ClientConfigError> {
    for (k, v) in settings {
        let mut cfg = ClientConfig::new();
        cfg.set(k, v);
        let key = format!("{prefix}{k}");
        match cfg.create_native_config() {
            Ok(_) => {}
            Err(KafkaError::ClientConfig(_, desc, _, _)) if !security::is_secret(k) => {
                return Err(ClientConfigError::invalid(&key, v, format!("librdkafka refused it: {desc}")))
            }
            Err(_) => return Err(ClientConfigError::invalid(&key, v, "librdkafka refused the value")),
        }
    }
    Ok(())
}

/// One layer of client settings (prefix stripped; `prefix` names keys in messages) in
/// librdkafka's names: security keys translated, Java-only keys as the module comment says,
/// the rest as they are; then checked by librdkafka's parser.
pub fn client_layer(prefix: &str, layer: &Props) -> Result<Props, ClientConfigError> {
    let mut out = security::translate(prefix, layer)?;
    for (k, v) in layer.iter().filter(|(k, _)| !security::is_security_key(k)) {
        java_key(prefix, k, v, layer, &mut out)?;
    }
    native_check(prefix, &out)?;
    Ok(out)
}

/// A client's settings: the top-level security keys < the worker's `prefix` layer < the
/// connector's override layer, if any.
fn layered(
    worker: &WorkerConfig,
    prefix: &str,
    worker_layer: &Props,
    connector: Option<(&str, &ConfigMap)>,
) -> Result<Props, ClientConfigError> {
    let mut out = worker.client_security.clone();
    security::merge(&mut out, client_layer(prefix, worker_layer)?);
    if let Some((override_prefix, config)) = connector {
        security::merge(&mut out, client_layer(override_prefix, &with_prefix(config, override_prefix))?);
    }
    security::check_merged(&out)?;
    Ok(out)
}

/// Check the client settings of the worker properties (top-level security keys, `producer.`,
/// `consumer.`, `admin.`); returns the top-level security keys translated.
pub fn check_worker_clients(props: &Props) -> Result<Props, ClientConfigError> {
    let top_keys = security::security_keys(props);
    if top_keys.contains_key("ssl.client.auth") {
        return Err(ClientConfigError::invalid(
            "ssl.client.auth",
            &top_keys["ssl.client.auth"],
            "a server setting (Kafka Connect's REST HTTPS listener); Kafka clients have no such setting, and \
             raftconnect's REST TLS is set with the node's --tls-* flags",
        ));
    }
    unresolved("", &top_keys)?;
    let top = security::translate("", &top_keys)?;
    native_check("", &top)?;
    for prefix in ["producer.", "consumer.", "admin."] {
        // `admin.listeners` is the REST server's (Kafka Connect's admin endpoints), not a client's.
        let layer: Props =
            with_prefix(props, prefix).into_iter().filter(|(k, _)| !k.starts_with("listeners")).collect();
        unresolved(prefix, &layer)?;
        let mut merged = top.clone();
        security::merge(&mut merged, client_layer(prefix, &layer)?);
        security::check_merged(&merged)?;
        if prefix == "admin." && !layer.is_empty() {
            tracing::info!(
                keys = ?layer.keys().collect::<Vec<_>>(),
                "Worker admin.* client settings are checked; raftconnect makes no Kafka admin client."
            );
        }
    }
    Ok(top)
}

/// Config-provider placeholders are resolved in connector configs, where the unit runs; one in a
/// worker client setting would reach the broker as it is.
fn unresolved(prefix: &str, layer: &Props) -> Result<(), ClientConfigError> {
    match layer.iter().find(|(_, v)| crate::config::providers::has_placeholder(v)) {
        Some((k, v)) => Err(ClientConfigError::invalid(
            &format!("{prefix}{k}"),
            v,
            "config provider placeholders are resolved in connector configs only, not in the worker config",
        )),
        None => Ok(()),
    }
}

/// The refusals of a connector config's client overrides (`producer.override.`,
/// `consumer.override.`, `admin.override.`), one per layer at most. A layer holding a
/// config-provider placeholder is left to the task's start, where it is resolved.
pub fn check_overrides(connector: &ConfigMap) -> Vec<ClientConfigError> {
    OVERRIDE_PREFIXES
        .iter()
        .filter_map(|prefix| {
            let layer = with_prefix(connector, prefix);
            if layer.values().any(|v| crate::config::providers::has_placeholder(v)) {
                return None;
            }
            client_layer(prefix, &layer).err()
        })
        .collect()
}

/// The producer config of a source task.
pub fn producer_config(
    worker: &WorkerConfig,
    connector: &ConfigMap,
    client_id: &str,
) -> Result<ClientConfig, ClientConfigError> {
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
    let settings = layered(worker, "producer.", &worker.producer, Some(("producer.override.", connector)))?;
    apply(&mut cfg, &settings);
    Ok(cfg)
}

/// The consumer config of a sink task: a group id is required by librdkafka even for
/// `assign()`, but no group protocol is spoken and nothing is committed to Kafka.
pub fn consumer_config(
    worker: &WorkerConfig,
    connector_name: &str,
    connector: &ConfigMap,
    client_id: &str,
) -> Result<ClientConfig, ClientConfigError> {
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
    let settings = layered(worker, "consumer.", &worker.consumer, Some(("consumer.override.", connector)))?;
    apply(&mut cfg, &settings);
    // Offsets live in Raft: never let a worker or connector setting turn Kafka commits on.
    cfg.set("enable.auto.commit", "false");
    Ok(cfg)
}

/// A client for metadata only (the leader's partition discovery, the Kafka cluster id): the
/// top-level security keys and the worker's `consumer.` keys (both checked at load).
pub fn metadata_client(worker: &WorkerConfig) -> Result<BaseConsumer<LogContext>, KafkaError> {
    let settings =
        layered(worker, "consumer.", &worker.consumer, None).map_err(|e| KafkaError::ClientCreation(e.to_string()))?;
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers).set("group.id", "raftconnect-metadata");
    apply(&mut cfg, &settings);
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

    fn map(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn client_settings_precedence_runtime_then_worker_then_connector() {
        let worker = WorkerConfig::from_props(&parse_properties(
            "bootstrap.servers=b:1\nproducer.linger.ms=20\nproducer.compression.type=lz4\n\
             producer.max.block.ms=9223372036854775807\nproducer.key.serializer=org.apache.kafka.common.serialization.ByteArraySerializer\n\
             consumer.fetch.min.bytes=7\nconsumer.enable.auto.commit=true\nconsumer.max.poll.records=50\n",
        ))
        .unwrap();
        let connector = map(&[
            ("producer.override.compression.type", "gzip"),
            ("consumer.override.fetch.min.bytes", "9"),
            ("consumer.override.enable.auto.commit", "true"),
        ]);
        let p = producer_config(&worker, &connector, "connector-producer-c-0").unwrap();
        assert_eq!(p.get("bootstrap.servers"), Some("b:1"));
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        assert_eq!(p.get("linger.ms"), Some("20"), "worker producer.* over the runtime default");
        assert_eq!(p.get("compression.type"), Some("gzip"), "connector producer.override.* over the worker");
        assert_eq!(p.get("max.block.ms"), None, "Kafka Connect's max.block.ms is what the task does");
        assert_eq!(p.get("key.serializer"), None);
        assert_eq!(p.get("security.protocol"), None, "no security keys: librdkafka's plaintext");
        assert_eq!(p.get("client.id"), Some("connector-producer-c-0"));
        let c = consumer_config(&worker, "c", &connector, "connector-consumer-c-0").unwrap();
        assert_eq!(c.get("group.id"), Some("connect-c"));
        assert_eq!(c.get("fetch.min.bytes"), Some("9"));
        assert_eq!(c.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(c.get("max.poll.records"), None, "the sink reads it; librdkafka has no such setting");
        assert_eq!(c.get("enable.auto.commit"), Some("false"), "offsets live in Raft, never in Kafka");
    }

    #[test]
    fn security_precedence_top_level_then_prefixed_then_connector_override() {
        let worker = WorkerConfig::from_props(&parse_properties(
            "bootstrap.servers=b:1\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"worker\" password=\"wpw\";\n\
             ssl.truststore.location=/etc/ca.pem\nssl.truststore.type=PEM\n\
             consumer.ssl.endpoint.identification.algorithm=\nconsumer.sasl.mechanism=SCRAM-SHA-512\n",
        ))
        .unwrap();
        assert_eq!(worker.client_security.get("sasl.username").map(String::as_str), Some("worker"));
        let none = ConfigMap::new();
        let p = producer_config(&worker, &none, "p").unwrap();
        assert_eq!(p.get("security.protocol"), Some("sasl_ssl"), "top-level keys reach task producers");
        assert_eq!(p.get("sasl.mechanism"), Some("SCRAM-SHA-256"));
        assert_eq!((p.get("sasl.username"), p.get("sasl.password")), (Some("worker"), Some("wpw")));
        assert_eq!(p.get("ssl.ca.location"), Some("/etc/ca.pem"));
        assert_eq!(p.get("sasl.jaas.config"), None);
        let c = consumer_config(&worker, "c", &none, "c").unwrap();
        assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-512"), "consumer.* over the top level");
        assert_eq!(c.get("ssl.endpoint.identification.algorithm"), Some("none"));
        let overrides = map(&[
            (
                "consumer.override.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"conn\" password=\"cpw\";",
            ),
            ("consumer.override.security.protocol", "SSL"),
            ("producer.override.ssl.truststore.certificates", "PEMTEXT"),
        ]);
        let c = consumer_config(&worker, "c", &overrides, "c").unwrap();
        assert_eq!((c.get("sasl.username"), c.get("sasl.password")), (Some("conn"), Some("cpw")));
        assert_eq!(c.get("security.protocol"), Some("ssl"));
        assert_eq!(c.get("ssl.ca.location"), Some("/etc/ca.pem"), "the producer's override is not the consumer's");
        let p = producer_config(&worker, &overrides, "p").unwrap();
        assert_eq!(
            (p.get("ssl.ca.pem"), p.get("ssl.ca.location")),
            (Some("PEMTEXT"), None),
            "the trust store as a whole"
        );
        assert_eq!(p.get("sasl.username"), Some("worker"));
        // The metadata client: top level, then consumer.*.
        let mut md = ClientConfig::new();
        apply(&mut md, &layered(&worker, "consumer.", &worker.consumer, None).unwrap());
        assert_eq!((md.get("security.protocol"), md.get("sasl.mechanism")), (Some("sasl_ssl"), Some("SCRAM-SHA-512")));
        // A bad override fails the task at start with the key named and the secret hidden.
        let bad = map(&[("consumer.override.sasl.jaas.config", "com.example.Custom required secret=\"s3\";")]);
        let e = consumer_config(&worker, "c", &bad, "c").unwrap_err().to_string();
        assert!(e.starts_with("Invalid value [hidden] for configuration consumer.override.sasl.jaas.config:"), "{e}");
        assert!(!e.contains("s3"), "{e}");
    }

    #[test]
    fn worker_config_refuses_bad_client_keys_at_load() {
        let cases = [
            ("sasl.mechanism=GSSAPI\n", "Invalid value GSSAPI for configuration sasl.mechanism: this build supports"),
            ("security.protocol=SASL_SSL\nsasl.username=u\nsasl.password=p\n", "Invalid value GSSAPI for configuration sasl.mechanism: the default"),
            ("producer.ssl.keystore.type=JKS\nproducer.ssl.keystore.location=/k.jks\n", "Invalid value JKS for configuration producer.ssl.keystore.type: librdkafka cannot read JKS"),
            ("consumer.ssl.truststore.location=/t.jks\n", "Invalid value JKS for configuration consumer.ssl.truststore.type"),
            ("producer.max.block.ms=60000\n", "Invalid value 60000 for configuration producer.max.block.ms: source tasks wait"),
            ("producer.interceptor.classes=com.example.I\n", "Invalid value com.example.I for configuration producer.interceptor.classes"),
            ("producer.value.serializer=org.apache.kafka.common.serialization.StringSerializer\n", "for configuration producer.value.serializer: tasks send"),
            ("consumer.max.poll.records=0\n", "Invalid value 0 for configuration consumer.max.poll.records: Value must be at least 1"),
            ("producer.max.request.size=10\n", "Invalid value 10 for configuration producer.max.request.size: librdkafka refused it: No such configuration property"),
            ("producer.linger.ms=soon\n", "Invalid value soon for configuration producer.linger.ms: librdkafka refused it"),
            ("ssl.provider=SunJSSE\n", "Invalid value SunJSSE for configuration ssl.provider: librdkafka refused it"),
            ("sasl.login.callback.handler.class=com.example.H\n", "for configuration sasl.login.callback.handler.class: librdkafka refused it"),
            ("admin.ssl.enabled.protocols=TLSv1.2\n", "Invalid value TLSv1.2 for configuration admin.ssl.enabled.protocols"),
            ("producer.partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner\n", "Java partitioners cannot run here"),
            ("ssl.client.auth=required\n", "Invalid value required for configuration ssl.client.auth: a server setting"),
            ("sasl.jaas.config=${file:/etc/kafka/jaas.properties:jaas}\n", "Invalid value [hidden] for configuration sasl.jaas.config: config provider placeholders"),
        ];
        for (text, expected) in cases {
            let e = WorkerConfig::from_props(&parse_properties(text)).unwrap_err().to_string();
            assert!(e.starts_with(expected) || e.contains(expected), "{text}: {e}");
        }
        let e = WorkerConfig::from_props(&parse_properties(
            "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"TOPSECRET\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("Invalid value [hidden] for configuration sasl.jaas.config:") && !e.contains("TOPSECRET"),
            "{e}"
        );
        // Translated and accepted.
        let w = WorkerConfig::from_props(&parse_properties(
            "producer.buffer.memory=33554432\nproducer.partitioner.class=org.apache.kafka.clients.producer.internals.DefaultPartitioner\n\
             admin.listeners=http://:8084\nadmin.security.protocol=SSL\nconsumer.max.poll.interval.ms=300000\n",
        ))
        .unwrap();
        let p = producer_config(&w, &ConfigMap::new(), "p").unwrap();
        assert_eq!(p.get("queue.buffering.max.kbytes"), Some("32768"));
        assert_eq!(p.get("partitioner"), Some("murmur2_random"));
        assert_eq!(p.get("buffer.memory"), None);
    }

    #[test]
    fn connector_overrides_are_checked_at_validation() {
        assert!(check_overrides(&map(&[
            ("producer.override.linger.ms", "1"),
            ("consumer.override.security.protocol", "SSL"),
            ("consumer.override.ssl.truststore.location", "/ca.pem"),
            ("consumer.override.ssl.truststore.type", "PEM"),
        ]))
        .is_empty());
        let errors = check_overrides(&map(&[
            ("producer.override.sasl.mechanism", "OAUTHBEARER"),
            ("consumer.override.ssl.keystore.location", "/k.jks"),
            ("admin.override.bogus.key", "1"),
            // A placeholder is resolved (and checked) where the task runs.
            ("admin.override.sasl.jaas.config", "${file:/secrets.properties:jaas}"),
        ]));
        let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
        assert_eq!(keys, ["producer.override.sasl.mechanism", "consumer.override.ssl.keystore.type"]);
    }
}
