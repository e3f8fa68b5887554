//! Forming, crashing, restarting and growing a cluster of real node processes.

use serde_json::{json, Value};

use crate::harness::*;

fn put(name: &str) -> Value {
    json!({ "put_connector": {
        "name": name,
        "config": { "name": name, "connector.class": "FileStreamSource", "topic": "t", "file": "/tmp/in.txt", "db.password": "hunter2" },
        "target_state": null
    }})
}

fn entry_at(log: &[Value], index: u64) -> Option<Value> {
    log.iter().find(|e| e["index"].as_u64() == Some(index)).cloned()
}

cluster_test!(
    three_nodes_form_a_cluster_and_a_follower_write_reaches_every_log,
    Cluster::new(&[]),
    scenario_three_nodes_form_a_cluster_and_a_follower_write_reaches_every_log
);

async fn scenario_three_nodes_form_a_cluster_and_a_follower_write_reaches_every_log(
    c: &mut Cluster,
) -> anyhow::Result<()> {
    c.form(3).await?;
    let leader = c.leader(1).await?;
    let follower = (1..=3).find(|i| *i != leader).expect("a follower");

    let (code, body) = c.command(follower, put("via-follower")).await?;
    assert_eq!(code, 200, "write on follower {follower}: {body}");
    assert_eq!(body["response"], "applied");
    let index = body["index"].as_u64().expect("index");

    for id in 1..=3 {
        let entry = wait_for(DEADLINE, || async { entry_at(&c.log(id).await.ok()?, index) }).await?;
        assert_eq!(entry["kind"], "command", "node {id}: {entry}");
        // Alone, or in a batch with other writers' writes (the leader's group commit).
        let put = entry_commands(&entry).into_iter().find(|c| c["name"] == "via-follower").cloned();
        let put = put.unwrap_or_else(|| panic!("node {id}: no write of via-follower in {entry}"));
        assert_eq!(put["type"], "put_connector");
        assert_eq!(put["config"]["db.password"], "[hidden]", "secrets are hidden");
        assert_eq!(put["config"]["file"], "/tmp/in.txt");
    }

    let status = c.status(follower).await?;
    assert_eq!(status["leader"].as_u64(), Some(leader));
    assert_eq!(status["id"].as_u64(), Some(follower));
    let roles: Vec<&str> = status["members"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, vec!["voter", "voter", "voter"]);
    wait_for(DEADLINE, || async { (c.status(follower).await.ok()?["applied_index"].as_u64()? >= index).then_some(()) })
        .await?;

    // The CLI shows the same things.
    let cli_status: Value = serde_json::from_str(&cli(&["cluster", "status", "--url", &c.url(follower), "--json"])?)?;
    assert_eq!(cli_status["leader"].as_u64(), Some(leader));
    let table = cli(&["cluster", "status", "--url", &c.url(follower)])?;
    assert!(table.contains("voter") && table.contains(&c.url(leader)), "{table}");
    let http = c.log(follower).await?;
    let lines = json_lines(&cli(&["log", "--url", &c.url(follower), "--json"])?)?;
    assert!(lines.len() >= http.len());
    assert_eq!(&lines[..http.len()], &http[..], "CLI --json lines equal GET /cluster/log entries");
    let log_table = cli(&["log", "--url", &c.url(follower)])?;
    assert!(log_table.contains("put_connector") && !log_table.contains("hunter2"), "{log_table}");
    Ok(())
}

cluster_test!(
    leader_crash_elects_a_new_leader_and_the_old_one_catches_up_after_restart,
    Cluster::new(&[]),
    scenario_leader_crash_elects_a_new_leader_and_the_old_one_catches_up_after_restart
);

async fn scenario_leader_crash_elects_a_new_leader_and_the_old_one_catches_up_after_restart(
    c: &mut Cluster,
) -> anyhow::Result<()> {
    c.form(3).await?;
    c.command_eventually(1, put("before-crash")).await?;
    let old = c.leader(1).await?;
    let old_term = c.status(old).await?["term"].as_u64().unwrap();
    c.node(old).kill();

    let survivor = (1..=3).find(|i| *i != old).unwrap();
    let new_leader = wait_for(DEADLINE, || async {
        let s = c.status(survivor).await.ok()?;
        s["leader"].as_u64().filter(|l| *l != old)
    })
    .await?;
    assert_ne!(new_leader, old);
    assert!(c.status(survivor).await?["term"].as_u64().unwrap() > old_term, "a new term began");
    let index = c.command_eventually(survivor, put("after-crash")).await?;
    // The dead node is reported as not alive by the new leader.
    let s = c.status(new_leader).await?;
    let dead = s["members"].as_array().unwrap().iter().find(|m| m["id"].as_u64() == Some(old)).unwrap().clone();
    assert_eq!(dead["alive"], false, "{s}");

    // Restart from its data directory, no --bootstrap/--join: it rejoins and catches up.
    c.start(old, &[]);
    c.wait_up(old).await?;
    // Its log may still hold an uncommitted entry of its own at that index until the new
    // leader overwrites it: wait for the committed one.
    let entry = wait_for(DEADLINE, || async {
        entry_at(&c.log(old).await.ok()?, index)
            .filter(|e| entry_commands(e).iter().any(|c| c["name"] == "after-crash"))
    })
    .await?;
    assert_eq!(entry["kind"], "command");
    c.wait_members(old, &[1, 2, 3]).await?;
    let state = c.get(&format!("{}/cluster/state", c.url(old))).await?.1;
    assert!(state["state"]["connectors"]["before-crash"].is_object(), "{state}");
    assert!(state["state"]["connectors"]["after-crash"].is_object(), "{state}");
    Ok(())
}

cluster_test!(
    a_fourth_node_joins_as_learner_by_snapshot_and_replaces_a_removed_voter,
    Cluster::new(&["--log-keep", "0"]),
    scenario_a_fourth_node_joins_as_learner_by_snapshot_and_replaces_a_removed_voter
);

async fn scenario_a_fourth_node_joins_as_learner_by_snapshot_and_replaces_a_removed_voter(
    c: &mut Cluster,
) -> anyhow::Result<()> {
    c.form(3).await?;
    for i in 0..20 {
        c.command_eventually(1 + i % 3, put(&format!("c{i}"))).await?;
    }
    let leader = c.leader(1).await?;
    let (code, snap) = c.get_post(&format!("{}/cluster/snapshot", c.url(leader))).await?;
    assert_eq!(code, 200, "{snap}");
    let snapshot_index = snap["snapshot_index"].as_u64().unwrap();
    let (_, log) = c.get(&format!("{}/cluster/log", c.url(leader))).await?;
    assert!(log["first_index"].as_u64().unwrap() > 1, "the leader purged its log: {log}");

    c.add_node(4);
    let seed = c.url(2);
    c.start(4, &["--join".into(), seed]);
    let s = c.wait_members(1, &[1, 2, 3, 4]).await?;
    let four = s["members"].as_array().unwrap().iter().find(|m| m["id"] == 4).unwrap().clone();
    assert_eq!(four["role"], "learner", "a fourth node is a learner: {s}");
    let s4 = wait_for(DEADLINE, || async {
        let s = c.status(4).await.ok()?;
        (s["applied_index"].as_u64()? >= snapshot_index).then_some(s)
    })
    .await?;
    assert!(s4["snapshot_index"].as_u64().is_some(), "node 4 was brought up by a snapshot: {s4}");
    let state = c.get(&format!("{}/cluster/state", c.url(4))).await?.1;
    for i in 0..20 {
        assert!(state["state"]["connectors"][format!("c{i}")].is_object(), "c{i} missing on node 4");
    }

    // Offline view of the stopped node equals its HTTP view.
    let http = c.log(4).await?;
    assert!(http.first().and_then(|e| e["index"].as_u64()).unwrap_or(0) > 1, "node 4's log starts after the snapshot");
    c.node(4).stop();
    let dir = data_dir_arg(&c.nodes[&4].data_dir);
    let offline = json_lines(&cli(&["log", "--data-dir", &dir, "--json", "--limit", "100000"])?)?;
    assert!(offline.len() >= http.len() && !http.is_empty());
    assert_eq!(&offline[..http.len()], &http[..], "offline log equals the HTTP view");
    let offline_state: Value = serde_json::from_str(&cli(&["log", "--data-dir", &dir, "--state", "--json"])?)?;
    assert!(offline_state["state"]["connectors"]["c19"].is_object(), "{offline_state}");
    assert_eq!(offline_state["state"]["connectors"]["c19"]["config"]["db.password"], "[hidden]");
    c.start(4, &[]);
    c.wait_up(4).await?;
    c.wait_members(1, &[1, 2, 3, 4]).await?;
    // Its SIGTERM marked it as leaving; the restart re-registers it (in the background).
    wait_for(DEADLINE, || async {
        let s = c.status(1).await.ok()?;
        s["members"].as_array()?.iter().any(|m| m["id"] == 4 && m["leaving"] == false).then_some(())
    })
    .await?;

    // Removing a voter promotes the learner; the request goes through node 4 (forwarded).
    let leader = c.leader(1).await?;
    let victim = (1..=3).find(|i| *i != leader).unwrap();
    let resp = c.http.delete(format!("{}/cluster/members/{victim}", c.url(4))).send().await?;
    assert_eq!(resp.status().as_u16(), 204, "{}", resp.text().await?);
    c.node(victim).kill();
    let rest: Vec<u64> = [1, 2, 3, 4].into_iter().filter(|i| *i != victim).collect();
    let s = c.wait_members(leader, &rest).await?;
    for m in s["members"].as_array().unwrap() {
        assert_eq!(m["role"], "voter", "three voters after the replacement: {s}");
    }
    c.command_eventually(4, put("after-removal")).await?;
    Ok(())
}
