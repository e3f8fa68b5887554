//! Loggers: `/admin/loggers` (KIP-495), with cluster scope (KIP-976).

use super::*;

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
