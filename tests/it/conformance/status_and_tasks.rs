//! Status and tasks: `GET /connectors/{c}/status`, `/tasks`, `/tasks-config`,
//! `/tasks/{t}/status`.

use super::*;

/// `GET /connectors/{c}/tasks-config`: `{"c-0":{…},…}`.
fn tasks_config_map(name: &str, configs: &[Value]) -> Value {
    Value::Object(configs.iter().enumerate().map(|(i, c)| (format!("{name}-{i}"), c.clone())).collect())
}

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

    // Kafka's FileStreamSource has one task whatever tasks.max says (its batch.size is passed
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
