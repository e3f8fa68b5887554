//! Active topics: `GET /connectors/{c}/topics`, `PUT /connectors/{c}/topics/reset` (KIP-558).

use super::*;

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

    // Kafka Connect reads the status store without an existence check: no 404 for an unknown
    // connector, from either endpoint.
    let r = c.get_reply(&format!("{}/connectors/nope/topics", c.url(f1))).await?;
    expect_json(&r, 200, &json!({ "nope": { "topics": [] } }))
        .context("GET /connectors/{unknown}/topics → 200 empty")?;
    let r = c.put_empty(&format!("{}/connectors/nope/topics/reset", c.url(f1))).await?;
    expect_empty(&r, 202).context("PUT /connectors/{unknown}/topics/reset → 202")?;
    Ok(())
}
