//! A sink task's data loop (Kafka Connect's `WorkerSinkTask`, §5.3), on its own thread, with
//! no consumer group: the task `assign()`s the topic-partitions the leader spread to it and
//! seeks to the offsets committed in Raft (earliest where none). Batches go to `put`; on the
//! committer's tick the task is flushed and the positions after what it was given are
//! deposited for the commit, so nothing is committed before the external system has it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use raftconnect_storage::model::TopicPartition;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::{oneshot, watch};

use super::kafka::{consumer_config, LogContext};
use super::{tolerates_errors, Converters, TaskEnv};
use crate::plugin::api::{ConnectError, SinkRecord, SinkTask};

/// Records per `put` at most (Kafka's `max.poll.records`, 500 there).
const DEFAULT_MAX_BATCH: usize = 2000;

struct Loop<'a> {
    env: &'a TaskEnv,
    task: Box<dyn SinkTask>,
    convs: Converters,
    tolerate: bool,
    /// Next offset to consume, per partition, after what `put` accepted.
    positions: BTreeMap<(Arc<str>, i32), i64>,
    /// Positions given to `put` since the last flush.
    unflushed: bool,
    topics: BTreeMap<String, Arc<str>>,
}

impl Loop<'_> {
    /// The record for `put` (None: skipped under `errors.tolerance=all`), and its topic.
    fn convert(&mut self, m: &BorrowedMessage<'_>) -> Result<(Arc<str>, Option<SinkRecord>), ConnectError> {
        let topic = match self.topics.get(m.topic()) {
            Some(t) => t.clone(),
            None => {
                let t: Arc<str> = Arc::from(m.topic());
                self.topics.insert(m.topic().to_string(), t.clone());
                t
            }
        };
        let converted = (|| {
            let key = self.convs.key.to_connect(&topic, m.key())?;
            let value = self.convs.value.to_connect(&topic, m.payload())?;
            let mut headers = Vec::new();
            if let Some(hs) = m.headers() {
                for h in hs.iter() {
                    headers.push((h.key.to_string(), self.convs.header.to_connect_header(&topic, h.key, h.value)?));
                }
            }
            Ok::<_, crate::data::DataError>((key, value, headers))
        })();
        match converted {
            Ok((key, value, headers)) => Ok((
                topic.clone(),
                Some(SinkRecord {
                    topic,
                    kafka_partition: m.partition(),
                    kafka_offset: m.offset(),
                    key_schema: key.schema,
                    key: key.value,
                    value_schema: value.schema,
                    value: value.value,
                    timestamp: m.timestamp().to_millis(),
                    headers,
                }),
            )),
            Err(e) if self.tolerate => {
                tracing::warn!(connector = %self.env.key.connector, task = self.env.key.task, topic = m.topic(),
                    partition = m.partition(), offset = m.offset(), error = %e,
                    "Record could not be converted and is skipped (errors.tolerance=all).");
                // A skipped record's position advances with its batch.
                Ok((topic, None))
            }
            Err(e) => Err(ConnectError::new(format!("Tolerance exceeded in error handler: {e}"))),
        }
    }

    /// Flush the task and deposit the positions after what it flushed.
    fn flush(&mut self) -> Result<(), ConnectError> {
        if !self.unflushed {
            return Ok(());
        }
        self.task.flush()?;
        self.unflushed = false;
        let positions: Vec<(String, i32, i64)> =
            self.positions.iter().map(|((t, p), o)| (t.to_string(), *p, *o)).collect();
        self.env.plane.committer.deposit_sink(&self.env.key, positions);
        Ok(())
    }
}

fn max_batch(env: &TaskEnv) -> usize {
    env.connector_config
        .get("consumer.override.max.poll.records")
        .or_else(|| env.plane.worker.consumer.get("max.poll.records"))
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(DEFAULT_MAX_BATCH)
}

/// Reads the committed next offset of a partition from the replicated state.
pub type CommittedReader = Box<dyn Fn(&TopicPartition) -> Option<i64> + Send>;

/// Run a sink task until `env.stop` is set or it fails. Its partitions come from `partitions`:
/// the current set first, then every change the leader makes (new partitions or topics are
/// assigned at their committed offsets, or earliest; vanished ones are unassigned).
pub fn run(
    mut task: Box<dyn SinkTask>,
    partitions: watch::Receiver<Vec<TopicPartition>>,
    committed: CommittedReader,
    env: &TaskEnv,
    started: oneshot::Sender<()>,
) -> Result<(), ConnectError> {
    let convs = Converters::for_connector(&env.plane.worker, &env.connector_config)?;
    task.start(&env.task_config)?;
    let _ = started.send(());
    let mut l = Loop {
        env,
        task,
        convs,
        tolerate: tolerates_errors(&env.connector_config),
        positions: BTreeMap::new(),
        unflushed: false,
        topics: BTreeMap::new(),
    };
    let committer = env.plane.committer.clone();
    let mut tick = committer.register_sink(&env.key);
    // Where a partition without a committed offset starts: earliest, as Kafka Connect's
    // default, unless the worker or connector says `auto.offset.reset=latest`.
    let reset = consumer_config(&env.plane.worker, &env.key.connector, &env.connector_config, "")
        .ok()
        .and_then(|c| c.get("auto.offset.reset").map(str::to_ascii_lowercase));
    let at_end = matches!(reset.as_deref(), Some("latest" | "end" | "largest"));
    let mut assignment = Assignment { partitions, committed, consumer: None, current: BTreeSet::new(), at_end };
    let result = run_loop(&mut l, &mut assignment, &mut tick);
    // A clean stop flushes and commits what was delivered; a failed task commits only what
    // was flushed before.
    let finished = if result.is_ok() && !env.plane.abandoning() { l.flush() } else { Ok(()) };
    committer.unregister_sink(&env.key);
    l.task.stop();
    result.and(finished)
}

/// The task's consumer and what it is assigned.
struct Assignment {
    partitions: watch::Receiver<Vec<TopicPartition>>,
    committed: CommittedReader,
    consumer: Option<BaseConsumer<LogContext>>,
    current: BTreeSet<TopicPartition>,
    /// No committed offset: start at the end (`auto.offset.reset=latest`), else earliest.
    at_end: bool,
}

impl Assignment {
    /// Apply a change of the task's partitions, if there is one.
    fn update(&mut self, l: &mut Loop<'_>) -> Result<(), ConnectError> {
        if !self.partitions.has_changed().unwrap_or(false) {
            return Ok(());
        }
        let env = l.env;
        let next: BTreeSet<TopicPartition> = self.partitions.borrow_and_update().iter().cloned().collect();
        let added: Vec<TopicPartition> = next.difference(&self.current).cloned().collect();
        let removed: Vec<TopicPartition> = self.current.difference(&next).cloned().collect();
        if added.is_empty() && removed.is_empty() {
            return Ok(());
        }
        if !removed.is_empty() {
            // What was delivered from them is flushed and deposited before they go.
            l.flush()?;
            let mut tpl = TopicPartitionList::new();
            for tp in &removed {
                tpl.add_partition(&tp.topic, tp.partition);
                l.positions.retain(|(t, p), _| !(&**t == tp.topic.as_str() && *p == tp.partition));
            }
            if let Some(c) = &self.consumer {
                c.incremental_unassign(&tpl)
                    .map_err(|e| ConnectError::new(format!("Failed to unassign partitions: {e}")))?;
            }
        }
        if !added.is_empty() {
            if self.consumer.is_none() {
                let client = env.client_id("consumer");
                let c: BaseConsumer<LogContext> =
                    consumer_config(&env.plane.worker, &env.key.connector, &env.connector_config, &client)
                        .map_err(|e| ConnectError::new(format!("Failed to create consumer for {client}: {e}")))?
                        .create_with_context(LogContext { client: client.clone() })
                        .map_err(|e| ConnectError::new(format!("Failed to create consumer for {client}: {e}")))?;
                self.consumer = Some(c);
            }
            let mut tpl = TopicPartitionList::new();
            let mut shown = Vec::new();
            for tp in &added {
                let at = (self.committed)(tp);
                let none = if self.at_end { "latest" } else { "earliest" };
                shown.push(format!("{}-{}@{}", tp.topic, tp.partition, at.map_or(none.into(), |o| o.to_string())));
                let offset = at.map_or(if self.at_end { Offset::End } else { Offset::Beginning }, Offset::Offset);
                tpl.add_partition_offset(&tp.topic, tp.partition, offset)
                    .map_err(|e| ConnectError::new(format!("Invalid partition {}-{}: {e}", tp.topic, tp.partition)))?;
            }
            let c = self.consumer.as_ref().expect("created above");
            // Know the partitions' leaders before assigning: otherwise librdkafka schedules the
            // first offset lookup half a second later.
            let topics: BTreeSet<&str> = added.iter().map(|tp| tp.topic.as_str()).collect();
            for t in topics {
                if let Err(e) = c.fetch_metadata(Some(t), Duration::from_secs(5)) {
                    tracing::debug!(topic = t, error = %e, "Metadata before assign failed; assigning anyway.");
                }
            }
            c.incremental_assign(&tpl).map_err(|e| ConnectError::new(format!("Failed to assign partitions: {e}")))?;
            tracing::info!(connector = %env.key.connector, task = env.key.task, partitions = ?shown, "Assigned partitions.");
        }
        if !removed.is_empty() {
            tracing::info!(connector = %env.key.connector, task = env.key.task,
                partitions = ?removed.iter().map(|tp| format!("{}-{}", tp.topic, tp.partition)).collect::<Vec<_>>(),
                "Unassigned partitions.");
        }
        self.current = next;
        Ok(())
    }
}

fn run_loop(l: &mut Loop<'_>, a: &mut Assignment, tick: &mut watch::Receiver<u64>) -> Result<(), ConnectError> {
    let env = l.env;
    let max = max_batch(env);
    let mut last_error: Option<(String, std::time::Instant)> = None;
    while !env.stopping() {
        a.update(l)?;
        if tick.has_changed().unwrap_or(false) {
            let n = *tick.borrow_and_update();
            l.flush()?;
            env.plane.committer.sink_flushed(&env.key, n);
        }
        let Some(c) = a.consumer.as_ref().filter(|_| !a.current.is_empty()) else {
            env.stop.wait(Duration::from_millis(50));
            continue;
        };
        let mut batch = Vec::new();
        // The position after every record of the batch, skipped ones included.
        let mut ends: Vec<((Arc<str>, i32), i64)> = Vec::new();
        let mut next = c.poll(Duration::from_millis(50));
        while let Some(m) = next {
            match m {
                Ok(m) => {
                    let (topic, record) = l.convert(&m)?;
                    ends.push(((topic, m.partition()), m.offset() + 1));
                    if let Some(r) = record {
                        batch.push(r);
                    }
                }
                Err(e) => {
                    // A lasting error (a deleted topic, say) repeats on every poll: log it when
                    // it changes, or every 30 s.
                    let text = e.to_string();
                    if last_error.as_ref().is_none_or(|(t, at)| *t != text || at.elapsed() > Duration::from_secs(30)) {
                        tracing::warn!(connector = %env.key.connector, task = env.key.task, error = %text, "Consumer error.");
                        last_error = Some((text, std::time::Instant::now()));
                    }
                }
            }
            if batch.len() >= max {
                break;
            }
            next = c.poll(Duration::ZERO);
        }
        if ends.is_empty() {
            continue;
        }
        if !batch.is_empty() {
            l.task.put(batch)?;
        }
        for (k, o) in ends {
            let p = l.positions.entry(k).or_insert(o);
            *p = (*p).max(o);
        }
        l.unflushed = true;
    }
    Ok(())
}
