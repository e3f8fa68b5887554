use serde::{Deserialize, Serialize};

use raftconnect_storage::NodeId;

/// Errors of the Raft handle. Serialisable: a leader's answer travels back to the forwarding node.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize, PartialEq, Eq)]
pub enum RaftNodeError {
    #[error("no leader is known (the cluster may be electing one or have lost its quorum)")]
    NoLeader,
    /// The receiving node is not the leader; `leader` says who is, when known.
    #[error("not the leader; the leader is {leader:?}")]
    NotLeader { leader: Option<(NodeId, String)> },
    #[error("could not reach the leader {leader} at {url}: {reason}")]
    LeaderUnreachable { leader: NodeId, url: String, reason: String },
    /// The request reached the leader but its answer was lost: it may or may not have applied.
    #[error("the outcome of the request forwarded to leader {leader} is unknown: {reason}")]
    OutcomeUnknown { leader: NodeId, reason: String },
    #[error("command of {size} bytes exceeds the limit of {max} bytes")]
    CommandTooLarge { size: usize, max: usize },
    #[error("Node id {id} is already in use by another data directory")]
    DuplicateId { id: NodeId },
    #[error("Node {id} is not a member of the cluster")]
    UnknownMember { id: NodeId },
    #[error("{0}")]
    Invalid(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("raft: {0}")]
    Raft(String),
    /// The leader's proposal check refused the command (carries the HTTP status to answer).
    #[error("{message}")]
    Refused { status: u16, message: String },
}
