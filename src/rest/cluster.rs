//! `/cluster/*`: membership, status, the replicated log, and a small internal write path.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use raftconnect_storage::view;
use raftconnect_storage::{Command, NodeId};
use serde_json::json;

use super::{parse_json, ApiError, AppState};

/// Most entries one `GET /cluster/log` returns.
pub const MAX_LOG_LIMIT: usize = 10_000;

/// A log page ends after the entry that takes its JSON past this many bytes (a page of
/// 10,000 entries near the command cap would otherwise be 640 MiB); the client goes on from
/// the next index.
pub const MAX_LOG_PAGE_BYTES: usize = 8 << 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/cluster", get(status))
        .route("/cluster/members/{id}", delete(remove_member))
        .route("/cluster/log", get(log))
        .route("/cluster/state", get(state))
        .route("/cluster/commands", post(command))
        .route("/cluster/snapshot", post(snapshot))
        .route("/cluster/worker", get(worker))
}

async fn root(State(s): State<AppState>) -> Json<serde_json::Value> {
    let m = s.node.raft.metrics().borrow().clone();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": option_env!("RAFTCONNECT_COMMIT").unwrap_or("unknown"),
        "kafka_cluster_id": s.kafka_cluster_id.get(),
        "raft_cluster": s.node.settings.cluster_name,
        "node_id": m.id,
    }))
}

async fn status(State(s): State<AppState>) -> Json<raftconnect_raft::ClusterStatus> {
    Json(s.node.cluster_status().await)
}

async fn remove_member(State(s): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id: NodeId = id.parse().map_err(|_| ApiError::bad_request(format!("Invalid node id '{id}'")))?;
    s.node.remove_member(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn query_u64(q: &HashMap<String, String>, name: &str, default: u64) -> Result<u64, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            ApiError::bad_request(format!("Query parameter '{name}' must be a non-negative integer, got '{v}'"))
        }),
    }
}

/// `GET /cluster/log?from=I&limit=N`: decoded entries of this node's log, secrets hidden.
async fn log(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let from = query_u64(&q, "from", 1)?;
    let limit = (query_u64(&q, "limit", 100)? as usize).min(MAX_LOG_LIMIT);
    // Read in chunks, so that a byte-full page never holds more of the log in memory.
    let mut page = Vec::new();
    let (mut next, mut bytes) = (from, 0usize);
    while page.len() < limit && bytes < MAX_LOG_PAGE_BYTES {
        let chunk = s.node.log_entries(next, (limit - page.len()).min(100))?;
        let Some(last) = chunk.last() else { break };
        next = last.log_id.index + 1;
        for e in &chunk {
            let v = view::entry_json(e);
            bytes += v.to_string().len();
            page.push(v);
            if bytes >= MAX_LOG_PAGE_BYTES {
                break;
            }
        }
    }
    let m = s.node.raft.metrics().borrow().clone();
    Ok(Json(json!({
        "entries": page,
        "first_index": m.purged.map(|p| p.index + 1).unwrap_or(1),
        "last_index": m.last_log_index.unwrap_or(0),
    })))
}

/// `GET /cluster/state`: the replicated state after a linearizable read barrier
/// (`?consistency=local` reads this node's applied state without one).
async fn state(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    match q.get("consistency").map(String::as_str) {
        None | Some("linearizable") => s.node.linearizable_barrier().await?,
        Some("local") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Query parameter 'consistency' must be 'linearizable' or 'local', got '{other}'"
            )))
        }
    }
    let (applied, body) =
        s.node.state().read(|a| (a.last_applied.map(|l| l.index).unwrap_or(0), view::state_json(&a.state)));
    Ok(Json(json!({ "applied_index": applied, "state": body })))
}

/// `POST /cluster/commands`: propose one command (JSON, e.g.
/// `{"put_connector":{"name":"x","config":{},"target_state":null}}`). An internal write path
/// for tests and the demo until the Connect API exists; it goes through the same command enum.
async fn command(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let cmd: Command = parse_json(&body)?;
    // Assignments, offset commits, statuses, task configs and the node registry are written by
    // the cluster itself (planner, workers, membership), under epochs; never from outside.
    let user_level = matches!(
        cmd,
        Command::PutConnector { .. }
            | Command::CreateConnector { .. }
            | Command::DeleteConnector { .. }
            | Command::SetTargetState { .. }
            | Command::AlterOffsets { .. }
            | Command::RequestRestart { .. }
            | Command::RequestTaskRestart { .. }
            | Command::SetLoggerLevel { .. }
    );
    if !user_level {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Command '{}' is written by the cluster itself and cannot be submitted", cmd.kind()),
        ));
    }
    let outcome = s.node.write(cmd).await?;
    Ok((StatusCode::OK, Json(json!({ "index": outcome.index, "response": outcome.response }))).into_response())
}

/// `POST /cluster/snapshot`: build a snapshot on this node and purge its log up to it.
async fn snapshot(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let index = s.node.snapshot_and_purge().await?;
    Ok(Json(json!({ "snapshot_index": index })))
}

/// `GET /cluster/worker`: the units this node's worker runs or ran, with how often it started
/// each (tests count starts to prove that work which did not move was not restarted).
async fn worker(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "node": s.node.id, "units": s.worker.snapshot() }))
}
