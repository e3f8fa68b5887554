//! raftconnect-raft: the openraft wiring of a raftconnect node.
//!
//! Layout:
//! - [`TypeConfig`]: the openraft type configuration (commands and responses from the storage crate).
//! - [`settings`]: timeouts, voter count and snapshot policy, and why they are what they are.
//! - [`network`]: the node-to-node RPC client (pooled HTTP, bincode bodies) and peer health.
//! - [`rpc`]: the axum routes that serve those RPCs, with body, in-flight and decode limits.
//! - [`auth`]: the cluster secret: every RPC signed (HMAC-SHA256), checked, replays refused.
//! - [`node`]: [`RaftNode`], the handle the rest of the node uses: bootstrap, join, remove,
//!   forwarded writes, linearizable reads, liveness, cluster status and the log reader.
//!
//! This crate knows nothing of connectors: it moves `Command`s and reads `State`.

// openraft's `StorageError`/`RaftError` and axum's `Response` are the error types these traits
// and handlers must return; boxing them at our call sites would only add conversions.
#![allow(clippy::result_large_err)]

pub mod auth;
mod batch;
pub mod election;
pub mod error;
pub mod network;
pub mod node;
pub mod rpc;
pub mod settings;

use std::io::Cursor;

pub use error::RaftNodeError;
pub use node::{ClusterStatus, MemberStatus, RaftNode, WriteOutcome};
pub use settings::RaftSettings;

openraft::declare_raft_types!(
    /// raftconnect's openraft types: log payloads are storage `Command`s.
    pub TypeConfig:
        D = raftconnect_storage::Command,
        R = raftconnect_storage::Response,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type LogStore = raftconnect_storage::LogStore<TypeConfig>;
pub type StateMachine = raftconnect_storage::StateMachine<TypeConfig>;
