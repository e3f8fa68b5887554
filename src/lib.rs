//! raftconnect: Kafka Connect's distributed mode rebuilt in Rust on an embedded Raft cluster.
//!
//! Layout of this crate (the node):
//! - [`identity`]: the node id and data-directory incarnation persisted in the data directory.
//! - [`server`]: starting a node: Raft, the HTTP server, bootstrap/join, shutdown.
//! - [`serve`]: the HTTP(S) listener: TLS, connection and header-read bounds, graceful stop.
//! - [`rest`]: the REST API: Kafka Connect's endpoints and the `/cluster/*` extras.
//! - [`plugins`]: the registry of connectors, converters… with their config definitions.
//! - [`validation`]: connector config validation in Kafka Connect's `ConfigInfos` shape.
//! - [`logging`]: log levels changeable at run time (`/admin/loggers`).
//! - [`coordinator`]: the planner, on the Raft leader only: who runs which connector and task.
//! - [`worker`]: on every node, runs the units assigned to it (supervised, fenced by epochs).
//! - [`status`]: the node's status reporter: statuses of its units in batched entries.
//! - [`connectors`]: the connector/task runtime traits and the built-in plugins.
//! - [`dataplane`]: source and sink task loops over Kafka, the node's offset committer.
//! - [`data`]: Kafka Connect's data model and the converters.
//! - [`sink_partitions`]: on the leader, sink topic-partitions spread over tasks.
//! - [`config`]: the worker properties file (Kafka Connect's key names).
//! - [`providers`]: config providers (`${file:…}`, `${dir:…}`, `${env:…}`), resolved where a unit runs.
//!
//! The storage model lives in `raftconnect-storage`, the Raft wiring in `raftconnect-raft`;
//! see ARCHITECTURE.md for the map.

// The OpenAPI document (rest/openapi.rs) is one large `json!` literal.
#![recursion_limit = "512"]

pub mod config;
pub mod connectors;
pub mod coordinator;
pub mod data;
pub mod dataplane;
pub mod identity;
pub mod logging;
pub mod plugins;
pub mod providers;
pub mod rest;
pub mod serve;
pub mod server;
pub mod sink_partitions;
pub mod status;
pub mod validation;
pub mod worker;
