//! Sink partition spreads: the leader's choice of which topic-partitions each task of a sink
//! connector consumes (there is no consumer group), made for one generation of task configs,
//! whole or in parts.

use serde::{Deserialize, Serialize};

use super::{DirtyKeys, Key, PartOf, Rejection, Response, State};

/// A Kafka topic-partition.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

/// Which topic-partitions each task of a sink connector consumes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct SinkPartitions {
    /// The task-config generation the spread was made for; stale once the configs change.
    pub generation: u64,
    pub tasks: Vec<Vec<TopicPartition>>,
}

impl SinkPartitions {
    /// The partitions of `task`, if the spread is for the task configs of `generation`.
    pub fn of_task(&self, generation: u64, task: u32) -> Option<&[TopicPartition]> {
        (self.generation == generation).then(|| self.tasks.get(task as usize).map(Vec::as_slice).unwrap_or(&[]))
    }
}

/// A sink partition spread received in
/// [`SpreadSinkPartitionsPart`](super::Command::SpreadSinkPartitionsPart)s, not yet current:
/// the parts `0..next_part` of `parts` for the task configs of `generation`. `tasks` has one
/// (possibly still incomplete) list per task of the spread.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StagedSinkPartitions {
    pub generation: u64,
    pub next_part: u32,
    pub parts: u32,
    pub tasks: Vec<Vec<TopicPartition>>,
}

impl State {
    /// `Command::AssignSinkPartitions`: a whole spread, for the current task configs only.
    pub(super) fn assign_sink_partitions(
        &mut self,
        connector: &str,
        generation: u64,
        tasks: &[Vec<TopicPartition>],
        dirty: &mut DirtyKeys,
    ) -> Response {
        if let Err(r) = self.check_spread_generation(connector, generation) {
            return Response::Rejected(r);
        }
        self.install_sink_partitions(connector, generation, tasks.to_vec(), dirty);
        Response::Applied
    }

    /// A spread is made for the connector's current task configs.
    fn check_spread_generation(&self, connector: &str, generation: u64) -> Result<(), Rejection> {
        if !self.connectors.contains_key(connector) {
            return Err(Rejection::UnknownConnector { name: connector.to_string() });
        }
        if self.task_configs.get(connector).map(|t| t.generation) != Some(generation) {
            return Err(Rejection::StaleGeneration { connector: connector.to_string(), generation });
        }
        Ok(())
    }

    /// Make `tasks` the connector's spread. Any staged multi-part spread is superseded.
    fn install_sink_partitions(
        &mut self,
        connector: &str,
        generation: u64,
        tasks: Vec<Vec<TopicPartition>>,
        dirty: &mut DirtyKeys,
    ) {
        self.sink_partitions.insert(connector.to_string(), SinkPartitions { generation, tasks });
        dirty.insert(Key::SinkPartitions(connector.to_string()));
        self.clear_staged_sink_partitions(connector, dirty);
    }

    pub(super) fn clear_staged_sink_partitions(&mut self, connector: &str, dirty: &mut DirtyKeys) {
        if self.staged_sink_partitions.remove(connector).is_some() {
            dirty.insert(Key::StagedSinkPartitions(connector.to_string()));
        }
    }

    /// One part of a multi-part spread. Everything is checked before anything changes. The
    /// task count is bounded by the task configs the spread is for (which is what the leader
    /// spreads over), so a hostile count cannot make `apply` allocate without bound.
    pub(super) fn spread_sink_partitions_part(
        &mut self,
        connector: &str,
        generation: u64,
        task_count: u32,
        at: PartOf,
        tasks: &[(u32, Vec<TopicPartition>)],
        dirty: &mut DirtyKeys,
    ) -> Result<(), Rejection> {
        self.check_spread_generation(connector, generation)?;
        let configured = self.task_configs.get(connector).map_or(0, |t| t.configs.len());
        if task_count as usize > configured {
            let task = task_count.saturating_sub(1);
            return Err(Rejection::UnknownTask { connector: connector.to_string(), task });
        }
        if let Some((task, _)) = tasks.iter().find(|(t, _)| *t >= task_count) {
            return Err(Rejection::UnknownTask { connector: connector.to_string(), task: *task });
        }
        let expected = match self.staged_sink_partitions.get(connector) {
            Some(s) if s.generation == generation && s.parts == at.parts && s.tasks.len() == task_count as usize => {
                s.next_part
            }
            _ => 0,
        };
        at.check_order(connector, expected)?;
        let mut spread = match self.staged_sink_partitions.remove(connector) {
            Some(s) if !at.is_first() => s.tasks,
            _ => vec![Vec::new(); task_count as usize],
        };
        for (task, partitions) in tasks {
            // Every index was checked against the task count above.
            if let Some(list) = spread.get_mut(*task as usize) {
                list.extend_from_slice(partitions);
            }
        }
        dirty.insert(Key::StagedSinkPartitions(connector.to_string()));
        if at.is_last() {
            self.install_sink_partitions(connector, generation, spread, dirty);
        } else {
            let staged = StagedSinkPartitions { generation, next_part: at.part + 1, parts: at.parts, tasks: spread };
            self.staged_sink_partitions.insert(connector.to_string(), staged);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::*;
    use crate::model::Command;

    #[test]
    fn sink_partition_spread_is_per_generation_and_fences_sink_commits() {
        let mut s = with_assigned_task();
        let tp = |t: &str, p: i32| TopicPartition { topic: t.into(), partition: p };
        let (r, _) =
            apply_at(&mut s, 5, Command::PutTaskConfigs { connector: "c".into(), epoch: 3, configs: vec![cfg(&[])] });
        assert_eq!(r, Response::Applied);
        // A spread for other task configs is stale.
        let (r, _) = apply_at(
            &mut s,
            6,
            Command::AssignSinkPartitions { connector: "c".into(), generation: 4, tasks: vec![vec![tp("t", 0)]] },
        );
        assert_eq!(r, Response::Rejected(Rejection::StaleGeneration { connector: "c".into(), generation: 4 }));
        let (r, dirty) = apply_at(
            &mut s,
            7,
            Command::AssignSinkPartitions { connector: "c".into(), generation: 5, tasks: vec![vec![tp("t", 0)]] },
        );
        assert_eq!(r, Response::Applied);
        assert!(dirty.contains(&Key::SinkPartitions("c".into())));
        assert_eq!(s.sink_partitions["c"].of_task(5, 0), Some(&[tp("t", 0)][..]));
        assert_eq!(s.sink_partitions["c"].of_task(4, 0), None);
        // Task 0 (epoch 2) may commit t-0 but not t-1, which is not spread to it.
        let (r, _) = apply_at(
            &mut s,
            8,
            Command::CommitOffsets {
                node: 1,
                source: vec![],
                sink: vec![sink("c", 0, 2, "t", 0, 5), sink("c", 0, 2, "t", 1, 9)],
            },
        );
        assert_eq!(
            r,
            Response::PartiallyApplied {
                applied: 1,
                rejected: vec![Rejection::PartitionNotOwned {
                    connector: "c".into(),
                    task: 0,
                    topic: "t".into(),
                    partition: 1
                }]
            }
        );
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 0)), Some(&5));
        assert_eq!(s.sink_offsets.get(&("c".into(), "t".into(), 1)), None);
        // Deleting the connector removes its spread.
        let (r, dirty) = apply_at(&mut s, 9, Command::DeleteConnector { name: "c".into() });
        assert_eq!(r, Response::Applied);
        assert!(s.sink_partitions.is_empty() && dirty.contains(&Key::SinkPartitions("c".into())));
    }

    #[test]
    fn sink_spread_parts_install_the_spread_with_the_last_part() {
        let mut s = with_three_tasks();
        apply_at(&mut s, 6, spread_part(5, 3, 0, 3, vec![(0, vec![tp("t", 0), tp("t", 1)]), (2, vec![tp("u", 0)])]));
        assert!(!s.sink_partitions.contains_key("c"), "staged spread is not visible");
        apply_at(&mut s, 7, spread_part(5, 3, 1, 3, vec![(2, vec![tp("u", 1)]), (2, vec![tp("u", 2)])]));
        let (r, dirty) = apply_at(&mut s, 8, spread_part(5, 3, 2, 3, vec![(0, vec![tp("t", 2)])]));
        assert_eq!(r, Response::Applied);
        assert_eq!(
            s.sink_partitions["c"],
            SinkPartitions {
                generation: 5,
                tasks: vec![vec![tp("t", 0), tp("t", 1), tp("t", 2)], vec![], vec![tp("u", 0), tp("u", 1), tp("u", 2)]],
            }
        );
        assert!(s.staged_sink_partitions.is_empty());
        assert!(
            dirty.contains(&Key::SinkPartitions("c".into())) && dirty.contains(&Key::StagedSinkPartitions("c".into()))
        );
    }

    #[test]
    fn bad_sink_spread_parts_are_rejected_without_change() {
        let mut s = with_three_tasks();
        let ooo = |part, expected| Rejection::PartOutOfOrder { connector: "c".into(), part, expected };
        let unknown_task = |task| Rejection::UnknownTask { connector: "c".into(), task };
        assert_rejected_unchanged(&mut s, 6, spread_part(5, 3, 1, 2, vec![]), ooo(1, 0));
        assert_rejected_unchanged(&mut s, 6, spread_part(5, 3, 0, 0, vec![]), ooo(0, 0));
        assert_rejected_unchanged(
            &mut s,
            6,
            spread_part(4, 3, 0, 2, vec![]),
            Rejection::StaleGeneration { connector: "c".into(), generation: 4 },
        );
        // A task index beyond the spread, or a spread over more tasks than are configured (a
        // hostile count must not make apply allocate billions of lists).
        assert_rejected_unchanged(&mut s, 6, spread_part(5, 3, 0, 2, vec![(3, vec![tp("t", 0)])]), unknown_task(3));
        assert_rejected_unchanged(&mut s, 6, spread_part(5, u32::MAX, 0, 2, vec![]), unknown_task(u32::MAX - 1));
        assert_rejected_unchanged(&mut s, 6, spread_part(5, 4, 0, 1, vec![]), unknown_task(3));

        apply_at(&mut s, 7, spread_part(5, 3, 0, 3, vec![(0, vec![tp("t", 0)])]));
        assert_rejected_unchanged(&mut s, 8, spread_part(5, 3, 2, 3, vec![]), ooo(2, 1));
        // Another task count or part count does not continue the staging.
        assert_rejected_unchanged(&mut s, 8, spread_part(5, 2, 1, 3, vec![]), ooo(1, 0));
        assert_rejected_unchanged(&mut s, 8, spread_part(5, 3, 1, 4, vec![]), ooo(1, 0));
        // New task configs (generation 9): the staged spread is stale, and dropped.
        let (_, dirty) =
            apply_at(&mut s, 9, Command::PutTaskConfigs { connector: "c".into(), epoch: 3, configs: configs(3, "u") });
        assert!(s.staged_sink_partitions.is_empty() && dirty.contains(&Key::StagedSinkPartitions("c".into())));
        assert_rejected_unchanged(
            &mut s,
            10,
            spread_part(5, 3, 1, 3, vec![]),
            Rejection::StaleGeneration { connector: "c".into(), generation: 5 },
        );
        assert_rejected_unchanged(&mut s, 10, spread_part(9, 3, 1, 3, vec![]), ooo(1, 0));
        // A new part 0 restarts the staging.
        apply_at(&mut s, 11, spread_part(9, 3, 0, 2, vec![(1, vec![tp("v", 0)])]));
        assert_eq!(
            s.staged_sink_partitions["c"],
            StagedSinkPartitions {
                generation: 9,
                next_part: 1,
                parts: 2,
                tasks: vec![vec![], vec![tp("v", 0)], vec![]]
            }
        );
        assert!(!s.sink_partitions.contains_key("c"));

        // A whole spread supersedes the staging.
        let (r, dirty) = apply_at(
            &mut s,
            12,
            Command::AssignSinkPartitions { connector: "c".into(), generation: 9, tasks: vec![vec![tp("w", 0)]] },
        );
        assert_eq!(r, Response::Applied);
        assert!(s.staged_sink_partitions.is_empty() && dirty.contains(&Key::StagedSinkPartitions("c".into())));
        assert_rejected_unchanged(&mut s, 13, spread_part(9, 3, 1, 2, vec![]), ooo(1, 0));

        // Deleting the connector drops the staging, and its parts are rejected.
        apply_at(&mut s, 14, spread_part(9, 3, 0, 2, vec![(1, vec![tp("v", 0)])]));
        let (_, dirty) = apply_at(&mut s, 15, Command::DeleteConnector { name: "c".into() });
        assert!(s.staged_sink_partitions.is_empty() && dirty.contains(&Key::StagedSinkPartitions("c".into())));
        assert_rejected_unchanged(
            &mut s,
            16,
            spread_part(9, 3, 1, 2, vec![]),
            Rejection::UnknownConnector { name: "c".into() },
        );
    }
}
