//! The one explicit plugin registry: every connector, converter, transformation and predicate
//! raftconnect knows, one line each in [`PLUGINS`]. Each plugin is described where it is
//! implemented (its module's `Plugin` constant: Java class name, aliases, config keys,
//! factory); this module only lists them and finds them by name.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Serialize;

use super::api::{ConnectorFactory, TaskFactory, TaskKind};
use super::config_def::ConfigKey;
use crate::convert::{Converter, DataError, HeaderConverter};
use crate::{connectors, convert};

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

/// The version Kafka Connect's own plugins report.
pub const KAFKA_VERSION: &str = "3.9.0";
/// The version raftconnect's own plugins report.
pub const OWN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Builds a converter from its sub-configs (prefix stripped) and whether it converts keys.
pub type ConverterFactory = fn(&BTreeMap<String, String>, bool) -> Result<Box<dyn Converter>, DataError>;
/// Builds a header converter from its sub-configs (prefix stripped).
pub type HeaderConverterFactory = fn(&BTreeMap<String, String>) -> Result<Box<dyn HeaderConverter>, DataError>;

/// How a connector plugin runs: its instance and task factories, and its task class name
/// (added to every task config as `task.class`, as Kafka Connect does).
#[derive(Clone, Copy)]
pub struct ConnectorRuntime {
    pub connector: ConnectorFactory,
    pub task: TaskFactory,
    pub task_class: &'static str,
    /// What its tasks run as (the factory's `Task` variant).
    pub kind: TaskKind,
}

/// How an instance of a plugin is made.
#[derive(Clone, Copy)]
pub enum Factory {
    Connector(ConnectorRuntime),
    Converter(ConverterFactory),
    HeaderConverter(HeaderConverterFactory),
}

/// One plugin.
pub struct Plugin {
    pub class: &'static str,
    /// Names it is also found by, besides the class name (Kafka Connect's aliases: the simple
    /// class name, and for connectors that name without its `Connector` suffix).
    pub aliases: &'static [&'static str],
    pub ty: PluginType,
    pub version: &'static str,
    /// Its own config keys (a connector's framework keys are in `connector_config`).
    pub config: &'static [ConfigKey],
    pub factory: Factory,
}

impl Plugin {
    /// How a connector runs (`None` for other plugins).
    pub fn connector_runtime(&self) -> Option<&ConnectorRuntime> {
        match &self.factory {
            Factory::Connector(rt) => Some(rt),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("class", &self.class).field("ty", &self.ty).finish()
    }
}

/// Every plugin, in the order `GET /connector-plugins` lists them.
pub const PLUGINS: &[&Plugin] = &[
    &connectors::file::SINK,
    &connectors::file::SOURCE,
    &connectors::mock::SOURCE,
    &connectors::mock::SINK,
    &connectors::verifiable::SINK,
    &connectors::verifiable::SOURCE,
    &connectors::datagen::SOURCE,
    &connectors::idle::SOURCE,
    &convert::json::CONVERTER,
    &convert::string::CONVERTER,
    &convert::bytes::CONVERTER,
    &convert::boolean::CONVERTER,
    &convert::number::DOUBLE,
    &convert::number::FLOAT,
    &convert::number::INTEGER,
    &convert::number::LONG,
    &convert::number::SHORT,
    &convert::simple_header::HEADER_CONVERTER,
    &convert::json::HEADER_CONVERTER,
    &convert::string::HEADER_CONVERTER,
    &convert::bytes::HEADER_CONVERTER,
    &convert::boolean::HEADER_CONVERTER,
    &convert::number::DOUBLE_HEADER,
    &convert::number::FLOAT_HEADER,
    &convert::number::INTEGER_HEADER,
    &convert::number::LONG_HEADER,
    &convert::number::SHORT_HEADER,
];

/// Find a plugin by class name or alias, among those `accept` allows.
pub fn find(name: &str, accept: impl Fn(PluginType) -> bool) -> Option<&'static Plugin> {
    // Looked up for every connector in planner, worker and sink rounds: a map, not a scan.
    static BY_NAME: OnceLock<HashMap<&'static str, Vec<&'static Plugin>>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        let mut m: HashMap<&'static str, Vec<&'static Plugin>> = HashMap::new();
        for p in PLUGINS.iter().copied() {
            for n in std::iter::once(&p.class).chain(p.aliases.iter()) {
                m.entry(*n).or_default().push(p);
            }
        }
        m
    });
    by_name.get(name.trim())?.iter().copied().find(|p| accept(p.ty))
}

/// A connector plugin by class name or alias.
pub fn connector(name: &str) -> Option<&'static Plugin> {
    find(name, PluginType::is_connector)
}

/// A plugin of any type by class name or alias (`GET /connector-plugins/{plugin}/config`).
pub fn find_any(name: &str) -> Option<&'static Plugin> {
    find(name, |_| true)
}

/// Kafka Connect's "type" of a connector config: `source`, `sink` or `unknown`.
pub fn connector_type(config: &BTreeMap<String, String>) -> &'static str {
    match config.get("connector.class").and_then(|c| connector(c)).map(|p| p.ty) {
        Some(PluginType::Source) => "source",
        Some(PluginType::Sink) => "sink",
        _ => "unknown",
    }
}

/// Every class name and alias of the plugins of type `ty`, class names first (messages
/// listing what is available).
pub fn class_names(ty: PluginType) -> Vec<&'static str> {
    PLUGINS.iter().filter(|p| p.ty == ty).map(|p| p.class).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names are unique within a plugin type, and every alias is the simple class name or a
    /// shortening of it, as Kafka Connect derives aliases.
    #[test]
    fn names_are_unique_and_aliases_shorten_the_class() {
        let mut seen = std::collections::BTreeSet::new();
        for p in PLUGINS {
            let simple = p.class.rsplit('.').next().unwrap();
            for n in std::iter::once(p.class).chain(p.aliases.iter().copied()) {
                assert!(seen.insert((format!("{:?}", p.ty), n)), "{n} is registered twice as {:?}", p.ty);
            }
            for a in p.aliases {
                assert!(simple.starts_with(a) || simple.contains(a), "{a} is not a shortening of {simple}");
            }
        }
    }

    /// Every registered plugin can be built, under every one of its names.
    #[test]
    fn every_registered_plugin_can_be_built() {
        let none = BTreeMap::new();
        for p in PLUGINS {
            for name in std::iter::once(p.class).chain(p.aliases.iter().copied()) {
                let found = find(name, |t| t == p.ty).unwrap_or_else(|| panic!("{name} not found"));
                assert_eq!(found.class, p.class);
                match found.factory {
                    Factory::Converter(f) => assert!(f(&none, false).is_ok(), "converter {name}"),
                    Factory::HeaderConverter(f) => assert!(f(&none).is_ok(), "header converter {name}"),
                    Factory::Connector(rt) => {
                        let _ = (rt.connector)();
                        let _ = (rt.task)();
                    }
                }
            }
        }
    }
}
