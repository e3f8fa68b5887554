//! A real partition (issue 9): one node cut off from the other two for about 4 s, in network
//! namespaces (packets lost both ways, nothing refused). The cut-off node stops its units
//! when its lease runs out, before the majority starts them (no unit runs on both sides); the
//! majority runs everything; after healing, the node rejoins without an election: pre-vote
//! keeps it from deposing the leader, so the term never changes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use serde_json::json;

use crate::harness::*;
use crate::netns::Net;

const TASKS: usize = 29;
const UNITS: usize = TASKS + 1;
/// The node's `--task-stop-timeout-ms` default.
const STOP_TIMEOUT: Duration = Duration::from_millis(150);

/// Unit → nodes running it, from the given nodes' own views.
async fn running(c: &Cluster, ids: &[u64]) -> Result<BTreeMap<String, Vec<u64>>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for id in ids {
        let (code, body) = c.get(&format!("{}/cluster/worker", c.url(*id))).await?;
        ensure!(code == 200, "GET /cluster/worker on node {id}: {code}");
        for u in body["units"].as_array().cloned().unwrap_or_default() {
            if u["running"] == true {
                out.entry(u["unit"].as_str().unwrap_or_default().to_string()).or_default().push(*id);
            }
        }
    }
    Ok(out)
}

async fn all_running_once(c: &Cluster, ids: &[u64]) -> Option<BTreeMap<String, u64>> {
    let runs = running(c, ids).await.ok()?;
    (runs.len() == UNITS && runs.values().all(|n| n.len() == 1))
        .then(|| runs.into_iter().map(|(u, n)| (u, n[0])).collect())
}

/// Seconds since the epoch of a log line's leading RFC 3339 UTC timestamp.
fn line_time(l: &str) -> Option<f64> {
    let ts = l.split_whitespace().next()?.strip_suffix('Z')?;
    let (date, time) = ts.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut t = time.split(':');
    let (h, min, sec) =
        (t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?);
    Some(days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + sec)
}

fn log_lines(c: &Cluster, id: u64) -> Vec<String> {
    std::fs::read_to_string(&c.nodes[&id].log_path).unwrap_or_default().lines().map(without_colours).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_node_stops_before_its_work_moves_and_rejoins_without_an_election() {
    let net = Net::new(&[1, 2, 3]).expect("network namespaces (iproute2, root)");
    let mut c = Cluster::new(&[]);
    let res = scenario(&mut c, &net).await;
    c.report(res);
}

async fn scenario(c: &mut Cluster, net: &Net) -> Result<()> {
    c.form_with(3, |n| {
        n.host = net.host(n.id);
        n.netns = Some(net.ns(n.id));
    })
    .await?;
    let c: &Cluster = c;
    let body = json!({ "name": "load", "config": {
        "connector.class": "FileStreamSink", "tasks.max": TASKS.to_string(), "topics": "t", "file": "/dev/null" } });
    let r = c.post_json(&format!("{}/connectors", c.url(1)), &body).await?;
    ensure!(r.status == 201, "create: {} {}", r.status, r.text);
    let before = wait_for(DEADLINE, || all_running_once(c, &[1, 2, 3])).await.context("all 30 units running")?;
    let leader = c.leader(1).await?;
    let term = c.status(leader).await?["term"].as_u64().context("term")?;
    let victim =
        [1, 2, 3].into_iter().find(|i| *i != leader && before.values().any(|n| n == i)).context("a follower")?;
    let majority: Vec<u64> = [1, 2, 3].into_iter().filter(|i| *i != victim).collect();
    let moved: Vec<String> = before.iter().filter(|(_, n)| **n == victim).map(|(u, _)| u.clone()).collect();

    net.cut(victim)?;
    let cut = Instant::now();
    let after = wait_for(DEADLINE, || all_running_once(c, &majority)).await.context("the majority runs every unit")?;
    ensure!(after.values().all(|n| *n != victim));
    let moved_after = cut.elapsed();
    // Hold the cut for about 4 s, the majority keeping its leader and term throughout.
    while cut.elapsed() < Duration::from_secs(4) {
        for id in &majority {
            let t = c.status(*id).await?["term"].as_u64().context("term")?;
            ensure!(t == term, "node {id}: term {term} → {t} during the partition");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    net.heal(victim)?;

    // It rejoins: catches up, runs nothing stale, and the cluster settles balanced again.
    wait_for(DEADLINE, || async {
        let lead = c.status(leader).await.ok()?;
        let s = c.status(victim).await.ok()?;
        (s["applied_index"].as_u64()? >= lead["last_log_index"].as_u64()? && s["leader"] == json!(leader)).then_some(())
    })
    .await
    .context("the healed node catches up with the leader")?;
    wait_for(DEADLINE, || async {
        let runs = all_running_once(c, &[1, 2, 3]).await?;
        let mut load: BTreeMap<u64, usize> = [(1, 0), (2, 0), (3, 0)].into();
        for n in runs.values() {
            *load.get_mut(n)? += 1;
        }
        (load.values().max()? - load.values().min()? <= 1).then_some(())
    })
    .await
    .context("every unit runs once, balanced, after healing")?;
    for id in [1, 2, 3] {
        let t = c.status(id).await?["term"].as_u64().context("term")?;
        ensure!(t == term, "node {id}: term {term} → {t}: the healed node caused an election");
    }

    // No unit ran on both sides: the cut-off node began stopping its units (lease) at least a
    // stop timeout before the majority started any of them.
    let stop_line = log_lines(c, victim)
        .into_iter()
        .find(|l| l.contains("No leader heard from within the lease"))
        .context("the cut-off node never stopped its units for the lease")?;
    let stopped = line_time(&stop_line).context("timestamp")?;
    let mut first_start = f64::MAX;
    for id in &majority {
        for l in log_lines(c, *id) {
            if l.contains("Starting unit.") && moved.iter().any(|u| l.contains(&format!("unit={u} "))) {
                if let Some(t) = line_time(&l).filter(|t| *t > stopped - 5.0) {
                    first_start = first_start.min(t);
                }
            }
        }
    }
    ensure!(first_start < f64::MAX, "no start of a moved unit found in the majority's logs");
    let margin = first_start - stopped;
    eprintln!(
        "partition: the majority ran all units {moved_after:?} after the cut; the cut-off node stopped its units \
         {:.0} ms before the first of them started elsewhere; term {term} throughout",
        margin * 1000.0
    );
    ensure!(
        margin >= STOP_TIMEOUT.as_secs_f64(),
        "a unit may have run on both sides: stop began only {margin:.3} s before a start"
    );
    Ok(())
}
