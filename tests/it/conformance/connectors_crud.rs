//! `GET /connectors/{c}`, `GET/PUT/PATCH /connectors/{c}/config`, `DELETE /connectors/{c}` (the
//! create is in `create_connector`).

use super::*;

cluster_test!(get_connector_and_config, Cluster::new(&[]), scenario_get_connector_and_config);

async fn scenario_get_connector_and_config(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    create(c, f1, "g", &sink("/tmp/g")).await?;
    let url = c.url(f2);

    // Once the connector has generated its task configs (as Kafka's connect_rest_test reads it).
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
    // Statuses are local reads (eventually consistent, as in Kafka Connect), so wait for the 404.
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
