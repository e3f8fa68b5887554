//! Group commit on the leader. openraft 0.9 appends and flushes each `client_write` on its own
//! (raft-at-scale.md), so a write costs an fsync on a quorum plus a round trip, one after the
//! other. Writes queue here instead; one writer proposes what queued while the previous entry
//! was being committed as one [`Command::Batch`] (one write per [`Command::batch_key`]: per
//! writer), so one fsync serves creates, task configs, the planner's assignments and every
//! node's statuses alike. Offset commits and releases go alone (see `batch_key`).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use openraft::error::{ClientWriteError, RaftError};
use raftconnect_storage::model::MAX_COMMAND_BYTES;
use raftconnect_storage::{Command, Response};
use tokio::sync::{oneshot, Notify, Semaphore};

use crate::error::RaftNodeError;
use crate::node::{not_leader, WriteOutcome};
use crate::Raft;

type Reply = oneshot::Sender<Result<WriteOutcome, RaftNodeError>>;

struct Queued {
    cmd: Command,
    size: usize,
    reply: Reply,
}

#[derive(Default)]
pub(crate) struct Batcher {
    queue: Mutex<Vec<Queued>>,
    wake: Notify,
}

/// Entries the batcher has proposed and not yet seen committed, at most. 4 measured no faster
/// than 1 (about 400 creates/s with 8 clients either way), so one at a time it is.
const IN_FLIGHT: usize = 1;

/// Room for the batch's own framing (variant tag, vector length) under the cap.
const FRAMING: usize = 64;

impl Batcher {
    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue a write and wait for its own answer.
    pub(crate) async fn submit(&self, cmd: Command) -> Result<WriteOutcome, RaftNodeError> {
        let (reply, rx) = oneshot::channel();
        let size = cmd.encoded_len();
        self.queue().push(Queued { cmd, size, reply });
        self.wake.notify_one();
        rx.await.unwrap_or_else(|_| Err(RaftNodeError::Raft("the write batcher stopped".into())))
    }

    /// The next batch: queued writes in order, one per key, within the command cap; the
    /// rest stay queued, in order, for the next entry.
    fn take(&self) -> Vec<Queued> {
        let mut q = self.queue();
        let mut keys = BTreeSet::new();
        let mut size = FRAMING;
        let mut taken = Vec::new();
        let mut left = Vec::new();
        for item in q.drain(..) {
            let fits = taken.is_empty() || size + item.size <= MAX_COMMAND_BYTES;
            if fits && item.cmd.batch_key().is_none_or(|k| keys.insert(k)) {
                size += item.size;
                taken.push(item);
            } else {
                left.push(item);
            }
        }
        *q = left;
        taken
    }

    /// The writer: for as long as the node lives.
    /// Up to [`IN_FLIGHT`] entries are proposed at once: RaftCore appends (and fsyncs) one
    /// after the other but replicates them together, so the next batch need not wait for the
    /// previous one's commit. A writer awaits each of its writes, so two entries in flight never
    /// hold writes of one writer.
    pub(crate) async fn run(self: Arc<Self>, raft: Raft) {
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        loop {
            self.wake.notified().await;
            loop {
                let Ok(slot) = slots.clone().acquire_owned().await else { return };
                let batch = self.take();
                if batch.is_empty() {
                    break;
                }
                let raft = raft.clone();
                tokio::spawn(async move {
                    Self::propose(&raft, batch).await;
                    drop(slot);
                });
            }
        }
    }

    async fn propose(raft: &Raft, mut batch: Vec<Queued>) {
        if batch.len() == 1 {
            let Queued { cmd, reply, .. } = batch.remove(0);
            let _ = reply.send(write_outcome(raft.client_write(cmd).await));
            return;
        }
        let (commands, replies): (Vec<Command>, Vec<Reply>) = batch.into_iter().map(|q| (q.cmd, q.reply)).unzip();
        let n = replies.len();
        tracing::debug!(writes = n, "Proposing a batch.");
        match write_outcome(raft.client_write(Command::Batch { commands }).await) {
            Ok(WriteOutcome { index, response: Response::Batch(responses) }) if responses.len() == n => {
                for (reply, response) in replies.into_iter().zip(responses) {
                    let _ = reply.send(Ok(WriteOutcome { index, response }));
                }
            }
            Ok(other) => {
                // Not what `apply` answers to a batch: report it to every writer rather than guess.
                let e = RaftNodeError::Raft(format!("unexpected answer to a batch: {:?}", other.response));
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// A `client_write` result as the node reports it.
pub(crate) fn write_outcome(
    r: Result<
        openraft::raft::ClientWriteResponse<crate::TypeConfig>,
        RaftError<u64, ClientWriteError<u64, openraft::BasicNode>>,
    >,
) -> Result<WriteOutcome, RaftNodeError> {
    match r {
        Ok(resp) => Ok(WriteOutcome { index: resp.log_id.index, response: resp.data }),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => Err(not_leader(&f)),
        Err(e) => Err(RaftNodeError::Raft(e.to_string())),
    }
}
