//! What a plugin is: the connector and task API ([`api`]), how a plugin declares its config
//! keys once and reads them back typed ([`config_def`]), the one registry of every compiled-in
//! plugin ([`registry`]) and connector config validation in Kafka Connect's shape
//! ([`validation`]).
//!
//! Plugins themselves live elsewhere: connectors in `crate::connectors`, converters in
//! `crate::convert`, transformations and predicates in `crate::transforms`.

pub mod api;
pub mod config_def;
pub mod connector_config;
pub mod registry;
pub mod validation;

pub use api::*;
pub use registry::{Plugin, PluginType};
