//! `/connectors/*`: Kafka Connect's connector endpoints, with its paths, bodies, codes and
//! messages (reference: kafka-connect.md §1.3–§1.4, §2, §5.4).
//!
//! Reads of configs are linearizable (a ReadIndex barrier through the leader first); statuses
//! and offsets are read from the local replica, as Kafka Connect reads them from its local cache.
//! Writes go through the leader, which validates them again before proposing.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use raftconnect_storage::model::{ConfigMap, ConnectorRecord, Rejection, TargetState, UnitState, WorkUnit};
use raftconnect_storage::{Command, Response as ApplyResponse, State as RState};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{parse_json, ApiError, AppState};
use crate::plugin::registry;
use crate::plugin::validation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connectors", get(list).post(create))
        .route("/connectors/{c}", get(info).delete(delete_connector))
        .route("/connectors/{c}/config", get(config).put(put_config).patch(patch_config))
        .route("/connectors/{c}/status", get(status))
        .route("/connectors/{c}/tasks", get(tasks))
        .route("/connectors/{c}/tasks-config", get(tasks_config))
        .route("/connectors/{c}/tasks/{t}/status", get(task_status))
        .route("/connectors/{c}/restart", post(restart))
        .route("/connectors/{c}/tasks/{t}/restart", post(restart_task))
        .route("/connectors/{c}/pause", put(pause))
        .route("/connectors/{c}/resume", put(resume))
        .route("/connectors/{c}/stop", put(stop))
        .route("/connectors/{c}/topics", get(topics))
        .route("/connectors/{c}/topics/reset", put(reset_topics))
        .route("/connectors/{c}/offsets", get(offsets).patch(alter_offsets).delete(reset_offsets))
        .method_not_allowed_fallback(method_not_allowed)
}

/// A known path with an unsupported method: Kafka Connect's (Jersey's) 405, with the usual
/// error body (axum's default 405 has none).
pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "HTTP 405 Method Not Allowed")
}

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

/// Kafka Connect's 400 for changing the offsets of a connector that is not STOPPED.
fn not_stopped(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the \
         specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    ))
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Connector {name} not found"))
}

/// `host:port` of a node's advertised URL: Kafka Connect's `worker_id`.
fn worker_id(state: &RState, node: Option<u64>) -> String {
    node.and_then(|n| state.nodes.get(&n))
        .map(|n| n.rest_url.trim_start_matches("http://").trim_start_matches("https://").to_string())
        .unwrap_or_default()
}

fn task_count(state: &RState, name: &str) -> usize {
    state.task_configs.get(name).map(|t| t.configs.len()).unwrap_or(0)
}

/// `ConnectorInfo`.
fn connector_info(state: &RState, name: &str, c: &ConnectorRecord) -> Value {
    let tasks: Vec<Value> = (0..task_count(state, name)).map(|t| json!({ "connector": name, "task": t })).collect();
    json!({ "name": name, "config": c.config, "tasks": tasks, "type": registry::connector_type(&c.config) })
}

/// One unit's state entry; `trace` only when non-empty. A unit without a status record yet is
/// UNASSIGNED, on the node it is assigned to (if any).
fn unit_state(state: &RState, unit: &WorkUnit) -> Map<String, Value> {
    let mut out = Map::new();
    match state.statuses.get(unit) {
        Some(s) => {
            out.insert("state".into(), json!(s.state));
            out.insert("worker_id".into(), json!(worker_id(state, Some(s.node))));
            if let Some(trace) = s.trace.as_ref().filter(|t| !t.is_empty()) {
                out.insert("trace".into(), json!(trace));
            }
            // Beyond Kafka Connect (which never restarts on its own): automatic restarts.
            if s.restarts > 0 {
                out.insert("restarts".into(), json!(s.restarts));
            }
            if let Some(next) = s.next_restart_ms {
                out.insert("next_restart_ms".into(), json!(next));
            }
        }
        None => {
            out.insert("state".into(), json!(UnitState::Unassigned));
            out.insert("worker_id".into(), json!(worker_id(state, state.assignments.get(unit).map(|a| a.node))));
        }
    }
    out
}

fn task_state(state: &RState, name: &str, task: u32) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(task));
    m.extend(unit_state(state, &WorkUnit::Task { connector: name.to_string(), task }));
    Value::Object(m)
}

/// `ConnectorStateInfo`.
fn connector_state(state: &RState, name: &str, c: &ConnectorRecord) -> Value {
    let tasks: Vec<Value> = (0..task_count(state, name) as u32).map(|t| task_state(state, name, t)).collect();
    json!({
        "name": name,
        "connector": unit_state(state, &WorkUnit::Connector(name.to_string())),
        "tasks": tasks,
        "type": registry::connector_type(&c.config),
    })
}

fn created(name: &str, body: Value) -> Response {
    (StatusCode::CREATED, [(header::LOCATION, format!("/connectors/{}", super::encode_path(name)))], Json(body))
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------------

/// A config map from JSON: strings as they are, numbers and booleans as their text (as
/// Jackson coerces them); `null` kept as None (an error for create/update, a delete for PATCH).
pub(super) fn config_values(raw: BTreeMap<String, Value>) -> Result<BTreeMap<String, Option<String>>, ApiError> {
    raw.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, Some(s))),
            Value::Number(n) => Ok((k, Some(n.to_string()))),
            Value::Bool(b) => Ok((k, Some(b.to_string()))),
            Value::Null => Ok((k, None)),
            other => Err(ApiError::bad_request(format!(
                "Invalid value for field '{k}': expected a string, got {}",
                match other {
                    Value::Array(_) => "an array",
                    _ => "an object",
                }
            ))),
        })
        .collect()
}

const NULL_VALUE: &str = "Null value can not be supplied as the configuration value.";

/// Split a create/update config into its values and the keys given as `null` (each of which
/// is a validation error, reported by [`validate_config`] together with the others).
pub(super) fn split_nulls(values: BTreeMap<String, Option<String>>) -> (ConfigMap, Vec<String>) {
    let mut config = ConfigMap::new();
    let mut nulls = Vec::new();
    for (k, v) in values {
        match v {
            Some(v) => {
                config.insert(k, v);
            }
            None => nulls.push(k),
        }
    }
    (config, nulls)
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum InitialState {
    Running,
    Paused,
    Stopped,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    name: String,
    config: BTreeMap<String, Value>,
    #[serde(default)]
    initial_state: Option<InitialState>,
    /// Initial offsets (KIP-995), in the shape of `GET /connectors/{c}/offsets`.
    #[serde(default)]
    offsets: Option<Vec<OffsetEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffsetEntry {
    #[serde(default)]
    partition: Value,
    #[serde(default)]
    offset: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffsetsBody {
    #[serde(default)]
    offsets: Option<Vec<OffsetEntry>>,
}

/// Offsets from the REST shape, per connector type, with Kafka Connect's messages.
#[derive(Default)]
struct ParsedOffsets {
    source: Vec<(String, Option<String>)>,
    sink: Vec<(String, i32, Option<i64>)>,
}

use raftconnect_storage::model::canonical_json as canonical;

fn as_number<T: std::str::FromStr + TryFrom<i64>>(v: Option<&Value>) -> Option<T> {
    match v? {
        Value::Number(n) => n.as_i64().and_then(|i| T::try_from(i).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn parse_offsets(ty: &str, entries: Vec<OffsetEntry>) -> Result<ParsedOffsets, ApiError> {
    let mut out = ParsedOffsets::default();
    for e in entries {
        if ty == "sink" {
            let p = match &e.partition {
                Value::Object(p) => p,
                _ => {
                    return Err(ApiError::bad_request(
                        "The partition for a sink connector offset cannot be null or missing",
                    ))
                }
            };
            if !p.contains_key("kafka_topic") || !p.contains_key("kafka_partition") {
                return Err(ApiError::bad_request(
                    "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
                ));
            }
            let topic = match p.get("kafka_topic") {
                Some(Value::String(t)) if !t.is_empty() => t.clone(),
                _ => return Err(ApiError::bad_request("Kafka topic names must be valid strings and may not be null")),
            };
            let partition: i32 = as_number(p.get("kafka_partition"))
                .ok_or_else(|| ApiError::bad_request("Kafka partitions must be valid numbers and may not be null"))?;
            let offset = match &e.offset {
                Value::Null => None,
                Value::Object(o) if o.contains_key("kafka_offset") => {
                    Some(as_number::<i64>(o.get("kafka_offset")).ok_or_else(|| {
                        ApiError::bad_request("Kafka offsets must be valid numbers and may not be null")
                    })?)
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
                    ))
                }
            };
            out.sink.push((topic, partition, offset));
        } else {
            if !e.partition.is_object() {
                return Err(ApiError::bad_request(
                    "The partition for a source connector offset cannot be null or missing",
                ));
            }
            let offset = match &e.offset {
                Value::Null => None,
                Value::Object(_) => Some(canonical(&e.offset)),
                _ => {
                    return Err(ApiError::bad_request(
                        "The offset for a source connector must be a JSON object or null",
                    ))
                }
            };
            out.source.push((canonical(&e.partition), offset));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Helpers over the node
// ---------------------------------------------------------------------------------------------

/// A linearizable read of the state.
async fn read<T>(s: &AppState, f: impl FnOnce(&RState) -> T) -> Result<T, ApiError> {
    s.node.linearizable_barrier().await?;
    Ok(s.node.state().read(|a| f(&a.state)))
}

/// A read of the local replica (statuses, offsets: eventually consistent, like Kafka Connect's).
fn read_local<T>(s: &AppState, f: impl FnOnce(&RState) -> T) -> T {
    s.node.state().read(|a| f(&a.state))
}

/// Propose a command and turn the leader's answer into an HTTP outcome.
async fn write(s: &AppState, cmd: Command, not_found_msg: impl Fn(&str) -> String) -> Result<u64, ApiError> {
    let outcome = s.node.write(cmd).await?;
    match outcome.response {
        ApplyResponse::Applied | ApplyResponse::PartiallyApplied { .. } => Ok(outcome.index),
        ApplyResponse::Rejected(Rejection::UnknownConnector { name }) => Err(ApiError::not_found(not_found_msg(&name))),
        ApplyResponse::Rejected(Rejection::AlreadyExists { name }) => {
            Err(ApiError::new(StatusCode::CONFLICT, format!("Connector {name} already exists")))
        }
        ApplyResponse::Rejected(Rejection::NotStopped { name }) => Err(not_stopped(&name)),
        ApplyResponse::Rejected(r) => Err(ApiError::new(StatusCode::CONFLICT, r.to_string())),
        // A batch's answers are split per write by the leader; one never reaches a writer.
        ApplyResponse::Batch(_) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "unexpected batch answer")),
    }
}

/// Propose a `CreateConnector` so that its answer is never lost: if a forwarded create's answer
/// is lost (leader died), or it is refused as already existing, a linearizable read through the
/// (new) leader tells whether *this* request made the connector (`created_by`). If the
/// connector is absent after that read, the entry can no longer commit (the new leader has
/// committed past it without it), so the create is sent again.
async fn create_once(s: &AppState, cmd: Command) -> Result<u64, ApiError> {
    let (name, request_id) = match &cmd {
        Command::CreateConnector { name, request_id, .. } => (name.clone(), request_id.clone()),
        _ => return write(s, cmd, |n| format!("Connector {n} not found")).await,
    };
    let deadline = std::time::Instant::now() + s.node.settings.request_timeout;
    let mut last_error: ApiError;
    loop {
        match s.node.write(cmd.clone()).await {
            Ok(outcome) if matches!(outcome.response, ApplyResponse::Applied) => return Ok(outcome.index),
            Ok(_) | Err(raftconnect_raft::RaftNodeError::Refused { status: 409, .. }) => {
                last_error = ApiError::new(StatusCode::CONFLICT, format!("Connector {name} already exists"));
            }
            Err(e @ raftconnect_raft::RaftNodeError::OutcomeUnknown { .. }) => {
                tracing::info!(connector = %name, error = %e, "Create outcome unknown; checking the replicated state.");
                last_error = e.into();
            }
            Err(e) => return Err(e.into()),
        }
        // Did our request make it? Ask through the leader (retrying while one is elected).
        let made = loop {
            match s.node.linearizable_barrier().await {
                Ok(()) => {
                    break read_local(s, |st| {
                        st.connectors.get(&name).map(|c| (c.created_by == request_id, c.created_index))
                    })
                }
                Err(_) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await
                }
                Err(_) => return Err(last_error),
            }
        };
        match made {
            Some((true, index)) => return Ok(index),
            Some((false, _)) => {
                return Err(ApiError::new(StatusCode::CONFLICT, format!("Connector {name} already exists")))
            }
            None if std::time::Instant::now() < deadline => continue,
            None => return Err(last_error),
        }
    }
}

/// The state after our write has been applied locally (read-your-writes for the answer).
async fn after(s: &AppState, index: u64) {
    let _ = tokio::time::timeout(s.node.settings.request_timeout, s.node.state().wait_applied(index)).await;
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("Connector name cannot be empty"));
    }
    if name.contains('/') {
        return Err(ApiError::bad_request("connector name should not contain '/'"));
    }
    Ok(())
}

/// Put `name` into the config, refusing a different one (Kafka Connect's check).
fn with_name(name: &str, mut config: ConfigMap) -> Result<ConfigMap, ApiError> {
    match config.get("name") {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
            )))
        }
        _ => {}
    }
    config.insert("name".into(), name.to_string());
    Ok(config)
}

/// Validate a create/update config as Kafka Connect does (`AbstractHerder.maybeAddConfigErrors`):
/// one 400 listing every config error plus a "Null value…" error per key given as `null`.
/// Keys without a definition come first, as in `ConfigInfos`.
fn validate_config(config: &ConfigMap, nulls: &[String]) -> Result<(), ApiError> {
    let (infos, _) = validation::validate(config).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let defined = |k: &String| infos.configs.iter().any(|c| &c.definition.name == k);
    let mut errors: Vec<&str> = nulls.iter().filter(|k| !defined(k)).map(|_| NULL_VALUE).collect();
    for c in &infos.configs {
        errors.extend(c.value.errors.iter().map(String::as_str));
        if nulls.contains(&c.definition.name) {
            errors.push(NULL_VALUE);
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let mut msg = format!("Connector configuration is invalid and contains the following {} error(s):", errors.len());
    for e in errors {
        msg.push('\n');
        msg.push_str(e);
    }
    msg.push_str("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
    Err(ApiError::bad_request(msg))
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// `GET /connectors[?expand=status&expand=info]`.
async fn list(State(s): State<AppState>, RawQuery(q): RawQuery) -> Result<Json<Value>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    // Any `expand` parameter selects the map form; unknown expansions are ignored (so
    // `?expand=foo` answers `{"c":{}}`, as Kafka Connect does).
    let expand = pairs.iter().any(|(k, _)| k == "expand");
    let expand_status = pairs.iter().any(|(k, v)| k == "expand" && v == "status");
    let expand_info = pairs.iter().any(|(k, v)| k == "expand" && v == "info");
    read(&s, |st| {
        if !expand {
            return json!(st.connectors.keys().collect::<Vec<_>>());
        }
        let mut out = Map::new();
        for (name, c) in &st.connectors {
            let mut entry = Map::new();
            if expand_status {
                entry.insert("status".into(), connector_state(st, name, c));
            }
            if expand_info {
                entry.insert("info".into(), connector_info(st, name, c));
            }
            out.insert(name.clone(), Value::Object(entry));
        }
        Value::Object(out)
    })
    .await
    .map(Json)
}

/// `POST /connectors`: 201 + Location, 409 if it exists, 400 if invalid.
async fn create(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: CreateRequest = parse_json(&body)?;
    let name = req.name.trim().to_string();
    check_name(&name)?;
    let (config, nulls) = split_nulls(config_values(req.config)?);
    let config = with_name(&name, config)?;
    validate_config(&config, &nulls)?;
    let ty = registry::connector_type(&config);
    let offsets = parse_offsets(ty, req.offsets.unwrap_or_default())?;
    let target_state = match req.initial_state {
        None | Some(InitialState::Running) => TargetState::Running,
        Some(InitialState::Paused) => TargetState::Paused,
        Some(InitialState::Stopped) => TargetState::Stopped,
    };
    let cmd = Command::CreateConnector {
        name: name.clone(),
        request_id: uuid::Uuid::new_v4().to_string(),
        config: config.clone(),
        target_state,
        source_offsets: offsets.source.into_iter().filter_map(|(p, o)| o.map(|o| (p, o))).collect(),
        sink_offsets: offsets.sink.into_iter().filter_map(|(t, p, o)| o.map(|o| (t, p, o))).collect(),
    };
    let index = create_once(&s, cmd).await?;
    after(&s, index).await;
    let body = read_local(&s, |st| st.connectors.get(&name).map(|c| connector_info(st, &name, c)))
        .unwrap_or_else(|| json!({ "name": name, "config": config, "tasks": [], "type": ty }));
    Ok(created(&name, body))
}

/// `GET /connectors/{c}`.
async fn info(State(s): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    read(&s, |st| st.connectors.get(&name).map(|c| connector_info(st, &name, c)))
        .await?
        .map(Json)
        .ok_or_else(|| not_found(&name))
}

/// `GET /connectors/{c}/config`.
async fn config(State(s): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    read(&s, |st| st.connectors.get(&name).map(|c| json!(c.config))).await?.map(Json).ok_or_else(|| not_found(&name))
}

/// `PUT /connectors/{c}/config`: 201 if created, 200 if updated.
async fn put_config(State(s): State<AppState>, Path(name): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    check_name(&name)?;
    let raw: BTreeMap<String, Value> = parse_json(&body)?;
    let (config, nulls) = split_nulls(config_values(raw)?);
    let config = with_name(&name, config)?;
    validate_config(&config, &nulls)?;
    let mut existed = read(&s, |st| st.connectors.contains_key(&name)).await?;
    let update = |config: ConfigMap| Command::PutConnector { name: name.clone(), config, target_state: None };
    let cmd = if existed {
        update(config.clone())
    } else {
        Command::CreateConnector {
            name: name.clone(),
            request_id: uuid::Uuid::new_v4().to_string(),
            config: config.clone(),
            target_state: TargetState::Running,
            source_offsets: Vec::new(),
            sink_offsets: Vec::new(),
        }
    };
    let not_found_msg = |n: &str| format!("Connector {n} not found");
    let first = if existed { write(&s, cmd, not_found_msg).await } else { create_once(&s, cmd).await };
    let index = match first {
        // Created concurrently by someone else: this PUT is an update after all.
        Err(e) if e.status == StatusCode::CONFLICT && !existed => {
            existed = true;
            write(&s, update(config), not_found_msg).await?
        }
        other => other?,
    };
    after(&s, index).await;
    let body =
        read_local(&s, |st| st.connectors.get(&name).map(|c| connector_info(st, &name, c))).unwrap_or(Value::Null);
    Ok(if existed { (StatusCode::OK, Json(body)).into_response() } else { created(&name, body) })
}

/// `PATCH /connectors/{c}/config` (KIP-477): `null` deletes a key.
async fn patch_config(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let raw: BTreeMap<String, Value> = parse_json(&body)?;
    let patch = config_values(raw)?;
    let current =
        read(&s, |st| st.connectors.get(&name).map(|c| c.config.clone())).await?.ok_or_else(|| not_found(&name))?;
    let mut config = current;
    for (k, v) in patch {
        match v {
            Some(v) => config.insert(k, v),
            None => config.remove(&k),
        };
    }
    let config = with_name(&name, config)?;
    validate_config(&config, &[])?;
    let index = write(&s, Command::PutConnector { name: name.clone(), config, target_state: None }, |n| {
        format!("Connector {n} not found")
    })
    .await?;
    after(&s, index).await;
    read_local(&s, |st| st.connectors.get(&name).map(|c| connector_info(st, &name, c)))
        .map(Json)
        .ok_or_else(|| not_found(&name))
}

/// `DELETE /connectors/{c}`: 204.
async fn delete_connector(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    write(&s, Command::DeleteConnector { name }, |n| format!("Connector {n} not found")).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /connectors/{c}/status`.
async fn status(State(s): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    read_local(&s, |st| st.connectors.get(&name).map(|c| connector_state(st, &name, c)))
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("No status found for connector {name}")))
}

/// `GET /connectors/{c}/tasks`: `[{"id":{"connector","task"},"config":{…}}]`.
async fn tasks(State(s): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    read(&s, |st| {
        st.connectors.get(&name)?;
        let configs = st.task_configs.get(&name).map(|t| t.configs.clone()).unwrap_or_default();
        Some(json!(configs
            .iter()
            .enumerate()
            .map(|(i, c)| json!({ "id": { "connector": name, "task": i }, "config": c }))
            .collect::<Vec<_>>()))
    })
    .await?
    .map(Json)
    .ok_or_else(|| not_found(&name))
}

/// `GET /connectors/{c}/tasks-config` (deprecated by KIP-970): `{"c-0":{…}}`.
async fn tasks_config(State(s): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    tracing::warn!(connector = %name, "The GET /connectors/{{connector}}/tasks-config endpoint is deprecated (KIP-970).");
    read(&s, |st| {
        st.connectors.get(&name)?;
        let configs = st.task_configs.get(&name).map(|t| t.configs.clone()).unwrap_or_default();
        let map: Map<String, Value> =
            configs.iter().enumerate().map(|(i, c)| (format!("{name}-{i}"), json!(c))).collect();
        Some(Value::Object(map))
    })
    .await?
    .map(Json)
    .ok_or_else(|| not_found(&name))
}

fn parse_task(name: &str, t: &str) -> Result<u32, ApiError> {
    t.parse().map_err(|_| ApiError::not_found(format!("No status found for task {name}-{t}")))
}

/// `GET /connectors/{c}/tasks/{t}/status`.
async fn task_status(
    State(s): State<AppState>,
    Path((name, t)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let task = parse_task(&name, &t)?;
    read_local(&s, |st| {
        st.connectors.get(&name)?;
        ((task as usize) < task_count(st, &name)).then(|| task_state(st, &name, task))
    })
    .map(Json)
    .ok_or_else(|| ApiError::not_found(format!("No status found for task {name}-{task}")))
}

#[derive(Deserialize, Default)]
struct RestartQuery {
    #[serde(default, rename = "includeTasks")]
    include_tasks: Option<String>,
    #[serde(default, rename = "onlyFailed")]
    only_failed: Option<String>,
}

fn query_bool(v: &Option<String>, name: &str) -> Result<bool, ApiError> {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => {
            Err(ApiError::bad_request(format!("Query parameter '{name}' must be true or false, got '{other}'")))
        }
    }
}

/// `POST /connectors/{c}/restart[?includeTasks&onlyFailed]` (KIP-745): 204 for the plain
/// restart, 202 with the plan (units to restart shown RESTARTING) otherwise.
async fn restart(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q: RestartQuery = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("Invalid query parameters: {e}")))?;
    let include_tasks = query_bool(&q.include_tasks, "includeTasks")?;
    let only_failed = query_bool(&q.only_failed, "onlyFailed")?;
    if !read(&s, |st| st.connectors.contains_key(&name)).await? {
        return Err(ApiError::not_found(format!("Unknown connector: {name}")));
    }
    let cmd = Command::RequestRestart { connector: name.clone(), include_tasks, only_failed };
    write(&s, cmd, |n| format!("Unknown connector: {n}")).await?;
    if !include_tasks && !only_failed {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    // The plan, computed exactly as `apply` marks the units it restarts.
    let plan = read_local(&s, |st| {
        let c = st.connectors.get(&name)?;
        let mut v = connector_state(st, &name, c);
        for unit in st.restart_plan(&name, include_tasks, only_failed) {
            match unit {
                WorkUnit::Connector(_) => v["connector"]["state"] = json!("RESTARTING"),
                WorkUnit::Task { task, .. } => {
                    if let Some(t) = v["tasks"].as_array_mut().and_then(|ts| ts.get_mut(task as usize)) {
                        t["state"] = json!("RESTARTING");
                    }
                }
            }
        }
        Some(v)
    })
    .ok_or_else(|| ApiError::not_found(format!("Status for connector {name} not found")))?;
    Ok((StatusCode::ACCEPTED, Json(plan)).into_response())
}

/// `POST /connectors/{c}/tasks/{t}/restart`: 204.
async fn restart_task(
    State(s): State<AppState>,
    Path((name, t)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (exists, count) = read(&s, |st| (st.connectors.contains_key(&name), task_count(st, &name))).await?;
    if !exists {
        return Err(ApiError::not_found(format!("Unknown connector: {name}")));
    }
    let task: u32 = t.parse().map_err(|_| ApiError::not_found(format!("Unknown task: {name}-{t}")))?;
    if task as usize >= count {
        return Err(ApiError::not_found(format!("Unknown task: {name}-{task}")));
    }
    write(&s, Command::RequestTaskRestart { connector: name, task }, |n| format!("Unknown connector: {n}")).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_target(s: &AppState, name: String, state: TargetState) -> Result<(), ApiError> {
    if !read(s, |st| st.connectors.contains_key(&name)).await? {
        return Err(ApiError::not_found(format!("Unknown connector {name}")));
    }
    write(s, Command::SetTargetState { name, state }, |n| format!("Unknown connector {n}")).await?;
    Ok(())
}

/// `PUT /connectors/{c}/pause`: 202.
async fn pause(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    set_target(&s, name, TargetState::Paused).await.map(|_| StatusCode::ACCEPTED)
}

/// `PUT /connectors/{c}/resume`: 202 (also resumes a STOPPED connector).
async fn resume(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    set_target(&s, name, TargetState::Running).await.map(|_| StatusCode::ACCEPTED)
}

/// `PUT /connectors/{c}/stop` (KIP-875): 204; the connector keeps zero tasks.
async fn stop(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    set_target(&s, name, TargetState::Stopped).await.map(|_| StatusCode::NO_CONTENT)
}

/// `GET /connectors/{c}/topics` (KIP-558). Topic tracking starts with the data plane; until
/// then the set is empty. Like Kafka Connect (which reads the status store without checking
/// the connector exists), an unknown connector has an empty set rather than a 404.
async fn topics(Path(name): Path<String>) -> Json<Value> {
    Json(json!({ name: { "topics": [] } }))
}

/// `PUT /connectors/{c}/topics/reset`: 202, for any name (as Kafka Connect).
async fn reset_topics(Path(_name): Path<String>) -> StatusCode {
    StatusCode::ACCEPTED
}

/// `GET /connectors/{c}/offsets`: `{"offsets":[{"partition":{…},"offset":{…}}]}`.
async fn offsets(State(s): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    read(&s, |st| {
        let c = st.connectors.get(&name)?;
        let list: Vec<Value> = if registry::connector_type(&c.config) == "sink" {
            st.sink_offsets
                .iter()
                .filter(|((cn, _, _), _)| cn == &name)
                .map(|((_, t, p), o)| {
                    json!({ "partition": { "kafka_topic": t, "kafka_partition": p }, "offset": { "kafka_offset": o } })
                })
                .collect()
        } else {
            st.source_offsets
                .iter()
                .filter(|((cn, _), _)| cn == &name)
                .map(|((_, p), o)| {
                    json!({
                        "partition": serde_json::from_str::<Value>(p).unwrap_or(Value::Null),
                        "offset": serde_json::from_str::<Value>(o).unwrap_or(Value::Null),
                    })
                })
                .collect()
        };
        Some(json!({ "offsets": list }))
    })
    .await?
    .map(Json)
    .ok_or_else(|| not_found(&name))
}

/// After a stop, each task commits its final offsets and releases its assignment; an offsets
/// change waits (briefly) for that, so a final commit can never overwrite it (`apply` refuses
/// the change while a task is still assigned).
async fn wait_tasks_released(s: &AppState, name: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut applied = s.node.state().applied_watch();
    loop {
        let assigned = s.node.state().read(|a| {
            a.state.assignments.keys().any(|u| matches!(u, WorkUnit::Task { connector, .. } if connector == name))
        });
        if !assigned || tokio::time::timeout_at(deadline, applied.changed()).await.is_err() {
            return;
        }
    }
}

/// Existence and STOPPED checks shared by alter and reset, in Kafka Connect's order.
async fn stopped_connector_type(s: &AppState, name: &str) -> Result<&'static str, ApiError> {
    let found = read(s, |st| {
        st.connectors.get(name).map(|c| (c.target_state, registry::connector_type(&c.config), task_count(st, name)))
    })
    .await?;
    match found {
        None => Err(not_found(name)),
        Some((TargetState::Stopped, ty, 0)) => Ok(ty),
        Some(_) => Err(not_stopped(name)),
    }
}

/// `PATCH /connectors/{c}/offsets`: only while STOPPED.
async fn alter_offsets(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: OffsetsBody = parse_json(&body)?;
    let entries = match req.offsets {
        Some(e) if !e.is_empty() => e,
        _ => {
            return Err(ApiError::bad_request("Partitions / offsets need to be provided for an alter offsets request"))
        }
    };
    let ty = stopped_connector_type(&s, &name).await?;
    let parsed = parse_offsets(ty, entries)?;
    wait_tasks_released(&s, &name).await;
    let cmd = Command::AlterOffsets { connector: name, reset: false, source: parsed.source, sink: parsed.sink };
    write(&s, cmd, |n| format!("Connector {n} not found")).await?;
    Ok(Json(json!({ "message": "The offsets for this connector have been altered successfully" })))
}

/// `DELETE /connectors/{c}/offsets`: reset, only while STOPPED.
async fn reset_offsets(State(s): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    stopped_connector_type(&s, &name).await?;
    wait_tasks_released(&s, &name).await;
    let cmd = Command::AlterOffsets { connector: name, reset: true, source: Vec::new(), sink: Vec::new() };
    write(&s, cmd, |n| format!("Connector {n} not found")).await?;
    Ok(Json(json!({ "message": "The offsets for this connector have been reset successfully" })))
}
