//! raftconnect-storage: the replicated data model and its sled-backed openraft storage.
//!
//! Layout:
//! - [`model`]: the closed [`model::Command`] enum, the [`model::State`] it builds and the
//!   deterministic, infallible `apply`.
//! - [`store`]: the sled log store (`RaftLogStorage`) and state machine (`RaftStateMachine`),
//!   snapshots in files, the durability barrier.
//! - [`split`]: cutting the cluster's own large commands to fit under the command cap.
//! - [`codec`]: bincode 1.3 with explicit options, size limits and a format-version byte.
//! - [`view`]: decoded, redacted JSON views of log entries and state.
//!
//! This crate knows nothing of networks or Kafka.

// openraft's `StorageError`/`RaftError` and axum's `Response` are the error types these traits
// and handlers must return; boxing them at our call sites would only add conversions.
#![allow(clippy::result_large_err)]

pub mod codec;
pub mod model;
pub mod split;
pub mod store;
pub mod view;

pub use model::{Command, NodeId, Response, State, MAX_COMMAND_BYTES};
pub use split::{truncate_trace, MAX_TRACE_BYTES};
pub use store::{open, Applied, LogStore, OpenError, StateHandle, StateMachine, StoreConfig};
