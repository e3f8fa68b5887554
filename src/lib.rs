//! raftconnect: Kafka Connect's distributed mode rebuilt in Rust on an embedded Raft cluster.
//!
//! Layout of this crate (the node):
//! - [`identity`]: the node id and data-directory incarnation persisted in the data directory.
//! - [`server`]: starting a node: Raft, the HTTP server, bootstrap/join, shutdown.
//! - [`rest`]: the REST API (Kafka Connect conventions) and the `/cluster/*` endpoints.
//!
//! The storage model lives in `raftconnect-storage`, the Raft wiring in `raftconnect-raft`;
//! see ARCHITECTURE.md for the map.

pub mod identity;
pub mod rest;
pub mod server;
