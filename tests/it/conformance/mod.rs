//! REST conformance suite, written from Kafka Connect's behaviour (its REST resources and
//! entities, state machines, restart and offset semantics, the FileStream connectors and the
//! kafkatest `connect_rest_test.py` checks): every public endpoint of Kafka Connect's REST API
//! and each of its error cases, against a real 3-node cluster. Requests go to followers (so that
//! leader-only work is forwarded); bodies are parsed and compared with exact `json!` values;
//! status codes and messages are exact.
//!
//! Connectors run: the planner places each connector and task on a node, which starts it,
//! publishes its task configs and reports statuses. Whatever depends on that timing (statuses,
//! task lists) is waited on with a deadline until the expected steady state, then compared field
//! by field; a `worker_id` must be a member's `127.0.0.1:port`. Only the 201 right after a create
//! may list the tasks or not yet.
//!
//! Each test function forms one cluster and runs a group of checks of one kind; every check is
//! named in its `.context(..)`, so a failure says which endpoint / error case broke.
//!
//! One module per group of endpoints (`conformance::<group>::<test>`); this module holds what they
//! share: the expectations (`expect_*`) and the fixtures (connector configs, `setup`, `create`,
//! `wait_state`, …).

use anyhow::{ensure, Context, Result};
// Wall-clock ms since the epoch (the library's public helper, not a copy): the clock the nodes
// on this host stamp `last_modified` and `next_restart_ms` from.
use raftconnect::plugin::api::now_ms;
use serde_json::{json, Value};

use crate::harness::*;

// One module per group of endpoints; this one holds what they share.
mod connector_plugins;
mod connectors_crud;
mod consistency;
mod create_connector;
mod list_connectors;
mod loggers;
mod offsets;
mod pause_resume_stop;
mod restart;
mod root;
mod status_and_tasks;
mod topics;

const FSOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const FSINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const FSOURCE_TASK: &str = "org.apache.kafka.connect.file.FileStreamSourceTask";
const FSINK_TASK: &str = "org.apache.kafka.connect.file.FileStreamSinkTask";
const MOCK_SOURCE: &str = "org.apache.kafka.connect.tools.MockSourceConnector";
const MOCK_SINK: &str = "org.apache.kafka.connect.tools.MockSinkConnector";
const NULL_VALUE: &str = "Null value can not be supplied as the configuration value.";
const VALIDATE_HINT: &str =
    "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";

// ---------------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------------

fn is_json(r: &Reply) -> bool {
    r.header("content-type").map(|v| v.starts_with("application/json")).unwrap_or(false)
}

/// Exactly this status and this JSON body (object key order aside), served as JSON.
fn expect_json(r: &Reply, code: u16, expected: &Value) -> Result<()> {
    ensure!(
        r.status == code && r.body == *expected,
        "expected HTTP {code} {expected}\n      got HTTP {} {}",
        r.status,
        r.text
    );
    ensure!(is_json(r), "HTTP {code} body is not served as application/json: {:?}", r.headers);
    Ok(())
}

/// Kafka Connect's error body, exactly: `{"error_code": code, "message": message}`.
fn expect_error(r: &Reply, code: u16, message: &str) -> Result<()> {
    expect_json(r, code, &json!({ "error_code": code, "message": message }))
}

/// An error body `{"error_code","message"}` (nothing else) whose message contains `needles`.
fn expect_error_naming(r: &Reply, code: u16, needles: &[&str]) -> Result<()> {
    ensure!(r.status == code, "expected HTTP {code}, got HTTP {} {}", r.status, r.text);
    let obj = r.body.as_object().with_context(|| format!("error body is not a JSON object: {:?}", r.text))?;
    ensure!(obj.len() == 2 && r.body["error_code"] == json!(code), "not a Kafka Connect error body: {}", r.text);
    let msg = r.body["message"].as_str().unwrap_or_default();
    for n in needles {
        ensure!(msg.contains(n), "error message {msg:?} does not name {n:?}");
    }
    Ok(())
}

/// This status with an empty body (204, and Kafka Connect's 202s without entity).
fn expect_empty(r: &Reply, code: u16) -> Result<()> {
    ensure!(
        r.status == code && r.text.is_empty(),
        "expected HTTP {code} with no body, got HTTP {} {:?}",
        r.status,
        r.text
    );
    Ok(())
}

/// Same elements in any order (JSON arrays that Kafka Connect builds from sets and maps).
fn expect_same_elements(actual: &Value, expected: &[Value]) -> Result<()> {
    let a = actual.as_array().with_context(|| format!("not an array: {actual}"))?;
    ensure!(
        a.len() == expected.len() && expected.iter().all(|e| a.contains(e)),
        "expected the elements {}\n             got {actual}",
        Value::Array(expected.to_vec())
    );
    Ok(())
}

fn invalid_config_message(errors: &[&str]) -> String {
    let mut m = format!("Connector configuration is invalid and contains the following {} error(s):", errors.len());
    for e in errors {
        m.push('\n');
        m.push_str(e);
    }
    m.push('\n');
    m.push_str(VALIDATE_HINT);
    m
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// The `local-file-source` template of Kafka's system tests (kafkatest), with the topic given
/// through a `${file:…}` config provider reference.
fn source_template() -> Value {
    json!({
        "name": "local-file-source",
        "connector.class": FSOURCE,
        "tasks.max": "1",
        "file": "/mnt/connect.input",
        "topic": "${file:/mnt/connect/connect-external-configs.properties:topic.external}",
        "errors.log.enable": "true",
        "errors.log.include.messages": "true",
        "errors.tolerance": "none",
    })
}

/// The `local-file-sink` template of Kafka's system tests (with the `True`s its Python renders).
fn sink_template() -> Value {
    json!({
        "name": "local-file-sink",
        "connector.class": FSINK,
        "tasks.max": "1",
        "file": "/mnt/connect.output",
        "topics": "test",
        "key.converter.schemas.enable": "True",
        "value.converter.schemas.enable": "True",
        "errors.log.enable": "true",
        "errors.log.include.messages": "true",
        "errors.tolerance": "none",
    })
}

/// A small source config without `name`.
fn source(file: &str) -> Value {
    json!({ "connector.class": "FileStreamSource", "tasks.max": "1", "file": file, "topic": "conformance" })
}

/// A small sink config without `name`.
fn sink(file: &str) -> Value {
    json!({ "connector.class": "FileStreamSink", "tasks.max": "1", "file": file, "topics": "conformance" })
}

/// `config` with `"name": name` added, as the server stores it.
fn named(config: &Value, name: &str) -> Value {
    let mut c = config.clone();
    c["name"] = json!(name);
    c
}

/// `ConnectorInfo` without tasks (not generated yet, PAUSED since its creation, or STOPPED).
fn info(name: &str, config: &Value, ty: &str) -> Value {
    info_with_tasks(name, config, ty, 0)
}

/// `ConnectorInfo` with the task ids `0..tasks`.
fn info_with_tasks(name: &str, config: &Value, ty: &str, tasks: usize) -> Value {
    let ids: Vec<Value> = (0..tasks).map(|t| json!({ "connector": name, "task": t })).collect();
    json!({ "name": name, "config": named(config, name), "tasks": ids, "type": ty })
}

/// FileStreamSource's one task config (the connector makes exactly one task whatever `tasks.max`
/// says): `file`, `topic` and `batch.size` as configured, plus the `task.class` the worker adds to
/// every task config.
fn source_task_config(config: &Value) -> Value {
    let mut task = serde_json::Map::new();
    for key in ["file", "topic"] {
        if let Some(v) = config.get(key) {
            task.insert(key.to_string(), v.clone());
        }
    }
    // Kafka Connect always passes the batch size on, with its default of 2000.
    task.insert("batch.size".into(), config.get("batch.size").cloned().unwrap_or(json!("2000")));
    task.insert("task.class".into(), json!(FSOURCE_TASK));
    Value::Object(task)
}

/// FileStreamSink's task configs: `tasks.max` copies of the (named) connector config plus
/// `task.class` (its `topics` / `topics.regex` are already in the copy).
fn sink_task_configs(name: &str, config: &Value) -> Vec<Value> {
    let n: usize = config["tasks.max"].as_str().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut task = named(config, name);
    task["task.class"] = json!(FSINK_TASK);
    vec![task; n]
}

/// `GET /connectors/{c}/tasks`: `[{"id":{"connector","task"},"config"}]` in task order.
fn task_infos(name: &str, configs: &[Value]) -> Value {
    json!(configs
        .iter()
        .enumerate()
        .map(|(i, c)| json!({ "id": { "connector": name, "task": i }, "config": c }))
        .collect::<Vec<_>>())
}

/// A connector name as a path segment.
fn seg(name: &str) -> String {
    name.replace(' ', "%20")
}

/// `worker_id` if it is a cluster member's `127.0.0.1:port`, else a placeholder that makes
/// the exact comparison that follows fail (and show the value).
fn member_id(v: &Value, members: &[String]) -> Value {
    match v.as_str() {
        Some(w) if members.iter().any(|m| m == w) => json!(w),
        _ => json!("<the 127.0.0.1:port of a cluster member>"),
    }
}

/// Exactly one `TaskState` (`{"id","state","worker_id"}`, nothing else) on a member.
fn expect_task_state(body: &Value, id: usize, state: &str, members: &[String]) -> Result<()> {
    let expected = json!({ "id": id, "state": state, "worker_id": member_id(&body["worker_id"], members) });
    ensure!(*body == expected, "expected the task state {expected}\n                   got {body}");
    Ok(())
}

/// Exactly this `ConnectorStateInfo`: the connector in `state`, tasks `0..` in `task_states`,
/// each `worker_id` a member's `127.0.0.1:port`, and no other field (no trace, no restarts).
fn expect_state(
    body: &Value,
    name: &str,
    ty: &str,
    state: &str,
    task_states: &[&str],
    members: &[String],
) -> Result<()> {
    let tasks: Vec<Value> = task_states
        .iter()
        .enumerate()
        .map(|(i, s)| json!({ "id": i, "state": s, "worker_id": member_id(&body["tasks"][i]["worker_id"], members) }))
        .collect();
    let expected = json!({
        "name": name,
        "connector": { "state": state, "worker_id": member_id(&body["connector"]["worker_id"], members) },
        "tasks": tasks,
        "type": ty,
    });
    ensure!(*body == expected, "expected the status {expected}\n             got {body}");
    Ok(())
}

/// Whether a `ConnectorStateInfo` shows the connector in `state` and exactly `task_states`.
fn in_states(body: &Value, state: &str, task_states: &[&str]) -> bool {
    body["connector"]["state"] == state
        && body["tasks"]
            .as_array()
            .map(|t| t.len() == task_states.len() && t.iter().zip(task_states).all(|(t, s)| t["state"] == *s))
            .unwrap_or(false)
}

/// Wait until node `via` reports connector `name` in `state` with tasks in `task_states`
/// (statuses are local, eventually consistent reads), then check that status exactly.
async fn wait_state(c: &Cluster, via: u64, name: &str, ty: &str, state: &str, task_states: &[&str]) -> Result<Value> {
    let url = format!("{}/connectors/{}/status", c.url(via), seg(name));
    let what = format!("node {via} reporting {name} {state} with tasks {task_states:?}");
    let r = c.get_until(&url, &what, |r| r.status == 200 && in_states(&r.body, state, task_states)).await?;
    ensure!(is_json(&r), "status not served as application/json: {:?}", r.headers);
    expect_state(&r.body, name, ty, state, task_states, &c.member_worker_ids())
        .with_context(|| format!("status of {name} on node {via}"))?;
    Ok(r.body)
}

/// The steady state after a create or resume: connector and its `tasks` tasks RUNNING.
async fn wait_running(c: &Cluster, via: u64, name: &str, ty: &str, tasks: usize) -> Result<Value> {
    wait_state(c, via, name, ty, "RUNNING", &vec!["RUNNING"; tasks]).await
}

/// Wait until `GET /connectors/{name}` on node `via` lists `tasks` tasks (the connector has
/// generated its task configs), then check the `ConnectorInfo` exactly.
async fn wait_info(c: &Cluster, via: u64, name: &str, config: &Value, ty: &str, tasks: usize) -> Result<()> {
    let url = format!("{}/connectors/{}", c.url(via), seg(name));
    let what = format!("GET /connectors/{name} on node {via} listing {tasks} task(s)");
    let r = c.get_until(&url, &what, |r| r.body["tasks"].as_array().map(|t| t.len() == tasks).unwrap_or(false)).await?;
    expect_json(&r, 200, &info_with_tasks(name, config, ty, tasks))
}

/// The 201 body right after `POST /connectors` (or a creating PUT): the runtime may or may not
/// have generated the task configs yet, so `tasks` is `[]` or already the `tasks` task ids.
fn expect_created(r: &Reply, name: &str, config: &Value, ty: &str, tasks: usize) -> Result<()> {
    let before = info(name, config, ty);
    let after = info_with_tasks(name, config, ty, tasks);
    ensure!(
        r.status == 201 && (r.body == before || r.body == after),
        "expected HTTP 201 {before}\n          or HTTP 201 {after}\n      got HTTP {} {}",
        r.status,
        r.text
    );
    ensure!(is_json(r), "HTTP 201 body is not served as application/json: {:?}", r.headers);
    Ok(())
}

/// Form the cluster; return (leader, follower, other follower).
async fn setup(c: &mut Cluster) -> Result<(u64, u64, u64)> {
    c.form(3).await?;
    c.wait_voters(1, 3).await?;
    let (leader, followers) = c.roles(1).await?;
    ensure!(followers.len() == 2, "expected two followers, got {followers:?}");
    Ok((leader, followers[0], followers[1]))
}

/// POST /connectors through node `via`; must answer 201.
async fn create(c: &Cluster, via: u64, name: &str, config: &Value) -> Result<Reply> {
    let r = c.post_json(&format!("{}/connectors", c.url(via)), &json!({ "name": name, "config": config })).await?;
    ensure!(r.status == 201, "creating {name} through node {via}: HTTP {} {}", r.status, r.text);
    Ok(r)
}

/// The replicated state, read linearizably through node `via`.
async fn state(c: &Cluster, via: u64) -> Result<Value> {
    let r = c.get_reply(&format!("{}/cluster/state", c.url(via))).await?;
    ensure!(r.status == 200, "GET /cluster/state on node {via}: HTTP {} {}", r.status, r.text);
    Ok(r.body["state"].clone())
}

async fn target_state(c: &Cluster, via: u64, name: &str) -> Result<Value> {
    Ok(state(c, via).await?["connectors"][name]["target_state"].clone())
}
