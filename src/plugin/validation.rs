//! Connector config validation against the plugin's definition plus the framework keys, in
//! Kafka Connect's `ConfigInfos` shape and with its `ConfigDef` messages.

use std::collections::BTreeMap;

use serde::Serialize;

use super::config_def::{
    check_value, invalid, parse_list, ConfigKey, ConfigType, DefaultValue, Importance, Width, HIDDEN,
};
use super::connector_config::framework_keys;
use super::registry::{self, Plugin, PluginType};

/// `ConfigKeyInfo`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigKeyInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ConfigType,
    pub required: bool,
    pub default_value: Option<String>,
    pub importance: Importance,
    pub documentation: String,
    pub group: Option<String>,
    pub order: i32,
    pub width: Width,
    pub display_name: String,
    pub dependents: Vec<String>,
}

/// `ConfigValueInfo`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigValueInfo {
    pub name: String,
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
    pub visible: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigInfo {
    pub definition: ConfigKeyInfo,
    pub value: ConfigValueInfo,
}

/// `ConfigInfos`, the body of `PUT /connector-plugins/{p}/config/validate`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigInfos {
    pub name: String,
    pub error_count: usize,
    pub groups: Vec<String>,
    pub configs: Vec<ConfigInfo>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ValidateError {
    #[error("Connector config {0} contains no connector type")]
    NoConnectorType(String),
    #[error("Failed to find any class that implements Connector and which name matches {class}, available connectors are: {available}")]
    UnknownClass { class: String, available: String },
}

/// Java's `Map.toString()`: `{k1=v1, k2=v2}` (Kafka Connect puts it in some messages).
pub fn java_map(config: &BTreeMap<String, String>) -> String {
    let body: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", body.join(", "))
}

pub fn key_info(k: &ConfigKey) -> ConfigKeyInfo {
    ConfigKeyInfo {
        name: k.name.to_string(),
        ty: k.ty,
        required: k.default == DefaultValue::Required,
        default_value: match k.default {
            DefaultValue::Value(_) if k.ty == ConfigType::Password => Some(HIDDEN.to_string()),
            DefaultValue::Value(v) => Some(v.to_string()),
            _ => None,
        },
        importance: k.importance,
        documentation: k.documentation.to_string(),
        group: k.group.map(str::to_string),
        order: k.order,
        width: k.width,
        display_name: k.display_name.to_string(),
        dependents: Vec::new(),
    }
}

/// `ConfigValueInfo.value`: the value given, else the default; for a PASSWORD key (given or
/// default) `[hidden]`, as Kafka Connect's `convertToString` of a `Password` shows it.
fn shown_value(k: &ConfigKey, value: Option<&str>) -> Option<String> {
    if k.ty == ConfigType::Password && (value.is_some() || matches!(k.default, DefaultValue::Value(_))) {
        return Some(HIDDEN.to_string());
    }
    match (value, k.default) {
        (Some(v), _) => Some(v.to_string()),
        (None, DefaultValue::Value(d)) => Some(d.to_string()),
        _ => None,
    }
}

fn info(k: &ConfigKey, config: &BTreeMap<String, String>) -> ConfigInfo {
    let value = config.get(k.name).map(String::as_str);
    ConfigInfo {
        definition: key_info(k),
        value: ConfigValueInfo {
            name: k.name.to_string(),
            value: shown_value(k, value),
            recommended_values: Vec::new(),
            errors: check_value(k, value),
            visible: true,
        },
    }
}

fn list(config: &BTreeMap<String, String>, key: &str) -> Vec<String> {
    config.get(key).map(|v| parse_list(v)).unwrap_or_default()
}

/// `transforms.<alias>.type` / `predicates.<alias>.type` keys. No transformation or predicate
/// is compiled in yet, so any class named there is reported as not found.
fn alias_infos(config: &BTreeMap<String, String>, list_key: &str, kind: &str) -> Vec<ConfigInfo> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for alias in list(config, list_key) {
        let name = format!("{list_key}.{alias}.type");
        let mut errors = Vec::new();
        if !seen.insert(alias.clone()) {
            errors.push(invalid(list_key, &config[list_key], &format!("Duplicate alias provided: {alias}")));
        }
        match config.get(&name) {
            None => errors.push(format!("Missing required configuration \"{name}\" which has no default value.")),
            Some(class) => errors.push(invalid(&name, class, &format!("Class {class} could not be found."))),
        }
        let group = format!("{kind}: {alias}");
        out.push(ConfigInfo {
            definition: ConfigKeyInfo {
                name: name.clone(),
                ty: ConfigType::Class,
                required: true,
                default_value: None,
                importance: Importance::High,
                documentation: format!("Class for the '{alias}' {}.", kind.to_lowercase()),
                group: Some(group),
                order: 0,
                width: Width::Long,
                display_name: format!("{kind} type for {alias}"),
                dependents: Vec::new(),
            },
            value: ConfigValueInfo {
                name: name.clone(),
                value: config.get(&name).cloned(),
                recommended_values: Vec::new(),
                errors,
                visible: true,
            },
        });
    }
    out
}

/// The refused client overrides (`producer.override.*`, `consumer.override.*`,
/// `admin.override.*`), one entry per refused key, as Kafka Connect adds the override policy's
/// errors under the prefixed key names. A secret value is shown `[hidden]`.
fn client_override_infos(config: &BTreeMap<String, String>) -> Vec<ConfigInfo> {
    crate::dataplane::kafka::check_overrides(config)
        .into_iter()
        .map(|e| {
            let name = e.key().to_string();
            let secret = crate::dataplane::security::is_secret(&name);
            let value = config.get(&name).map(|v| if secret { HIDDEN.to_string() } else { v.clone() });
            ConfigInfo {
                definition: ConfigKeyInfo {
                    name: name.clone(),
                    ty: if secret { ConfigType::Password } else { ConfigType::String },
                    required: false,
                    default_value: None,
                    importance: Importance::Low,
                    documentation: String::new(),
                    group: None,
                    order: -1,
                    width: Width::None,
                    display_name: name.clone(),
                    dependents: Vec::new(),
                },
                value: ConfigValueInfo {
                    name,
                    value,
                    recommended_values: Vec::new(),
                    errors: vec![e.to_string()],
                    visible: true,
                },
            }
        })
        .collect()
}

/// Validate a connector config. Fails (as a 400) only when it names no usable connector class;
/// every other problem is reported inside the `ConfigInfos`.
pub fn validate(config: &BTreeMap<String, String>) -> Result<(ConfigInfos, &'static Plugin), ValidateError> {
    let class = match config.get("connector.class") {
        Some(c) if !c.trim().is_empty() => c,
        _ => return Err(ValidateError::NoConnectorType(java_map(config))),
    };
    let plugin = registry::connector(class).ok_or_else(|| ValidateError::UnknownClass {
        class: class.clone(),
        available: registry::PLUGINS
            .iter()
            .filter(|p| p.ty.is_connector())
            .map(|p| p.class)
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    let mut configs: Vec<ConfigInfo> = framework_keys(plugin.ty).into_iter().map(|k| info(k, config)).collect();
    configs.extend(alias_infos(config, "transforms", "Transforms"));
    configs.extend(alias_infos(config, "predicates", "Predicates"));
    configs.extend(plugin.config.iter().map(|k| info(k, config)));
    configs.extend(client_override_infos(config));

    if plugin.ty == PluginType::Sink {
        let topics = !list(config, "topics").is_empty();
        let regex = config.get("topics.regex").map(|r| !r.trim().is_empty()).unwrap_or(false);
        let message = match (topics, regex) {
            (true, true) => Some("topics and topics.regex are mutually exclusive options, but both are set."),
            (false, false) => Some("Must configure one of topics or topics.regex"),
            _ => None,
        };
        if let Some(message) = message {
            for c in configs.iter_mut().filter(|c| c.definition.name == "topics" || c.definition.name == "topics.regex")
            {
                c.value.errors.push(message.to_string());
            }
        }
    }

    let mut groups: Vec<String> = Vec::new();
    for c in &configs {
        if let Some(g) = &c.definition.group {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
    }
    let error_count = configs.iter().map(|c| c.value.errors.len()).sum();
    Ok((ConfigInfos { name: class.clone(), error_count, groups, configs }, plugin))
}

/// Kafka Connect's 400 message for a create/update whose config has errors.
pub fn invalid_config_message(infos: &ConfigInfos) -> String {
    let mut out =
        format!("Connector configuration is invalid and contains the following {} error(s):", infos.error_count);
    for c in &infos.configs {
        for e in &c.value.errors {
            out.push('\n');
            out.push_str(e);
        }
    }
    out.push_str("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
    out
}

/// Validate a config for create/update: `Err(message)` when it must be refused with a 400.
pub fn check_connector_config(config: &BTreeMap<String, String>) -> Result<&'static Plugin, String> {
    let (infos, plugin) = validate(config).map_err(|e| e.to_string())?;
    if infos.error_count > 0 {
        return Err(invalid_config_message(&infos));
    }
    Ok(plugin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::config_def::Check;

    fn cfg(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn file_source_template_validates_with_exactly_kafka_connects_key_set() {
        let (infos, _) = validate(&cfg(&[
            ("name", "local-file-source"),
            ("connector.class", "org.apache.kafka.connect.file.FileStreamSourceConnector"),
            ("tasks.max", "1"),
            ("file", "/tmp/in"),
            ("topic", "t"),
        ]))
        .unwrap();
        assert_eq!(infos.error_count, 0, "{infos:#?}");
        assert_eq!(infos.name, "org.apache.kafka.connect.file.FileStreamSourceConnector");
        let mut names: Vec<&str> = infos.configs.iter().map(|c| c.definition.name.as_str()).collect();
        names.sort();
        let mut expected = vec![
            "name",
            "connector.class",
            "tasks.max",
            "key.converter",
            "value.converter",
            "header.converter",
            "batch.size",
            "topic",
            "file",
            "transforms",
            "config.action.reload",
            "errors.retry.timeout",
            "errors.retry.delay.max.ms",
            "errors.tolerance",
            "errors.log.enable",
            "errors.log.include.messages",
            "predicates",
            "topic.creation.groups",
            "exactly.once.support",
            "transaction.boundary",
            "transaction.boundary.interval.ms",
            "offsets.storage.topic",
            "tasks.max.enforce",
        ];
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn file_sink_template_validates_with_exactly_kafka_connects_key_set() {
        let (infos, _) = validate(&cfg(&[
            ("name", "local-file-sink"),
            ("connector.class", "FileStreamSink"),
            ("topics", "t"),
            ("file", "/tmp/out"),
        ]))
        .unwrap();
        assert_eq!(infos.error_count, 0, "{infos:#?}");
        let mut names: Vec<&str> = infos.configs.iter().map(|c| c.definition.name.as_str()).collect();
        names.sort();
        let mut expected = vec![
            "name",
            "connector.class",
            "tasks.max",
            "key.converter",
            "value.converter",
            "header.converter",
            "topics",
            "file",
            "transforms",
            "topics.regex",
            "config.action.reload",
            "errors.retry.timeout",
            "errors.retry.delay.max.ms",
            "errors.tolerance",
            "errors.log.enable",
            "errors.log.include.messages",
            "errors.deadletterqueue.topic.name",
            "errors.deadletterqueue.topic.replication.factor",
            "errors.deadletterqueue.context.headers.enable",
            "predicates",
            "tasks.max.enforce",
        ];
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn errors_use_kafka_connects_messages() {
        let (infos, _) = validate(&cfg(&[
            ("connector.class", "FileStreamSink"),
            ("tasks.max", "0"),
            ("errors.tolerance", "some"),
            ("key.converter", "com.example.Nope"),
            ("errors.log.enable", "yes"),
        ]))
        .unwrap();
        let errors: Vec<&str> = infos.configs.iter().flat_map(|c| c.value.errors.iter().map(String::as_str)).collect();
        assert!(errors.contains(&"Missing required configuration \"name\" which has no default value."), "{errors:?}");
        assert!(errors.contains(&"Invalid value 0 for configuration tasks.max: Value must be at least 1"));
        let (huge, _) = validate(&cfg(&[
            ("connector.class", "Datagen"),
            ("topic", "t"),
            ("tasks.max", "2000000000"),
            ("record.size", "1000000000"),
            ("batch.size", "1000000"),
        ]))
        .unwrap();
        let huge: Vec<&str> = huge.configs.iter().flat_map(|c| c.value.errors.iter().map(String::as_str)).collect();
        for e in [
            "Invalid value 2000000000 for configuration tasks.max: Value must be no more than 10000",
            "Invalid value 1000000000 for configuration record.size: Value must be no more than 16777216",
            "Invalid value 1000000 for configuration batch.size: Value must be no more than 100000",
        ] {
            assert!(huge.contains(&e), "{e} not in {huge:?}");
        }
        assert!(
            errors.contains(&"Invalid value some for configuration errors.tolerance: String must be one of: none, all")
        );
        assert!(errors.contains(&"Invalid value com.example.Nope for configuration key.converter: Class com.example.Nope could not be found."));
        assert!(errors.contains(
            &"Invalid value yes for configuration errors.log.enable: Expected value to be either true or false"
        ));
        assert!(errors.contains(&"Must configure one of topics or topics.regex"));
        assert_eq!(infos.error_count, errors.len());
        let msg = invalid_config_message(&infos);
        assert!(msg.starts_with(&format!(
            "Connector configuration is invalid and contains the following {} error(s):\n",
            errors.len()
        )));
        assert!(msg.ends_with("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"));
    }

    #[test]
    fn placeholder_values_are_not_type_checked_on_the_leader() {
        let config = cfg(&[
            ("name", "p"),
            ("connector.class", "Datagen"),
            ("topic", "t"),
            ("tasks.max", "${env:TASKS}"),
            ("batch.size", "${file:/etc/connect/datagen.properties:batch}"),
            ("errors.log.enable", "${env:LOG_ERRORS}"),
            ("errors.tolerance", "${env:TOLERANCE}"),
        ]);
        let (infos, _) = validate(&config).unwrap();
        assert_eq!(infos.error_count, 0, "{infos:#?}");
        // The placeholder is shown as given (only PASSWORD keys are hidden).
        let tasks = infos.configs.iter().find(|c| c.definition.name == "tasks.max").unwrap();
        assert_eq!(tasks.value.value.as_deref(), Some("${env:TASKS}"));
        assert!(check_connector_config(&config).is_ok());
        // Literal text that merely looks similar is still checked.
        let (infos, _) =
            validate(&cfg(&[("name", "p"), ("connector.class", "Datagen"), ("topic", "t"), ("tasks.max", "${TASKS}")]))
                .unwrap();
        assert_eq!(infos.error_count, 1, "{infos:#?}");
    }

    #[test]
    fn password_values_and_defaults_are_hidden() {
        let key = |default, check| ConfigKey {
            name: "db.password",
            ty: ConfigType::Password,
            default,
            check,
            importance: Importance::High,
            documentation: "",
            group: None,
            order: 1,
            width: Width::Medium,
            display_name: "Password",
        };
        let given = info(&key(DefaultValue::Required, Check::None), &cfg(&[("db.password", "hunter2")]));
        assert_eq!(given.value.value.as_deref(), Some(HIDDEN));
        let placeholder =
            info(&key(DefaultValue::Required, Check::None), &cfg(&[("db.password", "${file:/s.properties:pw}")]));
        assert_eq!(placeholder.value.value.as_deref(), Some(HIDDEN));
        let defaulted = info(&key(DefaultValue::Value("changeme"), Check::None), &cfg(&[]));
        assert_eq!(defaulted.value.value.as_deref(), Some(HIDDEN));
        assert_eq!(defaulted.definition.default_value.as_deref(), Some(HIDDEN));
        let unset = info(&key(DefaultValue::Null, Check::None), &cfg(&[]));
        assert_eq!(unset.value.value, None);
        assert_eq!(unset.definition.default_value, None);
        // Error messages do not show it either.
        let bad = info(&key(DefaultValue::Required, Check::OneOf(&["a"])), &cfg(&[("db.password", "hunter2")]));
        assert_eq!(
            bad.value.errors,
            ["Invalid value [hidden] for configuration db.password: String must be one of: a"]
        );
        let json = serde_json::to_string(&bad).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        // Other types show their value.
        let plain = info(
            &ConfigKey { ty: ConfigType::String, ..key(DefaultValue::Required, Check::None) },
            &cfg(&[("db.password", "x")]),
        );
        assert_eq!(plain.value.value.as_deref(), Some("x"));
    }

    #[test]
    fn client_overrides_that_cannot_be_honoured_are_errors() {
        let (infos, _) = validate(&cfg(&[
            ("name", "s"),
            ("connector.class", "FileStreamSink"),
            ("topics", "t"),
            ("consumer.override.security.protocol", "SASL_SSL"),
            ("consumer.override.sasl.mechanism", "GSSAPI"),
            (
                "producer.override.sasl.jaas.config",
                "com.sun.security.auth.module.Krb5LoginModule required keyTab=\"/secret.keytab\";",
            ),
        ]))
        .unwrap();
        let errors: Vec<&str> = infos.configs.iter().flat_map(|c| c.value.errors.iter().map(String::as_str)).collect();
        assert_eq!(infos.error_count, 2, "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with(
            "Invalid value GSSAPI for configuration consumer.override.sasl.mechanism: this build supports"
        )));
        assert!(errors.iter().any(|e| e.starts_with(
            "Invalid value [hidden] for configuration producer.override.sasl.jaas.config: the login module"
        )));
        assert!(!errors.iter().any(|e| e.contains("secret.keytab")), "{errors:?}");
        let jaas = infos.configs.iter().find(|c| c.definition.name == "producer.override.sasl.jaas.config").unwrap();
        assert_eq!(jaas.value.value.as_deref(), Some(HIDDEN));
        assert!(check_connector_config(&cfg(&[
            ("name", "s"),
            ("connector.class", "FileStreamSink"),
            ("topics", "t"),
            ("consumer.override.security.protocol", "SSL"),
        ]))
        .is_ok());
    }

    #[test]
    fn missing_or_unknown_class_is_a_bad_request() {
        let e = validate(&cfg(&[("name", "x")])).unwrap_err();
        assert_eq!(e.to_string(), "Connector config {name=x} contains no connector type");
        let e = validate(&cfg(&[("connector.class", "com.example.Missing")])).unwrap_err();
        assert!(e.to_string().starts_with(
            "Failed to find any class that implements Connector and which name matches com.example.Missing"
        ));
    }
}
