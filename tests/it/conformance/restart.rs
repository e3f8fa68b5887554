//! Restart: `POST /connectors/{c}/restart[?includeTasks&onlyFailed]` (KIP-745) and
//! `POST /connectors/{c}/tasks/{t}/restart`.

use super::*;

const MOCK_SOURCE_TASK: &str = "org.apache.kafka.connect.tools.MockSourceTask";
const MOCK_TASK_FAILURE_TRACE: &str =
    "org.apache.kafka.connect.errors.ConnectException: Mock task failed (mock_mode=task-failure)";

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
    /// Every accepted restart request is carried out, whatever requests came before it. (In Kafka
    /// Connect a worker keeps one pending request per connector, the "highest impact" one, but
    /// only among requests still pending on it.)
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
