//! The leader spreads every sink connector's topic-partitions over its tasks; there is no
//! consumer group. The partitions matching `topics` (a list) or `topics.regex` (a full match,
//! as Java's `Pattern.matches`) come from broker metadata, re-read every
//! `metadata.refresh.interval.ms` (2 s) and at once when a sink's task configs change, so new
//! partitions and new matching topics are picked up.
//!
//! The spread is sticky: a partition stays with its task while the task count is unchanged;
//! new partitions go to the task with the fewest. A topic the broker reports with an error
//! keeps its partitions where they are. The result is written as `AssignSinkPartitions` for the
//! task configs' generation; a running task assigns added partitions and unassigns vanished
//! ones without a restart.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use raftconnect_raft::RaftNode;
use raftconnect_storage::model::{ConfigMap, SinkPartitions, TargetState, TopicPartition};
use raftconnect_storage::{Command, State};

use crate::config::WorkerConfig;
use crate::dataplane::kafka;
use crate::plugin::api::TaskKind;
use crate::plugin::registry;

/// Which topics a sink connector consumes.
#[derive(Debug)]
pub enum TopicFilter {
    List(BTreeSet<String>),
    Regex(regex::Regex),
}

impl TopicFilter {
    pub fn from_config(config: &ConfigMap) -> Option<Self> {
        let list: BTreeSet<String> = config
            .get("topics")
            .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        if !list.is_empty() {
            return Some(TopicFilter::List(list));
        }
        let re = config.get("topics.regex").map(|r| r.trim()).filter(|r| !r.is_empty())?;
        regex::Regex::new(&format!("^(?:{re})$")).ok().map(TopicFilter::Regex)
    }

    pub fn matches(&self, topic: &str) -> bool {
        match self {
            TopicFilter::List(l) => l.contains(topic),
            // Like a Java consumer's pattern subscription: internal topics never match.
            TopicFilter::Regex(r) => !topic.starts_with("__") && r.is_match(topic),
        }
    }
}

/// Spread `available` over `tasks` tasks, keeping what `current` already placed when the task
/// count is the same.
pub fn spread(
    current: Option<&SinkPartitions>,
    tasks: usize,
    available: &[TopicPartition],
) -> Vec<Vec<TopicPartition>> {
    let avail: BTreeSet<&TopicPartition> = available.iter().collect();
    let mut out: Vec<Vec<TopicPartition>> = vec![Vec::new(); tasks];
    if let Some(cur) = current.filter(|c| c.tasks.len() == tasks) {
        for (i, tps) in cur.tasks.iter().enumerate() {
            out[i] = tps.iter().filter(|tp| avail.contains(tp)).cloned().collect();
        }
    }
    let placed: BTreeSet<TopicPartition> = out.iter().flatten().cloned().collect();
    for tp in avail {
        if placed.contains(tp) || tasks == 0 {
            continue;
        }
        let i = (0..tasks).min_by_key(|i| (out[*i].len(), *i)).expect("tasks > 0");
        out[i].push(tp.clone());
    }
    for t in &mut out {
        t.sort();
    }
    out
}

/// The sink connectors that move data and have tasks: (name, generation, task count, config,
/// current spread).
fn data_sinks(state: &State) -> Vec<(String, u64, usize, ConfigMap, Option<SinkPartitions>)> {
    state
        .connectors
        .iter()
        .filter(|(_, c)| c.target_state != TargetState::Stopped)
        .filter(|(_, c)| {
            c.config
                .get("connector.class")
                .and_then(|cl| registry::connector(cl))
                .and_then(|p| p.connector_runtime())
                .is_some_and(|rt| rt.kind == TaskKind::Sink)
        })
        .filter_map(|(name, c)| {
            let tc = state.task_configs.get(name).filter(|t| !t.configs.is_empty())?;
            Some((
                name.clone(),
                tc.generation,
                tc.configs.len(),
                c.config.clone(),
                state.sink_partitions.get(name).cloned(),
            ))
        })
        .collect()
}

/// Run for as long as the node lives; acts only while the node leads.
pub async fn run(node: Arc<RaftNode>, worker: WorkerConfig) {
    let mut applied = node.state().applied_watch();
    let mut client: Option<Arc<rdkafka::consumer::BaseConsumer<kafka::LogContext>>> = None;
    let mut last_fetch: Option<Instant> = None;
    let mut warned = false;
    // The units index when the sinks were last looked at: statuses and offsets (most of the
    // log) change no sink, so they cost no scan of the connectors.
    let mut seen: Option<u64> = None;
    let mut last_scan = Instant::now();
    loop {
        let _ = tokio::time::timeout(worker.metadata_refresh, applied.changed()).await;
        if !matches!(node.leader(), Some((id, _)) if id == node.id) {
            seen = None;
            continue;
        }
        let due = last_fetch.is_none_or(|t| t.elapsed() >= worker.metadata_refresh);
        let index = node.state().units_index();
        if seen == Some(index) && !due {
            continue;
        }
        // A scan is linear in the connectors: at most one per 50 ms, however fast they change.
        if let Some(wait) = Duration::from_millis(50).checked_sub(last_scan.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        last_scan = Instant::now();
        let index = node.state().units_index();
        seen = Some(index);
        let sinks = node.state().read(|a| data_sinks(&a.state));
        if sinks.is_empty() {
            continue;
        }
        let behind =
            sinks.iter().any(|(_, generation, _, _, cur)| cur.as_ref().map(|c| c.generation) != Some(*generation));
        if !behind && !due {
            continue;
        }
        let c = match &client {
            Some(c) => c.clone(),
            None => match kafka::metadata_client(&worker) {
                Ok(c) => {
                    let c = Arc::new(c);
                    client = Some(c.clone());
                    c
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot create the metadata client for sink partitions.");
                    continue;
                }
            },
        };
        last_fetch = Some(Instant::now());
        let fetched = tokio::task::spawn_blocking(move || kafka::topic_partitions(&c, Duration::from_secs(5))).await;
        let (available, errored) = match fetched {
            Ok(Ok(found)) => {
                warned = false;
                found
            }
            Ok(Err(e)) => {
                if !warned {
                    tracing::warn!(error = %e, bootstrap = %worker.bootstrap_servers, "Cannot read topic metadata; sink tasks wait for their partitions.");
                    warned = true;
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "Metadata fetch panicked.");
                continue;
            }
        };
        for (name, generation, tasks, config, current) in sinks {
            let Some(filter) = TopicFilter::from_config(&config) else { continue };
            let mut matching: Vec<TopicPartition> =
                available.iter().filter(|tp| filter.matches(&tp.topic)).cloned().collect();
            // A topic the broker reported with an error (a leader election, say) keeps the
            // partitions it had: they must not move between tasks for a transient error.
            if let Some(cur) = &current {
                matching.extend(cur.tasks.iter().flatten().filter(|tp| errored.contains(&tp.topic)).cloned());
            }
            let next = spread(current.as_ref(), tasks, &matching);
            if current.as_ref().is_some_and(|c| c.generation == generation && c.tasks == next) {
                continue;
            }
            tracing::info!(connector = %name, generation, partitions = matching.len(), tasks, "Spreading sink partitions over tasks.");
            let cmd = Command::AssignSinkPartitions { connector: name.clone(), generation, tasks: next };
            // A spread too large for one entry goes in parts, made current by the last one.
            if let Err(e) = node.write_all(cmd).await {
                tracing::warn!(connector = %name, error = %e, "Could not write the sink partition spread; will retry.");
                last_fetch = None;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(t: &str, p: i32) -> TopicPartition {
        TopicPartition { topic: t.into(), partition: p }
    }

    #[test]
    fn fresh_spread_is_balanced_and_sorted() {
        let avail = vec![tp("a", 0), tp("a", 1), tp("a", 2), tp("b", 0), tp("b", 1)];
        let s = spread(None, 2, &avail);
        assert_eq!(s[0].len() + s[1].len(), 5);
        assert!(s[0].len().abs_diff(s[1].len()) <= 1);
        assert!(s.iter().all(|t| t.windows(2).all(|w| w[0] < w[1])));
    }

    #[test]
    fn spread_is_sticky_and_places_new_partitions_on_the_emptiest_task() {
        let cur = SinkPartitions { generation: 1, tasks: vec![vec![tp("a", 0), tp("a", 1)], vec![tp("a", 2)]] };
        let s = spread(Some(&cur), 2, &[tp("a", 0), tp("a", 1), tp("a", 2), tp("a", 3)]);
        assert_eq!(s, vec![vec![tp("a", 0), tp("a", 1)], vec![tp("a", 2), tp("a", 3)]]);
        // A vanished partition is dropped, nothing else moves.
        let s = spread(Some(&cur), 2, &[tp("a", 0), tp("a", 2)]);
        assert_eq!(s, vec![vec![tp("a", 0)], vec![tp("a", 2)]]);
        // Another task count: a fresh spread.
        let s = spread(Some(&cur), 3, &[tp("a", 0), tp("a", 1), tp("a", 2)]);
        assert!(s.iter().all(|t| t.len() == 1));
        assert!(spread(None, 0, &[tp("a", 0)]).is_empty());
    }

    #[test]
    fn topic_filters() {
        let cfg = |k: &str, v: &str| -> ConfigMap { [(k.to_string(), v.to_string())].into_iter().collect() };
        let l = TopicFilter::from_config(&cfg("topics", "a, b")).unwrap();
        assert!(l.matches("a") && l.matches("b") && !l.matches("ab"));
        let r = TopicFilter::from_config(&cfg("topics.regex", "t-.*")).unwrap();
        assert!(r.matches("t-1") && !r.matches("xt-1"), "a full match, as Java's Pattern.matches");
        assert!(TopicFilter::from_config(&ConfigMap::new()).is_none());
    }
}
