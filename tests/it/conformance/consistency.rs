//! Consistency and availability: reads after writes through other nodes; no leader.

use super::*;

const NO_LEADER: &str =
    "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.";

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
