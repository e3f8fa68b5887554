//! Connector plugins: `GET /connector-plugins`, `GET /connector-plugins/{plugin}/config` and
//! `PUT /connector-plugins/{plugin}/config/validate`.

use raftconnect::plugin::registry::PLUGINS;

use super::*;

/// Kafka Connect's `ConfigKeyInfo` of `tasks.max`, as Kafka's `ConnectorConfig` defines it.
fn tasks_max_definition() -> Value {
    json!({
        "name": "tasks.max", "type": "INT", "required": false, "default_value": "1", "importance": "HIGH",
        "documentation": "Maximum number of tasks to use for this connector.", "group": "Common", "order": 3,
        "width": "SHORT", "display_name": "Tasks max", "dependents": [],
    })
}

fn names_of(list: &[Value], f: impl Fn(&Value) -> &Value) -> Vec<String> {
    let mut v: Vec<String> = list.iter().filter_map(|x| f(x).as_str().map(str::to_string)).collect();
    v.sort();
    v
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Kafka's list, not ours: the exact set of config names that Kafka Connect's own system test
/// (kafkatest `connect_rest_test.py::test_rest_api`) requires `PUT …/config/validate` of the
/// FileStreamSource template to return, in that test's order (`ConnectorConfig`,
/// `SourceConnectorConfig` and FileStreamSourceConnector's own keys). raftconnect's tables
/// (`raftconnect::plugin::connector_config::{CONNECTOR_KEYS, SOURCE_KEYS}` and the plugin's keys) must add up to it.
const KAFKA_FILE_SOURCE_CONFIG_NAMES: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "key.converter",
    "value.converter",
    "header.converter",
    "batch.size",
    "topic",
    "file",
    "transforms",
    "config.action.reload",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.tolerance",
    "errors.log.enable",
    "errors.log.include.messages",
    "predicates",
    "topic.creation.groups",
    "exactly.once.support",
    "transaction.boundary",
    "transaction.boundary.interval.ms",
    "offsets.storage.topic",
    "tasks.max.enforce",
];

/// Kafka's list, not ours: the same kafkatest check for the FileStreamSink template
/// (`ConnectorConfig`, `SinkConnectorConfig` and FileStreamSinkConnector's `file`).
const KAFKA_FILE_SINK_CONFIG_NAMES: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "key.converter",
    "value.converter",
    "header.converter",
    "topics",
    "file",
    "transforms",
    "topics.regex",
    "config.action.reload",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.tolerance",
    "errors.log.enable",
    "errors.log.include.messages",
    "errors.deadletterqueue.topic.name",
    "errors.deadletterqueue.topic.replication.factor",
    "errors.deadletterqueue.context.headers.enable",
    "predicates",
    "tasks.max.enforce",
];

cluster_test!(connector_plugins_list_and_config, Cluster::new(&[]), scenario_connector_plugins_list_and_config);

async fn scenario_connector_plugins_list_and_config(c: &mut Cluster) -> Result<()> {
    let (_, f, _) = setup(c).await?;
    let url = c.url(f);

    // What the registry holds, in its order: `GET /connector-plugins` lists exactly its connectors.
    let listed = |connectors_only: bool| -> Value {
        json!(PLUGINS
            .iter()
            .filter(|p| !connectors_only || p.ty.is_connector())
            .map(|p| json!({ "class": p.class, "type": p.ty, "version": p.version }))
            .collect::<Vec<_>>())
    };
    let r = c.get_reply(&format!("{url}/connector-plugins")).await?;
    expect_json(&r, 200, &listed(true))
        .context("GET /connector-plugins → exactly the registry's connectors (default connectorsOnly=true)")?;
    // Kafka's names, not a copy of our registry: the file connectors that Kafka Connect's own
    // system test (kafkatest `connect_rest_test.py`) requires in this list, and the test
    // connectors (connect/test-plugins) that Kafka's other system tests run.
    for (class, ty) in [
        (FSOURCE, "source"),
        (FSINK, "sink"),
        (MOCK_SOURCE, "source"),
        (MOCK_SINK, "sink"),
        ("org.apache.kafka.connect.tools.VerifiableSourceConnector", "source"),
        ("org.apache.kafka.connect.tools.VerifiableSinkConnector", "sink"),
    ] {
        let found = r.body.as_array().is_some_and(|l| l.iter().any(|p| p["class"] == class && p["type"] == ty));
        ensure!(found, "GET /connector-plugins lacks Kafka Connect's {class} ({ty}): {}", r.text);
    }
    let connectors_only = r.body.clone();
    let r = c.get_reply(&format!("{url}/connector-plugins?connectorsOnly=true")).await?;
    expect_json(&r, 200, &connectors_only).context("GET /connector-plugins?connectorsOnly=true")?;

    let r = c.get_reply(&format!("{url}/connector-plugins?connectorsOnly=false")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        ensure!(r.body == listed(false), "not exactly the registry's plugins: {}", r.text);
        let list = r.body.as_array().context("not an array")?;
        // Kafka's names, not a copy of our registry: converters Kafka Connect ships
        // (connect-json, connect-runtime) that a Kafka Connect worker lists here.
        for (class, ty) in [
            ("org.apache.kafka.connect.json.JsonConverter", "converter"),
            ("org.apache.kafka.connect.storage.StringConverter", "converter"),
            ("org.apache.kafka.connect.converters.ByteArrayConverter", "converter"),
            ("org.apache.kafka.connect.json.JsonConverter", "header_converter"),
            ("org.apache.kafka.connect.storage.SimpleHeaderConverter", "header_converter"),
        ] {
            ensure!(
                list.iter().any(|p| p["class"] == class && p["type"] == ty),
                "connectorsOnly=false lacks {class} ({ty})"
            );
        }
        Ok(())
    })()
    .context(
        "GET /connector-plugins?connectorsOnly=false → every plugin of the registry, Kafka's converters among them",
    )?;

    // GET /connector-plugins/{plugin}/config: the plugin's own keys first, then the framework's.
    let r = c.get_reply(&format!("{url}/connector-plugins/{FSOURCE}/config")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && is_json(&r), "HTTP {} {}", r.status, r.text);
        let list = r.body.as_array().context("not an array")?;
        // FileStreamSourceConnector's own keys, in the order of its `ConfigDef` in Kafka.
        let first: Vec<&str> = list.iter().take(3).filter_map(|k| k["name"].as_str()).collect();
        ensure!(first == ["file", "topic", "batch.size"], "the plugin's own keys come first: {first:?}");
        ensure!(
            names_of(list, |k| &k["name"]) == sorted(KAFKA_FILE_SOURCE_CONFIG_NAMES),
            "source plugin config names: {:?}",
            names_of(list, |k| &k["name"])
        );
        let tm = list.iter().find(|k| k["name"] == "tasks.max").context("no tasks.max")?;
        ensure!(*tm == tasks_max_definition(), "tasks.max definition: {tm}");
        let topic = list.iter().find(|k| k["name"] == "topic").context("no topic")?;
        ensure!(
            topic["type"] == "LIST"
                && topic["required"] == true
                && topic["default_value"].is_null()
                && topic["importance"] == "HIGH"
                && topic["documentation"] == "The topic to publish data to",
            "topic definition: {topic}"
        );
        Ok(())
    })()
    .context("GET /connector-plugins/{FQCN}/config (source)")?;
    let by_fqcn = r.body.clone();
    for alias in ["FileStreamSource", "FileStreamSourceConnector"] {
        let r = c.get_reply(&format!("{url}/connector-plugins/{alias}/config")).await?;
        expect_json(&r, 200, &by_fqcn)
            .with_context(|| format!("GET /connector-plugins/{alias}/config equals the FQCN's"))?;
    }
    let r = c.get_reply(&format!("{url}/connector-plugins/FileStreamSink/config")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        let list = r.body.as_array().context("not an array")?;
        ensure!(list.first().map(|k| k["name"] == "file").unwrap_or(false), "sink's own key first: {}", r.text);
        ensure!(names_of(list, |k| &k["name"]) == sorted(KAFKA_FILE_SINK_CONFIG_NAMES), "sink plugin config names");
        Ok(())
    })()
    .context("GET /connector-plugins/FileStreamSink/config (alias)")?;
    let r = c.get_reply(&format!("{url}/connector-plugins/org.apache.kafka.connect.json.JsonConverter/config")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        let names = names_of(r.body.as_array().context("not an array")?, |k| &k["name"]);
        ensure!(
            names.contains(&"schemas.enable".to_string()) && !names.contains(&"tasks.max".to_string()),
            "{names:?}"
        );
        Ok(())
    })()
    .context("GET /connector-plugins/{converter}/config: its own keys, no connector keys")?;

    let r = c.get_reply(&format!("{url}/connector-plugins/com.example.Nope/config")).await?;
    expect_error(&r, 404, "Unknown plugin com.example.Nope.")
        .context("GET /connector-plugins/{unknown}/config → 404")?;
    Ok(())
}

cluster_test!(validate_connector_configs, Cluster::new(&[]), scenario_validate_connector_configs);

async fn scenario_validate_connector_configs(c: &mut Cluster) -> Result<()> {
    let (_, f, _) = setup(c).await?;
    let c: &Cluster = c;
    let validate = |plugin: &str, body: Value| {
        let url = format!("{}/connector-plugins/{plugin}/config/validate", c.url(f));
        async move { c.put_json(&url, &body).await }
    };

    // Kafka's connect_rest_test validates the source template this way.
    let r = validate(FSOURCE, source_template()).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && is_json(&r), "HTTP {} {}", r.status, r.text);
        ensure!(r.body["name"] == FSOURCE, "name: {}", r.body["name"]);
        ensure!(r.body["error_count"] == 0, "error_count: {}", r.body["error_count"]);
        let configs = r.body["configs"].as_array().context("no configs")?;
        let names = names_of(configs, |x| &x["definition"]["name"]);
        ensure!(names == sorted(KAFKA_FILE_SOURCE_CONFIG_NAMES), "config names {names:?}");
        // Kafka Connect's groups for a source connector, in its order.
        ensure!(
            r.body["groups"]
                == json!([
                    "Common",
                    "Transforms",
                    "Predicates",
                    "Error Handling",
                    "Topic Creation",
                    "Exactly Once Support",
                    "offsets.topic"
                ]),
            "groups: {}",
            r.body["groups"]
        );
        let tm = configs.iter().find(|x| x["definition"]["name"] == "tasks.max").context("no tasks.max")?;
        let expected = json!({
            "definition": tasks_max_definition(),
            "value": { "name": "tasks.max", "value": "1", "recommended_values": [], "errors": [], "visible": true },
        });
        ensure!(*tm == expected, "tasks.max ConfigInfo: {tm}");
        let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
        ensure!(keys.len() == 4, "ConfigInfos fields: {keys:?}");
        Ok(())
    })()
    .context("PUT /connector-plugins/{FQCN}/config/validate (source template) → 200, 0 errors, kafkatest's key set")?;

    let r = validate(FSINK, sink_template()).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        ensure!(r.body["name"] == FSINK && r.body["error_count"] == 0, "name/error_count: {}", r.text);
        let names = names_of(r.body["configs"].as_array().context("no configs")?, |x| &x["definition"]["name"]);
        ensure!(names == sorted(KAFKA_FILE_SINK_CONFIG_NAMES), "config names {names:?}");
        ensure!(
            r.body["groups"] == json!(["Common", "Transforms", "Predicates", "Error Handling"]),
            "groups: {}",
            r.body["groups"]
        );
        Ok(())
    })()
    .context("PUT /connector-plugins/{FQCN}/config/validate (sink template) → 200, 0 errors, kafkatest's key set")?;

    let r = validate("FileStreamSink", json!({ "connector.class": "FileStreamSink", "name": "v", "tasks.max": "0" }))
        .await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        ensure!(
            r.body["name"] == "FileStreamSink" && r.body["error_count"] == 3,
            "name/error_count: {} {}",
            r.body["name"],
            r.body["error_count"]
        );
        let configs = r.body["configs"].as_array().context("no configs")?;
        let errors =
            |k: &str| configs.iter().find(|x| x["definition"]["name"] == k).map(|x| x["value"]["errors"].clone());
        ensure!(
            errors("tasks.max")
                == Some(json!(["Invalid value 0 for configuration tasks.max: Value must be at least 1"])),
            "tasks.max errors"
        );
        ensure!(errors("topics") == Some(json!(["Must configure one of topics or topics.regex"])), "topics errors");
        ensure!(
            errors("topics.regex") == Some(json!(["Must configure one of topics or topics.regex"])),
            "topics.regex errors"
        );
        ensure!(errors("name") == Some(json!([])), "name errors");
        Ok(())
    })()
    .context("PUT …/validate with a bad config → 200 with the errors")?;

    let r = validate(
        "FileStreamSink",
        json!({ "connector.class": "FileStreamSink", "name": "v", "topics": "t", "file": null, "not.a.key": null }),
    )
    .await?;
    (|| -> Result<()> {
        ensure!(r.status == 200 && r.body["error_count"] == 2, "HTTP {} error_count {}", r.status, r.body["error_count"]);
        let configs = r.body["configs"].as_array().context("no configs")?;
        let file = configs.iter().find(|x| x["definition"]["name"] == "file").context("no file")?;
        ensure!(file["value"]["errors"] == json!([NULL_VALUE]), "file: {file}");
        let unknown = configs.iter().find(|x| x["value"]["name"] == "not.a.key").context("no entry for not.a.key")?;
        ensure!(
            *unknown
                == json!({ "definition": null, "value": { "name": "not.a.key", "value": null, "recommended_values": [], "errors": [NULL_VALUE], "visible": true } }),
            "not.a.key: {unknown}"
        );
        Ok(())
    })()
    .context("PUT …/validate with null values → 200, one error per null (undefined keys with definition null)")?;

    let r = validate("FileStreamSourceConnector", sink_template()).await?;
    expect_error(
        &r,
        400,
        &format!("Included connector type {FSINK} does not match request type FileStreamSourceConnector"),
    )
    .context("PUT …/validate with a mismatched connector.class → 400")?;

    let r = validate("FileStreamSource", json!({ "name": "v" })).await?;
    expect_error(&r, 400, "Connector config {name=v} contains no connector type")
        .context("PUT …/validate without connector.class → 400")?;
    Ok(())
}
