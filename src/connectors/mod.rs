//! The built-in connectors, one module each. A module owns its plugin descriptions (class,
//! aliases, config keys with their defaults and bounds, factories) and reads its config through
//! those keys; `crate::plugin::registry::PLUGINS` lists each with one line.

pub mod datagen;
pub mod file;
pub mod idle;
pub mod mock;
pub mod verifiable;
