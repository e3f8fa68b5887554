//! The REST API of a node. Kafka Connect's conventions throughout: JSON bodies, errors as
//! `{"error_code": <HTTP status>, "message": "..."}`, 409 when no leader is known.
//! Extra endpoints live under `/cluster/*`.

pub mod auth;
pub mod cluster;
pub mod connectors;
pub mod openapi;
pub mod plugins;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use raftconnect_raft::{RaftNode, RaftNodeError};
use serde::de::DeserializeOwned;
use serde_json::json;

/// Largest REST request body.
pub const MAX_REST_BODY: usize = 1 << 20;

/// Most REST requests handled at once; beyond it a request gets 503 at once. RPC has a bound
/// of its own (`raftconnect_raft::rpc::MAX_RPC_IN_FLIGHT`), so REST cannot starve Raft.
pub const MAX_REST_IN_FLIGHT: usize = 256;

/// Kafka Connect's message when a request needs the leader and none is known.
pub const NO_LEADER_MESSAGE: &str =
    "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.";

/// Shared state of the REST handlers.
#[derive(Clone)]
pub struct AppState {
    pub node: Arc<RaftNode>,
    pub logs: Arc<crate::logging::LogControl>,
    pub worker: Arc<crate::worker::WorkerStats>,
    /// The broker's cluster id, once the node has read it (`GET /`).
    pub kafka_cluster_id: Arc<std::sync::OnceLock<String>>,
}

/// An error answered as Kafka Connect does.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error_code": self.status.as_u16(), "message": self.message }))).into_response()
    }
}

impl From<RaftNodeError> for ApiError {
    fn from(e: RaftNodeError) -> Self {
        use RaftNodeError::*;
        let status = match &e {
            NoLeader | NotLeader { .. } | LeaderUnreachable { .. } => {
                return ApiError::new(StatusCode::CONFLICT, NO_LEADER_MESSAGE)
            }
            CommandTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            DuplicateId { .. } => StatusCode::CONFLICT,
            UnknownMember { .. } => StatusCode::NOT_FOUND,
            Invalid(_) => StatusCode::BAD_REQUEST,
            OutcomeUnknown { .. } | Timeout(_) | Raft(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Refused { status, message } => {
                return ApiError::new(StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST), message.clone())
            }
        };
        ApiError::new(status, e.to_string())
    }
}

/// Percent-encode a connector name (or any value) for one URL path segment.
pub fn encode_path(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Parse a JSON body strictly; a bad value is reported with the path of the field it is in.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("Request body is empty; a JSON object was expected"));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // A syntax error has no meaningful field path (serde_path_to_error shows '?').
        if path == "." || path.is_empty() || inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("Invalid JSON in request body: {inner}"))
        } else {
            ApiError::bad_request(format!("Invalid value for field '{path}': {inner}"))
        }
    })
}

/// Refuse a declared body over [`MAX_REST_BODY`] before reading it, with Kafka Connect's error
/// body. (Bodies without a length are still cut at the limit by `DefaultBodyLimit`.)
async fn reject_oversized(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > MAX_REST_BODY as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body of {len} bytes exceeds the limit of {MAX_REST_BODY} bytes"),
        )
        .into_response(),
        _ => next.run(req).await,
    }
}

/// The whole REST + RPC router of a node. With `auth`, the REST routes (not the RPC ones, which
/// the cluster secret authenticates) need a REST user (see [`auth`]).
pub fn router(
    node: Arc<RaftNode>,
    logs: Arc<crate::logging::LogControl>,
    worker: Arc<crate::worker::WorkerStats>,
    kafka_cluster_id: Arc<std::sync::OnceLock<String>>,
    auth: Option<Arc<auth::RestAuth>>,
) -> axum::Router {
    let state = AppState { node: node.clone(), logs, worker, kafka_cluster_id };
    // The server runs on the Raft runtime (so heartbeats and votes are answered however busy
    // the node is); REST handlers hop back to the runtime they were built on.
    let app_runtime = tokio::runtime::Handle::current();
    let rest = cluster::routes()
        .merge(connectors::routes())
        .merge(plugins::routes())
        .route("/openapi.json", axum::routing::get(|| async { axum::Json(openapi::document()) }))
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REST_BODY))
        .layer(axum::middleware::from_fn(reject_oversized));
    // Credentials are checked before anything else looks at the request (the body limit
    // included), on the REST runtime (argon2 verifications go to its blocking pool).
    let rest = match auth {
        Some(auth) => rest.layer(axum::middleware::from_fn_with_state(auth, auth::require_user)),
        None => rest,
    };
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_REST_IN_FLIGHT));
    let rest = rest
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::INTERNAL_SERVER_ERROR,
            Duration::from_secs(90),
        ))
        .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            let app_runtime = app_runtime.clone();
            let in_flight = in_flight.clone();
            async move {
                let Ok(_permit) = in_flight.try_acquire_owned() else {
                    return ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "Too many requests in flight on this node (at most {MAX_REST_IN_FLIGHT}); retry shortly"
                        ),
                    )
                    .into_response();
                };
                match app_runtime.spawn(next.run(req)).await {
                    Ok(resp) => resp,
                    Err(e) => {
                        tracing::error!(error = %e, "REST handler panicked.");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                }
            }
        }));
    rest.merge(raftconnect_raft::rpc::router(node))
        .fallback(|| async { ApiError::not_found("HTTP 404 Not Found") })
        .layer(tower_http::trace::TraceLayer::new_for_http())
}
