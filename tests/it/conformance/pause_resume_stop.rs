//! Pause, resume, stop: the target states PAUSED, RUNNING (Kafka's STARTED) and STOPPED.

use super::*;

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
    // Every node reports the connector and its task PAUSED (as Kafka's system test
    // test_pause_and_resume_source requires of every worker's REST API).
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
    // In Kafka Connect a STOPPED connector's tasks do not exist: its task configs are set to `[]`
    // (its connector state is checked by stopped_connectors_report_stopped).
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

    // In Kafka Connect pausing a STOPPED connector pauses it with zero tasks; resuming it
    // regenerates them.
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
    /// A STOPPED connector reports the state STOPPED (in Kafka Connect the worker it is assigned to
    /// writes it, and a stopped connector's tasks disappear from the status) and no tasks — whether it was stopped while running or created STOPPED.
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
