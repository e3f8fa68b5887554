//! Kafka Connect's single message transformations and predicates will live here: one module
//! per transformation or predicate, each registered with one line in
//! `crate::plugin::registry::PLUGINS`, and the chain that applies them to every record.
//! None is built yet; `transforms` and `predicates` in a connector config are refused at
//! validation ("could not be found").
