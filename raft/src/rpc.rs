//! Node-to-node RPC, server side: axum routes under `/raft/*` with bincode bodies.
//!
//! Every request first passes [`guard`]: a per-route body cap (413 beyond it; only snapshot
//! transfer gets [`MAX_RPC_BODY`]), a bound on RPCs in flight (503 beyond it), and, when the
//! node has a cluster secret, the proof of it ([`crate::auth`]; 401 without a valid one, and
//! nothing of the body is decoded). Bodies are decoded with the same cap, so a hostile length
//! prefix cannot allocate. Raft RPCs carry the id of the node they are meant for and are
//! refused (421) by any other node, so a reused address never reaches the wrong member.

use std::sync::Arc;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
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

/// Largest RPC body accepted: a whole snapshot (`/raft/snapshot` only).
pub const MAX_RPC_BODY: usize = 64 << 20;

/// Largest AppendEntries body: openraft sends at most `max_payload_entries` (300) entries,
/// each under the command cap.
pub const MAX_APPEND_BODY: usize = 32 << 20;

/// Largest body of the other routes (votes, joins, removals, reads; a forwarded write is one
/// command, under the command cap).
pub const MAX_SMALL_BODY: usize = raftconnect_storage::model::MAX_COMMAND_BYTES + (4 << 10);

/// Most RPCs handled at once; beyond it a request gets 503 at once (the sender retries).
pub const MAX_RPC_IN_FLIGHT: usize = 1024;

fn body_limit(path: &str) -> usize {
    match path {
        "/raft/snapshot" => MAX_RPC_BODY,
        "/raft/append" => MAX_APPEND_BODY,
        _ => MAX_SMALL_BODY,
    }
}

/// What every RPC passes before its handler.
struct Guard {
    verifier: Option<crate::auth::Verifier>,
    in_flight: Arc<tokio::sync::Semaphore>,
}

pub fn router(node: Arc<RaftNode>) -> Router {
    let guard = Arc::new(Guard {
        verifier: node.settings.security.secret.clone().map(crate::auth::Verifier::new),
        in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_RPC_IN_FLIGHT)),
    });
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
        .layer(axum::middleware::from_fn_with_state(guard, guard_request))
        .with_state(node)
}

/// Refusals are logged at most once a second (with how many were not), so an outsider
/// cannot flood the log.
fn warn_refused(path: &str, reason: &dyn std::fmt::Display) {
    static LAST: AtomicU64 = AtomicU64::new(0);
    static SUPPRESSED: AtomicU64 = AtomicU64::new(0);
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let last = LAST.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 1000
        && LAST.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        let suppressed = SUPPRESSED.swap(0, Ordering::Relaxed);
        tracing::warn!(path, %reason, suppressed, "Refused an unauthenticated cluster RPC.");
    } else {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
    }
}

async fn guard_request(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let Ok(_permit) = guard.in_flight.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many RPCs in flight").into_response();
    };
    let path = req.uri().path().to_string();
    let limit = body_limit(&path);
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, format!("RPC body over the {limit}-byte limit of {path}"))
            .into_response();
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, format!("RPC body over the {limit}-byte limit of {path}"))
            .into_response();
    };
    if let Some(verifier) = &guard.verifier {
        let header = parts.headers.get(crate::auth::AUTH_HEADER).and_then(|v| v.to_str().ok());
        let target = parts.headers.get(TARGET_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        if let Err(refusal) = verifier.verify(header, parts.method.as_str(), &path, target, &bytes) {
            warn_refused(&path, &refusal);
            return (StatusCode::UNAUTHORIZED, refusal.to_string()).into_response();
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
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
