//! The coordinator and worker on real multi-node clusters: join, graceful leave, crash, pause
//! of a node beyond the lease (a zombie), leader crash. After each: every unit runs exactly
//! once, balance holds, and units that did not need to move were not restarted.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::harness::*;

/// A sink with 29 tasks: 30 units with its connector.
const CONNECTOR: &str = "load";
const TASKS: usize = 29;
const UNITS: usize = TASKS + 1;

/// Where each unit runs (unit name as the worker shows it → node id), with starts and epoch.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    node: u64,
    starts: u64,
    epoch: u64,
}

fn worker_id(c: &Cluster, id: u64) -> String {
    c.url(id).trim_start_matches("http://").to_string()
}

/// The units running on each live node, from the nodes' own view.
async fn running(c: &Cluster, ids: &[u64]) -> anyhow::Result<BTreeMap<String, Vec<Run>>> {
    let mut out: BTreeMap<String, Vec<Run>> = BTreeMap::new();
    for id in ids {
        let (code, body) = c.get(&format!("{}/cluster/worker", c.url(*id))).await?;
        anyhow::ensure!(code == 200, "GET /cluster/worker on node {id}: {code}");
        for u in body["units"].as_array().into_iter().flatten() {
            if u["running"] == true {
                out.entry(u["unit"].as_str().unwrap_or("").to_string()).or_default().push(Run {
                    node: *id,
                    starts: u["starts"].as_u64().unwrap_or(0),
                    epoch: u["epoch"].as_u64().unwrap_or(0),
                });
            }
        }
    }
    Ok(out)
}

/// Wait until all units run exactly once on `ids`, RUNNING in the REST status on the node that
/// runs them, balanced (max − min ≤ 1 per node). Returns unit → run.
async fn wait_settled(c: &Cluster, ids: &[u64]) -> anyhow::Result<BTreeMap<String, Run>> {
    let last = std::cell::RefCell::new(String::new());
    let last = &last;
    let res = wait_for(DEADLINE, || async move {
        let runs = running(c, ids).await.ok()?;
        if runs.len() != UNITS || runs.values().any(|r| r.len() != 1) {
            *last.borrow_mut() = format!("running: {runs:?}");
            return None;
        }
        let via = ids[0];
        let status = c.get(&format!("{}/connectors/{CONNECTOR}/status", c.url(via))).await.ok()?.1;
        let mut entries = vec![(CONNECTOR.to_string(), status["connector"].clone())];
        for t in status["tasks"].as_array()? {
            entries.push((format!("{CONNECTOR}-{}", t["id"]), t.clone()));
        }
        for (unit, s) in &entries {
            let run = &runs.get(unit)?[0];
            if s["state"] != "RUNNING" || s["worker_id"] != json!(worker_id(c, run.node)) {
                *last.borrow_mut() = format!("status of {unit}: {s} while it runs on node {}", run.node);
                return None;
            }
        }
        let mut load: BTreeMap<u64, usize> = ids.iter().map(|i| (*i, 0)).collect();
        for r in runs.values() {
            *load.get_mut(&r[0].node)? += 1;
        }
        let (max, min) = (load.values().max()?, load.values().min()?);
        if max - min > 1 {
            *last.borrow_mut() = format!("unbalanced: {load:?}");
            return None;
        }
        Some(runs.into_iter().map(|(u, mut r)| (u, r.remove(0))).collect::<BTreeMap<_, _>>())
    })
    .await;
    res.map_err(|e| anyhow::anyhow!("{e}; last: {}", last.borrow()))
}

/// Units that stayed on their node kept their epoch and were started once; returns how many moved.
fn check_unmoved_not_restarted(before: &BTreeMap<String, Run>, after: &BTreeMap<String, Run>) -> anyhow::Result<usize> {
    let mut moved = 0;
    for (unit, b) in before {
        let a = &after[unit];
        if a.node == b.node {
            anyhow::ensure!(a.epoch == b.epoch, "{unit} did not move but its epoch changed: {b:?} → {a:?}");
            anyhow::ensure!(a.starts == b.starts, "{unit} did not move but was restarted: {b:?} → {a:?}");
        } else {
            moved += 1;
            anyhow::ensure!(a.epoch > b.epoch, "{unit} moved without a new epoch: {b:?} → {a:?}");
        }
    }
    Ok(moved)
}

async fn setup(c: &mut Cluster) -> anyhow::Result<BTreeMap<String, Run>> {
    c.form(3).await?;
    let body = json!({ "name": CONNECTOR, "config": {
        "connector.class": "FileStreamSink", "tasks.max": TASKS.to_string(), "topics": "t", "file": "/dev/null" } });
    let resp = c.http.post(format!("{}/connectors", c.url(2))).json(&body).send().await?;
    anyhow::ensure!(resp.status().as_u16() == 201, "create: {}", resp.text().await?);
    wait_settled(c, &[1, 2, 3]).await
}

cluster_test!(a_joining_node_takes_its_share_in_one_round_and_nothing_else_restarts, Cluster::new(&[]), join);
async fn join(c: &mut Cluster) -> anyhow::Result<()> {
    let before = setup(c).await?;
    c.add_node(4);
    let seed = c.url(1);
    c.start(4, &["--join".into(), seed]);
    c.wait_up(4).await?;
    let after = wait_settled(c, &[1, 2, 3, 4]).await?;
    let moved = check_unmoved_not_restarted(&before, &after)?;
    assert!((7..=8).contains(&moved), "30 units over 4 nodes: the new node takes 7 or 8, moved {moved}");
    assert!(after.values().filter(|r| r.node == 4).count() == moved, "everything that moved went to node 4");
    Ok(())
}

cluster_test!(a_gracefully_stopped_node_hands_its_work_over, Cluster::new(&[]), graceful_leave);
async fn graceful_leave(c: &mut Cluster) -> anyhow::Result<()> {
    // SIGTERM a follower: it marks itself leaving and releases its units, which move at once.
    let before = setup(c).await?;
    let leader = c.leader(1).await?;
    let victim = [1, 2, 3].into_iter().find(|i| *i != leader).unwrap();
    lose_after_setup(c, &before, victim, true).await?;
    let survivor = [1, 2, 3].into_iter().find(|i| *i != victim).unwrap();
    let log = c.log(survivor).await?;
    let commands: Vec<&serde_json::Value> = log.iter().flat_map(entry_commands).collect();
    assert!(commands.iter().any(|c| c["type"] == "mark_node_leaving" && c["id"] == victim));
    assert!(commands.iter().any(|c| c["type"] == "release_units" && c["node"] == victim));
    Ok(())
}

cluster_test!(a_crashed_node_loses_its_work_after_the_grace_and_nothing_else_restarts, Cluster::new(&[]), crash);
async fn crash(c: &mut Cluster) -> anyhow::Result<()> {
    let before = setup(c).await?;
    let leader = c.leader(1).await?;
    let victim = [1, 2, 3].into_iter().find(|i| *i != leader).unwrap();
    lose_after_setup(c, &before, victim, false).await
}

cluster_test!(a_leader_crash_moves_only_the_leaders_work, Cluster::new(&[]), leader_crash);
async fn leader_crash(c: &mut Cluster) -> anyhow::Result<()> {
    let before = setup(c).await?;
    let leader = c.leader(1).await?;
    lose_after_setup(c, &before, leader, false).await
}

async fn lose_after_setup(
    c: &mut Cluster,
    before: &BTreeMap<String, Run>,
    victim: u64,
    graceful: bool,
) -> anyhow::Result<()> {
    if graceful {
        c.node(victim).stop();
    } else {
        c.node(victim).kill();
    }
    let survivors: Vec<u64> = [1, 2, 3].into_iter().filter(|i| *i != victim).collect();
    let after = wait_settled(c, &survivors).await?;
    let moved = check_unmoved_not_restarted(before, &after)?;
    assert_eq!(moved, before.values().filter(|r| r.node == victim).count(), "exactly the victim's units moved");
    Ok(())
}

cluster_test!(sigterm_without_a_leader_exits_within_the_stop_and_flush_timeouts, Cluster::new(&[]), leaderless_stop);
async fn leaderless_stop(c: &mut Cluster) -> anyhow::Result<()> {
    // Kill the leader and one follower: the survivor has no leader and can hand nothing over.
    // SIGTERM must still end it within the stop timeout (150 ms) plus the offset flush
    // timeout (5 s) plus a second for Raft and the HTTP server (the budget in
    // `RunningNode::stop`); 2 s more for a busy machine. It used to run forever.
    setup(c).await?;
    let leader = c.leader(1).await?;
    let (gone, survivor): (Vec<u64>, Vec<u64>) =
        [1, 2, 3].into_iter().partition(|i| *i == leader || *i == leader % 3 + 1);
    let survivor = survivor[0];
    for id in gone {
        c.node(id).kill();
    }
    wait_for(DEADLINE, || async { c.status(survivor).await.ok()?["leader"].is_null().then_some(()) })
        .await
        .map_err(|e| anyhow::anyhow!("the survivor kept a leader: {e}"))?;
    let started = std::time::Instant::now();
    c.node(survivor).signal(libc::SIGTERM);
    let exited = c.node(survivor).wait_exit(Duration::from_millis(150 + 5_000 + 1_000 + 2_000));
    anyhow::ensure!(exited.is_some(), "still running {:?} after SIGTERM with no leader", started.elapsed());
    eprintln!("SIGTERM with no leader: exited after {:?}", started.elapsed());
    Ok(())
}

cluster_test!(a_paused_zombie_is_fenced_and_stops_its_stale_units, Cluster::new(&[]), zombie);
async fn zombie(c: &mut Cluster) -> anyhow::Result<()> {
    let before = setup(c).await?;
    let leader = c.leader(1).await?;
    let zombie = [1, 2, 3].into_iter().find(|i| *i != leader).unwrap();
    let others: Vec<u64> = [1, 2, 3].into_iter().filter(|i| *i != zombie).collect();
    let had: Vec<String> = before.iter().filter(|(_, r)| r.node == zombie).map(|(u, _)| u.clone()).collect();
    assert!(!had.is_empty());

    // Freeze the node past the lease and the grace: its units move to the others.
    c.node(zombie).signal(libc::SIGSTOP);
    let after = wait_settled(c, &others).await?;
    let moved_index = c.status(leader).await?["last_log_index"].as_u64().unwrap();

    // Thaw it. It must stop its stale units (those it ran under the epochs before the move);
    // it may get work again afterwards, under new epochs, once it is a healthy member.
    let stale_epochs: BTreeMap<String, u64> = had.iter().map(|u| (u.clone(), before[u].epoch)).collect();
    c.node(zombie).signal(libc::SIGCONT);
    wait_for(DEADLINE, || async {
        let s = c.status(zombie).await.ok()?;
        let runs = running(c, &[zombie]).await.ok()?;
        let stale = runs.iter().any(|(u, r)| stale_epochs.get(u) == Some(&r[0].epoch));
        (s["applied_index"].as_u64()? >= moved_index && !stale).then_some(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("the zombie kept running stale units: {e}"))?;
    // The cluster settles with every unit running exactly once, on the node the state says.
    let settled = wait_settled(c, &[1, 2, 3]).await?;
    let state = c.get(&format!("{}/cluster/state", c.url(leader))).await?.1;
    let assignments = state["state"]["assignments"].as_array().unwrap().clone();
    for s in state["state"]["statuses"].as_array().unwrap() {
        let current = assignments.iter().find(|a| a["unit"] == s["unit"]).expect("assigned");
        assert_eq!(s["epoch"], current["epoch"], "a status from a stale epoch survived: {s}");
        assert_eq!(s["node"], current["node"], "{s}");
    }
    for unit in &had {
        assert!(settled[unit].epoch > stale_epochs[unit], "{unit} runs under a new epoch");
        assert!(settled[unit].epoch >= after[unit].epoch);
    }
    // (Anything the zombie wrote under its old epochs after the move was rejected by `apply`:
    // the epoch checks on every status above are what prove it.)
    Ok(())
}

// A failed task is restarted automatically with backoff, visible in its status.
cluster_test!(failed_tasks_are_restarted_automatically_with_backoff, Cluster::new(&[]), auto_restart);
async fn auto_restart(c: &mut Cluster) -> anyhow::Result<()> {
    c.form(3).await?;
    let body = json!({ "name": "flaky", "config": {
        "connector.class": "org.apache.kafka.connect.tools.MockSourceConnector", "mock_mode": "task-failure", "delay_ms": "200" } });
    let resp = c.http.post(format!("{}/connectors", c.url(1))).json(&body).send().await?;
    anyhow::ensure!(resp.status().as_u16() == 201);
    let task = wait_for(DEADLINE, || async {
        let s = c.get(&format!("{}/connectors/flaky/tasks/0/status", c.url(2))).await.ok()?.1;
        (s["state"] == "FAILED" && s["restarts"].as_u64()? >= 2).then_some(s)
    })
    .await?;
    assert!(task["trace"].as_str().unwrap().contains("Mock task failed"), "{task}");
    assert!(task["next_restart_ms"].as_u64().is_some(), "{task}");
    // The connector itself is healthy.
    let s = c.get(&format!("{}/connectors/flaky/status", c.url(3))).await?.1;
    assert_eq!(s["connector"]["state"], "RUNNING");
    Ok(())
}

cluster_test!(
    /// A connector that blocks in `start` stalls neither the planner nor other units: it fails
    /// after the plugin-call timeout while another connector created after it runs.
    a_blocking_connector_stalls_nothing_else,
    Cluster::new(&["--plugin-call-timeout-ms", "1000", "--no-auto-restart"]),
    blocking
);

async fn blocking(c: &mut Cluster) -> anyhow::Result<()> {
    c.form(3).await?;
    for (name, mode) in [("stuck", "connector-block"), ("fine", "none")] {
        let body = json!({ "name": name, "config": {
            "connector.class": "org.apache.kafka.connect.tools.MockSourceConnector", "mock_mode": mode } });
        let resp = c.http.post(format!("{}/connectors", c.url(1))).json(&body).send().await?;
        anyhow::ensure!(resp.status().as_u16() == 201, "create {name}: {}", resp.text().await?);
    }
    // The healthy connector and its task run although the other one hangs in start().
    wait_for(DEADLINE, || async {
        let s = c.get(&format!("{}/connectors/fine/status", c.url(2))).await.ok()?.1;
        (s["connector"]["state"] == "RUNNING" && s["tasks"][0]["state"] == "RUNNING").then_some(())
    })
    .await?;
    // The hung one fails with a clear trace once its start exceeds the timeout.
    let s = wait_for(DEADLINE, || async {
        let s = c.get(&format!("{}/connectors/stuck/status", c.url(3))).await.ok()?.1;
        (s["connector"]["state"] == "FAILED").then_some(s)
    })
    .await?;
    assert!(s["connector"]["trace"].as_str().unwrap_or("").contains("did not return within 1000 ms"), "{s}");
    // And the cluster still takes writes and plans: a pause is applied and reported.
    let resp = c.http.put(format!("{}/connectors/fine/pause", c.url(3))).send().await?;
    assert_eq!(resp.status().as_u16(), 202);
    wait_for(DEADLINE, || async {
        let s = c.get(&format!("{}/connectors/fine/status", c.url(1))).await.ok()?.1;
        (s["connector"]["state"] == "PAUSED").then_some(())
    })
    .await?;
    Ok(())
}
