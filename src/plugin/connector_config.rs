//! The keys every connector has, as Kafka Connect declares them: `ConnectorConfig`, plus
//! `SourceConnectorConfig` or `SinkConnectorConfig`.

use super::config_def::{key, Check, ConfigKey, ConfigType, DefaultValue, Importance};
use super::registry::PluginType;

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
    key("tasks.max", T::Int, D::Value("1"), C::Between(1, super::api::MAX_TASKS as i64), I::High, COMMON, 3, "Tasks max",
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

/// The framework keys of a connector of type `ty` (connector keys, then source or sink keys).
pub fn framework_keys(ty: PluginType) -> Vec<&'static ConfigKey> {
    let extra = match ty {
        PluginType::Source => SOURCE_KEYS,
        PluginType::Sink => SINK_KEYS,
        _ => &[],
    };
    CONNECTOR_KEYS.iter().chain(extra.iter()).collect()
}
