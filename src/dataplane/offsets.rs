//! The node's offset committer: every task on this node deposits its committable offsets here
//! (a source task: offsets of records the broker acknowledged; a sink task: positions after a
//! successful flush). Deposits are coalesced per source partition / topic-partition, and
//! every `offset.flush.interval.ms` the node writes them all in one `CommitOffsets` entry,
//! each item fenced by its task's epoch. A stopping task commits its own final offsets at once.
//!
//! Sink tasks flush on the committer's tick: the committer announces a tick, each sink task
//! flushes and deposits, and the commit waits (briefly) for them, so what is committed was
//! flushed at most one interval ago.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use raftconnect_raft::RaftNode;
use raftconnect_storage::model::{SinkOffsetCommit, SourceOffsetCommit};
use raftconnect_storage::{Command, Response};
use tokio::sync::{watch, Notify};

/// The task a deposit comes from, the epoch it runs under, and which start of it (a task
/// restarted on this node under the same epoch is a new instance; the old one's late deposits
/// are dropped once it is retired).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey {
    pub connector: String,
    pub task: u32,
    pub epoch: u64,
    pub instance: u64,
}

impl TaskKey {
    pub fn new(connector: &str, task: u32, epoch: u64) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let instance = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self { connector: connector.to_string(), task, epoch, instance }
    }
}

#[derive(Default, Clone)]
struct Pending {
    /// (task, partition JSON) → offset JSON.
    source: BTreeMap<(TaskKey, String), String>,
    /// (task, topic, partition) → next offset.
    sink: BTreeMap<(TaskKey, String, i32), i64>,
}

/// What the committer holds: pending offsets, and the task instances whose final commit is
/// done (whatever they deposit later is dropped).
#[derive(Default)]
struct Book {
    pending: Pending,
    retired: std::collections::HashSet<TaskKey>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.source.is_empty() && self.sink.is_empty()
    }

    /// Split off the entries of one task.
    fn take_task(&mut self, key: &TaskKey) -> Pending {
        let mut out = Pending::default();
        let src: Vec<_> = self.source.keys().filter(|(k, _)| k == key).cloned().collect();
        for k in src {
            let v = self.source.remove(&k).expect("listed");
            out.source.insert(k, v);
        }
        let snk: Vec<_> = self.sink.keys().filter(|(k, _, _)| k == key).cloned().collect();
        for k in snk {
            let v = self.sink.remove(&k).expect("listed");
            out.sink.insert(k, v);
        }
        out
    }

    /// Put back entries a failed write carried, unless a newer deposit replaced them.
    fn restore(&mut self, old: Pending) {
        for (k, v) in old.source {
            self.source.entry(k).or_insert(v);
        }
        for (k, v) in old.sink {
            self.sink.entry(k).or_insert(v);
        }
    }
}

pub struct OffsetCommitter {
    node: Arc<RaftNode>,
    interval: Duration,
    timeout: Duration,
    book: Mutex<Book>,
    /// Sink tasks registered for flush ticks: task → last tick it flushed for.
    sinks: Mutex<HashMap<TaskKey, u64>>,
    flushed: Notify,
    tick: watch::Sender<u64>,
    /// Serializes taking and writing batches, so a task's final commit never races an older
    /// periodic one, and a failed write's items go back before newer ones are taken.
    write_lock: tokio::sync::Mutex<()>,
}

impl OffsetCommitter {
    pub fn new(node: Arc<RaftNode>, interval: Duration, timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            node,
            interval,
            timeout,
            book: Mutex::new(Book::default()),
            sinks: Mutex::new(HashMap::new()),
            flushed: Notify::new(),
            tick: watch::channel(0).0,
            write_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Committable source offsets of a task (canonical partition JSON → offset JSON).
    pub fn deposit_source(&self, task: &TaskKey, offsets: impl IntoIterator<Item = (String, String)>) {
        let mut b = self.book();
        if b.retired.contains(task) {
            return;
        }
        for (partition, offset) in offsets {
            b.pending.source.insert((task.clone(), partition), offset);
        }
    }

    /// Flushed sink positions of a task (topic, partition → next offset).
    pub fn deposit_sink(&self, task: &TaskKey, positions: impl IntoIterator<Item = (String, i32, i64)>) {
        let mut b = self.book();
        if b.retired.contains(task) {
            return;
        }
        for (topic, partition, offset) in positions {
            b.pending.sink.insert((task.clone(), topic, partition), offset);
        }
    }

    /// A sink task takes part in flush ticks from now on; returns the tick receiver.
    pub fn register_sink(&self, task: &TaskKey) -> watch::Receiver<u64> {
        let rx = self.tick.subscribe();
        self.sinks.lock().unwrap_or_else(|p| p.into_inner()).insert(task.clone(), *rx.borrow());
        rx
    }

    pub fn unregister_sink(&self, task: &TaskKey) {
        self.sinks.lock().unwrap_or_else(|p| p.into_inner()).remove(task);
        self.flushed.notify_waiters();
    }

    /// A sink task flushed (and deposited) for `tick`.
    pub fn sink_flushed(&self, task: &TaskKey, tick: u64) {
        if let Some(t) = self.sinks.lock().unwrap_or_else(|p| p.into_inner()).get_mut(task) {
            *t = (*t).max(tick);
        }
        self.flushed.notify_waiters();
    }

    /// Periodic commits, until the process ends.
    pub async fn run(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let has_sinks = !self.sinks.lock().unwrap_or_else(|p| p.into_inner()).is_empty();
            if has_sinks {
                let n = *self.tick.borrow() + 1;
                self.tick.send_replace(n);
                self.wait_for_sinks(n).await;
            }
            // Take under the write lock: a failed write restores its items before anyone else
            // takes newer ones, so an offset never goes back.
            let _serial = self.write_lock.lock().await;
            let batch = std::mem::take(&mut self.book().pending);
            if !batch.is_empty() {
                self.write(batch).await;
            }
        }
    }

    /// Wait (at most a fraction of the interval) until every registered sink flushed for `tick`.
    async fn wait_for_sinks(&self, tick: u64) {
        let deadline = tokio::time::Instant::now() + (self.interval / 2).min(self.timeout);
        loop {
            let notified = self.flushed.notified();
            let done = self.sinks.lock().unwrap_or_else(|p| p.into_inner()).values().all(|t| *t >= tick);
            if done || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    /// The final commit of a stopping task instance: its pending offsets, written now. The
    /// instance is retired: anything it deposits later is dropped. With `abandon` (the node
    /// lost its lease: nothing can commit) the offsets are dropped at once.
    pub async fn commit_task(&self, task: &TaskKey, abandon: bool) -> bool {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let Ok(_serial) = tokio::time::timeout_at(deadline, self.write_lock.lock()).await else {
            // A periodic write is stuck (an election): the offsets stay pending for it.
            self.book().retired.insert(task.clone());
            tracing::warn!(connector = %task.connector, task = task.task,
                "Timed out waiting to flush offsets to storage; they stay pending for the next flush");
            return false;
        };
        let batch = {
            let mut b = self.book();
            b.retired.insert(task.clone());
            b.pending.take_task(task)
        };
        if batch.is_empty() || abandon {
            return batch.is_empty();
        }
        match tokio::time::timeout_at(deadline, self.write(batch.clone())).await {
            Ok(ok) => ok,
            Err(_) => {
                // Unknown whether it applied: keep it for the next flush (idempotent).
                self.book().pending.restore(batch);
                tracing::warn!(connector = %task.connector, task = task.task,
                    "Timed out waiting to flush offsets to storage; will try again on next flush interval with latest offsets");
                false
            }
        }
    }

    /// Write one batch (the caller holds the write lock); on a failed write the entries go
    /// back (newer deposits win).
    async fn write(&self, batch: Pending) -> bool {
        let source: Vec<SourceOffsetCommit> = batch
            .source
            .iter()
            .map(|((t, partition), offset)| SourceOffsetCommit {
                connector: t.connector.clone(),
                task: t.task,
                epoch: t.epoch,
                partition: partition.clone(),
                offset: offset.clone(),
            })
            .collect();
        let sink: Vec<SinkOffsetCommit> = batch
            .sink
            .iter()
            .map(|((t, topic, partition), offset)| SinkOffsetCommit {
                connector: t.connector.clone(),
                task: t.task,
                epoch: t.epoch,
                topic: topic.clone(),
                partition: *partition,
                offset: *offset,
            })
            .collect();
        let items = (source.len() + sink.len()) as u64;
        let cmd = Command::CommitOffsets { node: self.node.id, source, sink };
        // A node's batch may exceed one entry: it goes in pieces, each fenced on its own.
        match self.node.write_all(cmd).await {
            Ok(outcomes) => {
                // Rejected items belong to tasks that moved or stopped: one line for them all.
                let rejected: Vec<String> = outcomes
                    .iter()
                    .flat_map(|o| match &o.response {
                        Response::Rejected(r) => vec![r.to_string()],
                        Response::PartiallyApplied { rejected, .. } => {
                            rejected.iter().map(ToString::to_string).collect()
                        }
                        _ => Vec::new(),
                    })
                    .collect();
                let index = outcomes.last().map(|o| o.index);
                if !rejected.is_empty() {
                    tracing::info!(index, items, rejected = ?rejected, "Offset commit items rejected (their tasks moved or stopped).");
                }
                tracing::debug!(index, items, entries = outcomes.len(), "Committed offsets.");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, items, "Could not commit offsets; they are kept for the next attempt.");
                self.book().pending.restore(batch);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(task: u32) -> TaskKey {
        TaskKey { connector: "c".into(), task, epoch: 7, instance: 1 }
    }

    #[test]
    fn pending_is_coalesced_split_per_task_and_restored_without_going_back() {
        let mut p = Pending::default();
        p.source.insert((key(0), "p".into()), "1".into());
        p.source.insert((key(0), "p".into()), "2".into());
        p.sink.insert((key(1), "t".into(), 0), 5);
        assert_eq!(p.source.len(), 1, "one entry per partition: the newest");
        let t0 = p.take_task(&key(0));
        assert_eq!(t0.source.get(&(key(0), "p".into())), Some(&"2".to_string()));
        assert!(t0.sink.is_empty() && p.source.is_empty() && p.sink.len() == 1);
        // A failed write's items come back, unless a newer deposit replaced them meanwhile.
        let failed = std::mem::take(&mut p);
        p.sink.insert((key(1), "t".into(), 0), 9);
        p.restore(failed);
        assert_eq!(p.sink.get(&(key(1), "t".into(), 0)), Some(&9));
        p.restore(t0);
        assert_eq!(p.source.get(&(key(0), "p".into())), Some(&"2".to_string()));
    }
}
