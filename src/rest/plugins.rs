//! `/connector-plugins/*`, `/admin/loggers/*` and `/health`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use raftconnect_storage::Command;
use serde_json::{json, Map, Value};

use super::{parse_json, ApiError, AppState};
use crate::plugin::registry;
use crate::plugin::validation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connector-plugins", get(list))
        .route("/connector-plugins/{plugin}/config", get(plugin_config))
        .route("/connector-plugins/{plugin}/config/validate", put(validate))
        .route("/admin/loggers", get(loggers))
        .route("/admin/loggers/{logger}", get(logger).put(set_logger))
        .route("/health", get(health))
        .method_not_allowed_fallback(super::connectors::method_not_allowed)
}

/// `GET /connector-plugins[?connectorsOnly=false]`.
async fn list(Query(q): Query<BTreeMap<String, String>>) -> Result<Json<Value>, ApiError> {
    let connectors_only = match q.get("connectorsOnly").map(|v| v.to_ascii_lowercase()) {
        None => true,
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "Query parameter 'connectorsOnly' must be true or false, got '{v}'"
            )))
        }
    };
    let list: Vec<Value> = registry::PLUGINS
        .iter()
        .filter(|p| !connectors_only || p.ty.is_connector())
        .map(|p| json!({ "class": p.class, "type": p.ty, "version": p.version }))
        .collect();
    Ok(Json(json!(list)))
}

/// A plugin named in a path: class name or alias (also with a `Connector` suffix added).
fn plugin_by_path(name: &str) -> Option<&'static registry::Plugin> {
    registry::find_any(name).or_else(|| registry::find_any(&format!("{name}Connector")))
}

/// `GET /connector-plugins/{plugin}/config`: the plugin's own keys, then the framework's.
async fn plugin_config(Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let plugin = plugin_by_path(&name).ok_or_else(|| ApiError::not_found(format!("Unknown plugin {name}.")))?;
    let mut keys: Vec<Value> = plugin.config.iter().map(|k| json!(validation::key_info(k))).collect();
    if plugin.ty.is_connector() {
        keys.extend(
            crate::plugin::connector_config::framework_keys(plugin.ty)
                .into_iter()
                .map(|k| json!(validation::key_info(k))),
        );
    }
    Ok(Json(json!(keys)))
}

/// The simple class name without a `Connector` suffix, as Kafka Connect compares them.
fn short_name(class: &str) -> &str {
    let simple = class.rsplit('.').next().unwrap_or(class);
    simple.strip_suffix("Connector").unwrap_or(simple)
}

/// `PUT /connector-plugins/{plugin}/config/validate`: 200 with `ConfigInfos`, even when invalid.
async fn validate(Path(name): Path<String>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let raw: BTreeMap<String, Value> = parse_json(&body)?;
    let (config, nulls) = super::connectors::split_nulls(super::connectors::config_values(raw)?);
    let class = match config.get("connector.class") {
        Some(c) => c.clone(),
        None => {
            return Err(ApiError::bad_request(
                validation::ValidateError::NoConnectorType(validation::java_map(&config)).to_string(),
            ))
        }
    };
    // Same plugin by any of its names, or the same simple name without a `Connector` suffix.
    let same_plugin =
        matches!((plugin_by_path(&name), registry::connector(&class)), (Some(a), Some(b)) if a.class == b.class);
    if !same_plugin && short_name(&name) != short_name(&class) {
        return Err(ApiError::bad_request(format!(
            "Included connector type {class} does not match request type {name}"
        )));
    }
    let (mut infos, _) = validation::validate(&config).map_err(|e| ApiError::bad_request(e.to_string()))?;
    const NULL_VALUE: &str = "Null value can not be supplied as the configuration value.";
    // A null for a key without a definition is an error too, reported (as Kafka Connect's
    // `ConfigInfos` does for unknown keys) first, with `"definition": null`.
    let mut undefined = Vec::new();
    for key in nulls {
        match infos.configs.iter_mut().find(|c| c.definition.name == key) {
            Some(c) => c.value.errors.push(NULL_VALUE.into()),
            None => undefined.push(json!({
                "definition": null,
                "value": { "name": key, "value": null, "recommended_values": [], "errors": [NULL_VALUE], "visible": true },
            })),
        }
        infos.error_count += 1;
    }
    let mut body = json!(infos);
    if !undefined.is_empty() {
        if let Some(configs) = body["configs"].as_array_mut() {
            undefined.append(configs);
            *configs = undefined;
        }
    }
    Ok(Json(body))
}

fn logger_json(l: &crate::logging::LoggerLevel) -> Value {
    json!({ "level": l.level, "last_modified": l.last_modified })
}

/// `GET /admin/loggers`.
async fn loggers(State(s): State<AppState>) -> Json<Value> {
    let map: Map<String, Value> = s.logs.all().iter().map(|(k, v)| (k.clone(), logger_json(v))).collect();
    Json(Value::Object(map))
}

/// `GET /admin/loggers/{logger}`: its level, or the effective one inherited.
async fn logger(State(s): State<AppState>, Path(name): Path<String>) -> Json<Value> {
    Json(logger_json(&s.logs.effective(&name)))
}

/// `PUT /admin/loggers/{logger}[?scope=worker|cluster]`.
async fn set_logger(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: Value = parse_json(&body)?;
    let level = match body.get("level").and_then(Value::as_str) {
        Some(l) => l.to_string(),
        None => return Err(ApiError::bad_request("Desired 'level' parameter was not specified in request.")),
    };
    if !crate::logging::LEVELS.contains(&level.to_ascii_uppercase().as_str()) {
        return Err(ApiError::not_found(format!("invalid log level '{level}'.")));
    }
    if q.get("scope").map(|v| v.eq_ignore_ascii_case("cluster")).unwrap_or(false) {
        // Every node applies it when the entry is applied (see server::watch_cluster_loggers).
        s.node.write(Command::SetLoggerLevel { logger: name, level: level.to_ascii_uppercase() }).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let affected = s.logs.set(&name, &level).map_err(ApiError::not_found)?;
    Ok((StatusCode::OK, Json(json!(affected))).into_response())
}

/// `GET /health` (KIP-1017): a `WorkerStatus`, not an error body.
async fn health(State(s): State<AppState>) -> Response {
    let m = s.node.raft.metrics().borrow().clone();
    let member = m.membership_config.membership().get_node(&s.node.id).is_some();
    if !member {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "starting", "message": "Worker is still starting up. The node has not joined a cluster yet." })),
        )
            .into_response();
    }
    match s.node.leader() {
        Some(_) => (
            StatusCode::OK,
            Json(json!({ "status": "healthy", "message": "Worker has completed startup and is ready to handle requests." })),
        )
            .into_response(),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({
                "status": "unhealthy",
                "message": "Worker was unable to handle this request and may be unable to handle other requests. No Raft leader is known.",
            })),
        )
            .into_response(),
    }
}
