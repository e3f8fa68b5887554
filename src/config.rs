//! Worker settings from a Java-style properties file (`--config`), with Kafka Connect's key
//! names where they apply (§3.1): `bootstrap.servers`, `offset.flush.interval.ms`,
//! `offset.flush.timeout.ms`, `key.converter` / `value.converter` / `header.converter` and
//! their `.` sub-configs, and `producer.*` / `consumer.*` client defaults for tasks.
//!
//! Keys of Kafka Connect's distributed mode that Raft replaces (`group.id`, `*.storage.topic`,
//! `session.timeout.ms`, …) are accepted and ignored, with one log line, so an existing
//! `connect-distributed.properties` can be reused as is.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub type Props = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read worker config {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    Invalid { key: String, value: String, reason: String },
}

/// A converter class and its sub-configs (prefix stripped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConverterSpec {
    pub class: String,
    pub config: Props,
}

/// The worker-level settings of the data plane.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub bootstrap_servers: String,
    /// Source offsets are committed, and sinks flushed and committed, this often.
    pub offset_flush_interval: Duration,
    /// How long a final flush may wait for outstanding records and the commit.
    pub offset_flush_timeout: Duration,
    pub key_converter: ConverterSpec,
    pub value_converter: ConverterSpec,
    pub header_converter: ConverterSpec,
    /// `producer.*` without the prefix.
    pub producer: Props,
    /// `consumer.*` without the prefix.
    pub consumer: Props,
    /// How often the leader re-reads topic metadata for sink connectors.
    pub metadata_refresh: Duration,
}

pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
pub const SIMPLE_HEADER_CONVERTER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";
/// Default `offset.flush.interval.ms`: Kafka Connect's is 60 s; a Raft commit per node per
/// second is cheap, and it bounds re-delivery after a crash to about a second.
pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 1000;

/// Keys of Kafka Connect's worker config that have no meaning here (Raft replaces them).
const REPLACED_BY_RAFT: &[&str] = &[
    "group.id",
    "config.storage.topic",
    "config.storage.replication.factor",
    "offset.storage.topic",
    "offset.storage.partitions",
    "offset.storage.replication.factor",
    "status.storage.topic",
    "status.storage.partitions",
    "status.storage.replication.factor",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "rebalance.timeout.ms",
    "connect.protocol",
    "worker.sync.timeout.ms",
    "worker.unsync.backoff.ms",
    "plugin.path",
    "plugin.discovery",
    "listeners",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "rest.advertised.listener",
];

impl Default for WorkerConfig {
    fn default() -> Self {
        Self::from_props(&Props::new()).expect("the defaults are valid")
    }
}

/// Parse Java properties text: `key=value`, `key: value` or `key value`; `#` and `!`
/// comments; a trailing backslash continues a line.
pub fn parse_properties(text: &str) -> Props {
    let mut out = Props::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            pending.push_str(cont);
            continue;
        }
        pending.push_str(line);
        let entry = std::mem::take(&mut pending);
        let split = entry.find(['=', ':']).into_iter().chain(entry.find(char::is_whitespace)).min();
        let (k, v) = match split {
            Some(i) => {
                let rest = entry[i..].trim_start();
                let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest);
                (entry[..i].trim(), rest.trim())
            }
            None => (entry.trim(), ""),
        };
        if !k.is_empty() {
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}

fn millis(props: &Props, key: &str, default: u64) -> Result<Duration, ConfigError> {
    match props.get(key) {
        None => Ok(Duration::from_millis(default)),
        Some(v) => v.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| ConfigError::Invalid {
            key: key.into(),
            value: v.clone(),
            reason: "Not a number of type LONG".into(),
        }),
    }
}

/// The entries of `props` under `prefix`, with the prefix stripped.
pub fn with_prefix(props: &Props, prefix: &str) -> Props {
    props.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone()))).collect()
}

fn converter_spec(props: &Props, key: &str, default: &str) -> ConverterSpec {
    ConverterSpec {
        class: props.get(key).cloned().unwrap_or_else(|| default.to_string()),
        config: with_prefix(props, &format!("{key}.")),
    }
}

impl WorkerConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::from_props(&parse_properties(&text))
    }

    pub fn from_props(props: &Props) -> Result<Self, ConfigError> {
        let ignored: Vec<&str> = REPLACED_BY_RAFT.iter().copied().filter(|k| props.contains_key(*k)).collect();
        if !ignored.is_empty() {
            tracing::info!(keys = ?ignored, "Worker config keys that Raft replaces are ignored.");
        }
        let interval = millis(props, "offset.flush.interval.ms", DEFAULT_FLUSH_INTERVAL_MS)?;
        if interval.is_zero() {
            return Err(ConfigError::Invalid {
                key: "offset.flush.interval.ms".into(),
                value: "0".into(),
                reason: "Value must be at least 1".into(),
            });
        }
        Ok(Self {
            bootstrap_servers: props.get("bootstrap.servers").cloned().unwrap_or_else(|| "localhost:9092".into()),
            offset_flush_interval: interval,
            offset_flush_timeout: millis(props, "offset.flush.timeout.ms", 5000)?,
            key_converter: converter_spec(props, "key.converter", JSON_CONVERTER),
            value_converter: converter_spec(props, "value.converter", JSON_CONVERTER),
            header_converter: converter_spec(props, "header.converter", SIMPLE_HEADER_CONVERTER),
            producer: with_prefix(props, "producer."),
            consumer: with_prefix(props, "consumer."),
            metadata_refresh: millis(props, "metadata.refresh.interval.ms", 2000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_java_properties() {
        let p = parse_properties(
            "# comment\n! also\nbootstrap.servers=127.0.0.1:9092\nkey.converter : org.apache.kafka.connect.storage.StringConverter\n\
             value.converter.schemas.enable false\nlong=a,\\\n  b\nempty=\n",
        );
        assert_eq!(p["bootstrap.servers"], "127.0.0.1:9092");
        assert_eq!(p["key.converter"], "org.apache.kafka.connect.storage.StringConverter");
        assert_eq!(p["value.converter.schemas.enable"], "false");
        assert_eq!(p["long"], "a,b");
        assert_eq!(p["empty"], "");
    }

    #[test]
    fn worker_config_defaults_and_prefixes() {
        let c = WorkerConfig::default();
        assert_eq!(c.bootstrap_servers, "localhost:9092");
        assert_eq!(c.offset_flush_interval, Duration::from_millis(1000));
        assert_eq!(c.value_converter.class, JSON_CONVERTER);
        let p = parse_properties(
            "value.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter.converter.encoding=UTF-8\n\
             producer.linger.ms=10\nconsumer.fetch.min.bytes=1\noffset.flush.interval.ms=250\ngroup.id=connect-cluster\n",
        );
        let c = WorkerConfig::from_props(&p).unwrap();
        assert_eq!(c.value_converter.config.get("converter.encoding").map(String::as_str), Some("UTF-8"));
        assert_eq!(c.producer.get("linger.ms").map(String::as_str), Some("10"));
        assert_eq!(c.consumer.get("fetch.min.bytes").map(String::as_str), Some("1"));
        assert_eq!(c.offset_flush_interval, Duration::from_millis(250));
        let bad = parse_properties("offset.flush.interval.ms=soon\n");
        assert_eq!(
            WorkerConfig::from_props(&bad).unwrap_err().to_string(),
            "Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG"
        );
    }
}
