//! The one explicit plugin registry: every connector, converter, transformation and predicate
//! raftconnect knows, under Kafka Connect's Java class names and short aliases, with its config
//! definition (Kafka Connect's `ConfigDef`: name, type, default, importance, docs, group…).
//!
//! Running connectors is the worker's job; this module only describes them.

use serde::Serialize;

/// Kafka Connect's plugin types, as `GET /connector-plugins` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginType {
    Source,
    Sink,
    Converter,
    HeaderConverter,
    Transformation,
    Predicate,
}

impl PluginType {
    pub fn is_connector(self) -> bool {
        matches!(self, PluginType::Source | PluginType::Sink)
    }
}

/// `ConfigDef.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Class,
    Password,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Importance {
    High,
    Medium,
    Low,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Width {
    None,
    Short,
    Medium,
    Long,
}

/// A key's default: none (the key is required), null, or a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultValue {
    Required,
    Null,
    Value(&'static str),
}

/// Value checks beyond the type, with Kafka Connect's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    None,
    AtLeast(i64),
    /// Kafka's `ConfigDef.Range.between`.
    Between(i64, i64),
    OneOf(&'static [&'static str]),
    NonEmpty,
    /// Non-empty and free of ISO control characters (connector names).
    NonEmptyNoControl,
    /// A converter class name, resolved through the registry.
    Converter,
    HeaderConverter,
}

#[derive(Clone, Copy, Debug)]
pub struct ConfigKey {
    pub name: &'static str,
    pub ty: ConfigType,
    pub default: DefaultValue,
    pub check: Check,
    pub importance: Importance,
    pub documentation: &'static str,
    pub group: Option<&'static str>,
    pub order: i32,
    pub width: Width,
    pub display_name: &'static str,
}

/// Shorthand for the tables below.
#[allow(clippy::too_many_arguments)]
const fn key(
    name: &'static str,
    ty: ConfigType,
    default: DefaultValue,
    check: Check,
    importance: Importance,
    group: Option<&'static str>,
    order: i32,
    display_name: &'static str,
    documentation: &'static str,
) -> ConfigKey {
    let width = match ty {
        ConfigType::Int | ConfigType::Short | ConfigType::Long | ConfigType::Boolean => Width::Short,
        ConfigType::List | ConfigType::Class => Width::Long,
        _ => Width::Medium,
    };
    ConfigKey { name, ty, default, check, importance, documentation, group, order, width, display_name }
}

use Check as C;
use ConfigType as T;
use DefaultValue as D;
use Importance as I;

const COMMON: Option<&str> = Some("Common");
const TRANSFORMS: Option<&str> = Some("Transforms");
const PREDICATES: Option<&str> = Some("Predicates");
const ERRORS: Option<&str> = Some("Error Handling");

/// `ConnectorConfig`: keys every connector has.
pub const CONNECTOR_KEYS: &[ConfigKey] = &[
    key("name", T::String, D::Required, C::NonEmptyNoControl, I::High, COMMON, 1, "Connector name",
        "Globally unique name to use for this connector."),
    key("connector.class", T::String, D::Required, C::None, I::High, COMMON, 2, "Connector class",
        "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name, or use \"FileStreamSink\" or \"FileStreamSinkConnector\" to make the configuration a bit shorter"),
    key("tasks.max", T::Int, D::Value("1"), C::Between(1, crate::connectors::MAX_TASKS as i64), I::High, COMMON, 3, "Tasks max",
        "Maximum number of tasks to use for this connector."),
    key("tasks.max.enforce", T::Boolean, D::Value("true"), C::None, I::Low, COMMON, 4, "Enforce tasks max",
        "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector."),
    key("key.converter", T::Class, D::Null, C::Converter, I::Low, COMMON, 5, "Key converter class",
        "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the keys in messages written to or read from Kafka."),
    key("value.converter", T::Class, D::Null, C::Converter, I::Low, COMMON, 6, "Value converter class",
        "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the values in messages written to or read from Kafka."),
    key("header.converter", T::Class, D::Null, C::HeaderConverter, I::Low, COMMON, 7, "Header converter class",
        "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."),
    key("config.action.reload", T::String, D::Value("restart"), C::OneOf(&["none", "restart"]), I::Low, COMMON, 8,
        "Reload Action", "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties."),
    key("transforms", T::List, D::Value(""), C::None, I::Low, TRANSFORMS, 0, "Transforms",
        "Aliases for the transformations to be applied to records."),
    key("predicates", T::List, D::Value(""), C::None, I::Low, PREDICATES, 0, "Predicates",
        "Aliases for the predicates used by transformations."),
    key("errors.retry.timeout", T::Long, D::Value("0"), C::None, I::Medium, ERRORS, 1, "Retry Timeout for Errors",
        "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries."),
    key("errors.retry.delay.max.ms", T::Long, D::Value("60000"), C::None, I::Medium, ERRORS, 2,
        "Maximum Delay Between Retries for Errors", "The maximum duration in milliseconds between consecutive retry attempts."),
    key("errors.tolerance", T::String, D::Value("none"), C::OneOf(&["none", "all"]), I::Medium, ERRORS, 3,
        "Error Tolerance", "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records."),
    key("errors.log.enable", T::Boolean, D::Value("false"), C::None, I::Medium, ERRORS, 4, "Log Errors",
        "If true, write each error and the details of the failed operation and problematic record to the Connect application log."),
    key("errors.log.include.messages", T::Boolean, D::Value("false"), C::None, I::Medium, ERRORS, 5,
        "Log Error Details", "Whether to include in the log the Connect record that resulted in a failure."),
];

/// `SourceConnectorConfig` additions.
pub const SOURCE_KEYS: &[ConfigKey] = &[
    key("topic.creation.groups", T::List, D::Value(""), C::None, I::Low, Some("Topic Creation"), 1,
        "Topic Creation Groups", "Groups of configurations for topics created by source connectors"),
    key("exactly.once.support", T::String, D::Value("requested"), C::OneOf(&["requested", "required"]), I::Medium,
        Some("Exactly Once Support"), 1, "Exactly once support",
        "Permitted values are requested, required. If set to \"required\", forces a preflight check for the connector to ensure that it can provide exactly-once semantics with the given configuration."),
    key("transaction.boundary", T::String, D::Value("poll"), C::OneOf(&["poll", "interval", "connector"]), I::Medium,
        Some("Exactly Once Support"), 2, "Transaction Boundary",
        "Permitted values are: poll, interval, connector. If set to 'poll', a new producer transaction will be started and committed for every batch of records that each task from this connector provides to Connect."),
    key("transaction.boundary.interval.ms", T::Long, D::Null, C::None, I::Low, Some("Exactly Once Support"), 3,
        "Transaction boundary interval", "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by connector tasks."),
    key("offsets.storage.topic", T::String, D::Null, C::None, I::Low, Some("offsets.topic"), 1,
        "Offsets topic", "The name of a separate offsets topic to use for this connector."),
];

/// `SinkConnectorConfig` additions.
pub const SINK_KEYS: &[ConfigKey] = &[
    key("topics", T::List, D::Value(""), C::None, I::High, COMMON, 4, "Topics",
        "List of topics to consume, separated by commas"),
    key("topics.regex", T::String, D::Value(""), C::None, I::High, COMMON, 4, "Topics regex",
        "Regular expression giving topics to consume. Under the hood, the regex is compiled to a java.util.regex.Pattern. Only one of topics or topics.regex should be specified."),
    key("errors.deadletterqueue.topic.name", T::String, D::Value(""), C::None, I::Medium, ERRORS, 6,
        "Dead Letter Queue Topic Name", "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ."),
    key("errors.deadletterqueue.topic.replication.factor", T::Short, D::Value("3"), C::None, I::Medium, ERRORS, 7,
        "Dead Letter Queue Topic Replication Factor", "Replication factor used to create the dead letter queue topic when it doesn't already exist."),
    key("errors.deadletterqueue.context.headers.enable", T::Boolean, D::Value("false"), C::None, I::Medium, ERRORS, 8,
        "Enable Error Context Headers", "If true, add headers containing error context to the messages written to the dead letter queue."),
];

const FILE_SOURCE_KEYS: &[ConfigKey] = &[
    key(
        "file",
        T::String,
        D::Null,
        C::None,
        I::High,
        None,
        -1,
        "file",
        "Source filename. If not specified, the standard input will be used",
    ),
    key("topic", T::List, D::Required, C::NonEmpty, I::High, None, -1, "topic", "The topic to publish data to"),
    key(
        "batch.size",
        T::Int,
        D::Value("2000"),
        C::None,
        I::Low,
        None,
        -1,
        "batch.size",
        "The maximum number of records the source task can read from the file each time it is polled",
    ),
];

const FILE_SINK_KEYS: &[ConfigKey] = &[key(
    "file",
    T::String,
    D::Null,
    C::None,
    I::High,
    None,
    -1,
    "file",
    "Destination filename. If not specified, the standard output will be used",
)];

const OUTPUT_FILE_KEY: ConfigKey = key(
    "output.file",
    T::String,
    D::Null,
    C::None,
    I::Low,
    None,
    -1,
    "output.file",
    "(raftconnect) Append the JSON lines to this file instead of printing them to standard output",
);

const VERIFIABLE_SOURCE_KEYS: &[ConfigKey] = &[
    key("topic", T::String, D::Required, C::NonEmpty, I::High, None, -1, "topic", "The topic to publish data to"),
    key(
        "throughput",
        T::Long,
        D::Value("-1"),
        C::None,
        I::High,
        None,
        -1,
        "throughput",
        "Records per second per task (negative: unthrottled)",
    ),
    key(
        "complete.record.data",
        T::Boolean,
        D::Value("false"),
        C::None,
        I::Low,
        None,
        -1,
        "complete.record.data",
        "Send the whole record data (a struct) instead of the seqno alone",
    ),
    OUTPUT_FILE_KEY,
];

const VERIFIABLE_SINK_KEYS: &[ConfigKey] = &[OUTPUT_FILE_KEY];

const DATAGEN_KEYS: &[ConfigKey] = &[
    key("topic", T::String, D::Required, C::NonEmpty, I::High, None, -1, "topic", "The topic to publish data to"),
    key(
        "rate",
        T::Long,
        D::Value("0"),
        C::AtLeast(0),
        I::High,
        None,
        -1,
        "rate",
        "Records per second per task; 0 produces as fast as the producer takes them",
    ),
    key(
        "record.size",
        T::Int,
        D::Value("100"),
        C::Between(0, crate::connectors::datagen::MAX_RECORD_SIZE as i64),
        I::Medium,
        None,
        -1,
        "record.size",
        "Value size in bytes",
    ),
    key(
        "key.space",
        T::Long,
        D::Value("0"),
        C::AtLeast(0),
        I::Medium,
        None,
        -1,
        "key.space",
        "Number of distinct keys; 0 sends records without a key",
    ),
    key(
        "max.records",
        T::Long,
        D::Value("-1"),
        C::None,
        I::Medium,
        None,
        -1,
        "max.records",
        "Records per task before it goes idle; -1 for no limit",
    ),
    key(
        "batch.size",
        T::Int,
        D::Value("10000"),
        C::Between(1, crate::connectors::datagen::MAX_BATCH as i64),
        I::Low,
        None,
        -1,
        "batch.size",
        "Records per poll (fewer when they would exceed 16 MiB of values)",
    ),
];

const MOCK_KEYS: &[ConfigKey] = &[
    key(
        "mock_mode",
        T::String,
        D::Value(""),
        C::OneOf(&["", "none", "connector-failure", "task-failure", "connector-block"]),
        I::High,
        None,
        -1,
        "mock_mode",
        "connector-failure: the connector fails after delay_ms; task-failure: its task fails after delay_ms",
    ),
    key(
        "delay_ms",
        T::Long,
        D::Value("15000"),
        C::None,
        I::High,
        None,
        -1,
        "delay_ms",
        "Milliseconds before the failure of mock_mode",
    ),
];

const JSON_CONVERTER_KEYS: &[ConfigKey] = &[
    key(
        "schemas.enable",
        T::Boolean,
        D::Value("true"),
        C::None,
        I::High,
        Some("Schemas"),
        1,
        "Enable Schemas",
        "Include schemas within each of the serialized values and keys.",
    ),
    key(
        "schemas.cache.size",
        T::Int,
        D::Value("1000"),
        C::None,
        I::High,
        Some("Schemas"),
        2,
        "Schema Cache Size",
        "The maximum number of schemas that can be cached in this converter instance.",
    ),
    key(
        "replace.null.with.default",
        T::Boolean,
        D::Value("true"),
        C::None,
        I::Low,
        Some("Schemas"),
        3,
        "Replace null with default",
        "Whether to replace fields that have a default value and that are null to the default value.",
    ),
];

const STRING_CONVERTER_KEYS: &[ConfigKey] = &[key(
    "converter.encoding",
    T::String,
    D::Value("UTF-8"),
    C::None,
    I::High,
    Some("Converter"),
    1,
    "Encoding",
    "The name of the Java character set to use for encoding strings as byte arrays.",
)];

/// How a connector plugin runs: its instance and task factories, and its task class name
/// (added to every task config as `task.class`, as Kafka Connect does).
pub struct Runtime {
    pub connector: crate::connectors::ConnectorFactory,
    pub task: crate::connectors::TaskFactory,
    pub task_class: &'static str,
    /// What its tasks run as (the factory's `Task` variant).
    pub kind: crate::connectors::TaskKind,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("task_class", &self.task_class).finish()
    }
}

/// One plugin.
#[derive(Debug)]
pub struct Plugin {
    pub class: &'static str,
    pub aliases: &'static [&'static str],
    pub ty: PluginType,
    pub version: &'static str,
    pub config: &'static [ConfigKey],
    /// For connectors: how to run them.
    pub runtime: Option<Runtime>,
}

const KAFKA_VERSION: &str = "3.9.0";

/// Every plugin, in the order `GET /connector-plugins` lists them.
pub const PLUGINS: &[Plugin] = &[
    Plugin {
        class: "org.apache.kafka.connect.file.FileStreamSinkConnector",
        aliases: &["FileStreamSink", "FileStreamSinkConnector"],
        ty: PluginType::Sink,
        version: KAFKA_VERSION,
        config: FILE_SINK_KEYS,
        runtime: Some(Runtime {
            connector: crate::connectors::file::sink,
            task: crate::connectors::file::sink_task,
            task_class: "org.apache.kafka.connect.file.FileStreamSinkTask",
            kind: crate::connectors::TaskKind::Sink,
        }),
    },
    Plugin {
        class: "org.apache.kafka.connect.file.FileStreamSourceConnector",
        aliases: &["FileStreamSource", "FileStreamSourceConnector"],
        ty: PluginType::Source,
        version: KAFKA_VERSION,
        config: FILE_SOURCE_KEYS,
        runtime: Some(Runtime {
            connector: crate::connectors::file::source,
            task: crate::connectors::file::source_task,
            task_class: "org.apache.kafka.connect.file.FileStreamSourceTask",
            kind: crate::connectors::TaskKind::Source,
        }),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.MockSourceConnector",
        aliases: &["MockSource", "MockSourceConnector"],
        ty: PluginType::Source,
        version: KAFKA_VERSION,
        config: MOCK_KEYS,
        runtime: Some(Runtime {
            connector: crate::connectors::mock::connector,
            task: crate::connectors::mock::task,
            task_class: "org.apache.kafka.connect.tools.MockSourceTask",
            kind: crate::connectors::TaskKind::Control,
        }),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.MockSinkConnector",
        aliases: &["MockSink", "MockSinkConnector"],
        ty: PluginType::Sink,
        version: KAFKA_VERSION,
        config: MOCK_KEYS,
        runtime: Some(Runtime {
            connector: crate::connectors::mock::connector,
            task: crate::connectors::mock::task,
            task_class: "org.apache.kafka.connect.tools.MockSinkTask",
            kind: crate::connectors::TaskKind::Control,
        }),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.VerifiableSinkConnector",
        aliases: &["VerifiableSink", "VerifiableSinkConnector"],
        ty: PluginType::Sink,
        version: KAFKA_VERSION,
        config: VERIFIABLE_SINK_KEYS,
        runtime: Some(Runtime {
            connector: crate::connectors::verifiable::connector,
            task: crate::connectors::verifiable::sink_task,
            task_class: "org.apache.kafka.connect.tools.VerifiableSinkTask",
            kind: crate::connectors::TaskKind::Sink,
        }),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        aliases: &["VerifiableSource", "VerifiableSourceConnector"],
        ty: PluginType::Source,
        version: KAFKA_VERSION,
        config: VERIFIABLE_SOURCE_KEYS,
        runtime: Some(Runtime {
            connector: crate::connectors::verifiable::connector,
            task: crate::connectors::verifiable::source_task,
            task_class: "org.apache.kafka.connect.tools.VerifiableSourceTask",
            kind: crate::connectors::TaskKind::Source,
        }),
    },
    Plugin {
        class: "org.raftconnect.tools.DatagenSourceConnector",
        aliases: &["Datagen", "DatagenSource", "DatagenSourceConnector"],
        ty: PluginType::Source,
        version: env!("CARGO_PKG_VERSION"),
        config: DATAGEN_KEYS,
        runtime: Some(Runtime {
            connector: crate::connectors::datagen::connector,
            task: crate::connectors::datagen::task,
            task_class: "org.raftconnect.tools.DatagenSourceTask",
            kind: crate::connectors::TaskKind::Source,
        }),
    },
    Plugin {
        class: "org.raftconnect.tools.IdleSourceConnector",
        aliases: &["Idle", "IdleSource", "IdleSourceConnector"],
        ty: PluginType::Source,
        version: env!("CARGO_PKG_VERSION"),
        config: &[],
        runtime: Some(Runtime {
            connector: crate::connectors::idle::connector,
            task: crate::connectors::idle::task,
            task_class: "org.raftconnect.tools.IdleSourceTask",
            kind: crate::connectors::TaskKind::Control,
        }),
    },
    Plugin {
        class: "org.apache.kafka.connect.json.JsonConverter",
        aliases: &["JsonConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: JSON_CONVERTER_KEYS,
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.storage.StringConverter",
        aliases: &["StringConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: STRING_CONVERTER_KEYS,
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.converters.ByteArrayConverter",
        aliases: &["ByteArrayConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: &[],
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.converters.BooleanConverter",
        aliases: &["BooleanConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: &[],
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.converters.DoubleConverter",
        aliases: &["DoubleConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: &[],
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.converters.FloatConverter",
        aliases: &["FloatConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: &[],
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.converters.IntegerConverter",
        aliases: &["IntegerConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: &[],
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.converters.LongConverter",
        aliases: &["LongConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: &[],
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.converters.ShortConverter",
        aliases: &["ShortConverter"],
        ty: PluginType::Converter,
        version: KAFKA_VERSION,
        config: &[],
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        aliases: &["SimpleHeaderConverter"],
        ty: PluginType::HeaderConverter,
        version: KAFKA_VERSION,
        config: &[],
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.json.JsonConverter",
        aliases: &["JsonConverter"],
        ty: PluginType::HeaderConverter,
        version: KAFKA_VERSION,
        config: JSON_CONVERTER_KEYS,
        runtime: None,
    },
    Plugin {
        class: "org.apache.kafka.connect.storage.StringConverter",
        aliases: &["StringConverter"],
        ty: PluginType::HeaderConverter,
        version: KAFKA_VERSION,
        config: STRING_CONVERTER_KEYS,
        runtime: None,
    },
];

/// Find a plugin by class name or alias, among those `accept` allows.
pub fn find(name: &str, accept: impl Fn(PluginType) -> bool) -> Option<&'static Plugin> {
    // Looked up for every connector in planner, worker and sink rounds: a map, not a scan.
    static BY_NAME: std::sync::OnceLock<std::collections::HashMap<&'static str, Vec<&'static Plugin>>> =
        std::sync::OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        let mut m: std::collections::HashMap<&'static str, Vec<&'static Plugin>> = std::collections::HashMap::new();
        for p in PLUGINS {
            for n in std::iter::once(&p.class).chain(p.aliases.iter()) {
                m.entry(*n).or_default().push(p);
            }
        }
        m
    });
    by_name.get(name.trim())?.iter().copied().find(|p| accept(p.ty))
}

pub fn connector(name: &str) -> Option<&'static Plugin> {
    find(name, PluginType::is_connector)
}

/// A plugin for `GET /connector-plugins/{plugin}/config`: a class name or alias, also with the
/// `Connector` suffix stripped, as Kafka Connect matches it.
pub fn any(name: &str) -> Option<&'static Plugin> {
    find(name, |_| true)
}

/// Kafka Connect's "type" of a connector config: `source`, `sink` or `unknown`.
pub fn connector_type(config: &std::collections::BTreeMap<String, String>) -> &'static str {
    match config.get("connector.class").and_then(|c| connector(c)).map(|p| p.ty) {
        Some(PluginType::Source) => "source",
        Some(PluginType::Sink) => "sink",
        _ => "unknown",
    }
}

/// The framework keys of a connector of type `ty` (connector keys, then source or sink keys).
pub fn framework_keys(ty: PluginType) -> Vec<&'static ConfigKey> {
    let extra = match ty {
        PluginType::Source => SOURCE_KEYS,
        PluginType::Sink => SINK_KEYS,
        _ => &[],
    };
    CONNECTOR_KEYS.iter().chain(extra.iter()).collect()
}

#[cfg(test)]
mod runtime_agreement {
    use super::*;

    /// Every converter the registry offers (and validation accepts) can be built at run time.
    #[test]
    fn every_registered_converter_can_be_built() {
        let none = std::collections::BTreeMap::new();
        for p in PLUGINS {
            for name in std::iter::once(p.class).chain(p.aliases.iter().copied()) {
                match p.ty {
                    PluginType::Converter => {
                        assert!(crate::data::converter(name, &none, false).is_ok(), "converter {name}")
                    }
                    PluginType::HeaderConverter => {
                        assert!(crate::data::header_converter(name, &none).is_ok(), "header converter {name}")
                    }
                    _ => {}
                }
            }
        }
    }
}
