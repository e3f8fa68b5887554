//! Decoded, redacted JSON views of log entries, commands and the state: one shape for the HTTP
//! log view, the CLI and the offline reader of a stopped node's data directory.

use openraft::{EntryPayload, Membership, RaftTypeConfig};
use serde_json::{json, Map, Value};

use crate::model::{Command, NodeId, State};

/// What every view shows instead of a secret value.
pub const HIDDEN: &str = "[hidden]";

/// Does a config key look like it holds a credential? Matches Kafka's password-typed keys
/// (`*.password`, `sasl.jaas.config`), secrets, tokens and key material, but not
/// `key.converter` and friends.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    const WORDS: [&str; 8] =
        ["password", "passwd", "secret", "token", "credential", "jaas.config", "private", "apikey"];
    WORDS.iter().any(|w| k.contains(w))
        || k.ends_with(".key")
        || k == "key"
        || k.contains("api.key")
        || k.contains("access.key")
        || k.contains("keystore.key")
}

/// A value that is a config-provider reference (`${file:…}`, `${env:…}`) is not a secret
/// itself and stays visible, so users can see where a secret comes from.
fn is_provider_reference(v: &str) -> bool {
    v.starts_with("${") && v.ends_with('}')
}

/// Replace, anywhere in `v`, string values of secret-looking keys with [`HIDDEN`], and every
/// node's incarnation (the proof a restarted data directory gives of being the same member).
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match val {
                    Value::String(s) if (is_secret_key(k) && !is_provider_reference(s)) || k == "incarnation" => {
                        *val = Value::String(HIDDEN.to_string());
                    }
                    other => redact(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// `{"type": "put_connector", …fields}` with secrets hidden.
pub fn command_json(cmd: &Command) -> Value {
    if let Command::Batch { commands } = cmd {
        return json!({ "type": cmd.kind(), "commands": commands.iter().map(command_json).collect::<Vec<_>>() });
    }
    let mut fields = match serde_json::to_value(cmd) {
        // Externally tagged: {"put_connector": {...}}; take the inner object.
        Ok(Value::Object(outer)) => outer.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null),
        Ok(other) => other,
        Err(e) => json!({ "error": e.to_string() }),
    };
    // Pairs in AlterOffsets serialise as arrays; fine. Secrets live in config maps.
    redact(&mut fields);
    let mut out = Map::new();
    out.insert("type".into(), Value::String(cmd.kind().into()));
    match fields {
        Value::Object(m) => out.extend(m),
        Value::Null => {}
        other => {
            out.insert("value".into(), other);
        }
    }
    Value::Object(out)
}

pub fn membership_json<C>(m: &Membership<NodeId, C>) -> Value
where
    C: openraft::Node + serde::Serialize,
{
    let voters: Vec<Vec<NodeId>> = m.get_joint_config().iter().map(|c| c.iter().copied().collect()).collect();
    let learners: Vec<NodeId> = m.learner_ids().collect();
    let nodes: Map<String, Value> =
        m.nodes().map(|(id, n)| (id.to_string(), serde_json::to_value(n).unwrap_or(Value::Null))).collect();
    json!({ "voters": voters, "learners": learners, "nodes": nodes })
}

/// One log entry as the log views show it:
/// `{"index","term","leader","kind":"blank|membership|command", "command"|"membership": …}`.
pub fn entry_json<C>(entry: &openraft::Entry<C>) -> Value
where
    C: RaftTypeConfig<D = Command, NodeId = NodeId>,
    C::Node: serde::Serialize,
{
    let mut out = Map::new();
    out.insert("index".into(), json!(entry.log_id.index));
    out.insert("term".into(), json!(entry.log_id.leader_id.term));
    out.insert("leader".into(), json!(entry.log_id.leader_id.node_id));
    match &entry.payload {
        EntryPayload::Blank => {
            out.insert("kind".into(), json!("blank"));
        }
        EntryPayload::Membership(m) => {
            out.insert("kind".into(), json!("membership"));
            out.insert("membership".into(), membership_json(m));
        }
        EntryPayload::Normal(cmd) => {
            out.insert("kind".into(), json!("command"));
            out.insert("command".into(), command_json(cmd));
        }
    }
    Value::Object(out)
}

/// The whole state, for offline inspection and `/cluster/state`, with secrets hidden.
pub fn state_json(state: &State) -> Value {
    let connectors: Map<String, Value> = state
        .connectors
        .iter()
        .map(|(name, c)| {
            (
                name.clone(),
                json!({
                    "config": c.config,
                    "target_state": c.target_state,
                    "created_index": c.created_index,
                    "updated_index": c.updated_index,
                    "task_configs": state.task_configs.get(name),
                    // Multi-part writes in progress: how far they got, not their contents.
                    "staged_task_configs": state.staged_task_configs.get(name).map(|s| json!({
                        "epoch": s.epoch, "next_part": s.next_part, "parts": s.parts, "configs": s.configs.len(),
                    })),
                    "staged_sink_partitions": state.staged_sink_partitions.get(name).map(|s| json!({
                        "generation": s.generation, "next_part": s.next_part, "parts": s.parts, "tasks": s.tasks.len(),
                    })),
                }),
            )
        })
        .collect();
    let assignments: Vec<Value> =
        state.assignments.iter().map(|(u, a)| json!({ "unit": u, "node": a.node, "epoch": a.epoch })).collect();
    let statuses: Vec<Value> = state
        .statuses
        .iter()
        .map(|(u, s)| json!({ "unit": u, "state": s.state, "node": s.node, "epoch": s.epoch, "trace": s.trace }))
        .collect();
    let source_offsets: Vec<Value> = state
        .source_offsets
        .iter()
        .map(|((c, p), o)| json!({ "connector": c, "partition": parse_or_string(p), "offset": parse_or_string(o) }))
        .collect();
    let sink_offsets: Vec<Value> = state
        .sink_offsets
        .iter()
        .map(|((c, t, p), o)| json!({ "connector": c, "topic": t, "partition": p, "offset": o }))
        .collect();
    let nodes: Map<String, Value> = state
        .nodes
        .iter()
        .map(|(id, n)| {
            (
                id.to_string(),
                json!({ "rest_url": n.rest_url, "leaving": n.leaving, "registered_index": n.registered_index }),
            )
        })
        .collect();
    let mut v = json!({
        "connectors": connectors,
        "assignments": assignments,
        "statuses": statuses,
        "source_offsets": source_offsets,
        "sink_offsets": sink_offsets,
        "nodes": nodes,
        "restarts": state.restarts.iter().map(|(u, i)| json!({ "unit": u, "index": i })).collect::<Vec<_>>(),
        "loggers": state.loggers,
    });
    redact(&mut v);
    v
}

fn parse_or_string(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConfigMap;

    #[test]
    fn secret_keys_are_recognised_and_converters_are_not() {
        for k in [
            "database.password",
            "ssl.key.password",
            "sasl.jaas.config",
            "aws.secret.access.key",
            "api.token",
            "private.key",
            "connection.apikey",
            "ssl.keystore.key",
        ] {
            assert!(is_secret_key(k), "{k} should be secret");
        }
        for k in ["key.converter", "key.converter.schemas.enable", "topic", "file", "tasks.max", "keys"] {
            assert!(!is_secret_key(k), "{k} should be visible");
        }
    }

    #[test]
    fn command_view_hides_secrets_but_not_provider_references() {
        let mut config = ConfigMap::new();
        config.insert("connection.password".into(), "hunter2".into());
        config.insert("connection.user".into(), "bob".into());
        config.insert("api.token".into(), "${file:/etc/secrets.properties:token}".into());
        let cmd = Command::PutConnector { name: "c".into(), config, target_state: None };
        let v = command_json(&cmd);
        assert_eq!(v["type"], "put_connector");
        assert_eq!(v["name"], "c");
        assert_eq!(v["config"]["connection.password"], HIDDEN);
        assert_eq!(v["config"]["connection.user"], "bob");
        assert_eq!(v["config"]["api.token"], "${file:/etc/secrets.properties:token}");
        assert!(!v.to_string().contains("hunter2"));
    }

    #[test]
    fn task_config_parts_are_redacted_like_whole_task_configs() {
        let mut config = ConfigMap::new();
        config.insert("connection.password".into(), "hunter2".into());
        config.insert("topic".into(), "t".into());
        let part =
            Command::PutTaskConfigsPart { connector: "c".into(), epoch: 3, part: 1, parts: 2, configs: vec![config] };
        let v = command_json(&part);
        assert_eq!(v["type"], "put_task_configs_part");
        assert_eq!((v["part"].as_u64(), v["parts"].as_u64()), (Some(1), Some(2)));
        assert_eq!(v["configs"][0]["connection.password"], HIDDEN);
        assert_eq!(v["configs"][0]["topic"], "t");
        assert!(!v.to_string().contains("hunter2"));

        let reports = Command::ReportStatuses { node: 1, reports: vec![] };
        assert_eq!(command_json(&reports)["type"], "report_statuses");
    }

    #[test]
    fn state_view_shows_staged_progress_without_contents() {
        let mut state = State::default();
        let mut config = ConfigMap::new();
        config.insert("connection.password".into(), "hunter2".into());
        let mut dirty = crate::model::DirtyKeys::new();
        let cmds = [
            Command::PutConnector { name: "c".into(), config: ConfigMap::new(), target_state: None },
            Command::Assign {
                changes: vec![crate::model::AssignmentChange {
                    unit: crate::model::WorkUnit::Connector("c".into()),
                    node: Some(1),
                }],
            },
            Command::PutTaskConfigsPart { connector: "c".into(), epoch: 2, part: 0, parts: 3, configs: vec![config] },
        ];
        for (cmd, i) in cmds.iter().zip(1..) {
            assert_eq!(state.apply(i, cmd, &mut dirty), crate::model::Response::Applied);
        }
        let v = state_json(&state);
        let staged = &v["connectors"]["c"]["staged_task_configs"];
        assert_eq!(staged["next_part"], 1);
        assert_eq!(staged["parts"], 3);
        assert_eq!(staged["configs"], 1);
        assert!(v["connectors"]["c"]["staged_sink_partitions"].is_null());
        assert!(!v.to_string().contains("hunter2"));
    }
}
