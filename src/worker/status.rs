//! The node's status reporter: every unit running here hands its status changes to it, and one
//! writer sends them to Raft as `ReportStatuses` entries, the latest status of a unit winning
//! over an older one still queued. While one entry is being committed the next changes gather,
//! so a node starting thousands of units writes a handful of entries, not one per unit (Kafka
//! Connect's status topic producer batches the same way).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use raftconnect_raft::RaftNode;
use raftconnect_storage::model::{Response, StatusReport, WorkUnit};
use raftconnect_storage::Command;
use tokio::sync::{oneshot, Notify};

/// Attempts to write one status before giving up on it (a leader change is routine: each
/// attempt waits longer, 100 ms more each time).
const ATTEMPTS: u32 = 10;

struct Queued {
    report: StatusReport,
    /// Callers waiting for this status (or a newer one of the same unit) to be written.
    waiters: Vec<oneshot::Sender<()>>,
    /// Failed attempts so far.
    failures: u32,
}

pub struct StatusReporter {
    node: Arc<RaftNode>,
    queue: Mutex<BTreeMap<WorkUnit, Queued>>,
    wake: Notify,
}

impl StatusReporter {
    pub fn new(node: Arc<RaftNode>) -> Arc<Self> {
        Arc::new(Self { node, queue: Mutex::new(BTreeMap::new()), wake: Notify::new() })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, BTreeMap<WorkUnit, Queued>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue a status and wait until it (or a newer status of the same unit) was written,
    /// rejected (a stale epoch: the unit moved), or given up on after [`ATTEMPTS`].
    pub async fn report(&self, report: StatusReport) {
        let (tx, rx) = oneshot::channel();
        {
            let mut q = self.queue();
            match q.get_mut(&report.unit) {
                Some(queued) => {
                    queued.report = report;
                    queued.failures = 0;
                    queued.waiters.push(tx);
                }
                None => {
                    q.insert(report.unit.clone(), Queued { report, waiters: vec![tx], failures: 0 });
                }
            }
        }
        self.wake.notify_one();
        let _ = rx.await;
    }

    /// The writer, for as long as the node lives.
    pub async fn run(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            loop {
                let batch = std::mem::take(&mut *self.queue());
                if batch.is_empty() {
                    break;
                }
                if self.write(&batch).await {
                    for w in batch.into_values().flat_map(|q| q.waiters) {
                        let _ = w.send(());
                    }
                } else {
                    let delay = self.requeue(batch);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Write one batch (in pieces under the command cap); false if a piece could not be written.
    async fn write(&self, batch: &BTreeMap<WorkUnit, Queued>) -> bool {
        let reports: Vec<StatusReport> = batch.values().map(|q| q.report.clone()).collect();
        let count = reports.len();
        match self.node.write_all(Command::ReportStatuses { node: self.node.id, reports }).await {
            Ok(outcomes) => {
                for o in outcomes.iter().filter(|o| !matches!(o.response, Response::Applied)) {
                    // Units that moved or were deleted meanwhile: their reports are moot.
                    tracing::info!(index = o.index, response = ?o.response, "Some statuses not applied (stale epoch).");
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, statuses = count, "Could not report statuses; retrying.");
                false
            }
        }
    }

    /// Put a failed batch back (a newer queued status of a unit wins) and return how long to
    /// wait before the next attempt. Statuses that failed [`ATTEMPTS`] times are dropped.
    fn requeue(&self, batch: BTreeMap<WorkUnit, Queued>) -> Duration {
        let mut q = self.queue();
        let mut most = 0;
        for (unit, mut old) in batch {
            old.failures += 1;
            if old.failures >= ATTEMPTS {
                tracing::warn!(unit = %unit, "Giving up on reporting a status.");
                for w in old.waiters {
                    let _ = w.send(());
                }
                continue;
            }
            match q.get_mut(&unit) {
                Some(newer) => newer.waiters.append(&mut old.waiters),
                None => {
                    most = most.max(old.failures);
                    q.insert(unit, old);
                }
            }
        }
        Duration::from_millis(100 * u64::from(most.max(1)))
    }
}
