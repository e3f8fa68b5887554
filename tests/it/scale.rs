//! The control plane at a size CI can afford (issue 9): 3,000 units on 3 nodes, created by 8
//! concurrent REST clients. While creating, running and idling nothing may be lost to the
//! control plane itself: no election (the term stays), no unit stopped by a lease or started
//! twice, no batch refused for its size. The big figures (10,000 units, kills, restarts) are in
//! scripts/bench/scale.sh, not here.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

use crate::harness::{cluster_test, entry_commands, wait_for, Cluster};

const CONNECTORS: usize = 300;
const TASKS: usize = 9;
const UNITS: usize = CONNECTORS * (1 + TASKS);

/// Unit → (node, starts) from every node's `GET /cluster/worker`, units running only.
async fn running(c: &Cluster) -> Result<BTreeMap<String, Vec<(u64, u64)>>> {
    let mut out: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for id in c.nodes.keys() {
        let (code, body) = c.get(&format!("{}/cluster/worker", c.url(*id))).await?;
        ensure!(code == 200, "GET /cluster/worker on node {id}: {code}");
        for u in body["units"].as_array().cloned().unwrap_or_default() {
            if u["running"] == true {
                let name = u["unit"].as_str().unwrap_or_default().to_string();
                out.entry(name).or_default().push((*id, u["starts"].as_u64().unwrap_or(0)));
            }
        }
    }
    Ok(out)
}

async fn terms(c: &Cluster) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for id in c.nodes.keys() {
        out.push(c.status(*id).await?["term"].as_u64().context("term")?);
    }
    Ok(out)
}

cluster_test!(
    three_thousand_units_run_without_an_election_a_lease_stop_or_a_refused_batch,
    Cluster::new(&[]),
    scenario
);

async fn scenario(c: &mut Cluster) -> Result<()> {
    c.form(3).await?;
    let c: &Cluster = c;
    let before = terms(c).await?;
    ensure!(before.iter().all(|t| *t == before[0]), "terms differ after forming: {before:?}");

    // 8 clients, each creating its share through a different node.
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for k in 0..8usize {
        let http = c.http.clone();
        let url = c.url(1 + (k as u64 % 3));
        clients.spawn(async move {
            for i in (k..CONNECTORS).step_by(8) {
                let body = json!({ "name": format!("idle-{i:03}"), "config": {
                    "connector.class": "IdleSourceConnector", "tasks.max": TASKS.to_string() } });
                let resp = http.post(format!("{url}/connectors")).json(&body).send().await?;
                let code = resp.status().as_u16();
                ensure!(code == 201, "create idle-{i:03}: HTTP {code}: {}", resp.text().await?);
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(r) = clients.join_next().await {
        r.context("client task")??;
    }
    let created = started.elapsed();

    // Every unit runs exactly once, started once.
    let last = std::cell::RefCell::new(String::new());
    let last = &last;
    wait_for(Duration::from_secs(120), || async move {
        let runs = running(c).await.ok()?;
        let twice: Vec<&String> = runs.iter().filter(|(_, r)| r.len() > 1).map(|(u, _)| u).take(3).collect();
        *last.borrow_mut() = format!("{} of {UNITS} running; on two nodes: {twice:?}", runs.len());
        (runs.len() == UNITS && twice.is_empty()).then_some(())
    })
    .await
    .with_context(|| format!("not every unit ran; last: {}", last.borrow()))?;
    let all_running = started.elapsed();

    // Idle a while, watching the term: no election while nothing is killed.
    let idle_until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < idle_until {
        let now = terms(c).await?;
        ensure!(now.iter().all(|t| *t == before[0]), "the term changed from {} to {now:?}", before[0]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let runs = running(c).await?;
    ensure!(runs.len() == UNITS, "{} of {UNITS} units running after idling", runs.len());
    let restarted: Vec<(&String, &Vec<(u64, u64)>)> = runs.iter().filter(|(_, r)| r[0].1 != 1).take(5).collect();
    ensure!(restarted.is_empty(), "units started more than once (a lease stop or a move): {restarted:?}");

    // Balanced: each node runs a third of the connectors and a third of the tasks.
    let mut per_node: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
    for (unit, r) in &runs {
        let e = per_node.entry(r[0].0).or_default();
        // Task units are named `<connector>-<n>`; connector names here have one dash.
        if unit.matches('-').count() == 2 {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    for (node, (conns, tasks)) in &per_node {
        ensure!(
            conns.abs_diff(CONNECTORS / 3) <= 1 && tasks.abs_diff(CONNECTORS * TASKS / 3) <= 1,
            "node {node} runs {conns} connectors and {tasks} tasks: {per_node:?}"
        );
    }

    // Nothing refused for its size, no lease stop, in any node's log.
    for n in c.nodes.values() {
        let log = std::fs::read_to_string(&n.log_path).unwrap_or_default();
        for bad in ["exceeds the limit of", "No leader heard from within the lease"] {
            ensure!(!log.contains(bad), "node {} logged {bad:?}", n.id);
        }
    }

    // Statuses went in batches: far fewer status entries than units.
    let entries: Vec<Value> = c.log(1).await.unwrap_or_default();
    let statuses = entries
        .iter()
        .filter(|e| {
            entry_commands(e).iter().any(|c| matches!(c["type"].as_str(), Some("report_status" | "report_statuses")))
        })
        .count();
    eprintln!(
        "{UNITS} units: created in {:.1} s, all running after {:.1} s; {statuses} status entries in the first {} entries",
        created.as_secs_f64(),
        all_running.as_secs_f64(),
        entries.len()
    );
    ensure!(statuses * 5 < UNITS, "{statuses} status entries for {UNITS} units: not batched");
    Ok(())
}
