//! A source task's data loop (Kafka Connect's `WorkerSourceTask`, §5.2), on its own thread:
//! poll → convert → produce, with offsets tracked per source partition and made committable
//! only up to the longest acknowledged prefix (an unacknowledged record holds back later
//! offsets of its own partition only). The producer queue bounds memory: when it is full the
//! loop waits for deliveries before polling again (backpressure).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer};
use tokio::sync::oneshot;

use super::kafka::{producer_config, AckContext, TaskProducer};
use super::{tolerates_errors, Converters, TaskEnv};
use crate::data::Value;
use crate::plugin::api::{ConnectError, SourceOffset, SourcePartition, SourceRecord, SourceTask, SourceTaskContext};

/// Records sent and not yet acknowledged, per source partition, in send order.
#[derive(Default)]
pub struct Submitted {
    /// Sequence number of `state[0]`.
    base: u64,
    /// Per sequence number: 0 sent, 1 acknowledged, 2 accounted for.
    state: VecDeque<u8>,
    /// Per source partition, its records in flight; `index` finds a partition's slot, and the
    /// last slot used is tried first (records of one partition come in runs).
    partitions: Vec<(SourcePartition, VecDeque<(u64, SourceOffset)>)>,
    index: HashMap<SourcePartition, usize>,
    last: usize,
    /// The newest committable offset per partition since the last `take_committable`.
    committable: HashMap<SourcePartition, SourceOffset>,
}

impl Submitted {
    /// Register a sent record; returns its sequence number.
    pub fn submit(&mut self, partition: &SourcePartition, offset: SourceOffset) -> u64 {
        let seq = self.base + self.state.len() as u64;
        self.state.push_back(0);
        let slot = match self.partitions.get(self.last) {
            Some((p, _)) if Arc::ptr_eq(p, partition) => self.last,
            _ => {
                let partitions = &mut self.partitions;
                *self.index.entry(partition.clone()).or_insert_with(|| {
                    partitions.push((partition.clone(), VecDeque::new()));
                    partitions.len() - 1
                })
            }
        };
        self.last = slot;
        self.partitions[slot].1.push_back((seq, offset));
        seq
    }

    pub fn ack(&mut self, seq: u64) {
        if let Some(s) = seq.checked_sub(self.base).and_then(|i| self.state.get_mut(i as usize)) {
            if *s == 0 {
                *s = 1;
            }
        }
    }

    /// Move each partition's acknowledged prefix into the committable offsets; returns the
    /// records that became committable (partition, offset), in order per partition.
    pub fn advance(&mut self, want_records: bool) -> Vec<(SourcePartition, SourceOffset)> {
        let mut done = Vec::new();
        let mut out = Vec::new();
        for (p, q) in self.partitions.iter_mut() {
            let mut last = None;
            while let Some((seq, _)) = q.front() {
                let seq = *seq;
                let acked =
                    seq.checked_sub(self.base).and_then(|i| self.state.get(i as usize)).is_some_and(|s| *s >= 1);
                if !acked {
                    break;
                }
                let (_, offset) = q.pop_front().expect("front exists");
                done.push(seq);
                if want_records {
                    out.push((p.clone(), offset.clone()));
                }
                last = Some(offset);
            }
            if let Some(o) = last {
                self.committable.insert(p.clone(), o);
            }
        }
        for seq in done {
            if let Some(s) = self.state.get_mut((seq - self.base) as usize) {
                *s = 2;
            }
        }
        while self.state.front() == Some(&2) {
            self.state.pop_front();
            self.base += 1;
        }
        out
    }

    pub fn take_committable(&mut self) -> HashMap<SourcePartition, SourceOffset> {
        std::mem::take(&mut self.committable)
    }

    /// Records sent and not yet acknowledged.
    pub fn outstanding(&self) -> usize {
        self.partitions.iter().map(|(_, q)| q.len()).sum()
    }

    #[cfg(test)]
    fn is_acked(&self, seq: u64) -> bool {
        seq.checked_sub(self.base).and_then(|i| self.state.get(i as usize)).is_some_and(|s| *s >= 1)
    }
}

struct Loop<'a> {
    env: &'a TaskEnv,
    task: Box<dyn SourceTask>,
    convs: Converters,
    tolerate: bool,
    producer: Option<TaskProducer>,
    submitted: Submitted,
    want_records: bool,
}

impl Loop<'_> {
    fn producer(&mut self) -> Result<&TaskProducer, ConnectError> {
        if self.producer.is_none() {
            let client = self.env.client_id("producer");
            let cfg = producer_config(&self.env.plane.worker, &self.env.connector_config, &client)
                .map_err(|e| ConnectError::new(format!("Failed to create producer for {client}: {e}")))?;
            let p = match self.env.plane.producers.take(&cfg, &client) {
                Some(p) => p,
                None => cfg
                    .create_with_context(AckContext::new(&client))
                    .map_err(|e| ConnectError::new(format!("Failed to create producer for {client}: {e}")))?,
            };
            self.producer = Some(p);
        }
        Ok(self.producer.as_ref().expect("created above"))
    }

    /// Serve delivery reports, advance the committable offsets and hand them to the committer.
    fn settle(&mut self, wait: Duration) -> Result<(), ConnectError> {
        let Some(p) = &self.producer else { return Ok(()) };
        p.poll(wait);
        let acks = std::mem::take(&mut *p.context().acks.lock().unwrap_or_else(|e| e.into_inner()));
        for (seq, err) in acks {
            if let Some(e) = err {
                if !self.tolerate {
                    return Err(ConnectError::new(format!("Unrecoverable exception from producer send callback: {e}")));
                }
                tracing::warn!(connector = %self.env.key.connector, task = self.env.key.task, error = %e,
                    "Record could not be delivered and is skipped (errors.tolerance=all).");
            }
            self.submitted.ack(seq);
        }
        let newly = self.submitted.advance(self.want_records);
        for (partition, offset) in &newly {
            self.task.commit_record(partition, offset);
        }
        let committable = self.submitted.take_committable();
        if !committable.is_empty() {
            let offsets =
                committable.into_iter().filter(|(_, o)| !o.is_null()).map(|(p, o)| (p.to_string(), o.canonical()));
            self.env.plane.committer.deposit_source(&self.env.key, offsets);
        }
        Ok(())
    }

    /// Convert and send one record; its value and offset are taken out of it (a record is
    /// never moved whole on this path).
    fn send(&mut self, r: &mut SourceRecord) -> Result<(), ConnectError> {
        let topic = r.topic.clone();
        let owned_value = std::mem::replace(&mut r.value, Value::Null);
        let offset = std::mem::replace(&mut r.source_offset, SourceOffset::Counter("", 0));
        let converted = (|| {
            let key = self.convs.key.from_connect(&topic, r.key_schema.as_deref(), &r.key)?;
            let value = self.convs.value.from_connect_owned(&topic, r.value_schema.as_deref(), owned_value)?;
            let mut headers = None;
            for (k, schema, v) in &r.headers {
                let bytes = self.convs.header.from_connect_header(&topic, k, schema.as_ref(), v)?;
                let h = headers.take().unwrap_or_else(|| OwnedHeaders::new_with_capacity(r.headers.len()));
                headers = Some(h.insert(Header { key: k, value: bytes.as_deref() }));
            }
            Ok::<_, crate::data::DataError>((key, value, headers))
        })();
        let (key, value, headers) = match converted {
            Ok(c) => c,
            Err(e) if self.tolerate => {
                tracing::warn!(connector = %self.env.key.connector, task = self.env.key.task, error = %e,
                    "Record could not be converted and is skipped (errors.tolerance=all).");
                // A skipped record's offset is committable like a delivered one's.
                let seq = self.submitted.submit(&r.source_partition, offset);
                self.submitted.ack(seq);
                return Ok(());
            }
            Err(e) => return Err(ConnectError::new(format!("Tolerance exceeded in error handler: {e}"))),
        };
        let seq = self.submitted.submit(&r.source_partition, offset);
        self.producer()?;
        let mut rec = BaseRecord::<[u8], [u8], usize>::with_opaque_to(&topic, seq as usize);
        if let Some(k) = &key {
            rec = rec.key(k.as_slice());
        }
        if let Some(v) = &value {
            rec = rec.payload(v.as_slice());
        }
        if let Some(p) = r.kafka_partition {
            rec = rec.partition(p);
        }
        if let Some(ts) = r.timestamp {
            rec = rec.timestamp(ts);
        }
        if let Some(h) = headers {
            rec = rec.headers(h);
        }
        let mut waited: Option<Instant> = None;
        loop {
            let producer = self.producer.as_ref().expect("created above");
            match producer.send(rec) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    if self.env.stopping() {
                        // Not sent, so its offset is never committed: it is read again later.
                        return Ok(());
                    }
                    // Backpressure: wait for deliveries to make room.
                    rec = back;
                    self.settle(Duration::from_millis(10))?;
                    let since = *waited.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_secs(30) {
                        tracing::warn!(connector = %self.env.key.connector, task = self.env.key.task,
                            outstanding = self.submitted.outstanding(), "Producer queue still full after 30 s; waiting.");
                        waited = Some(Instant::now());
                    }
                }
                Err((e, _)) if self.tolerate => {
                    tracing::warn!(connector = %self.env.key.connector, task = self.env.key.task, topic = %topic, error = %e,
                        "Record could not be sent and is skipped (errors.tolerance=all).");
                    self.submitted.ack(seq);
                    return Ok(());
                }
                Err((e, _)) => return Err(ConnectError::new(format!("Failed to send record to topic '{topic}': {e}"))),
            }
        }
    }

    fn run(&mut self) -> Result<(), ConnectError> {
        let mut last_settle = Instant::now();
        while !self.env.stopping() {
            let mut records = self.task.poll()?;
            for r in records.iter_mut() {
                if self.env.stopping() {
                    // The rest is read again from the committed offsets by the next run.
                    break;
                }
                self.send(r)?;
            }
            if self.producer.is_some() && last_settle.elapsed() >= Duration::from_millis(5) {
                self.settle(Duration::ZERO)?;
                last_settle = Instant::now();
            }
        }
        Ok(())
    }

    /// Stop: wait (up to `offset.flush.timeout.ms`) for outstanding records, settle.
    fn finish(&mut self) -> Result<(), ConnectError> {
        if self.env.plane.abandoning() {
            // The node lost its lease: the work may run elsewhere already. Drop what is queued
            // rather than deliver it late; nothing can be committed anyway.
            if let Some(p) = &self.producer {
                p.purge(rdkafka::producer::PurgeConfig::default().queue().inflight());
            }
            return Ok(());
        }
        if let Some(p) = &self.producer {
            let timeout = self.env.plane.worker.offset_flush_timeout;
            if let Err(e) = p.flush(timeout) {
                tracing::warn!(connector = %self.env.key.connector, task = self.env.key.task, error = %e,
                    outstanding = self.submitted.outstanding(), "Outstanding records not acknowledged before the flush timeout.");
            }
        }
        self.settle(Duration::ZERO)?;
        self.task.commit();
        Ok(())
    }
}

/// Run a source task until `env.stop` is set or it fails. `started` is signalled once the
/// task's `start` returned.
pub fn run(
    mut task: Box<dyn SourceTask>,
    context: SourceTaskContext,
    env: &TaskEnv,
    started: oneshot::Sender<()>,
) -> Result<(), ConnectError> {
    let convs = Converters::for_connector(&env.plane.worker, &env.connector_config)?;
    task.start(context, &env.task_config)?;
    let _ = started.send(());
    let want_records = task.wants_commit_record();
    let mut l = Loop {
        env,
        task,
        convs,
        tolerate: tolerates_errors(&env.connector_config),
        producer: None,
        submitted: Submitted::default(),
        want_records,
    };
    let result = l.run();
    // Whatever ended the loop, offsets of what was acknowledged are kept.
    let finished = l.finish();
    l.task.stop();
    result.and(finished)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn o(n: i64) -> SourceOffset {
        SourceOffset::Counter("n", n)
    }
    use std::sync::Arc;

    #[test]
    fn an_unacknowledged_record_holds_back_only_its_own_partition() {
        let a: SourcePartition = Arc::from("a");
        let b: SourcePartition = Arc::from("b");
        let mut s = Submitted::default();
        let a0 = s.submit(&a, o(0));
        let b0 = s.submit(&b, o(10));
        let a1 = s.submit(&a, o(1));
        let b1 = s.submit(&b, o(11));
        s.ack(a1);
        s.ack(b0);
        s.ack(b1);
        s.advance(false);
        let c = s.take_committable();
        assert_eq!(c.get(&b), Some(&o(11)));
        assert_eq!(c.get(&a), None, "a0 is not acknowledged: a1's offset must wait");
        assert_eq!(s.outstanding(), 2);
        s.ack(a0);
        let newly = s.advance(true);
        assert_eq!(newly, vec![(a.clone(), o(0)), (a.clone(), o(1))]);
        assert_eq!(s.take_committable().get(&a), Some(&o(1)));
        assert_eq!(s.outstanding(), 0);
        assert!(s.state.is_empty(), "accounted records are trimmed");
        assert!(!s.is_acked(a0 + 100));
    }

    #[test]
    fn acks_in_any_order_commit_each_partitions_prefix() {
        let p: SourcePartition = Arc::from("p");
        let mut s = Submitted::default();
        let seqs: Vec<u64> = (0..100).map(|i| s.submit(&p, o(i))).collect();
        for &q in seqs[1..99].iter().rev() {
            s.ack(q);
        }
        s.advance(false);
        assert!(s.take_committable().is_empty(), "record 0 is unacknowledged");
        s.ack(seqs[99]);
        s.ack(seqs[0]);
        s.advance(false);
        assert_eq!(s.take_committable().get(&p), Some(&o(99)));
    }
}
