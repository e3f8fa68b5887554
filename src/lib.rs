//! raftconnect: Kafka Connect's distributed mode rebuilt in Rust on an embedded Raft cluster.
//!
//! Layout of this crate (ARCHITECTURE.md has the full map and the concept → file index):
//! - [`node`]: node wiring: identity in the data directory, the HTTP(S) listener, start/stop.
//! - [`rest`]: the REST API: Kafka Connect's endpoints and the `/cluster/*` extras.
//! - [`control`]: leader-only: the planner, the sink partition spread, the proposal check.
//! - [`worker`]: on every node, runs the units assigned to it (supervised, fenced by epochs),
//!   and reports their statuses.
//! - [`plugin`]: the connector/task API, config definitions, the plugin registry, validation.
//! - [`connectors`]: the built-in connectors, one module each.
//! - [`convert`]: the converters, one module each.
//! - [`transforms`]: where single message transformations and predicates will live.
//! - [`data`]: Kafka Connect's data model (Schema, Value).
//! - [`dataplane`]: source and sink task loops over Kafka, the node's offset committer.
//! - [`config`]: the worker properties file (Kafka Connect's key names), config providers.
//! - [`logging`]: log levels changeable at run time (`/admin/loggers`).
//!
//! The storage model lives in `raftconnect-storage`, the Raft wiring in `raftconnect-raft`.

// The OpenAPI document (rest/openapi.rs) is one large `json!` literal.
#![recursion_limit = "512"]

pub mod config;
pub mod connectors;
pub mod control;
pub mod convert;
pub mod data;
pub mod dataplane;
pub mod logging;
pub mod node;
pub mod plugin;
pub mod rest;
pub mod transforms;
pub mod worker;
