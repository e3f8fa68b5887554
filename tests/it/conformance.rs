//! REST conformance suite, written from the Kafka Connect reference
//! (/work/shared/reference/kafka-connect.md §1.1–§1.4, §2.5, §2.7, §5.4, §8.1, §9.2.1):
//! every endpoint of the table in §1.3 and each of its error cases, against a real 3-node
//! cluster. Requests go to followers (so that leader-only work is forwarded); bodies are parsed
//! and compared with exact `json!` values; status codes and messages are exact.
//!
//! Connectors run: the planner places each connector and task on a node, which starts it,
//! publishes its task configs and reports statuses. Whatever depends on that timing (statuses,
//! task lists) is waited on with a deadline until the expected steady state, then compared field
//! by field; a `worker_id` must be a member's `127.0.0.1:port`. Only the 201 right after a create
//! may list the tasks or not yet.
//!
//! Each test function forms one cluster and runs a group of checks of one kind; every check is
//! named in its `.context(..)`, so a failure says which endpoint / error case broke.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

use crate::harness::*;

const FSOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const FSINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const FSOURCE_TASK: &str = "org.apache.kafka.connect.file.FileStreamSourceTask";
const FSINK_TASK: &str = "org.apache.kafka.connect.file.FileStreamSinkTask";
const MOCK_SOURCE: &str = "org.apache.kafka.connect.tools.MockSourceConnector";
const MOCK_SINK: &str = "org.apache.kafka.connect.tools.MockSinkConnector";
const MOCK_SOURCE_TASK: &str = "org.apache.kafka.connect.tools.MockSourceTask";
const MOCK_TASK_FAILURE_TRACE: &str =
    "org.apache.kafka.connect.errors.ConnectException: Mock task failed (mock_mode=task-failure)";
const NO_LEADER: &str =
    "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.";
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

/// §9.2.1's `local-file-source` template.
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

/// §9.2.1's `local-file-sink` template (with the Python-rendered `True`s).
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

/// FileStreamSource's one task config (§8.1: one task whatever `tasks.max` says): `file`,
/// `topic` and `batch.size` as configured, plus the `task.class` the worker adds (§1.4.1).
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

/// `GET /connectors/{c}/tasks-config`: `{"c-0":{…},…}`.
fn tasks_config_map(name: &str, configs: &[Value]) -> Value {
    Value::Object(configs.iter().enumerate().map(|(i, c)| (format!("{name}-{i}"), c.clone())).collect())
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

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// GET /, GET /health, unknown paths
// ---------------------------------------------------------------------------------------------

cluster_test!(root_health_and_unknown_paths, Cluster::new(&[]), scenario_root_health_and_unknown_paths);

async fn scenario_root_health_and_unknown_paths(c: &mut Cluster) -> Result<()> {
    let (_, f, _) = setup(c).await?;
    let url = c.url(f);

    let r = c.get_reply(&format!("{url}/")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && is_json(&r), "HTTP {} {}", r.status, r.text);
        ensure!(r.body["version"] == json!(env!("CARGO_PKG_VERSION")), "version: {}", r.text);
        ensure!(r.body["commit"].as_str().map(|s| !s.is_empty()).unwrap_or(false), "commit: {}", r.text);
        // §1.4.1 shows a string; there is no Kafka cluster yet, so only its presence is checked.
        ensure!(
            r.body.as_object().map(|o| o.contains_key("kafka_cluster_id")).unwrap_or(false),
            "kafka_cluster_id: {}",
            r.text
        );
        Ok(())
    })()
    .context("GET / → 200 ServerInfo {version, commit, kafka_cluster_id}")?;

    let r = c.get_reply(&format!("{url}/health")).await?;
    expect_json(
        &r,
        200,
        &json!({ "status": "healthy", "message": "Worker has completed startup and is ready to handle requests." }),
    )
    .context("GET /health → 200 healthy")?;

    let r = c.get_reply(&format!("{url}/no/such/path")).await?;
    expect_error(&r, 404, "HTTP 404 Not Found").context("GET unknown path → 404 error body")?;
    let r = c.get_reply(&format!("{url}/connectors/a/b/c/d")).await?;
    expect_error(&r, 404, "HTTP 404 Not Found").context("GET unknown path under /connectors → 404 error body")?;

    let r = c.delete(&format!("{url}/connectors")).await?;
    expect_error(&r, 405, "HTTP 405 Method Not Allowed")
        .context("DELETE /connectors (no such method) → 405 error body")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GET /connectors
// ---------------------------------------------------------------------------------------------

cluster_test!(
    list_connectors_with_and_without_expand,
    Cluster::new(&[]),
    scenario_list_connectors_with_and_without_expand
);

async fn scenario_list_connectors_with_and_without_expand(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    let list = |q: &str| format!("{}/connectors{q}", c.url(f2));

    let r = c.get_reply(&list("")).await?;
    expect_json(&r, 200, &json!([])).context("GET /connectors on an empty cluster → []")?;

    create(c, f1, "a", &source("/tmp/a")).await?;
    create(c, f1, "b", &sink("/tmp/b")).await?;
    // The runtime starts both; wait for that steady state on the listing node first.
    wait_running(c, f2, "a", "source", 1).await.context("a never RUNNING with its task")?;
    wait_running(c, f2, "b", "sink", 1).await.context("b never RUNNING with its task")?;
    let (info_a, info_b) =
        (info_with_tasks("a", &source("/tmp/a"), "source", 1), info_with_tasks("b", &sink("/tmp/b"), "sink", 1));
    let members = c.member_worker_ids();

    let r = c.get_reply(&list("")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        expect_same_elements(&r.body, &[json!("a"), json!("b")])
    })()
    .context("GET /connectors → the names")?;

    // The expanded listing: exactly the asked-for parts per connector; statuses RUNNING on
    // members (each read waits for that steady state, as the planner may still move a unit).
    let expanded = |q: &'static str, status: bool, info: bool| {
        let (info_a, info_b, members) = (info_a.clone(), info_b.clone(), members.clone());
        async move {
            let running = |b: &Value| ["a", "b"].iter().all(|n| in_states(&b[n]["status"], "RUNNING", &["RUNNING"]));
            let r = c
                .get_until(&list(q), "a listing with both connectors RUNNING", |r| {
                    r.status == 200 && (!status || running(&r.body))
                })
                .await?;
            ensure!(is_json(&r), "not served as application/json: {:?}", r.headers);
            let obj = r.body.as_object().with_context(|| format!("not a map: {}", r.text))?;
            ensure!(obj.keys().collect::<Vec<_>>() == ["a", "b"], "connectors: {}", r.text);
            for (name, ty, inf) in [("a", "source", &info_a), ("b", "sink", &info_b)] {
                let entry = r.body[name].as_object().with_context(|| format!("{name}: {}", r.text))?;
                let mut keys: Vec<&str> = entry.keys().map(String::as_str).collect();
                keys.sort();
                let want: Vec<&str> =
                    [("info", info), ("status", status)].iter().filter(|(_, w)| *w).map(|(k, _)| *k).collect();
                ensure!(keys == want, "{name}: expanded parts {keys:?}, expected {want:?}");
                if info {
                    ensure!(r.body[name]["info"] == *inf, "{name} info: expected {inf}\n got {}", r.body[name]["info"]);
                }
                if status {
                    expect_state(&r.body[name]["status"], name, ty, "RUNNING", &["RUNNING"], &members)?;
                }
            }
            Ok::<_, anyhow::Error>(())
        }
    };
    expanded("?expand=status", true, false).await.context("GET /connectors?expand=status")?;
    expanded("?expand=info", false, true).await.context("GET /connectors?expand=info")?;
    expanded("?expand=status&expand=info", true, true).await.context("GET /connectors?expand=status&expand=info")?;
    expanded("?expand=info&expand=status", true, true).await.context("GET /connectors?expand=info&expand=status")?;
    expanded("?expand=status&expand=bogus", true, false)
        .await
        .context("GET /connectors?expand=status&expand=bogus: the unknown expansion is ignored")?;
    let r = c.get_reply(&list("?expand=bogus")).await?;
    expect_json(&r, 200, &json!({ "a": {}, "b": {} }))
        .context("GET /connectors?expand=bogus: map form, nothing expanded (Kafka Connect's listConnectors)")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// POST /connectors
// ---------------------------------------------------------------------------------------------

cluster_test!(create_connector_success_cases, Cluster::new(&[]), scenario_create_connector_success_cases);

async fn scenario_create_connector_success_cases(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    let url = c.url(f1);

    // §9.2.1: the source template (config carries its own name).
    let r = create(c, f1, "local-file-source", &source_template()).await?;
    (|| -> Result<()> {
        ensure!(r.header("location") == Some("/connectors/local-file-source"), "Location: {:?}", r.header("location"));
        expect_created(&r, "local-file-source", &source_template(), "source", 1)
    })()
    .context("POST /connectors (source template) → 201 + Location + ConnectorInfo")?;

    // The sink template without a name in its config: the name is added.
    let mut sink_cfg = sink_template();
    sink_cfg.as_object_mut().unwrap().remove("name");
    let r = create(c, f1, "local-file-sink", &sink_cfg).await?;
    (|| -> Result<()> {
        ensure!(r.header("location") == Some("/connectors/local-file-sink"), "Location: {:?}", r.header("location"));
        expect_created(&r, "local-file-sink", &sink_cfg, "sink", 1)
    })()
    .context("POST /connectors (sink, name not in config) → 201, name added to config")?;

    // §9.2.1 steps 7 and 8, on the other follower, once the connectors generated their tasks.
    wait_info(c, f2, "local-file-source", &source_template(), "source", 1)
        .await
        .context("GET created source on another node → ConnectorInfo with task 0")?;
    let r = c.get_reply(&format!("{}/connectors/local-file-source/config", c.url(f2))).await?;
    expect_json(&r, 200, &source_template()).context("GET created source config on another node")?;
    let r = c.get_reply(&format!("{}/connectors/local-file-source/tasks", c.url(f2))).await?;
    // The `${file:…}` reference stays unresolved in the task config (§1.4.1).
    expect_json(&r, 200, &task_infos("local-file-source", &[source_task_config(&source_template())]))
        .context("GET created source's tasks on another node → its one FileStreamSourceTask config")?;
    wait_info(c, f2, "local-file-sink", &sink_cfg, "sink", 1)
        .await
        .context("GET created sink on another node → ConnectorInfo with task 0")?;
    let r = c.get_reply(&format!("{}/connectors/local-file-sink/config", c.url(f2))).await?;
    expect_json(&r, 200, &named(&sink_cfg, "local-file-sink")).context("GET created sink config on another node")?;
    let r = c.get_reply(&format!("{}/connectors/local-file-sink/tasks", c.url(f2))).await?;
    expect_json(&r, 200, &task_infos("local-file-sink", &sink_task_configs("local-file-sink", &sink_cfg)))
        .context("GET created sink's tasks on another node → the connector config + task.class")?;
    wait_running(c, f2, "local-file-source", "source", 1).await.context("the created source runs")?;
    wait_running(c, f2, "local-file-sink", "sink", 1).await.context("the created sink runs")?;

    // A name that needs percent-encoding in the Location header.
    let r = create(c, f1, "my connector", &source("/tmp/x")).await?;
    (|| -> Result<()> {
        ensure!(r.header("location") == Some("/connectors/my%20connector"), "Location: {:?}", r.header("location"));
        expect_created(&r, "my connector", &source("/tmp/x"), "source", 1)
    })()
    .context("POST /connectors with a space in the name → encoded Location")?;
    wait_info(c, f2, "my connector", &source("/tmp/x"), "source", 1).await.context("GET /connectors/my%20connector")?;

    // Leading/trailing whitespace of the name is trimmed (ConnectorsResource.createConnector).
    let r =
        c.post_json(&format!("{url}/connectors"), &json!({ "name": "  trimmed ", "config": source("/tmp/t") })).await?;
    expect_created(&r, "trimmed", &source("/tmp/t"), "source", 1).context("POST /connectors trims the name")?;
    wait_running(c, f2, "trimmed", "source", 1).await.context("the trimmed connector runs under its trimmed name")?;

    // initial_state (KIP-980) → the target state (§2.5), and what the runtime makes of it.
    for (name, initial, target) in [
        ("init-default", None, "RUNNING"),
        ("init-running", Some("RUNNING"), "RUNNING"),
        ("init-paused", Some("PAUSED"), "PAUSED"),
        ("init-stopped", Some("STOPPED"), "STOPPED"),
    ] {
        let mut body = json!({ "name": name, "config": source("/tmp/s") });
        if let Some(i) = initial {
            body["initial_state"] = json!(i);
        }
        let r = c.post_json(&format!("{url}/connectors"), &body).await?;
        let what = format!("POST /connectors initial_state={initial:?}");
        if target == "RUNNING" {
            expect_created(&r, name, &source("/tmp/s"), "source", 1).with_context(|| format!("{what} → 201"))?;
        } else {
            // A connector that never ran has generated no task configs.
            expect_json(&r, 201, &info(name, &source("/tmp/s"), "source"))
                .with_context(|| format!("{what} → 201, no tasks"))?;
        }
        let t = target_state(c, f2, name).await?;
        ensure!(t == json!(target), "{what}: target state {t}, expected {target}");
        match target {
            "RUNNING" => {
                wait_running(c, f2, name, "source", 1)
                    .await
                    .with_context(|| format!("{what}: connector and task RUNNING"))?;
                wait_info(c, f2, name, &source("/tmp/s"), "source", 1)
                    .await
                    .with_context(|| format!("{what}: task 0 listed"))?;
            }
            "PAUSED" => {
                // Task configs are only generated for a started connector (§4.7): PAUSED, 0 tasks.
                wait_state(c, f2, name, "source", "PAUSED", &[])
                    .await
                    .with_context(|| format!("{what}: connector PAUSED, no tasks"))?;
                let r = c.get_reply(&format!("{}/connectors/{name}", c.url(f2))).await?;
                expect_json(&r, 200, &info(name, &source("/tmp/s"), "source"))
                    .with_context(|| format!("{what}: no tasks"))?;
            }
            _ => {
                let r = c.get_reply(&format!("{}/connectors/{name}", c.url(f2))).await?;
                expect_json(&r, 200, &info(name, &source("/tmp/s"), "source"))
                    .with_context(|| format!("{what}: no tasks"))?;
                let url = format!("{}/connectors/{name}/status", c.url(f2));
                let r = c.get_until(&url, "the status of a connector created STOPPED", |r| r.status == 200).await?;
                ensure!(r.body["tasks"] == json!([]), "{what}: a STOPPED connector has no task statuses: {}", r.text);
                // Its connector state is checked by stopped_connectors_report_stopped.
            }
        }
    }
    Ok(())
}

cluster_test!(create_connector_error_cases, Cluster::new(&[]), scenario_create_connector_error_cases);

async fn scenario_create_connector_error_cases(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    let url = c.url(f2);
    let post = |body: Value| {
        let url = format!("{url}/connectors");
        async move { c.post_json(&url, &body).await }
    };

    create(c, f1, "dup", &source("/tmp/dup")).await?;
    let r = post(json!({ "name": "dup", "config": source("/tmp/other") })).await?;
    expect_error(&r, 409, "Connector dup already exists").context("POST /connectors existing name → 409")?;

    let r =
        post(json!({ "name": "bad", "config": { "connector.class": "FileStreamSource", "tasks.max": "0" } })).await?;
    expect_error(
        &r,
        400,
        &invalid_config_message(&[
            "Invalid value 0 for configuration tasks.max: Value must be at least 1",
            "Missing required configuration \"topic\" which has no default value.",
        ]),
    )
    .context("POST /connectors invalid config → 400 with the §1.4.2 message")?;

    let r = post(json!({ "name": "bad-sink", "config": { "connector.class": "FileStreamSink" } })).await?;
    expect_error(
        &r,
        400,
        &invalid_config_message(&[
            "Must configure one of topics or topics.regex",
            "Must configure one of topics or topics.regex",
        ]),
    )
    .context("POST /connectors sink without topics → 400 (SinkConnectorConfig.validate)")?;

    let r = post(json!({ "name": "x", "config": named(&source("/tmp/x"), "y") })).await?;
    expect_error(&r, 400, "Connector name configuration (y) doesn't match connector name in the URL (x)")
        .context("POST /connectors config.name ≠ name → 400")?;

    let r = post(json!({ "name": "nc", "config": {} })).await?;
    expect_error(&r, 400, "Connector config {name=nc} contains no connector type")
        .context("POST /connectors without connector.class → 400")?;

    let r = post(json!({ "name": "unk", "config": { "connector.class": "com.example.Nope" } })).await?;
    expect_error_naming(
        &r,
        400,
        &["Failed to find any class that implements Connector and which name matches com.example.Nope"],
    )
    .context("POST /connectors unknown connector.class → 400")?;

    let r =
        post(json!({ "name": "nul", "config": { "connector.class": "FileStreamSource", "topic": "t", "file": null } }))
            .await?;
    expect_error(&r, 400, &invalid_config_message(&[NULL_VALUE]))
        .context("POST /connectors null config value → 400")?;

    let r = post(json!({
        "name": "nul2",
        "config": { "connector.class": "FileStreamSource", "topic": "t", "tasks.max": "0", "not.a.key": null },
    }))
    .await?;
    expect_error(
        &r,
        400,
        &invalid_config_message(&[NULL_VALUE, "Invalid value 0 for configuration tasks.max: Value must be at least 1"]),
    )
    .context("POST /connectors null value plus another error → 400 listing both")?;

    let r = post(json!({ "name": "uf", "config": source("/tmp/uf"), "bogus_field": 1 })).await?;
    expect_error_naming(&r, 400, &["bogus_field"]).context("POST /connectors unknown body field → 400 naming it")?;

    let r = post(json!({ "name": "wt", "config": "not a map" })).await?;
    expect_error_naming(&r, 400, &["config"]).context("POST /connectors config of the wrong type → 400 naming it")?;
    let r = post(
        json!({ "name": "wt", "config": { "connector.class": "FileStreamSource", "topic": "t", "tasks.max": ["1"] } }),
    )
    .await?;
    expect_error_naming(&r, 400, &["tasks.max"])
        .context("POST /connectors config value of the wrong type → 400 naming the key")?;
    let r = post(json!({ "name": ["wt"], "config": source("/tmp/wt") })).await?;
    expect_error_naming(&r, 400, &["name"]).context("POST /connectors name of the wrong type → 400 naming it")?;
    let r = post(json!({ "name": "wt", "config": source("/tmp/wt"), "initial_state": "SLEEPING" })).await?;
    expect_error_naming(&r, 400, &["initial_state"])
        .context("POST /connectors unknown initial_state → 400 naming it")?;

    let r = c.send_raw(reqwest::Method::POST, &format!("{url}/connectors"), "{\"name\": \"mj\", ").await?;
    expect_error_naming(&r, 400, &["Invalid JSON"]).context("POST /connectors malformed JSON → 400")?;
    let r = c.send_raw(reqwest::Method::POST, &format!("{url}/connectors"), "").await?;
    expect_error_naming(&r, 400, &[]).context("POST /connectors empty body → 400")?;

    // None of the refused requests created anything.
    let r = c.get_reply(&format!("{}/connectors", c.url(f1))).await?;
    expect_json(&r, 200, &json!(["dup"])).context("refused creates leave no connector behind")?;
    let r = c.get_reply(&format!("{}/connectors/dup/config", c.url(f1))).await?;
    expect_json(&r, 200, &named(&source("/tmp/dup"), "dup"))
        .context("a refused duplicate create leaves the config unchanged")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GET /connectors/{c}, GET/PUT/PATCH /connectors/{c}/config, DELETE /connectors/{c}
// ---------------------------------------------------------------------------------------------

cluster_test!(get_connector_and_config, Cluster::new(&[]), scenario_get_connector_and_config);

async fn scenario_get_connector_and_config(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    create(c, f1, "g", &sink("/tmp/g")).await?;
    let url = c.url(f2);

    // Once the connector has generated its task configs (§9.2.1 step 7).
    wait_info(c, f2, "g", &sink("/tmp/g"), "sink", 1)
        .await
        .context("GET /connectors/{c} → 200 ConnectorInfo with task 0")?;
    let r = c.get_reply(&format!("{url}/connectors/g/config")).await?;
    expect_json(&r, 200, &named(&sink("/tmp/g"), "g")).context("GET /connectors/{c}/config → 200 config")?;

    let r = c.get_reply(&format!("{url}/connectors/nope")).await?;
    expect_error(&r, 404, "Connector nope not found").context("GET /connectors/{unknown} → 404")?;
    let r = c.get_reply(&format!("{url}/connectors/nope/config")).await?;
    expect_error(&r, 404, "Connector nope not found").context("GET /connectors/{unknown}/config → 404")?;
    Ok(())
}

cluster_test!(put_connector_config, Cluster::new(&[]), scenario_put_connector_config);

async fn scenario_put_connector_config(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    let put = |node: u64, body: Value| {
        let url = format!("{}/connectors/pc/config", c.url(node));
        async move { c.put_json(&url, &body).await }
    };
    let tasks_url = format!("{}/connectors/pc/tasks", c.url(f1));

    let r = put(f1, source("/tmp/pc1")).await?;
    (|| -> Result<()> {
        ensure!(r.header("location") == Some("/connectors/pc"), "Location: {:?}", r.header("location"));
        expect_created(&r, "pc", &source("/tmp/pc1"), "source", 1)
    })()
    .context("PUT /connectors/{c}/config creating → 201 + Location + ConnectorInfo")?;
    wait_running(c, f2, "pc", "source", 1).await.context("the connector created by PUT runs")?;
    let r = c.get_reply(&tasks_url).await?;
    expect_json(&r, 200, &task_infos("pc", &[source_task_config(&source("/tmp/pc1"))]))
        .context("GET tasks of the created connector")?;

    // The task configs stay in place while the connector restarts with the new config.
    let r = put(f2, named(&source("/tmp/pc2"), "pc")).await?;
    (|| -> Result<()> {
        ensure!(r.header("location").is_none(), "unexpected Location on update: {:?}", r.header("location"));
        expect_json(&r, 200, &info_with_tasks("pc", &source("/tmp/pc2"), "source", 1))
    })()
    .context("PUT /connectors/{c}/config updating → 200 + ConnectorInfo")?;
    let r = c.get_reply(&format!("{}/connectors/pc/config", c.url(f1))).await?;
    expect_json(&r, 200, &named(&source("/tmp/pc2"), "pc")).context("GET config after the update")?;
    let updated = task_infos("pc", &[source_task_config(&source("/tmp/pc2"))]);
    c.get_until(&tasks_url, "task config regenerated from the updated connector config", |r| {
        r.status == 200 && r.body == updated
    })
    .await
    .context("GET /connectors/{c}/tasks after the update")?;
    wait_running(c, f2, "pc", "source", 1).await.context("the updated connector runs")?;

    let mut bad = source("/tmp/pc3");
    bad["tasks.max"] = json!("x");
    let r = put(f1, bad).await?;
    expect_error(
        &r,
        400,
        &invalid_config_message(&["Invalid value x for configuration tasks.max: Not a number of type INT"]),
    )
    .context("PUT /connectors/{c}/config invalid → 400")?;

    let r = put(f1, named(&source("/tmp/pc3"), "other")).await?;
    expect_error(&r, 400, "Connector name configuration (other) doesn't match connector name in the URL (pc)")
        .context("PUT /connectors/{c}/config name mismatch → 400")?;

    let mut with_null = source("/tmp/pc3");
    with_null["file"] = Value::Null;
    let r = put(f1, with_null).await?;
    expect_error(&r, 400, &invalid_config_message(&[NULL_VALUE]))
        .context("PUT /connectors/{c}/config null value → 400")?;

    let r = put(f1, json!({ "tasks.max": "1" })).await?;
    expect_error(&r, 400, "Connector config {name=pc, tasks.max=1} contains no connector type")
        .context("PUT /connectors/{c}/config without connector.class → 400")?;

    let r = c.get_reply(&format!("{}/connectors/pc/config", c.url(f2))).await?;
    expect_json(&r, 200, &named(&source("/tmp/pc2"), "pc")).context("refused PUTs leave the config unchanged")?;
    let r = c.get_reply(&tasks_url).await?;
    expect_json(&r, 200, &updated).context("refused PUTs leave the task configs unchanged")?;
    Ok(())
}

cluster_test!(patch_connector_config, Cluster::new(&[]), scenario_patch_connector_config);

async fn scenario_patch_connector_config(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let mut cfg = sink("/tmp/pa");
    cfg["errors.tolerance"] = json!("all");
    create(c, f1, "pa", &cfg).await?;
    wait_running(c, f2, "pa", "sink", 1).await.context("the connector to patch runs")?;

    let r = c
        .patch_json(
            &format!("{}/connectors/pa/config", c.url(f2)),
            &json!({ "errors.tolerance": null, "file": "/tmp/pa2", "errors.log.enable": "true" }),
        )
        .await?;
    let patched = named(
        &json!({
            "connector.class": "FileStreamSink", "tasks.max": "1", "file": "/tmp/pa2", "topics": "conformance",
            "errors.log.enable": "true",
        }),
        "pa",
    );
    expect_json(
        &r,
        200,
        &json!({ "name": "pa", "config": patched, "tasks": [{ "connector": "pa", "task": 0 }], "type": "sink" }),
    )
    .context("PATCH /connectors/{c}/config: null deletes a key, others set → 200 ConnectorInfo")?;
    let r = c.get_reply(&format!("{}/connectors/pa/config", c.url(f1))).await?;
    expect_json(&r, 200, &patched).context("GET config after PATCH")?;
    let tasks = task_infos("pa", &sink_task_configs("pa", &patched));
    c.get_until(
        &format!("{}/connectors/pa/tasks", c.url(f1)),
        "task config regenerated from the patched config",
        |r| r.status == 200 && r.body == tasks,
    )
    .await
    .context("GET /connectors/{c}/tasks after PATCH")?;

    let r = c.patch_json(&format!("{}/connectors/pa/config", c.url(f2)), &json!({ "topics": null })).await?;
    expect_error(
        &r,
        400,
        &invalid_config_message(&[
            "Must configure one of topics or topics.regex",
            "Must configure one of topics or topics.regex",
        ]),
    )
    .context("PATCH /connectors/{c}/config making it invalid → 400")?;

    let r = c.patch_json(&format!("{}/connectors/nope/config", c.url(f2)), &json!({ "file": "/tmp/x" })).await?;
    expect_error(&r, 404, "Connector nope not found").context("PATCH /connectors/{unknown}/config → 404")?;

    let r = c.get_reply(&format!("{}/connectors/pa/config", c.url(f2))).await?;
    expect_json(&r, 200, &patched).context("refused PATCH leaves the config unchanged")?;
    Ok(())
}

cluster_test!(delete_connector, Cluster::new(&[]), scenario_delete_connector);

async fn scenario_delete_connector(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    create(c, f1, "d", &source("/tmp/d")).await?;
    create(c, f1, "keep", &source("/tmp/k")).await?;

    let r = c.delete(&format!("{}/connectors/d", c.url(f2))).await?;
    expect_empty(&r, 204).context("DELETE /connectors/{c} → 204")?;
    let r = c.get_reply(&format!("{}/connectors/d", c.url(f1))).await?;
    expect_error(&r, 404, "Connector d not found").context("GET /connectors/{c} after DELETE → 404")?;
    let r = c.get_reply(&format!("{}/connectors/d/config", c.url(f1))).await?;
    expect_error(&r, 404, "Connector d not found").context("GET /connectors/{c}/config after DELETE → 404")?;
    // Statuses are local reads (eventually consistent, §1.2), so wait for the 404.
    let url = format!("{}/connectors/d/status", c.url(f2));
    let r = wait_for(DEADLINE, || async { c.get_reply(&url).await.ok().filter(|r| r.status != 200) })
        .await
        .context("GET /connectors/{c}/status kept answering 200 after DELETE")?;
    expect_error(&r, 404, "No status found for connector d")
        .context("GET /connectors/{c}/status after DELETE → 404")?;
    let r = c.get_reply(&format!("{}/connectors", c.url(f1))).await?;
    expect_json(&r, 200, &json!(["keep"])).context("GET /connectors after DELETE")?;

    let r = c.delete(&format!("{}/connectors/d", c.url(f1))).await?;
    expect_error(&r, 404, "Connector d not found").context("DELETE /connectors/{unknown} → 404")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Status and tasks
// ---------------------------------------------------------------------------------------------

cluster_test!(status_and_task_endpoints, Cluster::new(&[]), scenario_status_and_task_endpoints);

async fn scenario_status_and_task_endpoints(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    create(c, f1, "s", &source("/tmp/s")).await?;
    let u2 = c.url(f2);
    let members = c.member_worker_ids();

    // Statuses are read from the local replica (eventually consistent, as in Kafka Connect):
    // wait on each node for the steady state, then compare field by field.
    wait_running(c, f1, "s", "source", 1)
        .await
        .context("GET /connectors/{c}/status → 200, connector and task RUNNING")?;
    wait_running(c, f2, "s", "source", 1).await.context("GET /connectors/{c}/status on another node")?;
    let r = c.get_reply(&format!("{u2}/connectors/nope/status")).await?;
    expect_error(&r, 404, "No status found for connector nope").context("GET /connectors/{unknown}/status → 404")?;

    let s_tasks = [source_task_config(&source("/tmp/s"))];
    let r = c.get_reply(&format!("{u2}/connectors/s/tasks")).await?;
    expect_json(&r, 200, &task_infos("s", &s_tasks)).context("GET /connectors/{c}/tasks → its one task config")?;
    let r = c.get_reply(&format!("{u2}/connectors/nope/tasks")).await?;
    expect_error(&r, 404, "Connector nope not found").context("GET /connectors/{unknown}/tasks → 404")?;

    let r = c.get_reply(&format!("{u2}/connectors/s/tasks-config")).await?;
    expect_json(&r, 200, &tasks_config_map("s", &s_tasks))
        .context("GET /connectors/{c}/tasks-config → {\"s-0\": …}")?;
    let r = c.get_reply(&format!("{u2}/connectors/nope/tasks-config")).await?;
    expect_error(&r, 404, "Connector nope not found").context("GET /connectors/{unknown}/tasks-config → 404")?;

    let r = c
        .get_until(&format!("{u2}/connectors/s/tasks/0/status"), "task 0 RUNNING", |r| {
            r.status == 200 && r.body["state"] == "RUNNING"
        })
        .await?;
    (|| -> Result<()> {
        ensure!(is_json(&r), "not served as application/json: {:?}", r.headers);
        expect_task_state(&r.body, 0, "RUNNING", &members)
    })()
    .context("GET /connectors/{c}/tasks/0/status → 200 TaskState")?;
    let r = c.get_reply(&format!("{u2}/connectors/s/tasks/1/status")).await?;
    expect_error(&r, 404, "No status found for task s-1")
        .context("GET /connectors/{c}/tasks/1/status (no such task) → 404")?;
    let r = c.get_reply(&format!("{u2}/connectors/nope/tasks/0/status")).await?;
    expect_error(&r, 404, "No status found for task nope-0")
        .context("GET /connectors/{unknown}/tasks/0/status → 404")?;

    // §8.1: FileStreamSource has one task whatever tasks.max says (its batch.size is passed
    // on); FileStreamSink has tasks.max copies of its config.
    let mut src3 = source("/tmp/s3");
    src3["tasks.max"] = json!("3");
    src3["batch.size"] = json!("100");
    create(c, f1, "s3", &src3).await?;
    wait_running(c, f2, "s3", "source", 1).await.context("FileStreamSource with tasks.max=3 runs exactly one task")?;
    let r = c.get_reply(&format!("{u2}/connectors/s3/tasks")).await?;
    expect_json(&r, 200, &task_infos("s3", &[source_task_config(&src3)]))
        .context("GET tasks of a FileStreamSource with tasks.max=3")?;

    let mut snk3 = sink("/tmp/k3");
    snk3["tasks.max"] = json!("3");
    create(c, f1, "k3", &snk3).await?;
    wait_running(c, f2, "k3", "sink", 3).await.context("FileStreamSink with tasks.max=3 runs three tasks")?;
    let k3_tasks = sink_task_configs("k3", &snk3);
    let r = c.get_reply(&format!("{u2}/connectors/k3/tasks")).await?;
    expect_json(&r, 200, &task_infos("k3", &k3_tasks)).context("GET tasks of a FileStreamSink with tasks.max=3")?;
    let r = c.get_reply(&format!("{u2}/connectors/k3/tasks-config")).await?;
    expect_json(&r, 200, &tasks_config_map("k3", &k3_tasks))
        .context("GET tasks-config of a FileStreamSink with tasks.max=3")?;
    wait_info(c, f2, "k3", &snk3, "sink", 3).await.context("GET /connectors/{c} lists the three tasks")?;
    for t in 0..3 {
        let r = c
            .get_until(&format!("{u2}/connectors/k3/tasks/{t}/status"), "task RUNNING", |r| {
                r.status == 200 && r.body["state"] == "RUNNING"
            })
            .await?;
        expect_task_state(&r.body, t, "RUNNING", &members)
            .with_context(|| format!("GET /connectors/k3/tasks/{t}/status"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Restart (§2.7)
// ---------------------------------------------------------------------------------------------

cluster_test!(restart_endpoints, Cluster::new(&[]), scenario_restart_endpoints);

async fn scenario_restart_endpoints(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    create(c, f1, "r", &source("/tmp/r")).await?;
    let u1 = c.url(f1);
    let u2 = c.url(f2);
    let members = c.member_worker_ids();
    wait_running(c, f2, "r", "source", 1).await.context("the connector to restart runs")?;

    let r = c.post_empty(&format!("{u2}/connectors/r/restart")).await?;
    expect_empty(&r, 204).context("POST /connectors/{c}/restart → 204")?;

    wait_running(c, f2, "r", "source", 1).await?;
    let r = c.post_empty(&format!("{u2}/connectors/r/restart?includeTasks=true")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 202 && is_json(&r), "HTTP {} {}", r.status, r.text);
        expect_state(&r.body, "r", "source", "RESTARTING", &["RESTARTING"], &members)
    })()
    .context("POST /connectors/{c}/restart?includeTasks=true → 202, connector and task RESTARTING")?;
    // The workers carry it out: the connector was started three times (create, restart,
    // restart with tasks), its task twice.
    wait_for(DEADLINE, || async {
        (c.unit_starts("r").await.ok()? >= 3 && c.unit_starts("r-0").await.ok()? >= 2).then_some(())
    })
    .await
    .context("the restarts never reached the workers (GET /cluster/worker start counts)")?;

    // Nothing has failed: a no-op plan shows no RESTARTING (IT/ConnectorRestartApiIntegrationTest).
    wait_running(c, f1, "r", "source", 1).await?;
    let r = c.post_empty(&format!("{u1}/connectors/r/restart?includeTasks=true&onlyFailed=true")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 202 && is_json(&r), "HTTP {} {}", r.status, r.text);
        expect_state(&r.body, "r", "source", "RUNNING", &["RUNNING"], &members)
    })()
    .context("POST /connectors/{c}/restart?includeTasks=true&onlyFailed=true → 202, no-op plan")?;
    let r = c.post_empty(&format!("{u1}/connectors/r/restart?onlyFailed=true")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 202 && is_json(&r), "HTTP {} {}", r.status, r.text);
        expect_state(&r.body, "r", "source", "RUNNING", &["RUNNING"], &members)
    })()
    .context("POST /connectors/{c}/restart?onlyFailed=true → 202, no-op plan")?;

    let r = c.post_empty(&format!("{u1}/connectors/nope/restart")).await?;
    expect_error(&r, 404, "Unknown connector: nope").context("POST /connectors/{unknown}/restart → 404")?;
    let r = c.post_empty(&format!("{u1}/connectors/nope/restart?includeTasks=true")).await?;
    expect_error(&r, 404, "Unknown connector: nope")
        .context("POST /connectors/{unknown}/restart?includeTasks=true → 404")?;

    let starts = c.unit_starts("r-0").await?;
    let r = c.post_empty(&format!("{u2}/connectors/r/tasks/0/restart")).await?;
    expect_empty(&r, 204).context("POST /connectors/{c}/tasks/0/restart → 204")?;
    wait_for(DEADLINE, || async { (c.unit_starts("r-0").await.ok()? > starts).then_some(()) })
        .await
        .context("the task restart never reached the task's worker")?;
    let r = c.post_empty(&format!("{u2}/connectors/r/tasks/1/restart")).await?;
    expect_error(&r, 404, "Unknown task: r-1").context("POST /connectors/{c}/tasks/1/restart (no such task) → 404")?;
    let r = c.post_empty(&format!("{u2}/connectors/nope/tasks/0/restart")).await?;
    expect_error(&r, 404, "Unknown connector: nope").context("POST /connectors/{unknown}/tasks/0/restart → 404")?;

    // The four accepted requests are in the replicated log; the pending one is the
    // highest-impact request (includeTasks, not onlyFailed).
    let log = c.log(c.leader(f1).await?).await?;
    let commands: Vec<&Value> = log.iter().flat_map(entry_commands).collect();
    let restarts: Vec<&&Value> =
        commands.iter().filter(|c| c["type"] == "request_restart" && c["connector"] == "r").collect();
    ensure!(restarts.len() == 4, "expected 4 request_restart entries for r, got {restarts:?}");
    // `apply` marked the connector and its task for restart (per-unit marks).
    let marks = state(c, f1).await?["restarts"].clone();
    let marked = |unit: Value| marks.as_array().map(|a| a.iter().any(|m| m["unit"] == unit)).unwrap_or(false);
    ensure!(
        marked(json!({"connector": "r"})) && marked(json!({"task": {"connector": "r", "task": 0}})),
        "restart marks of r: {marks}"
    );
    let task_restarts: Vec<&&Value> = commands.iter().filter(|c| c["type"] == "request_task_restart").collect();
    ensure!(
        task_restarts.len() == 1 && task_restarts[0]["connector"] == "r" && task_restarts[0]["task"] == 0,
        "expected exactly the request_task_restart of r-0 in the log (not the refused ones): {task_restarts:?}"
    );
    Ok(())
}

/// The status of a MockSource task that failed (mock_mode=task-failure): FAILED with its trace
/// and the automatic-restart fields; `restarts` ≥ 1 and `next_restart_ms` set.
fn expect_failed_task(t: &Value, members: &[String]) -> Result<()> {
    let restarts = t["restarts"].as_u64().filter(|n| *n >= 1).with_context(|| format!("restarts: {t}"))?;
    let next = t["next_restart_ms"].as_u64().with_context(|| format!("next_restart_ms: {t}"))?;
    let expected = json!({
        "id": 0, "state": "FAILED", "worker_id": member_id(&t["worker_id"], members),
        "trace": MOCK_TASK_FAILURE_TRACE, "restarts": restarts, "next_restart_ms": next,
    });
    ensure!(*t == expected, "expected the failed task {expected}\n                    got {t}");
    Ok(())
}

cluster_test!(restart_only_failed_tasks, Cluster::new(&[]), scenario_restart_only_failed_tasks);

async fn scenario_restart_only_failed_tasks(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    let members = c.member_worker_ids();
    let u2 = c.url(f2);
    let status_url = format!("{u2}/connectors/mf/status");
    let cfg = json!({ "connector.class": MOCK_SOURCE, "mock_mode": "task-failure", "delay_ms": "200" });
    create(c, f1, "mf", &cfg).await?;

    let mut task = named(&cfg, "mf");
    task["task.class"] = json!(MOCK_SOURCE_TASK);
    let tasks = task_infos("mf", &[task]);
    c.get_until(&format!("{u2}/connectors/mf/tasks"), "MockSource's one task config", |r| {
        r.status == 200 && r.body == tasks
    })
    .await
    .context("GET /connectors/{c}/tasks of a MockSource → one copy of its config + task.class")?;

    // The task fails after delay_ms: FAILED with its trace; the connector stays RUNNING.
    let failed = |b: &Value| b["connector"]["state"] == "RUNNING" && b["tasks"][0]["state"] == "FAILED";
    let r = c.get_until(&status_url, "task 0 FAILED", |r| r.status == 200 && failed(&r.body)).await?;
    let first = r.body["tasks"][0].clone();
    (|| -> Result<()> {
        let expected = json!({
            "name": "mf", "connector": { "state": "RUNNING", "worker_id": member_id(&r.body["connector"]["worker_id"], &members) },
            "tasks": [first], "type": "source",
        });
        ensure!(r.body == expected, "status: {}", r.text);
        expect_failed_task(&first, &members)
    })()
    .context("GET /connectors/{c}/status: the failed task carries trace, restarts and next_restart_ms")?;
    let r = c
        .get_until(&format!("{u2}/connectors/mf/tasks/0/status"), "task 0 FAILED", |r| {
            r.status == 200 && r.body["state"] == "FAILED"
        })
        .await?;
    expect_failed_task(&r.body, &members).context("GET /connectors/{c}/tasks/0/status of the failed task")?;

    // raftconnect restarts failed units with backoff: after an automatic restart the task
    // reports how often it was restarted (RUNNING again, or failed once more).
    let n = first["restarts"].as_u64().unwrap_or(0);
    let r = c
        .get_until(&status_url, "an automatic restart of task 0", |r| {
            let t = &r.body["tasks"][0];
            r.status == 200
                && ((t["state"] == "RUNNING" && t["restarts"].as_u64() >= Some(1))
                    || (t["state"] == "FAILED" && t["restarts"].as_u64() > Some(n)))
        })
        .await?;
    (|| -> Result<()> {
        let t = &r.body["tasks"][0];
        if t["state"] == "RUNNING" {
            let expected = json!({ "id": 0, "state": "RUNNING", "worker_id": member_id(&t["worker_id"], &members), "restarts": t["restarts"] });
            ensure!(*t == expected, "expected {expected}, got {t}");
            Ok(())
        } else {
            expect_failed_task(t, &members)
        }
    })()
    .context("the automatically restarted task reports restarts ≥ 1")?;

    // While the task is FAILED (its next automatic restart well ahead, so that the status cannot
    // change under the request), restart plans computed on the same node.
    let failed_for_a_while = |r: &Reply| {
        r.status == 200
            && failed(&r.body)
            && r.body["tasks"][0]["next_restart_ms"].as_i64().map(|t| t > now_ms() + 500).unwrap_or(false)
    };
    let snapshot = c.get_until(&status_url, "task 0 FAILED for at least 500 ms more", failed_for_a_while).await?.body;
    let r = c.post_empty(&format!("{u2}/connectors/mf/restart?onlyFailed=true")).await?;
    expect_json(&r, 202, &snapshot)
        .context("POST /connectors/{c}/restart?onlyFailed=true with a healthy connector → 202, nothing RESTARTING (tasks not included)")?;

    let snapshot = c.get_until(&status_url, "task 0 FAILED for at least 500 ms more", failed_for_a_while).await?.body;
    let mut plan = snapshot.clone();
    plan["tasks"][0]["state"] = json!("RESTARTING");
    let starts = c.unit_starts("mf-0").await?;
    let r = c.post_empty(&format!("{u2}/connectors/mf/restart?includeTasks=true&onlyFailed=true")).await?;
    expect_json(&r, 202, &plan)
        .context("POST /connectors/{c}/restart?includeTasks=true&onlyFailed=true → 202, the failed task RESTARTING, the connector not")?;
    wait_for(DEADLINE, || async { (c.unit_starts("mf-0").await.ok()? > starts).then_some(()) })
        .await
        .context("the failed task was never restarted by the request (GET /cluster/worker start count)")?;
    ensure!(c.unit_starts("mf").await? == 1, "the healthy connector was restarted by an onlyFailed request");
    // Only the failed task carries a restart mark; the healthy connector never got one.
    let marks = state(c, f1).await?["restarts"].clone();
    let marked = |unit: Value| marks.as_array().map(|a| a.iter().any(|m| m["unit"] == unit)).unwrap_or(false);
    ensure!(
        marked(json!({"task": {"connector": "mf", "task": 0}})) && !marked(json!({"connector": "mf"})),
        "restart marks of mf: {marks}"
    );
    Ok(())
}

cluster_test!(
    /// §2.7: every accepted restart request is carried out, whatever requests came before it. (In
    /// Kafka Connect "highest impact wins" only among requests still pending on a worker.)
    a_restart_request_after_a_higher_impact_one_is_carried_out,
    // Without automatic restarts a failed task stays FAILED until a request restarts it.
    Cluster::new(&["--no-auto-restart"]),
    scenario_a_restart_request_after_a_higher_impact_one_is_carried_out
);

async fn scenario_a_restart_request_after_a_higher_impact_one_is_carried_out(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    let u2 = c.url(f2);
    // The task runs 2 s before it fails, long enough to see it RUNNING after each restart.
    let cfg = json!({ "connector.class": MOCK_SOURCE, "mock_mode": "task-failure", "delay_ms": "2000" });
    create(c, f1, "hi", &cfg).await?;
    let status_url = format!("{u2}/connectors/hi/status");
    let task_in = |state: &'static str| move |r: &Reply| r.status == 200 && r.body["tasks"][0]["state"] == state;
    c.get_until(&status_url, "task 0 FAILED", task_in("FAILED")).await?;

    // The highest-impact request (connector and all tasks) is carried out.
    let starts = c.unit_starts("hi-0").await?;
    let r = c.post_empty(&format!("{u2}/connectors/hi/restart?includeTasks=true")).await?;
    ensure!(r.status == 202, "POST …/restart?includeTasks=true: HTTP {} {}", r.status, r.text);
    wait_for(DEADLINE, || async { (c.unit_starts("hi-0").await.ok()? > starts).then_some(()) })
        .await
        .context("restart?includeTasks=true never restarted the task")?;
    c.get_until(&status_url, "the restarted task 0 RUNNING", task_in("RUNNING")).await?;
    c.get_until(&status_url, "the restarted task 0 FAILED again", task_in("FAILED")).await?;

    // A later onlyFailed request for the failed task, promised as RESTARTING, is carried out too.
    let starts = c.unit_starts("hi-0").await?;
    let r = c.post_empty(&format!("{u2}/connectors/hi/restart?includeTasks=true&onlyFailed=true")).await?;
    ensure!(
        r.status == 202 && r.body["tasks"][0]["state"] == "RESTARTING",
        "POST …/restart?includeTasks=true&onlyFailed=true: HTTP {} {}",
        r.status,
        r.text
    );
    wait_for(DEADLINE, || async { (c.unit_starts("hi-0").await.ok()? > starts).then_some(()) }).await.context(
        "restart?includeTasks=true&onlyFailed=true after restart?includeTasks=true never restarted the failed task",
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pause, resume, stop (§2.5)
// ---------------------------------------------------------------------------------------------

cluster_test!(pause_resume_and_stop, Cluster::new(&[]), scenario_pause_resume_and_stop);

async fn scenario_pause_resume_and_stop(c: &mut Cluster) -> Result<()> {
    let (leader, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    create(c, f1, "p", &source("/tmp/p")).await?;
    let u1 = c.url(f1);
    let u2 = c.url(f2);
    let members = c.member_worker_ids();
    let p_tasks = task_infos("p", &[source_task_config(&source("/tmp/p"))]);
    wait_running(c, f2, "p", "source", 1).await.context("the connector to pause runs")?;

    let r = c.put_empty(&format!("{u1}/connectors/p/pause")).await?;
    expect_empty(&r, 202).context("PUT /connectors/{c}/pause → 202")?;
    ensure!(target_state(c, f2, "p").await? == "PAUSED", "target state after pause");
    // §9.2.6: every node reports the connector and its task PAUSED.
    for node in [f2, leader, f1] {
        wait_state(c, node, "p", "source", "PAUSED", &["PAUSED"])
            .await
            .with_context(|| format!("a paused connector reports connector and task PAUSED on node {node}"))?;
    }
    let r = c
        .get_until(&format!("{u2}/connectors/p/tasks/0/status"), "task 0 PAUSED", |r| {
            r.status == 200 && r.body["state"] == "PAUSED"
        })
        .await?;
    expect_task_state(&r.body, 0, "PAUSED", &members).context("GET /connectors/{c}/tasks/0/status of a paused task")?;
    let r = c.get_reply(&format!("{u2}/connectors/p")).await?;
    expect_json(&r, 200, &info_with_tasks("p", &source("/tmp/p"), "source", 1))
        .context("a PAUSED connector keeps its tasks")?;
    let r = c.put_empty(&format!("{u2}/connectors/p/pause")).await?;
    expect_empty(&r, 202).context("PUT /connectors/{c}/pause again → 202 (idempotent)")?;
    ensure!(target_state(c, f1, "p").await? == "PAUSED", "target state after a second pause");
    wait_state(c, f1, "p", "source", "PAUSED", &["PAUSED"]).await.context("still PAUSED after a second pause")?;

    let r = c.put_empty(&format!("{u2}/connectors/p/resume")).await?;
    expect_empty(&r, 202).context("PUT /connectors/{c}/resume → 202")?;
    ensure!(target_state(c, f1, "p").await? == "RUNNING", "target state after resume");
    for node in [f1, leader, f2] {
        wait_running(c, node, "p", "source", 1)
            .await
            .with_context(|| format!("a resumed connector and its task RUNNING on node {node}"))?;
    }

    let r = c.put_empty(&format!("{u1}/connectors/p/stop")).await?;
    expect_empty(&r, 204).context("PUT /connectors/{c}/stop → 204")?;
    ensure!(target_state(c, f2, "p").await? == "STOPPED", "target state after stop");
    let r = c.put_empty(&format!("{u2}/connectors/p/stop")).await?;
    expect_empty(&r, 204).context("PUT /connectors/{c}/stop again → 204 (idempotent)")?;
    // §2.4: the tasks of a STOPPED connector do not exist (its connector state is checked by
    // stopped_connectors_report_stopped).
    let r = c.get_reply(&format!("{u2}/connectors/p")).await?;
    expect_json(&r, 200, &info("p", &source("/tmp/p"), "source")).context("a STOPPED connector has zero tasks")?;
    let r = c.get_reply(&format!("{u2}/connectors/p/tasks")).await?;
    expect_json(&r, 200, &json!([])).context("GET /connectors/{c}/tasks of a STOPPED connector → []")?;
    let r = c.get_reply(&format!("{u2}/connectors/p/tasks-config")).await?;
    expect_json(&r, 200, &json!({})).context("GET /connectors/{c}/tasks-config of a STOPPED connector → {}")?;
    for node in [f1, leader, f2] {
        let url = format!("{}/connectors/p/status", c.url(node));
        c.get_until(&url, "no task statuses", |r| r.status == 200 && r.body["tasks"] == json!([])).await.with_context(
            || format!("GET /connectors/{{c}}/status of a STOPPED connector lists no tasks on node {node}"),
        )?;
        let url = format!("{}/connectors/p/tasks/0/status", c.url(node));
        let r = c.get_until(&url, "no task status", |r| r.status != 200).await?;
        expect_error(&r, 404, "No status found for task p-0").with_context(|| {
            format!("GET /connectors/{{c}}/tasks/0/status of a STOPPED connector → 404 on node {node}")
        })?;
    }

    // §2.5: pausing a STOPPED connector pauses it with zero tasks; resuming regenerates them.
    let r = c.put_empty(&format!("{u1}/connectors/p/pause")).await?;
    expect_empty(&r, 202).context("PUT /connectors/{c}/pause from STOPPED → 202")?;
    ensure!(target_state(c, f2, "p").await? == "PAUSED", "target state after pausing a stopped connector");
    wait_state(c, f2, "p", "source", "PAUSED", &[]).await.context("a STOPPED connector paused: PAUSED with 0 tasks")?;
    let r = c.get_reply(&format!("{u2}/connectors/p")).await?;
    expect_json(&r, 200, &info("p", &source("/tmp/p"), "source")).context("paused from STOPPED: still zero tasks")?;
    let r = c.put_empty(&format!("{u1}/connectors/p/resume")).await?;
    expect_empty(&r, 202).context("PUT /connectors/{c}/resume → 202")?;
    ensure!(target_state(c, f2, "p").await? == "RUNNING", "target state after resuming");
    wait_running(c, f2, "p", "source", 1)
        .await
        .context("resumed from STOPPED/PAUSED: connector and a regenerated task RUNNING")?;
    let r = c.get_reply(&format!("{u2}/connectors/p/tasks")).await?;
    expect_json(&r, 200, &p_tasks).context("resumed: the task config is regenerated")?;

    for action in ["pause", "resume", "stop"] {
        let r = c.put_empty(&format!("{u2}/connectors/nope/{action}")).await?;
        expect_error(&r, 404, "Unknown connector nope")
            .with_context(|| format!("PUT /connectors/{{unknown}}/{action} → 404"))?;
    }
    Ok(())
}

cluster_test!(
    /// §2.1/§2.2/§2.5: a STOPPED connector reports the state STOPPED (written by the worker it is
    /// assigned to) and no tasks — whether it was stopped while running or created STOPPED.
    stopped_connectors_report_stopped,
    Cluster::new(&[]),
    scenario_stopped_connectors_report_stopped
);

async fn scenario_stopped_connectors_report_stopped(c: &mut Cluster) -> Result<()> {
    let (leader, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    create(c, f1, "was-running", &sink("/tmp/wr")).await?;
    wait_running(c, f2, "was-running", "sink", 1).await.context("the connector to stop runs")?;
    let r = c.put_empty(&format!("{}/connectors/was-running/stop", c.url(f2))).await?;
    expect_empty(&r, 204).context("PUT /connectors/{c}/stop → 204")?;

    let r = c
        .post_json(
            &format!("{}/connectors", c.url(f1)),
            &json!({ "name": "born-stopped", "config": source("/tmp/bs"), "initial_state": "STOPPED" }),
        )
        .await?;
    expect_json(&r, 201, &info("born-stopped", &source("/tmp/bs"), "source"))
        .context("POST /connectors initial_state=STOPPED → 201")?;

    for node in [f1, leader, f2] {
        wait_state(c, node, "was-running", "sink", "STOPPED", &[]).await.with_context(|| {
            format!("a connector stopped while RUNNING reports STOPPED with no tasks on node {node}")
        })?;
        wait_state(c, node, "born-stopped", "source", "STOPPED", &[])
            .await
            .with_context(|| format!("a connector created STOPPED reports STOPPED with no tasks on node {node}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Topics (KIP-558)
// ---------------------------------------------------------------------------------------------

cluster_test!(active_topics, Cluster::new(&[]), scenario_active_topics);

async fn scenario_active_topics(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    create(c, f1, "t", &sink("/tmp/t")).await?;
    let url = format!("{}/connectors/t/topics", c.url(f2));
    let r = wait_for(DEADLINE, || async { c.get_reply(&url).await.ok().filter(|r| r.status == 200) })
        .await
        .context("GET /connectors/{c}/topics never 200 on the other follower")?;
    expect_json(&r, 200, &json!({ "t": { "topics": [] } })).context("GET /connectors/{c}/topics → 200")?;
    let r = c.put_empty(&format!("{}/connectors/t/topics/reset", c.url(f2))).await?;
    expect_empty(&r, 202).context("PUT /connectors/{c}/topics/reset → 202")?;

    // Kafka Connect reads the status store without an existence check: no 404 (§1.3 #19, #20).
    let r = c.get_reply(&format!("{}/connectors/nope/topics", c.url(f1))).await?;
    expect_json(&r, 200, &json!({ "nope": { "topics": [] } }))
        .context("GET /connectors/{unknown}/topics → 200 empty")?;
    let r = c.put_empty(&format!("{}/connectors/nope/topics/reset", c.url(f1))).await?;
    expect_empty(&r, 202).context("PUT /connectors/{unknown}/topics/reset → 202")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Offsets (§5.4, KIP-875; initial offsets at create time, KIP-995)
// ---------------------------------------------------------------------------------------------

const NOT_STOPPED: &str = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint";
const NEED_OFFSETS: &str = "Partitions / offsets need to be provided for an alter offsets request";
const ALTERED: &str = "The offsets for this connector have been altered successfully";
const RESET: &str = "The offsets for this connector have been reset successfully";

cluster_test!(source_connector_offsets, Cluster::new(&[]), scenario_source_connector_offsets);

async fn scenario_source_connector_offsets(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let u1 = c.url(f1);
    let u2 = c.url(f2);
    let offsets = format!("{u2}/connectors/src/offsets");

    let initial = json!({ "partition": { "filename": "/tmp/src" }, "offset": { "position": 30 } });
    let r = c
        .post_json(
            &format!("{u1}/connectors"),
            &json!({ "name": "src", "config": source("/tmp/src"), "offsets": [initial] }),
        )
        .await?;
    expect_created(&r, "src", &source("/tmp/src"), "source", 1)
        .context("POST /connectors with initial offsets → 201")?;

    let r = c.get_reply(&offsets).await?;
    expect_json(&r, 200, &json!({ "offsets": [initial] })).context("GET /connectors/{c}/offsets (source shape)")?;
    let r = c.get_reply(&format!("{u2}/connectors/nope/offsets")).await?;
    expect_error(&r, 404, "Connector nope not found").context("GET /connectors/{unknown}/offsets → 404")?;

    let alter = json!({ "offsets": [
        { "partition": { "filename": "/tmp/src" }, "offset": { "position": 42 } },
        { "partition": { "filename": "/tmp/other" }, "offset": { "position": 7 } },
    ]});
    let r = c.patch_json(&offsets, &alter).await?;
    expect_error(&r, 400, NOT_STOPPED).context("PATCH /connectors/{c}/offsets while RUNNING → 400")?;
    let r = c.delete(&offsets).await?;
    expect_error(&r, 400, NOT_STOPPED).context("DELETE /connectors/{c}/offsets while RUNNING → 400")?;
    c.put_empty(&format!("{u1}/connectors/src/pause")).await?;
    let r = c.patch_json(&offsets, &alter).await?;
    expect_error(&r, 400, NOT_STOPPED).context("PATCH /connectors/{c}/offsets while PAUSED → 400")?;

    let r = c.put_empty(&format!("{u1}/connectors/src/stop")).await?;
    expect_empty(&r, 204).context("PUT /connectors/{c}/stop")?;

    let r = c.patch_json(&offsets, &json!({})).await?;
    expect_error(&r, 400, NEED_OFFSETS).context("PATCH /connectors/{c}/offsets without offsets → 400")?;
    let r = c.patch_json(&offsets, &json!({ "offsets": [] })).await?;
    expect_error(&r, 400, NEED_OFFSETS).context("PATCH /connectors/{c}/offsets with an empty list → 400")?;
    let r = c.patch_json(&format!("{u2}/connectors/nope/offsets"), &alter).await?;
    expect_error(&r, 404, "Connector nope not found").context("PATCH /connectors/{unknown}/offsets → 404")?;

    let r = c.patch_json(&offsets, &alter).await?;
    expect_json(&r, 200, &json!({ "message": ALTERED })).context("PATCH /connectors/{c}/offsets when STOPPED → 200")?;
    let r = c.get_reply(&format!("{u1}/connectors/src/offsets")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        expect_same_elements(&r.body["offsets"], alter["offsets"].as_array().unwrap())
    })()
    .context("GET /connectors/{c}/offsets after PATCH shows the new offsets")?;

    // A null offset removes one partition.
    let r = c
        .patch_json(&offsets, &json!({ "offsets": [{ "partition": { "filename": "/tmp/other" }, "offset": null }] }))
        .await?;
    expect_json(&r, 200, &json!({ "message": ALTERED }))
        .context("PATCH /connectors/{c}/offsets with a null offset → 200")?;
    let r = c.get_reply(&offsets).await?;
    expect_json(&r, 200, &json!({ "offsets": [alter["offsets"][0]] }))
        .context("GET offsets after removing one partition")?;

    let r = c.delete(&offsets).await?;
    expect_json(&r, 200, &json!({ "message": RESET })).context("DELETE /connectors/{c}/offsets when STOPPED → 200")?;
    let r = c.get_reply(&format!("{u1}/connectors/src/offsets")).await?;
    expect_json(&r, 200, &json!({ "offsets": [] })).context("GET /connectors/{c}/offsets after reset → empty")?;
    let r = c.delete(&format!("{u2}/connectors/nope/offsets")).await?;
    expect_error(&r, 404, "Connector nope not found").context("DELETE /connectors/{unknown}/offsets → 404")?;
    Ok(())
}

cluster_test!(sink_connector_offsets, Cluster::new(&[]), scenario_sink_connector_offsets);

async fn scenario_sink_connector_offsets(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let u1 = c.url(f1);
    let offsets = format!("{}/connectors/snk/offsets", c.url(f2));

    let initial =
        json!({ "partition": { "kafka_topic": "conformance", "kafka_partition": 0 }, "offset": { "kafka_offset": 5 } });
    let r = c
        .post_json(
            &format!("{u1}/connectors"),
            &json!({ "name": "snk", "config": sink("/tmp/snk"), "initial_state": "STOPPED", "offsets": [initial] }),
        )
        .await?;
    expect_json(&r, 201, &info("snk", &sink("/tmp/snk"), "sink"))
        .context("POST /connectors (sink, STOPPED, initial offsets) → 201")?;
    let r = c.get_reply(&offsets).await?;
    expect_json(&r, 200, &json!({ "offsets": [initial] })).context("GET /connectors/{c}/offsets (sink shape)")?;

    // §5.4 format errors, each exact.
    let cases = [
        (
            json!({ "partition": null, "offset": { "kafka_offset": 1 } }),
            "The partition for a sink connector offset cannot be null or missing",
        ),
        (
            json!({ "offset": { "kafka_offset": 1 } }),
            "The partition for a sink connector offset cannot be null or missing",
        ),
        (
            json!({ "partition": { "kafka_topic": "t" }, "offset": { "kafka_offset": 1 } }),
            "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
        ),
        (
            json!({ "partition": { "kafka_topic": null, "kafka_partition": 0 }, "offset": { "kafka_offset": 1 } }),
            "Kafka topic names must be valid strings and may not be null",
        ),
        (
            json!({ "partition": { "kafka_topic": "t", "kafka_partition": null }, "offset": { "kafka_offset": 1 } }),
            "Kafka partitions must be valid numbers and may not be null",
        ),
        (
            json!({ "partition": { "kafka_topic": "t", "kafka_partition": 0 }, "offset": { "position": 1 } }),
            "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
        ),
    ];
    for (entry, message) in &cases {
        let r = c.patch_json(&offsets, &json!({ "offsets": [entry] })).await?;
        expect_error(&r, 400, message).with_context(|| format!("PATCH sink offsets {entry} → 400"))?;
    }
    // The same checks refuse bad initial offsets at create time, and nothing is created.
    let r = c
        .post_json(
            &format!("{u1}/connectors"),
            &json!({ "name": "snk2", "config": sink("/tmp/snk2"), "offsets": [cases[2].0] }),
        )
        .await?;
    expect_error(&r, 400, cases[2].1).context("POST /connectors with malformed sink offsets → 400")?;
    let r = c.get_reply(&format!("{u1}/connectors/snk2")).await?;
    expect_error(&r, 404, "Connector snk2 not found").context("a refused create with offsets creates nothing")?;

    // Numbers given as strings are accepted (SinkUtils parses String.valueOf); null resets one.
    let r = c
        .patch_json(
            &offsets,
            &json!({ "offsets": [
                { "partition": { "kafka_topic": "conformance", "kafka_partition": "1" }, "offset": { "kafka_offset": "7" } },
                { "partition": { "kafka_topic": "conformance", "kafka_partition": 0 }, "offset": null },
            ]}),
        )
        .await?;
    expect_json(&r, 200, &json!({ "message": ALTERED })).context("PATCH sink offsets → 200")?;
    let r = c.get_reply(&format!("{u1}/connectors/snk/offsets")).await?;
    expect_json(
        &r,
        200,
        &json!({ "offsets": [{ "partition": { "kafka_topic": "conformance", "kafka_partition": 1 }, "offset": { "kafka_offset": 7 } }] }),
    )
    .context("GET sink offsets after PATCH")?;

    let r = c.delete(&offsets).await?;
    expect_json(&r, 200, &json!({ "message": RESET })).context("DELETE sink offsets → 200")?;
    let r = c.get_reply(&offsets).await?;
    expect_json(&r, 200, &json!({ "offsets": [] })).context("GET sink offsets after reset → empty")?;

    // Resumed, it may no longer be altered.
    c.put_empty(&format!("{u1}/connectors/snk/resume")).await?;
    let r = c.delete(&offsets).await?;
    expect_error(&r, 400, &NOT_STOPPED.replace("/connectors/src/stop", "/connectors/snk/stop"))
        .context("DELETE sink offsets after resume → 400")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Connector plugins (§1.3 #24–#26, §9.2.1)
// ---------------------------------------------------------------------------------------------

fn tasks_max_definition() -> Value {
    json!({
        "name": "tasks.max", "type": "INT", "required": false, "default_value": "1", "importance": "HIGH",
        "documentation": "Maximum number of tasks to use for this connector.", "group": "Common", "order": 3,
        "width": "SHORT", "display_name": "Tasks max", "dependents": [],
    })
}

fn names_of(list: &[Value], f: impl Fn(&Value) -> &Value) -> Vec<String> {
    let mut v: Vec<String> = list.iter().filter_map(|x| f(x).as_str().map(str::to_string)).collect();
    v.sort();
    v
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

const SOURCE_KEYS: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "key.converter",
    "value.converter",
    "header.converter",
    "batch.size",
    "topic",
    "file",
    "transforms",
    "config.action.reload",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.tolerance",
    "errors.log.enable",
    "errors.log.include.messages",
    "predicates",
    "topic.creation.groups",
    "exactly.once.support",
    "transaction.boundary",
    "transaction.boundary.interval.ms",
    "offsets.storage.topic",
    "tasks.max.enforce",
];

const SINK_KEYS: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "key.converter",
    "value.converter",
    "header.converter",
    "topics",
    "file",
    "transforms",
    "topics.regex",
    "config.action.reload",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.tolerance",
    "errors.log.enable",
    "errors.log.include.messages",
    "errors.deadletterqueue.topic.name",
    "errors.deadletterqueue.topic.replication.factor",
    "errors.deadletterqueue.context.headers.enable",
    "predicates",
    "tasks.max.enforce",
];

cluster_test!(connector_plugins_list_and_config, Cluster::new(&[]), scenario_connector_plugins_list_and_config);

async fn scenario_connector_plugins_list_and_config(c: &mut Cluster) -> Result<()> {
    let (_, f, _) = setup(c).await?;
    let url = c.url(f);

    let r = c.get_reply(&format!("{url}/connector-plugins")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && is_json(&r), "HTTP {} {}", r.status, r.text);
        let list = r.body.as_array().context("not an array")?;
        let pairs: Vec<(String, String)> = list
            .iter()
            .map(|p| (p["class"].as_str().unwrap_or("").into(), p["type"].as_str().unwrap_or("").into()))
            .collect();
        let expected: Vec<(String, String)> =
            [
                (FSINK, "sink"),
                (FSOURCE, "source"),
                (MOCK_SOURCE, "source"),
                (MOCK_SINK, "sink"),
                ("org.apache.kafka.connect.tools.VerifiableSinkConnector", "sink"),
                ("org.apache.kafka.connect.tools.VerifiableSourceConnector", "source"),
                ("org.raftconnect.tools.DatagenSourceConnector", "source"),
                ("org.raftconnect.tools.IdleSourceConnector", "source"),
            ]
                .iter()
                .map(|(c, t)| (c.to_string(), t.to_string()))
                .collect();
        ensure!(pairs == expected, "connector plugins: {}", r.text);
        for p in list {
            let keys: Vec<&String> = p.as_object().context("plugin not an object")?.keys().collect();
            ensure!(keys.len() == 3, "plugin entry has fields {keys:?}");
            ensure!(p["version"].as_str().map(|v| !v.is_empty()).unwrap_or(false), "plugin version: {p}");
        }
        Ok(())
    })()
    .context("GET /connector-plugins → exactly the FileStream, Mock, Verifiable, Datagen and Idle connectors (default connectorsOnly=true)")?;
    let connectors_only = r.body.clone();
    let r = c.get_reply(&format!("{url}/connector-plugins?connectorsOnly=true")).await?;
    expect_json(&r, 200, &connectors_only).context("GET /connector-plugins?connectorsOnly=true")?;

    let r = c.get_reply(&format!("{url}/connector-plugins?connectorsOnly=false")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        let list = r.body.as_array().context("not an array")?;
        for p in connectors_only.as_array().unwrap() {
            ensure!(list.contains(p), "connectorsOnly=false lacks {p}");
        }
        for (class, ty) in [
            ("org.apache.kafka.connect.json.JsonConverter", "converter"),
            ("org.apache.kafka.connect.storage.StringConverter", "converter"),
            ("org.apache.kafka.connect.converters.ByteArrayConverter", "converter"),
            ("org.apache.kafka.connect.json.JsonConverter", "header_converter"),
            ("org.apache.kafka.connect.storage.SimpleHeaderConverter", "header_converter"),
        ] {
            ensure!(
                list.iter().any(|p| p["class"] == class && p["type"] == ty),
                "connectorsOnly=false lacks {class} ({ty})"
            );
        }
        Ok(())
    })()
    .context("GET /connector-plugins?connectorsOnly=false includes converters")?;

    // GET /connector-plugins/{plugin}/config: the plugin's own keys first, then the framework's.
    let r = c.get_reply(&format!("{url}/connector-plugins/{FSOURCE}/config")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && is_json(&r), "HTTP {} {}", r.status, r.text);
        let list = r.body.as_array().context("not an array")?;
        let first: Vec<&str> = list.iter().take(3).filter_map(|k| k["name"].as_str()).collect();
        ensure!(first == ["file", "topic", "batch.size"], "the plugin's own keys come first: {first:?}");
        ensure!(
            names_of(list, |k| &k["name"]) == sorted(SOURCE_KEYS),
            "source plugin config names: {:?}",
            names_of(list, |k| &k["name"])
        );
        let tm = list.iter().find(|k| k["name"] == "tasks.max").context("no tasks.max")?;
        ensure!(*tm == tasks_max_definition(), "tasks.max definition: {tm}");
        let topic = list.iter().find(|k| k["name"] == "topic").context("no topic")?;
        ensure!(
            topic["type"] == "LIST"
                && topic["required"] == true
                && topic["default_value"].is_null()
                && topic["importance"] == "HIGH"
                && topic["documentation"] == "The topic to publish data to",
            "topic definition: {topic}"
        );
        Ok(())
    })()
    .context("GET /connector-plugins/{FQCN}/config (source)")?;
    let by_fqcn = r.body.clone();
    for alias in ["FileStreamSource", "FileStreamSourceConnector"] {
        let r = c.get_reply(&format!("{url}/connector-plugins/{alias}/config")).await?;
        expect_json(&r, 200, &by_fqcn)
            .with_context(|| format!("GET /connector-plugins/{alias}/config equals the FQCN's"))?;
    }
    let r = c.get_reply(&format!("{url}/connector-plugins/FileStreamSink/config")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        let list = r.body.as_array().context("not an array")?;
        ensure!(list.first().map(|k| k["name"] == "file").unwrap_or(false), "sink's own key first: {}", r.text);
        ensure!(names_of(list, |k| &k["name"]) == sorted(SINK_KEYS), "sink plugin config names");
        Ok(())
    })()
    .context("GET /connector-plugins/FileStreamSink/config (alias)")?;
    let r = c.get_reply(&format!("{url}/connector-plugins/org.apache.kafka.connect.json.JsonConverter/config")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        let names = names_of(r.body.as_array().context("not an array")?, |k| &k["name"]);
        ensure!(
            names.contains(&"schemas.enable".to_string()) && !names.contains(&"tasks.max".to_string()),
            "{names:?}"
        );
        Ok(())
    })()
    .context("GET /connector-plugins/{converter}/config: its own keys, no connector keys")?;

    let r = c.get_reply(&format!("{url}/connector-plugins/com.example.Nope/config")).await?;
    expect_error(&r, 404, "Unknown plugin com.example.Nope.")
        .context("GET /connector-plugins/{unknown}/config → 404")?;
    Ok(())
}

cluster_test!(validate_connector_configs, Cluster::new(&[]), scenario_validate_connector_configs);

async fn scenario_validate_connector_configs(c: &mut Cluster) -> Result<()> {
    let (_, f, _) = setup(c).await?;
    let c: &Cluster = c;
    let validate = |plugin: &str, body: Value| {
        let url = format!("{}/connector-plugins/{plugin}/config/validate", c.url(f));
        async move { c.put_json(&url, &body).await }
    };

    // §9.2.1 step 3, the source template.
    let r = validate(FSOURCE, source_template()).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && is_json(&r), "HTTP {} {}", r.status, r.text);
        ensure!(r.body["name"] == FSOURCE, "name: {}", r.body["name"]);
        ensure!(r.body["error_count"] == 0, "error_count: {}", r.body["error_count"]);
        let configs = r.body["configs"].as_array().context("no configs")?;
        let names = names_of(configs, |x| &x["definition"]["name"]);
        ensure!(names == sorted(SOURCE_KEYS), "config names {names:?}");
        ensure!(
            r.body["groups"]
                == json!([
                    "Common",
                    "Transforms",
                    "Predicates",
                    "Error Handling",
                    "Topic Creation",
                    "Exactly Once Support",
                    "offsets.topic"
                ]),
            "groups: {}",
            r.body["groups"]
        );
        let tm = configs.iter().find(|x| x["definition"]["name"] == "tasks.max").context("no tasks.max")?;
        let expected = json!({
            "definition": tasks_max_definition(),
            "value": { "name": "tasks.max", "value": "1", "recommended_values": [], "errors": [], "visible": true },
        });
        ensure!(*tm == expected, "tasks.max ConfigInfo: {tm}");
        let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
        ensure!(keys.len() == 4, "ConfigInfos fields: {keys:?}");
        Ok(())
    })()
    .context("PUT /connector-plugins/{FQCN}/config/validate (source template) → 200, 0 errors, §9.2.1 key set")?;

    let r = validate(FSINK, sink_template()).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        ensure!(r.body["name"] == FSINK && r.body["error_count"] == 0, "name/error_count: {}", r.text);
        let names = names_of(r.body["configs"].as_array().context("no configs")?, |x| &x["definition"]["name"]);
        ensure!(names == sorted(SINK_KEYS), "config names {names:?}");
        ensure!(
            r.body["groups"] == json!(["Common", "Transforms", "Predicates", "Error Handling"]),
            "groups: {}",
            r.body["groups"]
        );
        Ok(())
    })()
    .context("PUT /connector-plugins/{FQCN}/config/validate (sink template) → 200, 0 errors, §9.2.1 key set")?;

    let r = validate("FileStreamSink", json!({ "connector.class": "FileStreamSink", "name": "v", "tasks.max": "0" }))
        .await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        ensure!(
            r.body["name"] == "FileStreamSink" && r.body["error_count"] == 3,
            "name/error_count: {} {}",
            r.body["name"],
            r.body["error_count"]
        );
        let configs = r.body["configs"].as_array().context("no configs")?;
        let errors =
            |k: &str| configs.iter().find(|x| x["definition"]["name"] == k).map(|x| x["value"]["errors"].clone());
        ensure!(
            errors("tasks.max")
                == Some(json!(["Invalid value 0 for configuration tasks.max: Value must be at least 1"])),
            "tasks.max errors"
        );
        ensure!(errors("topics") == Some(json!(["Must configure one of topics or topics.regex"])), "topics errors");
        ensure!(
            errors("topics.regex") == Some(json!(["Must configure one of topics or topics.regex"])),
            "topics.regex errors"
        );
        ensure!(errors("name") == Some(json!([])), "name errors");
        Ok(())
    })()
    .context("PUT …/validate with a bad config → 200 with the errors")?;

    let r = validate(
        "FileStreamSink",
        json!({ "connector.class": "FileStreamSink", "name": "v", "topics": "t", "file": null, "not.a.key": null }),
    )
    .await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && r.body["error_count"] == 2, "HTTP {} error_count {}", r.status, r.body["error_count"]);
        let configs = r.body["configs"].as_array().context("no configs")?;
        let file = configs.iter().find(|x| x["definition"]["name"] == "file").context("no file")?;
        ensure!(file["value"]["errors"] == json!([NULL_VALUE]), "file: {file}");
        let unknown = configs.iter().find(|x| x["value"]["name"] == "not.a.key").context("no entry for not.a.key")?;
        ensure!(
            *unknown
                == json!({ "definition": null, "value": { "name": "not.a.key", "value": null, "recommended_values": [], "errors": [NULL_VALUE], "visible": true } }),
            "not.a.key: {unknown}"
        );
        Ok(())
    })()
    .context("PUT …/validate with null values → 200, one error per null (undefined keys with definition null)")?;

    let r = validate("FileStreamSourceConnector", sink_template()).await?;
    expect_error(
        &r,
        400,
        &format!("Included connector type {FSINK} does not match request type FileStreamSourceConnector"),
    )
    .context("PUT …/validate with a mismatched connector.class → 400")?;

    let r = validate("FileStreamSource", json!({ "name": "v" })).await?;
    expect_error(&r, 400, "Connector config {name=v} contains no connector type")
        .context("PUT …/validate without connector.class → 400")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Loggers (KIP-495, KIP-976; §9.2.9)
// ---------------------------------------------------------------------------------------------

cluster_test!(admin_loggers, Cluster::new(&[]), scenario_admin_loggers);

async fn scenario_admin_loggers(c: &mut Cluster) -> Result<()> {
    let (leader, f1, f2) = setup(c).await?;
    let (u1, u2) = (c.url(f1), c.url(f2));
    let initial = json!({ "root": { "level": "INFO", "last_modified": null } });

    let r = c.get_reply(&format!("{u1}/admin/loggers")).await?;
    expect_json(&r, 200, &initial).context("GET /admin/loggers initially → root only, last_modified null")?;

    let before = now_ms();
    let r = c.put_json(&format!("{u1}/admin/loggers/org.example.conformance"), &json!({ "level": "debug" })).await?;
    expect_json(&r, 200, &json!(["org.example.conformance"]))
        .context("PUT /admin/loggers/{l} (worker scope) → 200 affected list")?;
    let r = c.get_reply(&format!("{u1}/admin/loggers")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        ensure!(r.body["root"] == initial["root"], "root changed: {}", r.text);
        let l = &r.body["org.example.conformance"];
        ensure!(l["level"] == "DEBUG", "level: {l}");
        ensure!(l["last_modified"].as_i64().map(|t| t >= before).unwrap_or(false), "last_modified {l} < {before}");
        ensure!(r.body.as_object().unwrap().len() == 2, "{}", r.text);
        Ok(())
    })()
    .context("GET /admin/loggers after a worker-scope change")?;
    let modified = r.body["org.example.conformance"]["last_modified"].clone();
    let r = c.get_reply(&format!("{u1}/admin/loggers/org.example.conformance")).await?;
    expect_json(&r, 200, &json!({ "level": "DEBUG", "last_modified": modified })).context("GET /admin/loggers/{l}")?;
    let r = c.get_reply(&format!("{u1}/admin/loggers/org.example.conformance.child")).await?;
    expect_json(&r, 200, &json!({ "level": "DEBUG", "last_modified": null }))
        .context("GET /admin/loggers/{child}: effective level")?;
    let r = c.get_reply(&format!("{u2}/admin/loggers")).await?;
    expect_json(&r, 200, &initial).context("a worker-scope change does not reach other nodes")?;

    let r =
        c.put_json(&format!("{u1}/admin/loggers/org.example.scoped?scope=bogus"), &json!({ "level": "WARN" })).await?;
    expect_json(&r, 200, &json!(["org.example.scoped"]))
        .context("PUT /admin/loggers/{l}?scope=bogus → treated as worker scope")?;

    let before = now_ms();
    let r = c
        .put_json(&format!("{u1}/admin/loggers/org.example.cluster?scope=cluster"), &json!({ "level": "WARN" }))
        .await?;
    expect_empty(&r, 204).context("PUT /admin/loggers/{l}?scope=cluster → 204")?;
    for node in [f2, leader, f1] {
        let url = format!("{}/admin/loggers", c.url(node));
        let l = wait_for(DEADLINE, || async {
            let r = c.get_reply(&url).await.ok()?;
            let l = r.body["org.example.cluster"].clone();
            (l["level"] == "WARN").then_some(l)
        })
        .await
        .with_context(|| format!("the cluster-scope level never reached node {node}"))?;
        ensure!(
            l["last_modified"].as_i64().map(|t| t >= before).unwrap_or(false),
            "node {node}: last_modified of a cluster-scope change: {l}"
        );
    }

    let r = c.put_json(&format!("{u2}/admin/loggers/org.example.conformance"), &json!({})).await?;
    expect_error(&r, 400, "Desired 'level' parameter was not specified in request.")
        .context("PUT /admin/loggers/{l} without level → 400")?;
    let r = c.put_json(&format!("{u2}/admin/loggers/org.example.conformance"), &json!({ "level": "x" })).await?;
    expect_error(&r, 404, "invalid log level 'x'.").context("PUT /admin/loggers/{l} with an invalid level → 404")?;
    let r = c
        .put_json(&format!("{u2}/admin/loggers/org.example.conformance?scope=cluster"), &json!({ "level": "x" }))
        .await?;
    expect_error(&r, 404, "invalid log level 'x'.")
        .context("PUT /admin/loggers/{l}?scope=cluster with an invalid level → 404")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Consistency and availability
// ---------------------------------------------------------------------------------------------

cluster_test!(
    config_written_through_one_follower_is_immediately_readable_on_the_other,
    Cluster::new(&[]),
    scenario_config_written_through_one_follower_is_immediately_readable_on_the_other
);

async fn scenario_config_written_through_one_follower_is_immediately_readable_on_the_other(
    c: &mut Cluster,
) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let (u1, u2) = (c.url(f1), c.url(f2));
    for i in 0..15 {
        let cfg = source(&format!("/tmp/lin-{i}"));
        let r = c.put_json(&format!("{u1}/connectors/lin/config"), &cfg).await?;
        ensure!(r.status == if i == 0 { 201 } else { 200 }, "PUT #{i}: HTTP {} {}", r.status, r.text);
        // No polling: the very next read on the other follower must see the write.
        let r = c.get_reply(&format!("{u2}/connectors/lin/config")).await?;
        expect_json(&r, 200, &named(&cfg, "lin"))
            .with_context(|| format!("read #{i} on the other follower is stale"))?;
    }
    create(c, f2, "lin-2", &sink("/tmp/lin")).await?;
    let r = c.get_reply(&format!("{u1}/connectors")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        expect_same_elements(&r.body, &[json!("lin"), json!("lin-2")])
    })()
    .context("a create through one follower is immediately listed on the other")?;
    let r = c.delete(&format!("{u2}/connectors/lin")).await?;
    expect_empty(&r, 204)?;
    let r = c.get_reply(&format!("{u1}/connectors/lin")).await?;
    expect_error(&r, 404, "Connector lin not found")
        .context("a delete through one follower is immediately visible on the other")?;
    Ok(())
}

cluster_test!(
    without_a_leader_writes_and_reads_answer_409_and_health_is_unhealthy,
    Cluster::new(&[]),
    scenario_without_a_leader_writes_and_reads_answer_409_and_health_is_unhealthy
);

async fn scenario_without_a_leader_writes_and_reads_answer_409_and_health_is_unhealthy(c: &mut Cluster) -> Result<()> {
    let (leader, survivor, other) = setup(c).await?;
    create(c, survivor, "before", &source("/tmp/before")).await?;
    let before =
        wait_running(c, survivor, "before", "source", 1).await.context("the connector runs before the outage")?;
    c.node(leader).kill();
    c.node(other).kill();
    let url = c.url(survivor);

    let health = format!("{url}/health");
    let r = wait_for(DEADLINE, || async { c.get_reply(&health).await.ok().filter(|r| r.status == 500) })
        .await
        .context("GET /health on a node without a leader never answered 500")?;
    (|| -> Result<()> {
        ensure!(r.body["status"] == "unhealthy", "{}", r.text);
        let msg = r.body["message"].as_str().unwrap_or_default();
        ensure!(
            msg.starts_with("Worker was unable to handle this request and may be unable to handle other requests."),
            "{msg}"
        );
        ensure!(r.body.as_object().map(|o| o.len()) == Some(2), "{}", r.text);
        Ok(())
    })()
    .context("GET /health without a leader → 500 unhealthy WorkerStatus")?;

    // Both wait for a leader up to the node's request timeout (10 s), concurrently.
    let write_url = format!("{url}/connectors");
    let write_body = json!({ "name": "during-outage", "config": source("/tmp/o") });
    let list_url = format!("{url}/connectors");
    let (w, r) = tokio::join!(c.post_json(&write_url, &write_body), c.get_reply(&list_url));
    expect_error(&w?, 409, NO_LEADER).context("POST /connectors without a leader → 409")?;
    expect_error(&r?, 409, NO_LEADER).context("GET /connectors (linearizable) without a leader → 409")?;

    // Local reads still answer, with the last statuses this node has seen.
    let r = c.get_reply(&format!("{url}/connectors/before/status")).await?;
    expect_json(&r, 200, &before)
        .context("GET /connectors/{c}/status (local) without a leader → 200, the last known status")?;
    Ok(())
}
