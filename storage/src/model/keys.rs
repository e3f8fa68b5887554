//! The persisted state's keys: one [`Key`] per sled value of the state-machine tree, so an
//! apply rewrites only what changed. A key is stored as [`KEY_PREFIX`] followed by the bincode
//! of the [`Key`]; its value is the versioned bincode of the record it names.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{NodeId, State, WorkUnit};
use crate::codec::{self, decode_versioned, encode_versioned};

/// A key of the persisted state: one sled value per key, so an apply rewrites only what changed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Connector(String),
    TaskConfigs(String),
    Assignment(WorkUnit),
    SourceOffset(String, String),
    SinkOffset(String, String, i32),
    Status(WorkUnit),
    Node(NodeId),
    Logger(String),
    Restart(WorkUnit),
    SinkPartitions(String),
    StagedTaskConfigs(String),
    StagedSinkPartitions(String),
}

/// Keys changed by one or more applies; the store persists exactly these.
pub type DirtyKeys = BTreeSet<Key>;

/// First byte of every state key in the state-machine tree (the store's bookkeeping keys start
/// with `m`).
pub(crate) const KEY_PREFIX: u8 = b'k';

/// The sled key of `key`: [`KEY_PREFIX`], then the bincode of `key`.
pub(crate) fn encode_key(key: &Key) -> Vec<u8> {
    let mut out = vec![KEY_PREFIX];
    out.extend_from_slice(&codec::encode(key));
    out
}

/// The persisted value of `key` in `state`, or None if the key no longer exists.
pub(crate) fn encode_value(state: &State, key: &Key) -> Option<Vec<u8>> {
    match key {
        Key::Connector(n) => state.connectors.get(n).map(encode_versioned),
        Key::TaskConfigs(n) => state.task_configs.get(n).map(encode_versioned),
        Key::Assignment(u) => state.assignments.get(u).map(encode_versioned),
        Key::SourceOffset(c, p) => state.source_offsets.get(&(c.clone(), p.clone())).map(encode_versioned),
        Key::SinkOffset(c, t, p) => state.sink_offsets.get(&(c.clone(), t.clone(), *p)).map(encode_versioned),
        Key::Status(u) => state.statuses.get(u).map(encode_versioned),
        Key::Node(id) => state.nodes.get(id).map(encode_versioned),
        Key::Restart(u) => state.restarts.get(u).map(encode_versioned),
        Key::Logger(l) => state.loggers.get(l).map(encode_versioned),
        Key::SinkPartitions(c) => state.sink_partitions.get(c).map(encode_versioned),
        Key::StagedTaskConfigs(c) => state.staged_task_configs.get(c).map(encode_versioned),
        Key::StagedSinkPartitions(c) => state.staged_sink_partitions.get(c).map(encode_versioned),
    }
}

/// Insert one persisted (key, value) into `state`; `key` is as stored, prefix included.
pub(crate) fn load_into(state: &mut State, key: &[u8], value: &[u8]) -> Result<(), codec::CodecError> {
    let key: Key = codec::decode(&key[1..])?;
    match key {
        Key::Connector(n) => {
            state.connectors.insert(n, decode_versioned(value)?);
        }
        Key::TaskConfigs(n) => {
            state.task_configs.insert(n, decode_versioned(value)?);
        }
        Key::Assignment(u) => {
            state.assignments.insert(u, decode_versioned(value)?);
        }
        Key::SourceOffset(c, p) => {
            state.source_offsets.insert((c, p), decode_versioned(value)?);
        }
        Key::SinkOffset(c, t, p) => {
            state.sink_offsets.insert((c, t, p), decode_versioned(value)?);
        }
        Key::Status(u) => {
            state.statuses.insert(u, decode_versioned(value)?);
        }
        Key::Node(id) => {
            state.nodes.insert(id, decode_versioned(value)?);
        }
        Key::Restart(u) => {
            state.restarts.insert(u, decode_versioned(value)?);
        }
        Key::Logger(l) => {
            state.loggers.insert(l, decode_versioned(value)?);
        }
        Key::SinkPartitions(c) => {
            state.sink_partitions.insert(c, decode_versioned(value)?);
        }
        Key::StagedTaskConfigs(c) => {
            state.staged_task_configs.insert(c, decode_versioned(value)?);
        }
        Key::StagedSinkPartitions(c) => {
            state.staged_sink_partitions.insert(c, decode_versioned(value)?);
        }
    }
    Ok(())
}

/// Every key of `state`, for writing a whole state (snapshot install).
pub(crate) fn all_keys(state: &State) -> DirtyKeys {
    let mut keys = BTreeSet::new();
    keys.extend(state.connectors.keys().cloned().map(Key::Connector));
    keys.extend(state.task_configs.keys().cloned().map(Key::TaskConfigs));
    keys.extend(state.assignments.keys().cloned().map(Key::Assignment));
    keys.extend(state.source_offsets.keys().cloned().map(|(c, p)| Key::SourceOffset(c, p)));
    keys.extend(state.sink_offsets.keys().cloned().map(|(c, t, p)| Key::SinkOffset(c, t, p)));
    keys.extend(state.statuses.keys().cloned().map(Key::Status));
    keys.extend(state.nodes.keys().copied().map(Key::Node));
    keys.extend(state.restarts.keys().cloned().map(Key::Restart));
    keys.extend(state.loggers.keys().cloned().map(Key::Logger));
    keys.extend(state.sink_partitions.keys().cloned().map(Key::SinkPartitions));
    keys.extend(state.staged_task_configs.keys().cloned().map(Key::StagedTaskConfigs));
    keys.extend(state.staged_sink_partitions.keys().cloned().map(Key::StagedSinkPartitions));
    keys
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::test_support::variant_index;
    use crate::model::{
        AssignmentChange, Command, ConfigMap, Response, StagedSinkPartitions, StagedTaskConfigs, TopicPartition,
    };

    fn tp(p: i32) -> TopicPartition {
        TopicPartition { topic: "t".into(), partition: p }
    }

    /// Connector c (instance under epoch 2, three task configs at generation 3) with a
    /// task-config write and a spread both half staged: the commands at indexes 1..=5.
    pub(crate) fn half_staged() -> Vec<Command> {
        let task_config = |i: usize| -> ConfigMap { [("task".to_string(), i.to_string())].into_iter().collect() };
        vec![
            Command::PutConnector { name: "c".into(), config: ConfigMap::new(), target_state: None },
            Command::Assign {
                changes: vec![AssignmentChange { unit: WorkUnit::Connector("c".into()), node: Some(1) }],
            },
            Command::PutTaskConfigs { connector: "c".into(), epoch: 2, configs: (0..3).map(task_config).collect() },
            Command::PutTaskConfigsPart {
                connector: "c".into(),
                epoch: 2,
                part: 0,
                parts: 2,
                configs: vec![task_config(7)],
            },
            Command::SpreadSinkPartitionsPart {
                connector: "c".into(),
                generation: 3,
                task_count: 3,
                part: 0,
                parts: 2,
                tasks: vec![(1, vec![tp(0), tp(1)])],
            },
        ]
    }

    /// The sled tree as a map: what `StateMachine::apply` writes for `dirty`.
    fn persist(tree: &mut BTreeMap<Vec<u8>, Vec<u8>>, state: &State, dirty: &DirtyKeys) {
        for key in dirty {
            match encode_value(state, key) {
                Some(v) => tree.insert(encode_key(key), v),
                None => tree.remove(&encode_key(key)),
            };
        }
    }

    fn load(tree: &BTreeMap<Vec<u8>, Vec<u8>>) -> State {
        let mut state = State::default();
        for (k, v) in tree {
            load_into(&mut state, k, v).expect("load_into");
        }
        state
    }

    #[test]
    fn staged_parts_round_trip_through_the_state_keys() {
        let mut state = State::default();
        let mut tree = BTreeMap::new();
        for (cmd, index) in half_staged().iter().zip(1..) {
            let mut dirty = DirtyKeys::new();
            assert_eq!(state.apply(index, cmd, &mut dirty), Response::Applied, "{cmd:?}");
            persist(&mut tree, &state, &dirty);
        }
        assert_eq!(
            state.staged_task_configs["c"],
            StagedTaskConfigs {
                epoch: 2,
                next_part: 1,
                parts: 2,
                configs: vec![[("task".to_string(), "7".to_string())].into_iter().collect()]
            }
        );
        assert_eq!(
            state.staged_sink_partitions["c"],
            StagedSinkPartitions {
                generation: 3,
                next_part: 1,
                parts: 2,
                tasks: vec![vec![], vec![tp(0), tp(1)], vec![]]
            }
        );
        // Incrementally persisted keys and a whole-state write load back to the same state.
        assert_eq!(load(&tree), state);
        let mut whole = BTreeMap::new();
        persist(&mut whole, &state, &all_keys(&state));
        assert_eq!(whole, tree);
        assert!(all_keys(&state).contains(&Key::StagedTaskConfigs("c".into())));
        assert!(all_keys(&state).contains(&Key::StagedSinkPartitions("c".into())));

        // The last parts clear the staging, and the store removes its keys.
        let last = [
            Command::PutTaskConfigsPart { connector: "c".into(), epoch: 2, part: 1, parts: 2, configs: vec![] },
            Command::SpreadSinkPartitionsPart {
                connector: "c".into(),
                generation: 3,
                task_count: 3,
                part: 1,
                parts: 2,
                tasks: vec![(0, vec![tp(2)])],
            },
        ];
        let mut dirty = DirtyKeys::new();
        assert_eq!(state.apply(6, &last[1], &mut dirty), Response::Applied);
        persist(&mut tree, &state, &dirty);
        assert!(!tree.contains_key(&encode_key(&Key::StagedSinkPartitions("c".into()))));
        assert!(tree.contains_key(&encode_key(&Key::StagedTaskConfigs("c".into()))));
        assert_eq!(load(&tree), state);
        assert_eq!(state.sink_partitions["c"].tasks, vec![vec![tp(2)], vec![tp(0), tp(1)], vec![]]);
        let mut dirty = DirtyKeys::new();
        assert_eq!(state.apply(7, &last[0], &mut dirty), Response::Applied);
        persist(&mut tree, &state, &dirty);
        assert!(!tree.contains_key(&encode_key(&Key::StagedTaskConfigs("c".into()))));
        assert_eq!(load(&tree), state);
        assert_eq!(state.task_configs["c"].generation, 7);
    }

    /// A state key is the prefix byte, then the bincode of the key.
    #[test]
    fn a_state_key_is_the_prefix_then_the_bincode_of_the_key() {
        let key = Key::Node(3);
        assert_eq!(encode_key(&key), [&[b'k'][..], &codec::encode(&key)].concat());
        assert_eq!(hex(&encode_key(&key)), "6b060000000300000000000000");
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Stored state keys are decoded by variant index: a variant inserted anywhere but at the
    /// end would reinterpret them.
    #[test]
    fn key_variant_order_is_pinned() {
        let unit = || WorkUnit::Connector("c".into());
        let keys = [
            Key::Connector("c".into()),
            Key::TaskConfigs("c".into()),
            Key::Assignment(unit()),
            Key::SourceOffset("c".into(), "p".into()),
            Key::SinkOffset("c".into(), "t".into(), 0),
            Key::Status(unit()),
            Key::Node(1),
            Key::Logger("l".into()),
            Key::Restart(unit()),
            Key::SinkPartitions("c".into()),
            Key::StagedTaskConfigs("c".into()),
            Key::StagedSinkPartitions("c".into()),
        ];
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(variant_index(k), i as u32, "{k:?} moved");
        }
    }
}
