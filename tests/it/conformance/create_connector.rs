//! `POST /connectors`.

use super::*;

cluster_test!(create_connector_success_cases, Cluster::new(&[]), scenario_create_connector_success_cases);

async fn scenario_create_connector_success_cases(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    let url = c.url(f1);

    // Kafka's system-test source template (its config carries its own name).
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

    // What Kafka's connect_rest_test reads back after the create (the connector, its config, its
    // tasks), on the other follower, once the connectors generated their tasks.
    wait_info(c, f2, "local-file-source", &source_template(), "source", 1)
        .await
        .context("GET created source on another node → ConnectorInfo with task 0")?;
    let r = c.get_reply(&format!("{}/connectors/local-file-source/config", c.url(f2))).await?;
    expect_json(&r, 200, &source_template()).context("GET created source config on another node")?;
    let r = c.get_reply(&format!("{}/connectors/local-file-source/tasks", c.url(f2))).await?;
    // The `${file:…}` reference stays unresolved in the task config, as in Kafka Connect.
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

    // initial_state (KIP-980) → the target state (RUNNING, PAUSED, STOPPED), and what the runtime
    // makes of it.
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
                // Task configs are only generated by a started connector (as in Kafka Connect): PAUSED,
                // 0 tasks.
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
    .context("POST /connectors invalid config → 400 with Kafka Connect's error-list message")?;

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
