//! Offsets: source and sink offset commits, each fenced by its task's epoch, a new connector's
//! initial offsets, and the offsets REST API's changes to a stopped connector's offsets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::assignment::Writer;
use super::{batch_response, DirtyKeys, Key, NodeId, Rejection, Response, State, TargetState, WorkUnit};

/// Source offsets are Kafka Connect's `Map<String, ?>` partition and offset, kept as canonical
/// JSON text (sorted keys) so the model stays bincode-friendly and comparisons are exact.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SourceOffsetCommit {
    pub connector: String,
    pub task: u32,
    pub epoch: u64,
    pub partition: String,
    pub offset: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SinkOffsetCommit {
    pub connector: String,
    pub task: u32,
    pub epoch: u64,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// JSON text with object keys sorted at every level: how a source partition (or offset) is
/// kept, so equal maps are equal keys.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let sorted: BTreeMap<&String, serde_json::Value> = m.iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

impl State {
    /// `Command::CommitOffsets`: each commit applies if its task runs on `node` under its epoch
    /// (and, for a sink offset, the partition is spread to that task).
    pub(super) fn commit_offsets(
        &mut self,
        node: NodeId,
        source: &[SourceOffsetCommit],
        sink: &[SinkOffsetCommit],
        dirty: &mut DirtyKeys,
    ) -> Response {
        let mut rejected = Vec::new();
        let mut applied = 0u32;
        for c in source {
            let unit = WorkUnit::Task { connector: c.connector.clone(), task: c.task };
            match self.check_epoch(&unit, Writer::Node(node), c.epoch) {
                Ok(()) => {
                    self.source_offsets.insert((c.connector.clone(), c.partition.clone()), c.offset.clone());
                    dirty.insert(Key::SourceOffset(c.connector.clone(), c.partition.clone()));
                    applied += 1;
                }
                Err(r) => rejected.push(r),
            }
        }
        for c in sink {
            let unit = WorkUnit::Task { connector: c.connector.clone(), task: c.task };
            match self.check_epoch(&unit, Writer::Node(node), c.epoch).and_then(|()| self.check_sink_owner(c)) {
                Ok(()) => {
                    self.sink_offsets.insert((c.connector.clone(), c.topic.clone(), c.partition), c.offset);
                    dirty.insert(Key::SinkOffset(c.connector.clone(), c.topic.clone(), c.partition));
                    applied += 1;
                }
                Err(r) => rejected.push(r),
            }
        }
        batch_response(applied, rejected)
    }

    /// A sink offset is current only from the task the partition is spread to (when a spread
    /// exists: offsets written before the data plane knew partitions are not fenced by it).
    fn check_sink_owner(&self, c: &SinkOffsetCommit) -> Result<(), Rejection> {
        let Some(spread) = self.sink_partitions.get(&c.connector) else { return Ok(()) };
        let owned = spread
            .tasks
            .get(c.task as usize)
            .is_some_and(|tps| tps.iter().any(|tp| tp.topic == c.topic && tp.partition == c.partition));
        if owned {
            Ok(())
        } else {
            Err(Rejection::PartitionNotOwned {
                connector: c.connector.clone(),
                task: c.task,
                topic: c.topic.clone(),
                partition: c.partition,
            })
        }
    }

    /// The offsets a `Command::CreateConnector` carries, written with the connector.
    pub(super) fn write_initial_offsets(
        &mut self,
        name: &str,
        source: &[(String, String)],
        sink: &[(String, i32, i64)],
        dirty: &mut DirtyKeys,
    ) {
        for (partition, offset) in source {
            self.source_offsets.insert((name.to_string(), partition.clone()), offset.clone());
            dirty.insert(Key::SourceOffset(name.to_string(), partition.clone()));
        }
        for (topic, partition, offset) in sink {
            self.sink_offsets.insert((name.to_string(), topic.clone(), *partition), *offset);
            dirty.insert(Key::SinkOffset(name.to_string(), topic.clone(), *partition));
        }
    }

    /// `Command::AlterOffsets` (KIP-875): only once the connector is STOPPED and its tasks have
    /// released their units (so their final commits are in). `reset` first clears every offset
    /// of the connector; a `None` offset deletes one.
    pub(super) fn alter_offsets(
        &mut self,
        connector: &str,
        reset: bool,
        source: &[(String, Option<String>)],
        sink: &[(String, i32, Option<i64>)],
        dirty: &mut DirtyKeys,
    ) -> Response {
        match self.connectors.get(connector) {
            None => return Response::Rejected(Rejection::UnknownConnector { name: connector.to_string() }),
            Some(c) if c.target_state != TargetState::Stopped => {
                return Response::Rejected(Rejection::NotStopped { name: connector.to_string() })
            }
            // Its tasks have not all stopped and committed their final offsets yet.
            Some(_) if self.assignments.range(WorkUnit::tasks_of(connector)).next().is_some() => {
                return Response::Rejected(Rejection::NotStopped { name: connector.to_string() })
            }
            Some(_) => {}
        }
        if reset {
            let src: Vec<_> = self
                .source_offsets
                .range((connector.to_string(), String::new())..)
                .map(|(k, _)| k)
                .take_while(|k| k.0 == connector)
                .cloned()
                .collect();
            for k in src {
                self.source_offsets.remove(&k);
                dirty.insert(Key::SourceOffset(k.0, k.1));
            }
            let snk: Vec<_> = self
                .sink_offsets
                .range((connector.to_string(), String::new(), i32::MIN)..)
                .map(|(k, _)| k)
                .take_while(|k| k.0 == connector)
                .cloned()
                .collect();
            for k in snk {
                self.sink_offsets.remove(&k);
                dirty.insert(Key::SinkOffset(k.0, k.1, k.2));
            }
        }
        for (partition, offset) in source {
            let k = (connector.to_string(), partition.clone());
            match offset {
                Some(o) => self.source_offsets.insert(k, o.clone()),
                None => self.source_offsets.remove(&k),
            };
            dirty.insert(Key::SourceOffset(connector.to_string(), partition.clone()));
        }
        for (topic, partition, offset) in sink {
            let k = (connector.to_string(), topic.clone(), *partition);
            match offset {
                Some(o) => self.sink_offsets.insert(k, *o),
                None => self.sink_offsets.remove(&k),
            };
            dirty.insert(Key::SinkOffset(connector.to_string(), topic.clone(), *partition));
        }
        Response::Applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::*;
    use crate::model::{Assignment, Command};

    #[test]
    fn current_offset_commit_applies() {
        let mut s = with_assigned_task();
        let (r, dirty) = apply_at(
            &mut s,
            10,
            Command::CommitOffsets {
                node: 1,
                source: vec![source("c", 0, 2, "p", "o1")],
                sink: vec![sink("c", 0, 2, "t", 0, 5)],
            },
        );
        assert_eq!(r, Response::Applied);
        assert_eq!(s.source_offsets.get(&("c".into(), "p".into())), Some(&"o1".to_string()));
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 0)), Some(&5));
        assert!(dirty.contains(&Key::SourceOffset("c".into(), "p".into())));
        assert!(dirty.contains(&Key::SinkOffset("c".into(), "t".into(), 0)));
    }

    #[test]
    fn offset_commit_with_stale_epoch_or_wrong_node_is_rejected() {
        let mut s = with_assigned_task();
        apply_at(
            &mut s,
            4,
            Command::CommitOffsets { node: 1, source: vec![source("c", 0, 2, "p", "o1")], sink: vec![] },
        );
        // Reassign the task to node 2 at index 5: epoch 2 is now stale.
        assert_eq!(apply_at(&mut s, 5, assign(task("c", 0), 2)).0, Response::Applied);
        let before = s.clone();
        let current = Some(Assignment { node: 2, epoch: 5, revoking: false });

        // Old owner, old epoch.
        let (r, dirty) = apply_at(
            &mut s,
            6,
            Command::CommitOffsets { node: 1, source: vec![source("c", 0, 2, "p", "o2")], sink: vec![] },
        );
        assert_eq!(r, Response::Rejected(Rejection::StaleEpoch { unit: task("c", 0), node: 1, epoch: 2, current }));
        assert!(dirty.is_empty());
        // Right epoch, wrong node.
        let (r, _) = apply_at(
            &mut s,
            7,
            Command::CommitOffsets { node: 1, source: vec![], sink: vec![sink("c", 0, 5, "t", 0, 9)] },
        );
        assert_eq!(r, Response::Rejected(Rejection::StaleEpoch { unit: task("c", 0), node: 1, epoch: 5, current }));
        // Right node, wrong epoch.
        let (r, _) = apply_at(
            &mut s,
            8,
            Command::CommitOffsets { node: 2, source: vec![source("c", 0, 2, "p", "o3")], sink: vec![] },
        );
        assert_eq!(r, Response::Rejected(Rejection::StaleEpoch { unit: task("c", 0), node: 2, epoch: 2, current }));
        // Unassigned task.
        let (r, _) = apply_at(
            &mut s,
            9,
            Command::CommitOffsets { node: 2, source: vec![source("c", 7, 5, "p", "o4")], sink: vec![] },
        );
        assert_eq!(
            r,
            Response::Rejected(Rejection::StaleEpoch { unit: task("c", 7), node: 2, epoch: 5, current: None })
        );
        assert_eq!(s, before, "rejected commits changed the state");
        assert_eq!(s.source_offsets.get(&("c".into(), "p".into())), Some(&"o1".to_string()));

        // The current owner under the current epoch applies.
        let (r, _) = apply_at(
            &mut s,
            10,
            Command::CommitOffsets { node: 2, source: vec![source("c", 0, 5, "p", "o5")], sink: vec![] },
        );
        assert_eq!(r, Response::Applied);
        assert_eq!(s.source_offsets.get(&("c".into(), "p".into())), Some(&"o5".to_string()));
    }

    #[test]
    fn offset_batch_with_some_stale_items_is_partially_applied() {
        let mut s = with_assigned_task();
        // Task 1 of c belongs to node 2.
        apply_at(&mut s, 4, assign(task("c", 1), 2));
        let (r, _) = apply_at(
            &mut s,
            5,
            Command::CommitOffsets {
                node: 1,
                source: vec![source("c", 0, 2, "p0", "a"), source("c", 1, 4, "p1", "b")],
                sink: vec![sink("c", 0, 2, "t", 0, 1), sink("c", 0, 99, "t", 1, 2)],
            },
        );
        assert_eq!(
            r,
            Response::PartiallyApplied {
                applied: 2,
                rejected: vec![
                    Rejection::StaleEpoch {
                        unit: task("c", 1),
                        node: 1,
                        epoch: 4,
                        current: Some(Assignment { node: 2, epoch: 4, revoking: false })
                    },
                    Rejection::StaleEpoch {
                        unit: task("c", 0),
                        node: 1,
                        epoch: 99,
                        current: Some(Assignment { node: 1, epoch: 2, revoking: false })
                    },
                ],
            }
        );
        assert_eq!(s.source_offsets.len(), 1);
        assert!(s.source_offsets.contains_key(&("c".into(), "p0".into())));
        assert_eq!(s.sink_offsets.len(), 1);
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 0)), Some(&1));
    }

    #[test]
    fn alter_offsets_is_refused_unless_stopped() {
        let mut s = with_assigned_task();
        apply_at(
            &mut s,
            4,
            Command::CommitOffsets {
                node: 1,
                source: vec![source("c", 0, 2, "p", "o1")],
                sink: vec![sink("c", 0, 2, "t", 0, 3)],
            },
        );
        let alter = Command::AlterOffsets {
            connector: "c".into(),
            reset: true,
            source: vec![("q".into(), Some("o9".into()))],
            sink: vec![],
        };
        for (i, state) in [TargetState::Running, TargetState::Paused].into_iter().enumerate() {
            apply_at(&mut s, 5 + i as u64 * 2, Command::SetTargetState { name: "c".into(), state });
            let before = s.clone();
            let (r, dirty) = apply_at(&mut s, 6 + i as u64 * 2, alter.clone());
            assert_eq!(r, Response::Rejected(Rejection::NotStopped { name: "c".into() }), "{state:?}");
            assert!(dirty.is_empty());
            assert_eq!(s, before);
        }
        let (r, _) = apply_at(
            &mut s,
            9,
            Command::AlterOffsets { connector: "nope".into(), reset: false, source: vec![], sink: vec![] },
        );
        assert_eq!(r, Response::Rejected(Rejection::UnknownConnector { name: "nope".into() }));

        apply_at(&mut s, 10, Command::SetTargetState { name: "c".into(), state: TargetState::Stopped });
        // Stopped, but task 0 has not committed its final offsets and released yet.
        let (r, _) = apply_at(&mut s, 11, alter.clone());
        assert_eq!(r, Response::Rejected(Rejection::NotStopped { name: "c".into() }));
        let a = s.assignments[&task("c", 0)];
        assert!(a.revoking);
        let (r, _) = apply_at(&mut s, 12, Command::ReleaseUnits { node: a.node, units: vec![(task("c", 0), a.epoch)] });
        assert_eq!(r, Response::Applied);
        let (r, _) = apply_at(&mut s, 13, alter);
        assert_eq!(r, Response::Applied);
        // reset cleared p and the sink offset; q was written.
        assert_eq!(s.source_offsets.len(), 1);
        assert_eq!(s.source_offsets.get(&("c".into(), "q".into())), Some(&"o9".to_string()));
        assert!(s.sink_offsets.is_empty());
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": {"z": 1, "a": [{"y": 2, "x": 3}]}, "a": "s"});
        assert_eq!(canonical_json(&v), r#"{"a":"s","b":{"a":[{"x":3,"y":2}],"z":1}}"#);
    }
}
