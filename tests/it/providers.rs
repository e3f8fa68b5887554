//! Config providers on a real node: a worker `--config` with `config.providers=file,env`; a
//! connector whose config refers to `${file:…:token}` runs with the resolved value while the
//! REST API, the replicated log and the state show only the placeholder; a placeholder that
//! cannot be resolved fails the connector with a trace naming it, and no secret.

use anyhow::{ensure, Result};
use serde_json::json;

use crate::harness::*;

/// The secret in the provider's file: it must appear nowhere a node shows or stores configs.
const SECRET: &str = "s3cr3t-t0ken-7d1f";

const MOCK: &str = "org.apache.kafka.connect.tools.MockSourceConnector";

async fn scenario(c: &mut Cluster) -> Result<()> {
    let secrets = c.dir.path().join("secrets");
    std::fs::create_dir(&secrets)?;
    let file = secrets.join("secrets.properties");
    std::fs::write(&file, format!("token={SECRET}\nmode=task-failure\n"))?;
    let cfg = c.dir.path().join("worker.properties");
    std::fs::write(
        &cfg,
        format!(
            "config.providers=file,env\n\
             config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n\
             config.providers.file.param.allowed.paths={}\n\
             config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider\n\
             config.providers.env.param.allowlist.pattern=RAFTCONNECT_IT_.*\n",
            secrets.display()
        ),
    )?;
    c.flags = vec!["--config".into(), cfg.to_string_lossy().into_owned()];
    c.form(1).await?;
    let base = c.url(1);

    // A key the Mock connector ignores and whose name does not look secret, so the views do
    // not redact it: a resolved value there would show.
    let placeholder = format!("${{file:{}:token}}", file.display());
    let upstream = format!("https://svc:{placeholder}@upstream.example/x");
    post_connector(c, 1, "ok", json!({ "connector.class": MOCK, "tasks.max": "1", "upstream.url": upstream })).await?;

    // Runs: the connector started with the resolved config and published its task config.
    let status = format!("{base}/connectors/ok/status");
    c.get_until(&status, "ok and its task RUNNING", |r| {
        r.status == 200
            && r.body["connector"]["state"] == "RUNNING"
            && r.body["tasks"].as_array().is_some_and(|t| t.len() == 1 && t[0]["state"] == "RUNNING")
    })
    .await?;

    // The REST API returns the placeholder, in the connector config and the task config.
    let r = c.get_reply(&format!("{base}/connectors/ok/config")).await?;
    ensure!(r.status == 200 && r.body["upstream.url"] == json!(upstream), "GET config: {}", r.text);
    let r = c.get_reply(&format!("{base}/connectors/ok/tasks")).await?;
    ensure!(r.status == 200, "GET tasks: {}", r.text);
    ensure!(r.body[0]["config"]["upstream.url"] == json!(upstream), "task config keeps the placeholder: {}", r.text);

    // The log and the state hold the placeholder (the task configs reverse-transformed) and
    // never the secret.
    let log = c.get_reply(&format!("{base}/cluster/log?from=1&limit=10000")).await?;
    ensure!(log.status == 200, "GET /cluster/log: {}", log.text);
    let task_configs_written = log.body["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(entry_commands)
        .any(|cmd| cmd["type"] == "put_task_configs" && cmd.to_string().contains(&placeholder));
    ensure!(task_configs_written, "no put_task_configs entry with the placeholder in the log: {}", log.text);
    ensure!(log.text.contains(&placeholder), "the log has no placeholder: {}", log.text);
    ensure!(!log.text.contains(SECRET), "the secret is in the log: {}", log.text);
    let state = c.get_reply(&format!("{base}/cluster/state")).await?;
    ensure!(state.status == 200, "GET /cluster/state: {}", state.text);
    ensure!(state.text.contains(&placeholder), "the state has no placeholder: {}", state.text);
    ensure!(!state.text.contains(SECRET), "the secret is in the state: {}", state.text);

    // The task resolves its own config when it starts: its stored `mock_mode` is the
    // placeholder, and only the value the task sees (`task-failure`) makes it fail. A value a
    // provider resolved counts as a secret: the failure trace shows it hidden.
    let mode = format!("${{file:{}:mode}}", file.display());
    post_connector(
        c,
        1,
        "resolved",
        json!({ "connector.class": MOCK, "tasks.max": "1", "mock_mode": mode, "delay_ms": "0" }),
    )
    .await?;
    let r = c
        .get_until(&format!("{base}/connectors/resolved/status"), "resolved's task FAILED", |r| {
            r.status == 200 && r.body["connector"]["state"] == "RUNNING" && r.body["tasks"][0]["state"] == "FAILED"
        })
        .await?;
    let trace = r.body["tasks"][0]["trace"].as_str().unwrap_or("");
    ensure!(trace.contains("Mock task failed (mock_mode=[hidden])"), "the task saw the resolved mock_mode: {trace}");
    let r = c.get_reply(&format!("{base}/connectors/resolved/tasks")).await?;
    ensure!(r.body[0]["config"]["mock_mode"] == json!(mode), "task config keeps the placeholder: {}", r.text);

    // A missing key fails the connector with a trace that names the placeholder and the key,
    // although another key of the same config resolved to the secret first.
    let missing = format!("${{file:{}:no.such.key}}", file.display());
    post_connector(
        c,
        1,
        "bad",
        json!({ "connector.class": MOCK, "tasks.max": "1", "a.first": placeholder, "upstream.url": missing }),
    )
    .await?;
    let r = c
        .get_until(&format!("{base}/connectors/bad/status"), "bad FAILED", |r| {
            r.status == 200 && r.body["connector"]["state"] == "FAILED"
        })
        .await?;
    let trace = r.body["connector"]["trace"].as_str().unwrap_or("").to_string();
    ensure!(trace.contains(&missing), "the trace names the placeholder: {trace}");
    ensure!(trace.contains("config key upstream.url"), "the trace names the config key: {trace}");
    ensure!(trace.contains("no key no.such.key"), "the trace names the missing key: {trace}");
    ensure!(!trace.contains(SECRET), "the trace shows the secret: {trace}");
    // The failed connector never published task configs.
    let r = c.get_reply(&format!("{base}/connectors/bad/tasks")).await?;
    ensure!(r.body.as_array().is_none_or(|t| t.is_empty()), "bad has task configs: {}", r.text);

    // The node's own log shows no secret either.
    let node_log = without_colours(&std::fs::read_to_string(&c.nodes[&1].log_path)?);
    ensure!(!node_log.contains(SECRET), "the node's log shows the secret");
    Ok(())
}

cluster_test!(placeholders_are_stored_raw_and_resolved_where_the_unit_runs, Cluster::new(&[]), scenario);

/// A worker config naming a provider without its class is refused at start, naming the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_without_a_class_refuses_the_worker_config() {
    let mut c = Cluster::new(&[]);
    let cfg = c.dir.path().join("worker.properties");
    std::fs::write(&cfg, "config.providers=file\n").expect("write worker config");
    c.flags = vec!["--config".into(), cfg.to_string_lossy().into_owned()];
    c.add_node(1);
    c.start(1, &["--bootstrap".into()]);
    let status = c.node(1).wait_exit(DEADLINE);
    let log = without_colours(&c.nodes[&1].log_tail());
    assert!(status.is_some_and(|s| !s.success()), "the node should exit with an error; log:\n{log}");
    assert!(log.contains("config.providers.file.class"), "the error names the key; log:\n{log}");
}
