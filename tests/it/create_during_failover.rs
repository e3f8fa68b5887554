//! Creating a connector on a follower while the leader is being killed: the request either
//! fails with a clear error or the connector exists exactly once afterwards — never twice,
//! never lost after a 201.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};

use crate::harness::*;

const ROUNDS: u64 = 5;

cluster_test!(
    create_on_a_follower_while_the_leader_is_killed_is_never_duplicated_or_lost,
    Cluster::new(&[]),
    scenario,
    false
);

cluster_test!(
    /// The same, and afterwards every node reports every connector and its task RUNNING (exactly,
    /// without failures or restarts: a leader change is routine, not a connector failure).
    after_creates_during_leader_kills_every_connector_reports_running,
    Cluster::new(&[]),
    scenario,
    true
);

async fn scenario(c: &mut Cluster, check_statuses: bool) -> Result<()> {
    c.form(3).await?;
    c.wait_voters(1, 3).await?;
    let seed = RandomState::new();
    let mut statuses = Vec::new();

    for round in 0..ROUNDS {
        let (leader, followers) = c.roles(1).await?;
        let via = followers[(round as usize) % followers.len()];
        let name = format!("failover-{round}");
        // Round 0 kills at once; the others after a random 0–10 ms (a forwarded create takes
        // about 5–20 ms here), so that the kill lands before, during or after the write.
        let delay_us = if round == 0 { 0 } else { seed.hash_one(round) % 10_000 };

        let http = c.http.clone();
        let url = format!("{}/connectors", c.url(via));
        let body = json!({ "name": name, "config": {
            "connector.class": "FileStreamSource", "topic": "t", "file": format!("/tmp/{name}"),
        }});
        let started = Instant::now();
        let request = tokio::spawn(async move {
            let resp = http.post(&url).json(&body).send().await?;
            let status = resp.status().as_u16();
            let text = resp.text().await?;
            Ok::<_, reqwest::Error>((status, text))
        });
        // Deliberate jitter before the kill, not a wait for some state.
        tokio::time::sleep(Duration::from_micros(delay_us)).await;
        c.node(leader).kill();
        let (status, text) = request
            .await?
            .with_context(|| format!("round {round}: the follower {via} gave no HTTP answer (empty reply)"))?;
        let latency = started.elapsed();

        // A new leader among the survivors.
        let survivor = via;
        let new_leader =
            wait_for(DEADLINE, || async { c.status(survivor).await.ok()?["leader"].as_u64().filter(|l| *l != leader) })
                .await
                .with_context(|| format!("round {round}: no new leader after killing {leader}"))?;

        // Linearizable reads through the new leader: the list, the state, and its log (a
        // leader's log is never truncated, and after the read barrier all of it is committed).
        let list_url = format!("{}/connectors", c.url(new_leader));
        let list = wait_for(DEADLINE, || async {
            let (code, body) = c.get(&list_url).await.ok()?;
            (code == 200).then_some(body)
        })
        .await
        .with_context(|| format!("round {round}: GET /connectors never answered on the new leader"))?;
        let occurrences = list.as_array().map(|a| a.iter().filter(|n| **n == json!(name)).count()).unwrap_or(0);
        let exists = occurrences > 0;
        let state = c.get(&format!("{}/cluster/state", c.url(new_leader))).await?.1;
        let log = c.log(new_leader).await?;
        let create_entries: Vec<u64> = log
            .iter()
            .filter(|e| {
                e["kind"] == "command"
                    && entry_commands(e).iter().any(|c| c["type"] == "create_connector" && c["name"] == json!(name))
            })
            .filter_map(|e| e["index"].as_u64())
            .collect();
        eprintln!(
            "create during failover, round {round}: kill after {delay_us} µs, HTTP {status} after {latency:?}, \
             exists={exists}, create entries {create_entries:?}, body {text}"
        );

        ensure!(occurrences <= 1, "round {round}: {name} listed {occurrences} times: {list}");
        let logged = !create_entries.is_empty();
        ensure!(exists == logged, "round {round}: exists={exists} but the log has create entries {create_entries:?}");
        if let Some(first) = create_entries.first() {
            let created = state["state"]["connectors"][&name]["created_index"].as_u64();
            ensure!(
                created == Some(*first),
                "round {round}: created_index {created:?} is not the first create entry {first} (entries {create_entries:?})"
            );
        }
        match status {
            201 => {
                ensure!(exists, "round {round}: HTTP 201 but {name} does not exist (lost after a 201)");
                let body: Value =
                    serde_json::from_str(&text).with_context(|| format!("round {round}: 201 body {text:?}"))?;
                ensure!(body["name"] == json!(name) && body["type"] == "source", "round {round}: 201 body {body}");
            }
            409 | 500 => {
                let body: Value = serde_json::from_str(&text)
                    .with_context(|| format!("round {round}: HTTP {status} without a JSON error body: {text:?}"))?;
                let message = body["message"].as_str().unwrap_or_default();
                ensure!(
                    body["error_code"] == json!(status)
                        && !message.is_empty()
                        && body.as_object().map(|o| o.len()) == Some(2),
                    "round {round}: HTTP {status} with an unclear error body: {text}"
                );
            }
            other => bail!("round {round}: unexpected HTTP {other}: {text}"),
        }
        statuses.push(status);

        // Bring the killed node back before the next round.
        c.start(leader, &[]);
        c.wait_up(leader).await?;
        c.wait_members(new_leader, &[1, 2, 3]).await?;
        c.wait_voters(new_leader, 3).await?;
    }

    // Every replica converges on the same set of connectors.
    let (leader, _) = c.roles(1).await?;
    let expected = c.get(&format!("{}/cluster/state", c.url(leader))).await?.1["state"]["connectors"].clone();
    let names: Vec<String> = expected.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    for id in 1..=3 {
        let url = format!("{}/cluster/state?consistency=local", c.url(id));
        wait_for(DEADLINE, || async {
            let s = c.get(&url).await.ok()?.1;
            let local: Vec<String> = s["state"]["connectors"].as_object()?.keys().cloned().collect();
            (local == names).then_some(())
        })
        .await
        .with_context(|| format!("node {id} never converged on the connectors {names:?}"))?;
    }

    // Every connector that exists runs, once: its connector and its one FileStreamSource task
    // each run on exactly one node's worker (never twice, never lost after a 201).
    let c: &Cluster = c;
    for name in &names {
        for unit in [name.clone(), format!("{name}-0")] {
            let last = std::cell::RefCell::new(Vec::new());
            let last = &last;
            let unit = &unit;
            wait_for(DEADLINE, || async move {
                let mut on = Vec::new();
                for id in 1..=3u64 {
                    let units = c.get(&format!("{}/cluster/worker", c.url(id))).await.ok()?.1["units"].clone();
                    if units.as_array()?.iter().any(|u| u["unit"] == json!(unit) && u["running"] == true) {
                        on.push(id);
                    }
                }
                *last.borrow_mut() = on.clone();
                (on.len() == 1).then_some(())
            })
            .await
            .with_context(|| {
                format!("{unit} never ran on exactly one node; last seen running on {:?}", last.borrow())
            })?;
        }
    }

    if check_statuses {
        // Every node reports each connector and its task RUNNING on members, each on the
        // worker its status names.
        let members = c.member_worker_ids();
        for name in &names {
            for id in 1..=3 {
                let url = format!("{}/connectors/{name}/status", c.url(id));
                let running = |b: &Value| {
                    b["connector"]["state"] == "RUNNING"
                        && b["tasks"].as_array().map(|t| t.len() == 1 && t[0]["state"] == "RUNNING").unwrap_or(false)
                };
                let r = c
                    .get_until(&url, &format!("{name} RUNNING with its task on node {id}"), |r| {
                        r.status == 200 && running(&r.body)
                    })
                    .await?;
                let (cw, tw) = (
                    r.body["connector"]["worker_id"].as_str().unwrap_or(""),
                    r.body["tasks"][0]["worker_id"].as_str().unwrap_or(""),
                );
                ensure!(
                    members.iter().any(|m| m == cw) && members.iter().any(|m| m == tw),
                    "{name}: worker ids not members {members:?}: {}",
                    r.text
                );
                let expected = json!({
                    "name": name, "connector": { "state": "RUNNING", "worker_id": cw },
                    "tasks": [{ "id": 0, "state": "RUNNING", "worker_id": tw }], "type": "source",
                });
                ensure!(r.body == expected, "{name}: status on node {id}: {}", r.text);
            }
            for unit in [name.clone(), format!("{name}-0")] {
                wait_for(DEADLINE, || async {
                    let r = c.get_reply(&format!("{}/connectors/{name}/status", c.url(1))).await.ok()?;
                    let w = if unit == *name {
                        &r.body["connector"]["worker_id"]
                    } else {
                        &r.body["tasks"][0]["worker_id"]
                    };
                    c.runs_unit(w.as_str()?, &unit).await.ok()?.then_some(())
                })
                .await
                .with_context(|| format!("{unit} is not running on the worker its status names"))?;
            }
        }
    }
    eprintln!("create during failover: answers {statuses:?}; connectors now {names:?}, each unit running once");
    Ok(())
}
