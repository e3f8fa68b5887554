//! Node-to-node RPC, server side: axum routes under `/raft/*` with bincode bodies.
//!
//! Bodies are capped at [`MAX_RPC_BODY`] (413 beyond it) and decoded with the same limit, so a
//! hostile length prefix cannot allocate. Raft RPCs carry the id of the node they are meant for
//! and are refused (421) by any other node, so a reused address never reaches the wrong member.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use openraft::raft::{AppendEntriesRequest, VoteRequest};
use raftconnect_storage::{codec, Command, NodeId};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::network::{SnapshotRpc, TARGET_HEADER};
use crate::node::{JoinRequest, RaftNode};
use crate::TypeConfig;

/// Largest RPC body accepted (a whole snapshot is the largest).
pub const MAX_RPC_BODY: usize = 64 << 20;

pub fn router(node: Arc<RaftNode>) -> Router {
    Router::new()
        .route("/raft/append", post(append))
        .route("/raft/vote", post(vote))
        .route("/raft/pre-vote", post(pre_vote))
        .route("/raft/snapshot", post(snapshot))
        .route("/raft/write", post(write))
        .route("/raft/read-index", post(read_index))
        .route("/raft/join", post(join))
        .route("/raft/remove", post(remove))
        .route("/raft/liveness", post(liveness))
        .layer(DefaultBodyLimit::max(MAX_RPC_BODY))
        // Refuses a declared Content-Length over the limit before reading any of the body.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_RPC_BODY))
        .with_state(node)
}

fn bincode_reply<T: Serialize>(v: &T) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/octet-stream")], codec::encode(v)).into_response()
}

fn decode_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    codec::decode_limited(body, MAX_RPC_BODY as u64).map_err(|e| {
        tracing::warn!(error = %e, "Undecodable RPC body.");
        (StatusCode::BAD_REQUEST, format!("undecodable RPC body: {e}")).into_response()
    })
}

fn check_target(node: &RaftNode, headers: &HeaderMap) -> Result<(), Response> {
    let target = headers.get(TARGET_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<NodeId>().ok());
    match target {
        Some(t) if t == node.id => Ok(()),
        other => {
            Err((StatusCode::MISDIRECTED_REQUEST, format!("this is node {}, not {:?}", node.id, other)).into_response())
        }
    }
}

async fn append(State(node): State<Arc<RaftNode>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check_target(&node, &headers) {
        return r;
    }
    match decode_body::<AppendEntriesRequest<TypeConfig>>(&body) {
        Ok(req) => {
            let res = node.raft.append_entries(req).await;
            // Accepted (or a log conflict, which a current leader also resolves): a leader of
            // at least our term reached us.
            if matches!(res, Ok(ref r) if !matches!(r, openraft::raft::AppendEntriesResponse::HigherVote(_))) {
                node.note_leader_contact();
            }
            bincode_reply(&res)
        }
        Err(r) => r,
    }
}

async fn vote(State(node): State<Arc<RaftNode>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check_target(&node, &headers) {
        return r;
    }
    match decode_body::<VoteRequest<NodeId>>(&body) {
        Ok(req) => {
            let candidate = req.vote.leader_id.node_id;
            let res = node.raft.vote(req).await;
            node.note_election_contact(candidate);
            bincode_reply(&res)
        }
        Err(r) => r,
    }
}

async fn pre_vote(State(node): State<Arc<RaftNode>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check_target(&node, &headers) {
        return r;
    }
    match decode_body::<crate::election::PreVoteRequest>(&body) {
        Ok(req) => bincode_reply(&node.handle_pre_vote(req).await),
        Err(r) => r,
    }
}

async fn snapshot(State(node): State<Arc<RaftNode>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check_target(&node, &headers) {
        return r;
    }
    let req = match decode_body::<SnapshotRpc>(&body) {
        Ok(req) => req,
        Err(r) => return r,
    };
    // Any storage error during install is fatal to openraft: refuse a bad snapshot here.
    if let Err(e) = raftconnect_storage::store::validate_snapshot_data(&req.data) {
        tracing::warn!(error = %e, "Refusing an undecodable snapshot.");
        return (StatusCode::BAD_REQUEST, format!("invalid snapshot: {e}")).into_response();
    }
    let snapshot = openraft::Snapshot { meta: req.meta, snapshot: Box::new(std::io::Cursor::new(req.data)) };
    bincode_reply(&node.raft.install_full_snapshot(req.vote, snapshot).await)
}

async fn write(State(node): State<Arc<RaftNode>>, body: Bytes) -> Response {
    match decode_body::<Command>(&body) {
        Ok(cmd) => bincode_reply(&node.local_write(cmd).await),
        Err(r) => r,
    }
}

async fn read_index(State(node): State<Arc<RaftNode>>) -> Response {
    bincode_reply(&node.local_read_index().await)
}

async fn join(State(node): State<Arc<RaftNode>>, body: Bytes) -> Response {
    match decode_body::<JoinRequest>(&body) {
        Ok(req) => bincode_reply(&node.handle_join(req).await),
        Err(r) => r,
    }
}

async fn remove(State(node): State<Arc<RaftNode>>, body: Bytes) -> Response {
    match decode_body::<NodeId>(&body) {
        Ok(id) => bincode_reply(&node.handle_remove(id).await),
        Err(r) => r,
    }
}

async fn liveness(State(node): State<Arc<RaftNode>>) -> Response {
    bincode_reply(&node.local_liveness().await)
}
