//! `GET /`, `GET /health`, unknown paths.

use super::*;

cluster_test!(root_health_and_unknown_paths, Cluster::new(&[]), scenario_root_health_and_unknown_paths);

async fn scenario_root_health_and_unknown_paths(c: &mut Cluster) -> Result<()> {
    let (_, f, _) = setup(c).await?;
    let url = c.url(f);

    let r = c.get_reply(&format!("{url}/")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && is_json(&r), "HTTP {} {}", r.status, r.text);
        ensure!(r.body["version"] == json!(env!("CARGO_PKG_VERSION")), "version: {}", r.text);
        ensure!(r.body["commit"].as_str().map(|s| !s.is_empty()).unwrap_or(false), "commit: {}", r.text);
        // Kafka Connect answers the Kafka cluster's id, a string; there is no Kafka cluster here, so
        // only the field's presence is checked.
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
