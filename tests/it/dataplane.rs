//! The data plane end to end: real nodes, the real broker, files in and out.
//! - 100 000 lines through FileStreamSource → a 4-partition topic → FileStreamSink on 3 nodes;
//! - the JsonConverter envelope written by the worker's default converter, byte for byte;
//! - SIGKILL of the nodes running a source task and a sink task: nothing lost, duplicates
//!   bounded by a flush interval; SIGTERM: no duplicate at all (test_bounce's criteria);
//! - the offsets API on a live pipeline: stop, PATCH a sink offset back, resume, re-delivery;
//! - a sink on `topics.regex` picks up a topic created later.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

use crate::broker::Broker;
use crate::harness::*;

const STRING: &str = "org.apache.kafka.connect.storage.StringConverter";

/// A cluster of `n` nodes whose worker config points at a fresh broker.
async fn cluster_with_broker(n: u64, props: &str) -> Result<(Cluster, Broker)> {
    let dir = tempfile::tempdir()?;
    let broker = Broker::start(dir.path())?;
    let mut c = Cluster::new(&[]);
    let cfg = c.dir.path().join("worker.properties");
    std::fs::write(&cfg, format!("bootstrap.servers={}\n{props}", broker.bootstrap()))?;
    c.flags = vec!["--config".into(), cfg.to_string_lossy().into_owned()];
    // The broker's temp dir must outlive the test: keep it inside the cluster's.
    std::mem::forget(dir);
    c.form(n).await?;
    Ok((c, broker))
}

/// Wait until the connector and all its tasks are RUNNING; returns task id → worker_id.
async fn wait_running(c: &Cluster, via: u64, name: &str, tasks: usize) -> Result<BTreeMap<u64, String>> {
    let url = format!("{}/connectors/{name}/status", c.url(via));
    let r = c
        .get_until(&url, &format!("{name} and {tasks} tasks RUNNING"), |r| {
            r.status == 200
                && r.body["connector"]["state"] == "RUNNING"
                && r.body["tasks"]
                    .as_array()
                    .is_some_and(|t| t.len() == tasks && t.iter().all(|t| t["state"] == "RUNNING"))
        })
        .await?;
    Ok(r.body["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (t["id"].as_u64().unwrap_or(0), t["worker_id"].as_str().unwrap_or("").to_string()))
        .collect())
}

fn node_of(c: &Cluster, worker_id: &str) -> Result<u64> {
    c.nodes
        .values()
        .find(|n| format!("127.0.0.1:{}", n.port) == worker_id)
        .map(|n| n.id)
        .with_context(|| format!("no node is {worker_id}"))
}

async fn wait_lines(path: &Path, n: usize, timeout: Duration) -> Result<Vec<String>> {
    let got = wait_for(timeout, || async move {
        let l = file_lines(path);
        (l.len() >= n).then_some(l)
    })
    .await;
    got.with_context(|| format!("{} has {} of {n} lines", path.display(), file_lines(path).len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_pipeline_moves_100k_lines_through_a_4_partition_topic_on_3_nodes() {
    let (c, broker) = cluster_with_broker(3, "").await.expect("cluster");
    let res = async {
        broker.create_topic("lines", 4)?;
        let input = c.dir.path().join("input.txt");
        let output = c.dir.path().join("output.txt");
        let text: String = (0..100_000).map(|i| format!("line-{i:06} some payload text\n")).collect();
        std::fs::write(&input, &text)?;
        post_connector(
            &c,
            2,
            "src",
            json!({
                "connector.class": "FileStreamSource", "file": input, "topic": "lines", "value.converter": STRING,
            }),
        )
        .await?;
        post_connector(
            &c,
            3,
            "sink",
            json!({
                "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "file": output,
                "topics": "lines", "tasks.max": "2", "value.converter": STRING,
            }),
        )
        .await?;
        wait_running(&c, 1, "sink", 2).await?;
        let out = wait_lines(&output, 100_000, Duration::from_secs(90)).await?;
        // Same lines, none twice (nothing failed), and each partition's order kept.
        ensure!(out.len() == 100_000, "output has {} lines", out.len());
        let expected: Vec<String> = text.lines().map(String::from).collect();
        let mut sorted = out.clone();
        sorted.sort();
        ensure!(sorted == expected, "output lines differ from the input lines");
        let topic = broker.read_all("lines", 4, 100_000, Duration::from_secs(60))?;
        let part_of: BTreeMap<String, i32> = topic
            .iter()
            .map(|r| (String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned(), r.partition))
            .collect();
        ensure!(part_of.values().collect::<BTreeSet<_>>().len() > 1, "the records went to one partition only");
        for p in 0..4 {
            let in_topic: Vec<&String> = expected.iter().filter(|l| part_of.get(*l) == Some(&p)).collect();
            let in_output: Vec<&String> = out.iter().filter(|l| part_of.get(*l) == Some(&p)).collect();
            ensure!(in_topic == in_output, "partition {p}: output order differs from the topic's order");
        }
        // Offsets: the source's position is the file's size; the sink's offsets add up.
        let src = c
            .get_until(&format!("{}/connectors/src/offsets", c.url(1)), "source offset at end of file", |r| {
                r.body["offsets"][0]["offset"]["position"] == json!(text.len())
            })
            .await?;
        ensure!(src.body["offsets"][0]["partition"] == json!({ "filename": input }), "{}", src.text);
        c.get_until(&format!("{}/connectors/sink/offsets", c.url(2)), "sink offsets cover the topic", |r| {
            r.body["offsets"]
                .as_array()
                .is_some_and(|o| o.iter().filter_map(|e| e["offset"]["kafka_offset"].as_i64()).sum::<i64>() == 100_000)
        })
        .await?;
        Ok(())
    }
    .await;
    c.report(res);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_json_converter_writes_kafka_connects_envelope_byte_for_byte() {
    let (c, broker) = cluster_with_broker(1, "").await.expect("cluster");
    let res = async {
        broker.create_topic("env", 1)?;
        let input = c.dir.path().join("in.txt");
        std::fs::write(&input, "foo\nbar \"quoted\"\n")?;
        // No converter in the connector config: the worker's default, JsonConverter with schemas.
        post_connector(&c, 1, "src", json!({ "connector.class": "FileStreamSource", "file": input, "topic": "env" }))
            .await?;
        let got = broker.read_all("env", 1, 2, Duration::from_secs(30))?;
        let values: Vec<String> =
            got.iter().map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned()).collect();
        ensure!(
            values
                == [
                    r#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#,
                    r#"{"schema":{"type":"string","optional":false},"payload":"bar \"quoted\""}"#,
                ],
            "values: {values:?}"
        );
        ensure!(got.iter().all(|r| r.key.is_none()), "FileStreamSource records have no key");
        // GET / names the Kafka cluster, as Kafka Connect's does.
        c.get_until(&format!("{}/", c.url(1)), "GET / with the broker's kafka_cluster_id", |r| {
            r.body["kafka_cluster_id"].as_str().is_some_and(|id| !id.is_empty())
        })
        .await?;
        Ok(())
    }
    .await;
    c.report(res);
}

/// The JSON lines of the verifiable connectors, per source task: seqnos (with repeats).
fn seqnos(path: &Path, flag: &str) -> BTreeMap<i64, Vec<i64>> {
    let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for l in file_lines(path) {
        let Ok(v) = serde_json::from_str::<Value>(&l) else { continue };
        if v[flag] == true {
            if let (Some(t), Some(s)) = (v["task"].as_i64(), v["seqno"].as_i64()) {
                out.entry(t).or_default().push(s);
            }
        }
    }
    out
}

/// The sink's lines (received and flushed) of the seqnos of source task `task` that were
/// flushed more than once: which sink task saw them at which Kafka offset tells a record
/// delivered twice from one that is in the topic twice.
fn repeated_lines(path: &Path, task: i64, flushed: &[i64]) -> String {
    let mut count: BTreeMap<i64, usize> = BTreeMap::new();
    for s in flushed {
        *count.entry(*s).or_default() += 1;
    }
    let repeated: BTreeSet<i64> = count.into_iter().filter(|(_, n)| *n > 1).map(|(s, _)| s).take(5).collect();
    file_lines(path)
        .into_iter()
        .filter(|l| {
            serde_json::from_str::<Value>(l).is_ok_and(|v| {
                v["task"].as_i64() == Some(task) && v["seqno"].as_i64().is_some_and(|s| repeated.contains(&s))
            })
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// test_bounce's per-task checks: no gaps below the max; the number of repeats.
fn gaps_and_dups(seen: &[i64]) -> (Vec<i64>, usize) {
    let set: BTreeSet<i64> = seen.iter().copied().collect();
    let max = set.iter().next_back().copied().unwrap_or(-1);
    let gaps: Vec<i64> = (0..=max).filter(|s| !set.contains(s)).take(10).collect();
    (gaps, seen.len() - set.len())
}

struct Bounce {
    c: Cluster,
    _broker: Broker,
    source_out: PathBuf,
    sink_out: PathBuf,
}

const RATE: u64 = 150;
const SOURCE_TASKS: usize = 2;

async fn bounce_setup() -> Result<Bounce> {
    let (c, broker) = cluster_with_broker(3, "offset.flush.interval.ms=1000\n").await?;
    broker.create_topic("test", 4)?;
    let source_out = c.dir.path().join("source.jsonl");
    let sink_out = c.dir.path().join("sink.jsonl");
    post_connector(&c, 1, "vsource", json!({
        "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        "tasks.max": SOURCE_TASKS.to_string(), "topic": "test", "throughput": RATE.to_string(), "output.file": source_out,
    }))
    .await?;
    post_connector(
        &c,
        1,
        "vsink",
        json!({
            "connector.class": "org.apache.kafka.connect.tools.VerifiableSinkConnector",
            "tasks.max": "2", "topics": "test", "output.file": sink_out,
        }),
    )
    .await?;
    wait_running(&c, 1, "vsource", SOURCE_TASKS).await?;
    wait_running(&c, 1, "vsink", 2).await?;
    Ok(Bounce { c, _broker: broker, source_out, sink_out })
}

impl Bounce {
    /// Wait until the sink has flushed `more` records beyond what it had.
    async fn progress(&self, more: usize) -> Result<()> {
        let base: usize = seqnos(&self.sink_out, "flushed").values().map(Vec::len).sum();
        let path = &self.sink_out;
        wait_for(Duration::from_secs(60), || async move {
            let n: usize = seqnos(path, "flushed").values().map(Vec::len).sum();
            (n >= base + more).then_some(())
        })
        .await
        .with_context(|| format!("the sink flushed no {more} more records"))
    }

    /// Restart node `id` (after a kill or stop) and wait until it is a member again.
    async fn restart(&mut self, id: u64) -> Result<()> {
        self.c.start(id, &[]);
        self.c.wait_up(id).await
    }

    /// Bounce the node running task `task` of `connector` (SIGKILL if `hard`, else SIGTERM);
    /// wait until the task runs on another node and data flows, then restart the node.
    async fn bounce(&mut self, connector: &str, task: u64, hard: bool) -> Result<u64> {
        let tasks = if connector == "vsource" { SOURCE_TASKS } else { 2 };
        let owners = wait_running(&self.c, 1, connector, tasks).await?;
        let old = owners[&task].clone();
        let id = node_of(&self.c, &old)?;
        if hard {
            self.c.node(id).kill();
        } else {
            self.c.node(id).stop();
        }
        let via = *self.c.nodes.keys().find(|k| **k != id).expect("another node");
        let url = format!("{}/connectors/{connector}/status", self.c.url(via));
        self.c
            .get_until(&url, &format!("{connector} task {task} RUNNING on another node than {old}"), |r| {
                r.body["tasks"].as_array().is_some_and(|ts| {
                    ts.iter().any(|t| t["id"] == task && t["state"] == "RUNNING" && t["worker_id"] != json!(old))
                })
            })
            .await?;
        self.progress(100).await?;
        self.restart(id).await?;
        Ok(id)
    }

    /// Stop the source (final commit), let the sink catch up, stop the sink; then check.
    async fn finish(&self, hard: bool) -> Result<()> {
        let r = self.c.put_empty(&format!("{}/connectors/vsource/stop", self.c.url(1))).await?;
        ensure!(r.status == 204, "stop vsource: {} {}", r.status, r.text);
        self.c
            .get_until(&format!("{}/connectors/vsource/status", self.c.url(1)), "vsource STOPPED", |r| {
                r.body["connector"]["state"] == "STOPPED"
            })
            .await?;
        let (src, snk) = (&self.source_out, &self.sink_out);
        // Every committed source record reaches the sink.
        wait_for(Duration::from_secs(60), || async move {
            let committed = seqnos(src, "committed");
            let flushed = seqnos(snk, "flushed");
            committed
                .iter()
                .all(|(t, s)| {
                    let want: BTreeSet<i64> = s.iter().copied().collect();
                    let have: BTreeSet<i64> = flushed.get(t).map(|f| f.iter().copied().collect()).unwrap_or_default();
                    want.is_subset(&have)
                })
                .then_some(())
        })
        .await
        .context("the sink never flushed every committed source record")?;
        let r = self.c.put_empty(&format!("{}/connectors/vsink/stop", self.c.url(1))).await?;
        ensure!(r.status == 204, "stop vsink: {} {}", r.status, r.text);
        self.c
            .get_until(&format!("{}/connectors/vsink/status", self.c.url(1)), "vsink STOPPED", |r| {
                r.body["connector"]["state"] == "STOPPED"
            })
            .await?;
        let committed = seqnos(&self.source_out, "committed");
        let flushed = seqnos(&self.sink_out, "flushed");
        ensure!(committed.len() == SOURCE_TASKS, "committed records from tasks {:?}", committed.keys());
        // A bound on repeats: one hard bounce per stream re-sends at most what one flush
        // interval (1 s) carried, plus up to a second more for acknowledgements in flight,
        // at RATE per task.
        let bound = if hard { 2 * RATE as usize } else { 0 };
        // A task that failed on its own (the test broker answers a rare idempotent batch with
        // OUT_OF_ORDER_SEQUENCE_NUMBER, which librdkafka treats as fatal) is restarted and
        // re-sends (source) or re-delivers (sink) what was not committed, as Kafka Connect's
        // would: at-least-once, so what it touched gets the crash bound; the rest still gets 0.
        let logs: String = self
            .c
            .nodes
            .values()
            .map(|n| without_colours(&std::fs::read_to_string(&n.log_path).unwrap_or_default()))
            .collect();
        let failed = |t: i64| logs.contains(&format!("Unit failed. unit=vsource-{t} "));
        for (t, seen) in &committed {
            let bound = if failed(*t) {
                eprintln!("source task {t} failed during the run (see the node logs): at-least-once bound");
                bound.max(2 * RATE as usize)
            } else {
                bound
            };
            let (gaps, dups) = gaps_and_dups(seen);
            let (_, sink_dups) = gaps_and_dups(flushed.get(t).map(Vec::as_slice).unwrap_or_default());
            eprintln!(
                "source task {t}: {} committed, {dups} repeated; sink: {} flushed, {sink_dups} repeated",
                seen.len(),
                flushed.get(t).map_or(0, Vec::len)
            );
            ensure!(gaps.is_empty(), "source task {t}: committed seqnos missing {gaps:?}");
            ensure!(seen.len() >= 300, "source task {t}: only {} committed", seen.len());
            ensure!(dups <= bound, "source task {t}: {dups} seqnos committed twice (bound {bound})");
            let got = flushed.get(t).cloned().unwrap_or_default();
            let (gaps, dups) = gaps_and_dups(&got);
            ensure!(gaps.is_empty(), "sink, from source task {t}: flushed seqnos missing {gaps:?}");
            // The sink sees the source's repeats (they are in the topic twice) plus its own.
            // A sink task failed the same way re-delivers what it had flushed since its last
            // commit, from every stream.
            let sink_failed = logs.contains("Unit failed. unit=vsink-");
            let sink_own = if sink_failed { bound.max(2 * RATE as usize) } else { bound };
            let sink_bound = sink_own + (seen.len() - seen.iter().collect::<BTreeSet<_>>().len());
            ensure!(
                dups <= sink_bound,
                "sink, from source task {t}: {dups} seqnos flushed twice (bound {sink_bound}); sink lines:\n{}\nsource lines:\n{}",
                repeated_lines(&self.sink_out, *t, &got),
                repeated_lines(&self.source_out, *t, &got)
            );
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_the_source_node_and_a_sink_node_loses_nothing_and_bounds_duplicates() {
    let mut b = bounce_setup().await.expect("setup");
    let res = async {
        b.progress(300).await?;
        b.bounce("vsource", 0, true).await?;
        b.bounce("vsink", 0, true).await?;
        b.finish(true).await
    }
    .await;
    b.c.report(res);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_of_the_source_node_and_a_sink_node_duplicates_nothing() {
    let mut b = bounce_setup().await.expect("setup");
    let res = async {
        b.progress(300).await?;
        b.bounce("vsource", 0, false).await?;
        b.bounce("vsink", 1, false).await?;
        b.finish(false).await
    }
    .await;
    b.c.report(res);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patching_a_sink_offset_back_redelivers_the_records_after_it() {
    let (c, broker) = cluster_with_broker(3, "").await.expect("cluster");
    let res = async {
        broker.create_topic("rt", 1)?;
        let values: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
        broker.produce("rt", 0, &values)?;
        let out = c.dir.path().join("rt.txt");
        post_connector(&c, 1, "rt-sink", json!({
            "connector.class": "FileStreamSink", "topics": "rt", "file": out, "value.converter": STRING,
        }))
        .await?;
        let first = wait_lines(&out, 100, Duration::from_secs(30)).await?;
        ensure!(first == values, "first delivery: {first:?}");
        let base = c.url(2);
        c.get_until(&format!("{base}/connectors/rt-sink/offsets"), "offset 100 committed", |r| {
            r.body["offsets"][0]["offset"]["kafka_offset"] == 100
        })
        .await?;
        let r = c.put_empty(&format!("{base}/connectors/rt-sink/stop")).await?;
        ensure!(r.status == 204, "stop: {} {}", r.status, r.text);
        c.get_until(&format!("{base}/connectors/rt-sink/status"), "STOPPED", |r| r.body["connector"]["state"] == "STOPPED")
            .await?;
        let patch = json!({ "offsets": [ { "partition": { "kafka_topic": "rt", "kafka_partition": 0 }, "offset": { "kafka_offset": 90 } } ] });
        let r = c.patch_json(&format!("{base}/connectors/rt-sink/offsets"), &patch).await?;
        ensure!(r.status == 200, "PATCH offsets: {} {}", r.status, r.text);
        let r = c.get_reply(&format!("{base}/connectors/rt-sink/offsets")).await?;
        ensure!(r.body["offsets"][0]["offset"]["kafka_offset"] == 90, "after PATCH: {}", r.text);
        let r = c.put_empty(&format!("{base}/connectors/rt-sink/resume")).await?;
        ensure!(r.status == 202, "resume: {} {}", r.status, r.text);
        let all = wait_lines(&out, 110, Duration::from_secs(30)).await?;
        ensure!(all[100..] == values[90..], "re-delivered: {:?}", &all[100..]);
        // And nothing more than that.
        c.get_until(&format!("{base}/connectors/rt-sink/offsets"), "offset 100 committed again", |r| {
            r.body["offsets"][0]["offset"]["kafka_offset"] == 100
        })
        .await?;
        ensure!(file_lines(&out).len() == 110, "extra lines: {:?}", file_lines(&out));
        Ok(())
    }
    .await;
    c.report(res);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_over_2000_partitions_gets_every_partition_assigned_delivered_and_committed() {
    // Issue 9: a spread and an offset commit of this size are far over the command cap (the
    // long topic name makes each partition's entry larger): both go in parts.
    const TOPIC: &str = "a-sink-topic-with-two-thousand-partitions-and-a-long-name";
    const PARTITIONS: i32 = 2000;
    let (c, broker) = cluster_with_broker(3, "offset.flush.interval.ms=500\n").await.expect("cluster");
    let res = async {
        broker.create_topic(TOPIC, PARTITIONS as u32)?;
        let values: Vec<String> = (0..PARTITIONS).map(|p| format!("p{p}")).collect();
        let records: Vec<(i32, &str)> = values.iter().enumerate().map(|(p, v)| (p as i32, v.as_str())).collect();
        broker.produce_to(TOPIC, &records)?;
        let out = c.dir.path().join("wide.txt");
        post_connector(
            &c,
            1,
            "wide",
            json!({
                "connector.class": "FileStreamSink", "tasks.max": "10", "topics": TOPIC, "file": out,
                "value.converter": STRING,
            }),
        )
        .await?;
        wait_running(&c, 1, "wide", 10).await?;
        let got = wait_lines(&out, PARTITIONS as usize, Duration::from_secs(120)).await?;
        let got: BTreeSet<String> = got.into_iter().collect();
        ensure!(got == values.iter().cloned().collect::<BTreeSet<_>>(), "delivered {} distinct values", got.len());
        // Every partition's offset is committed (next offset 1), through any node.
        let url = format!("{}/connectors/wide/offsets", c.url(2));
        c.get_until(&url, "all 2,000 partitions committed at offset 1", |r| {
            r.body["offsets"]
                .as_array()
                .is_some_and(|o| o.len() == PARTITIONS as usize && o.iter().all(|e| e["offset"]["kafka_offset"] == 1))
        })
        .await?;
        // The spread went in parts (and nothing was refused for its size).
        let log = c.log(1).await?;
        let parts = log.iter().flat_map(entry_commands).filter(|c| c["type"] == "spread_sink_partitions_part").count();
        ensure!(parts >= 2, "the spread of 2,000 partitions was written in {parts} parts");
        let logs = c.logs();
        ensure!(!logs.contains("exceeds the limit of"), "a command was refused for its size");
        Ok(())
    }
    .await;
    c.report(res);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regex_sink_picks_up_a_matching_topic_created_later() {
    let (c, broker) = cluster_with_broker(1, "metadata.refresh.interval.ms=500\n").await.expect("cluster");
    let res =
        async {
            broker.create_topic("re-a", 2)?;
            broker.create_topic("other", 1)?;
            broker.produce("re-a", 1, &["a1".to_string()])?;
            broker.produce("other", 0, &["never".to_string()])?;
            let out = c.dir.path().join("re.txt");
            post_connector(&c, 1, "re-sink", json!({
            "connector.class": "FileStreamSink", "topics.regex": "re-.*", "file": out, "value.converter": STRING,
        }))
        .await?;
            wait_lines(&out, 1, Duration::from_secs(30)).await?;
            broker.create_topic("re-b", 3)?;
            broker.produce("re-b", 2, &["b2".to_string()])?;
            let got = wait_lines(&out, 2, Duration::from_secs(30)).await?;
            let set: BTreeSet<&str> = got.iter().map(String::as_str).collect();
            ensure!(set == BTreeSet::from(["a1", "b2"]), "got {got:?}");
            // Its offset is committed too (on the next flush).
            c.get_until(&format!("{}/connectors/re-sink/offsets", c.url(1)), "offsets of re-b-2 committed", |r| {
                r.body["offsets"].as_array().is_some_and(|o| {
                    o.iter().any(|e| {
                        e["partition"] == json!({"kafka_topic": "re-b", "kafka_partition": 2})
                            && e["offset"]["kafka_offset"] == 1
                    })
                })
            })
            .await?;
            Ok(())
        }
        .await;
    c.report(res);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_producer_queue_holds_the_task_back_and_offsets_are_committed_once_per_interval() {
    // A producer queue of 100 records: the task must wait for deliveries (backpressure),
    // lose nothing, and the node commits its offsets in one entry per flush interval.
    let (c, broker) = cluster_with_broker(1, "offset.flush.interval.ms=500\n").await.expect("cluster");
    let res = async {
        broker.create_topic("gen", 2)?;
        let started = std::time::Instant::now();
        post_connector(
            &c,
            1,
            "gen",
            json!({
                "connector.class": "Datagen", "topic": "gen", "tasks.max": "2", "max.records": "20000",
                "record.size": "50", "key.space": "7", "value.converter": STRING, "key.converter": STRING,
                "producer.override.queue.buffering.max.messages": "100",
            }),
        )
        .await?;
        let got = broker.read_all("gen", 2, 40_000, Duration::from_secs(60))?;
        ensure!(got.len() == 40_000, "read {}", got.len());
        ensure!(got.iter().all(|r| r.key.as_deref().is_some_and(|k| k.starts_with(b"key-"))), "records without keys");
        let offsets = c
            .get_until(&format!("{}/connectors/gen/offsets", c.url(1)), "both tasks' last offsets committed", |r| {
                r.body["offsets"]
                    .as_array()
                    .is_some_and(|o| o.len() == 2 && o.iter().all(|e| e["offset"] == json!({ "seq": 19_999 })))
            })
            .await?;
        let tasks: BTreeSet<i64> = offsets.body["offsets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["partition"]["task"].as_i64())
            .collect();
        ensure!(tasks == BTreeSet::from([0, 1]), "partitions: {}", offsets.text);
        let status = c.get_reply(&format!("{}/connectors/gen/status", c.url(1))).await?;
        ensure!(
            status.body["tasks"].as_array().is_some_and(|t| t.iter().all(|t| t["state"] == "RUNNING")),
            "tasks after backpressure: {}",
            status.text
        );
        // Coalesced: at most one commit entry per interval (plus a final one), however many
        // records and tasks.
        let elapsed = started.elapsed().as_millis() as usize;
        let log = c.log(1).await?;
        let commits = log.iter().flat_map(entry_commands).filter(|c| c["type"] == "commit_offsets").count();
        ensure!(commits >= 1 && commits <= elapsed / 500 + 2, "{commits} offset commits in {elapsed} ms");
        Ok(())
    }
    .await;
    c.report(res);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_resume_commit_final_offsets_and_deliver_nothing_twice() {
    // No periodic commit within the test: only the tasks' final commits record progress.
    let (c, broker) = cluster_with_broker(3, "offset.flush.interval.ms=600000\n").await.expect("cluster");
    let res = async {
        broker.create_topic("sr", 2)?;
        let input = c.dir.path().join("sr-in.txt");
        let output = c.dir.path().join("sr-out.txt");
        let first: String = (0..100).map(|i| format!("a{i}\n")).collect();
        std::fs::write(&input, &first)?;
        post_connector(&c, 1, "sr-src", json!({
            "connector.class": "FileStreamSource", "file": input, "topic": "sr", "value.converter": STRING,
        }))
        .await?;
        post_connector(&c, 2, "sr-sink", json!({
            "connector.class": "FileStreamSink", "file": output, "topics": "sr", "tasks.max": "2", "value.converter": STRING,
        }))
        .await?;
        wait_lines(&output, 100, Duration::from_secs(30)).await?;
        let base = c.url(3);
        for name in ["sr-src", "sr-sink"] {
            let r = c.put_empty(&format!("{base}/connectors/{name}/stop")).await?;
            ensure!(r.status == 204, "stop {name}: {} {}", r.status, r.text);
        }
        // The final commits of the stopped tasks are in.
        c.get_until(&format!("{base}/connectors/sr-src/offsets"), "source final offset", |r| {
            r.body["offsets"][0]["offset"]["position"] == json!(first.len())
        })
        .await?;
        c.get_until(&format!("{base}/connectors/sr-sink/offsets"), "sink final offsets", |r| {
            r.body["offsets"].as_array().is_some_and(|o| {
                o.iter().filter_map(|e| e["offset"]["kafka_offset"].as_i64()).sum::<i64>() == 100
            })
        })
        .await?;
        for name in ["sr-src", "sr-sink"] {
            let r = c.put_empty(&format!("{base}/connectors/{name}/resume")).await?;
            ensure!(r.status == 202, "resume {name}: {} {}", r.status, r.text);
        }
        let more: String = (0..20).map(|i| format!("b{i}\n")).collect();
        std::fs::OpenOptions::new().append(true).open(&input)?.write_all(more.as_bytes())?;
        let out = wait_lines(&output, 120, Duration::from_secs(30)).await?;
        // Stop again: every line exactly once in the topic and in the output.
        for name in ["sr-src", "sr-sink"] {
            c.put_empty(&format!("{base}/connectors/{name}/stop")).await?;
        }
        c.get_until(&format!("{base}/connectors/sr-sink/offsets"), "sink final offsets after resume", |r| {
            r.body["offsets"].as_array().is_some_and(|o| {
                o.iter().filter_map(|e| e["offset"]["kafka_offset"].as_i64()).sum::<i64>() == 120
            })
        })
        .await?;
        let out_now = file_lines(&output);
        ensure!(out_now.len() == 120, "output has {} lines: {:?}", out_now.len(), out_now);
        let distinct: BTreeSet<&String> = out.iter().collect();
        ensure!(distinct.len() == 120, "duplicates in the output");
        ensure!(broker.read_all("sr", 2, 121, Duration::from_secs(2)).is_err(), "the topic has more than 120 records");
        Ok(())
    }
    .await;
    c.report(res);
}
