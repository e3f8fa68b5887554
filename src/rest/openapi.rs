//! `GET /openapi.json`: the OpenAPI 3.0 document of the REST API, generated from [`ENDPOINTS`],
//! the table every route of the public API is listed in. A test (`tests/it/openapi.rs`) calls
//! every operation of the document against a live node, so the table and the router cannot
//! drift apart silently.

use serde_json::{json, Map, Value};

/// One operation of the API.
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Query parameters: (name, type, description).
    pub query: &'static [(&'static str, &'static str, &'static str)],
    /// Request body schema (a component name), if any.
    pub body: Option<&'static str>,
    /// (status, description, response schema component or None).
    pub responses: &'static [(u16, &'static str, Option<&'static str>)],
}

const ERR_404: (u16, &str, Option<&str>) = (404, "Not found", Some("ErrorMessage"));
const ERR_400: (u16, &str, Option<&str>) = (400, "Bad request", Some("ErrorMessage"));
const ERR_409: (u16, &str, Option<&str>) = (409, "Conflict, or no leader known", Some("ErrorMessage"));
const ERR_500: (u16, &str, Option<&str>) = (500, "Request timed out or failed", Some("ErrorMessage"));

macro_rules! ep {
    ($m:literal $p:literal, $s:literal, query: $q:expr, body: $b:expr, $($r:expr),+ $(,)?) => {
        Endpoint { method: $m, path: $p, summary: $s, query: $q, body: $b, responses: &[$($r),+] }
    };
}

pub const ENDPOINTS: &[Endpoint] = &[
    ep!("get" "/", "Server info", query: &[], body: None, (200, "Server info", Some("ServerInfo"))),
    ep!("get" "/health", "Worker health (KIP-1017)", query: &[], body: None,
        (200, "Healthy", Some("WorkerStatus")), (500, "Unhealthy", Some("WorkerStatus")), (503, "Starting", Some("WorkerStatus"))),
    ep!("get" "/connectors", "List connectors", query: &[("expand", "string", "status and/or info; repeatable")], body: None,
        (200, "Connector names, or name → {status, info} with expand", None)),
    ep!("post" "/connectors", "Create a connector", query: &[], body: Some("CreateConnectorRequest"),
        (201, "Created (Location header)", Some("ConnectorInfo")), ERR_400, ERR_409, ERR_500),
    ep!("get" "/connectors/{connector}", "Connector info", query: &[], body: None,
        (200, "Connector info", Some("ConnectorInfo")), ERR_404, ERR_409),
    ep!("delete" "/connectors/{connector}", "Delete a connector", query: &[], body: None,
        (204, "Deleted", None), ERR_404, ERR_409),
    ep!("get" "/connectors/{connector}/config", "Connector config", query: &[], body: None,
        (200, "Config map", Some("ConfigMap")), ERR_404),
    ep!("put" "/connectors/{connector}/config", "Create or replace a connector's config", query: &[], body: Some("ConfigMap"),
        (200, "Updated", Some("ConnectorInfo")), (201, "Created", Some("ConnectorInfo")), ERR_400, ERR_409),
    ep!("patch" "/connectors/{connector}/config", "Patch a connector's config (null deletes a key)", query: &[], body: Some("ConfigMap"),
        (200, "Patched", Some("ConnectorInfo")), ERR_400, ERR_404),
    ep!("get" "/connectors/{connector}/status", "Connector and task states", query: &[], body: None,
        (200, "Status", Some("ConnectorStateInfo")), ERR_404),
    ep!("get" "/connectors/{connector}/tasks", "Task configs", query: &[], body: None,
        (200, "Tasks", Some("TaskInfoList")), ERR_404),
    ep!("get" "/connectors/{connector}/tasks-config", "Task configs by task id (deprecated, KIP-970)", query: &[], body: None,
        (200, "Task configs", None), ERR_404),
    ep!("get" "/connectors/{connector}/tasks/{task}/status", "Task state", query: &[], body: None,
        (200, "Task state", Some("TaskState")), ERR_404),
    ep!("post" "/connectors/{connector}/restart", "Restart a connector (KIP-745)",
        query: &[("includeTasks", "boolean", "also restart tasks"), ("onlyFailed", "boolean", "only FAILED instances")], body: None,
        (202, "Restart plan", Some("ConnectorStateInfo")), (204, "Connector restart requested", None), ERR_404, ERR_409),
    ep!("post" "/connectors/{connector}/tasks/{task}/restart", "Restart a task", query: &[], body: None,
        (204, "Restart requested", None), ERR_404, ERR_409),
    ep!("put" "/connectors/{connector}/pause", "Pause a connector", query: &[], body: None, (202, "Accepted", None), ERR_404),
    ep!("put" "/connectors/{connector}/resume", "Resume a connector", query: &[], body: None, (202, "Accepted", None), ERR_404),
    ep!("put" "/connectors/{connector}/stop", "Stop a connector (zero tasks)", query: &[], body: None, (204, "Stopped", None), ERR_404),
    ep!("get" "/connectors/{connector}/topics", "Active topics (KIP-558)", query: &[], body: None, (200, "Topics", None), ERR_404),
    ep!("put" "/connectors/{connector}/topics/reset", "Reset active topics", query: &[], body: None, (202, "Accepted", None), ERR_404),
    ep!("get" "/connectors/{connector}/offsets", "Committed offsets (KIP-875)", query: &[], body: None,
        (200, "Offsets", Some("ConnectorOffsets")), ERR_404),
    ep!("patch" "/connectors/{connector}/offsets", "Alter offsets (connector must be STOPPED)", query: &[], body: Some("ConnectorOffsets"),
        (200, "Altered", Some("Message")), ERR_400, ERR_404),
    ep!("delete" "/connectors/{connector}/offsets", "Reset offsets (connector must be STOPPED)", query: &[], body: None,
        (200, "Reset", Some("Message")), ERR_400, ERR_404),
    ep!("get" "/connector-plugins", "Installed plugins", query: &[("connectorsOnly", "boolean", "default true")], body: None,
        (200, "Plugins", Some("PluginInfoList"))),
    ep!("get" "/connector-plugins/{plugin}/config", "A plugin's config definition", query: &[], body: None,
        (200, "Config keys", Some("ConfigKeyInfoList")), ERR_404),
    ep!("put" "/connector-plugins/{plugin}/config/validate", "Validate a connector config", query: &[], body: Some("ConfigMap"),
        (200, "Validation result (also when invalid)", Some("ConfigInfos")), ERR_400),
    ep!("get" "/admin/loggers", "Log levels", query: &[], body: None, (200, "Logger → level", None)),
    ep!("get" "/admin/loggers/{logger}", "A logger's level", query: &[], body: None, (200, "Level", Some("LoggerLevel"))),
    ep!("put" "/admin/loggers/{logger}", "Set a logger's level",
        query: &[("scope", "string", "worker (default) or cluster")], body: Some("LoggerLevel"),
        (200, "Affected loggers (worker scope)", None), (204, "Accepted (cluster scope)", None), ERR_400, ERR_404),
    ep!("get" "/cluster", "Raft cluster status", query: &[], body: None, (200, "Cluster status", Some("ClusterStatus"))),
    ep!("delete" "/cluster/members/{id}", "Remove a member", query: &[], body: None,
        (204, "Removed", None), ERR_400, ERR_404, ERR_409),
    ep!("get" "/cluster/log", "Decoded replicated log (secrets hidden)",
        query: &[("from", "integer", "first index"), ("limit", "integer", "most entries")], body: None,
        (200, "Entries", Some("LogPage")), ERR_400),
    ep!("get" "/cluster/state", "Replicated state (linearizable)", query: &[("consistency", "string", "linearizable or local")], body: None,
        (200, "State", None), ERR_409),
    ep!("post" "/cluster/snapshot", "Build a snapshot and purge the log", query: &[], body: None, (200, "Snapshot index", None), ERR_500),
    ep!("get" "/openapi.json", "This document", query: &[], body: None, (200, "OpenAPI 3.0 document", None)),
];

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn string_map() -> Value {
    json!({ "type": "object", "additionalProperties": { "type": "string", "nullable": true } })
}

fn components() -> Value {
    let unit_state = json!({
        "type": "object",
        "required": ["state", "worker_id"],
        "properties": {
            "state": { "type": "string", "enum": ["UNASSIGNED", "RUNNING", "PAUSED", "STOPPED", "FAILED", "RESTARTING"] },
            "worker_id": { "type": "string" },
            "trace": { "type": "string" },
        }
    });
    let mut task_state = unit_state.clone();
    task_state["properties"]["id"] = json!({ "type": "integer" });
    json!({
        "ErrorMessage": { "type": "object", "required": ["error_code", "message"],
            "properties": { "error_code": { "type": "integer" }, "message": { "type": "string" } } },
        "Message": { "type": "object", "properties": { "message": { "type": "string" } } },
        "ServerInfo": { "type": "object", "properties": {
            "version": { "type": "string" }, "commit": { "type": "string" }, "kafka_cluster_id": { "type": "string", "nullable": true } } },
        "WorkerStatus": { "type": "object", "properties": {
            "status": { "type": "string", "enum": ["healthy", "starting", "unhealthy"] }, "message": { "type": "string" } } },
        "ConfigMap": string_map(),
        "CreateConnectorRequest": { "type": "object", "required": ["name", "config"], "additionalProperties": false, "properties": {
            "name": { "type": "string" },
            "config": string_map(),
            "initial_state": { "type": "string", "enum": ["RUNNING", "PAUSED", "STOPPED"] },
            "offsets": { "type": "array", "items": schema_ref("ConnectorOffset"), "description": "Initial offsets (KIP-995)" } } },
        "ConnectorTaskId": { "type": "object", "properties": { "connector": { "type": "string" }, "task": { "type": "integer" } } },
        "ConnectorInfo": { "type": "object", "properties": {
            "name": { "type": "string" }, "config": string_map(),
            "tasks": { "type": "array", "items": schema_ref("ConnectorTaskId") },
            "type": { "type": "string", "enum": ["source", "sink", "unknown"] } } },
        "UnitState": unit_state,
        "TaskState": task_state,
        "ConnectorStateInfo": { "type": "object", "properties": {
            "name": { "type": "string" }, "connector": schema_ref("UnitState"),
            "tasks": { "type": "array", "items": schema_ref("TaskState") },
            "type": { "type": "string", "enum": ["source", "sink", "unknown"] } } },
        "TaskInfoList": { "type": "array", "items": { "type": "object", "properties": {
            "id": schema_ref("ConnectorTaskId"), "config": string_map() } } },
        "ConnectorOffset": { "type": "object", "properties": {
            "partition": { "type": "object" }, "offset": { "type": "object", "nullable": true } } },
        "ConnectorOffsets": { "type": "object", "properties": {
            "offsets": { "type": "array", "items": schema_ref("ConnectorOffset") } } },
        "PluginInfoList": { "type": "array", "items": { "type": "object", "properties": {
            "class": { "type": "string" }, "type": { "type": "string" }, "version": { "type": "string" } } } },
        "ConfigKeyInfo": { "type": "object", "properties": {
            "name": { "type": "string" }, "type": { "type": "string" }, "required": { "type": "boolean" },
            "default_value": { "type": "string", "nullable": true }, "importance": { "type": "string" },
            "documentation": { "type": "string" }, "group": { "type": "string", "nullable": true },
            "order": { "type": "integer" }, "width": { "type": "string" }, "display_name": { "type": "string" },
            "dependents": { "type": "array", "items": { "type": "string" } } } },
        "ConfigKeyInfoList": { "type": "array", "items": schema_ref("ConfigKeyInfo") },
        "ConfigValueInfo": { "type": "object", "properties": {
            "name": { "type": "string" }, "value": { "type": "string", "nullable": true },
            "recommended_values": { "type": "array", "items": { "type": "string" } },
            "errors": { "type": "array", "items": { "type": "string" } }, "visible": { "type": "boolean" } } },
        "ConfigInfos": { "type": "object", "properties": {
            "name": { "type": "string" }, "error_count": { "type": "integer" },
            "groups": { "type": "array", "items": { "type": "string" } },
            "configs": { "type": "array", "items": { "type": "object", "properties": {
                "definition": schema_ref("ConfigKeyInfo"), "value": schema_ref("ConfigValueInfo") } } } } },
        "LoggerLevel": { "type": "object", "properties": {
            "level": { "type": "string" }, "last_modified": { "type": "integer", "nullable": true } } },
        "ClusterStatus": { "type": "object", "properties": {
            "id": { "type": "integer" }, "leader": { "type": "integer", "nullable": true }, "term": { "type": "integer" },
            "state": { "type": "string" }, "last_log_index": { "type": "integer" }, "applied_index": { "type": "integer" },
            "members": { "type": "array", "items": { "type": "object", "properties": {
                "id": { "type": "integer" }, "url": { "type": "string" }, "role": { "type": "string", "enum": ["voter", "learner"] },
                "alive": { "type": "boolean", "nullable": true } } } } } },
        "LogPage": { "type": "object", "properties": {
            "entries": { "type": "array", "items": { "type": "object", "properties": {
                "index": { "type": "integer" }, "term": { "type": "integer" },
                "kind": { "type": "string", "enum": ["blank", "membership", "command"] } } } },
            "first_index": { "type": "integer" }, "last_index": { "type": "integer" } } },
    })
}

/// The OpenAPI 3.0 document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for e in ENDPOINTS {
        let mut params: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        params.extend(e.query.iter().map(|(name, ty, desc)| {
            json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": ty } })
        }));
        let responses: Map<String, Value> = e
            .responses
            .iter()
            .map(|(code, desc, schema)| {
                let mut r = json!({ "description": desc });
                if let Some(s) = schema {
                    r["content"] = json!({ "application/json": { "schema": schema_ref(s) } });
                }
                (code.to_string(), r)
            })
            .collect();
        let mut op = json!({
            "summary": e.summary,
            "operationId": format!("{}{}", e.method, e.path.replace(['/', '{', '}', '-', '.'], "_")),
            "parameters": params,
            "responses": responses,
        });
        if let Some(b) = e.body {
            op["requestBody"] =
                json!({ "required": true, "content": { "application/json": { "schema": schema_ref(b) } } });
        }
        let item = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        item[e.method] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "raftconnect REST API",
            "description": "Kafka Connect's REST API, served by every raftconnect node; extra endpoints under /cluster.",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "paths": paths,
        "components": { "schemas": components() },
    })
}
