//! `GET /connectors[?expand=status&expand=info]`.

use super::*;

cluster_test!(
    list_connectors_with_and_without_expand,
    Cluster::new(&[]),
    scenario_list_connectors_with_and_without_expand
);

async fn scenario_list_connectors_with_and_without_expand(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let c: &Cluster = c;
    let list = |q: &str| format!("{}/connectors{q}", c.url(f2));

    let r = c.get_reply(&list("")).await?;
    expect_json(&r, 200, &json!([])).context("GET /connectors on an empty cluster → []")?;

    create(c, f1, "a", &source("/tmp/a")).await?;
    create(c, f1, "b", &sink("/tmp/b")).await?;
    // The runtime starts both; wait for that steady state on the listing node first.
    wait_running(c, f2, "a", "source", 1).await.context("a never RUNNING with its task")?;
    wait_running(c, f2, "b", "sink", 1).await.context("b never RUNNING with its task")?;
    let (info_a, info_b) =
        (info_with_tasks("a", &source("/tmp/a"), "source", 1), info_with_tasks("b", &sink("/tmp/b"), "sink", 1));
    let members = c.member_worker_ids();

    let r = c.get_reply(&list("")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        expect_same_elements(&r.body, &[json!("a"), json!("b")])
    })()
    .context("GET /connectors → the names")?;

    // The expanded listing: exactly the asked-for parts per connector; statuses RUNNING on
    // members (each read waits for that steady state, as the planner may still move a unit).
    let expanded = |q: &'static str, status: bool, info: bool| {
        let (info_a, info_b, members) = (info_a.clone(), info_b.clone(), members.clone());
        async move {
            let running = |b: &Value| ["a", "b"].iter().all(|n| in_states(&b[n]["status"], "RUNNING", &["RUNNING"]));
            let r = c
                .get_until(&list(q), "a listing with both connectors RUNNING", |r| {
                    r.status == 200 && (!status || running(&r.body))
                })
                .await?;
            ensure!(is_json(&r), "not served as application/json: {:?}", r.headers);
            let obj = r.body.as_object().with_context(|| format!("not a map: {}", r.text))?;
            ensure!(obj.keys().collect::<Vec<_>>() == ["a", "b"], "connectors: {}", r.text);
            for (name, ty, inf) in [("a", "source", &info_a), ("b", "sink", &info_b)] {
                let entry = r.body[name].as_object().with_context(|| format!("{name}: {}", r.text))?;
                let mut keys: Vec<&str> = entry.keys().map(String::as_str).collect();
                keys.sort();
                let want: Vec<&str> =
                    [("info", info), ("status", status)].iter().filter(|(_, w)| *w).map(|(k, _)| *k).collect();
                ensure!(keys == want, "{name}: expanded parts {keys:?}, expected {want:?}");
                if info {
                    ensure!(r.body[name]["info"] == *inf, "{name} info: expected {inf}\n got {}", r.body[name]["info"]);
                }
                if status {
                    expect_state(&r.body[name]["status"], name, ty, "RUNNING", &["RUNNING"], &members)?;
                }
            }
            Ok::<_, anyhow::Error>(())
        }
    };
    expanded("?expand=status", true, false).await.context("GET /connectors?expand=status")?;
    expanded("?expand=info", false, true).await.context("GET /connectors?expand=info")?;
    expanded("?expand=status&expand=info", true, true).await.context("GET /connectors?expand=status&expand=info")?;
    expanded("?expand=info&expand=status", true, true).await.context("GET /connectors?expand=info&expand=status")?;
    expanded("?expand=status&expand=bogus", true, false)
        .await
        .context("GET /connectors?expand=status&expand=bogus: the unknown expansion is ignored")?;
    let r = c.get_reply(&list("?expand=bogus")).await?;
    expect_json(&r, 200, &json!({ "a": {}, "b": {} }))
        .context("GET /connectors?expand=bogus: map form, nothing expanded (Kafka Connect's listConnectors)")?;
    Ok(())
}
