//! Offsets: `GET/PATCH/DELETE /connectors/{c}/offsets` (KIP-875); initial offsets at create time
//! (KIP-995).

use super::*;

const NOT_STOPPED: &str = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint";
const NEED_OFFSETS: &str = "Partitions / offsets need to be provided for an alter offsets request";
const ALTERED: &str = "The offsets for this connector have been altered successfully";
const RESET: &str = "The offsets for this connector have been reset successfully";

cluster_test!(source_connector_offsets, Cluster::new(&[]), scenario_source_connector_offsets);

async fn scenario_source_connector_offsets(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let u1 = c.url(f1);
    let u2 = c.url(f2);
    let offsets = format!("{u2}/connectors/src/offsets");

    let initial = json!({ "partition": { "filename": "/tmp/src" }, "offset": { "position": 30 } });
    let r = c
        .post_json(
            &format!("{u1}/connectors"),
            &json!({ "name": "src", "config": source("/tmp/src"), "offsets": [initial] }),
        )
        .await?;
    expect_created(&r, "src", &source("/tmp/src"), "source", 1)
        .context("POST /connectors with initial offsets → 201")?;

    let r = c.get_reply(&offsets).await?;
    expect_json(&r, 200, &json!({ "offsets": [initial] })).context("GET /connectors/{c}/offsets (source shape)")?;
    let r = c.get_reply(&format!("{u2}/connectors/nope/offsets")).await?;
    expect_error(&r, 404, "Connector nope not found").context("GET /connectors/{unknown}/offsets → 404")?;

    let alter = json!({ "offsets": [
        { "partition": { "filename": "/tmp/src" }, "offset": { "position": 42 } },
        { "partition": { "filename": "/tmp/other" }, "offset": { "position": 7 } },
    ]});
    let r = c.patch_json(&offsets, &alter).await?;
    expect_error(&r, 400, NOT_STOPPED).context("PATCH /connectors/{c}/offsets while RUNNING → 400")?;
    let r = c.delete(&offsets).await?;
    expect_error(&r, 400, NOT_STOPPED).context("DELETE /connectors/{c}/offsets while RUNNING → 400")?;
    c.put_empty(&format!("{u1}/connectors/src/pause")).await?;
    let r = c.patch_json(&offsets, &alter).await?;
    expect_error(&r, 400, NOT_STOPPED).context("PATCH /connectors/{c}/offsets while PAUSED → 400")?;

    let r = c.put_empty(&format!("{u1}/connectors/src/stop")).await?;
    expect_empty(&r, 204).context("PUT /connectors/{c}/stop")?;

    let r = c.patch_json(&offsets, &json!({})).await?;
    expect_error(&r, 400, NEED_OFFSETS).context("PATCH /connectors/{c}/offsets without offsets → 400")?;
    let r = c.patch_json(&offsets, &json!({ "offsets": [] })).await?;
    expect_error(&r, 400, NEED_OFFSETS).context("PATCH /connectors/{c}/offsets with an empty list → 400")?;
    let r = c.patch_json(&format!("{u2}/connectors/nope/offsets"), &alter).await?;
    expect_error(&r, 404, "Connector nope not found").context("PATCH /connectors/{unknown}/offsets → 404")?;

    let r = c.patch_json(&offsets, &alter).await?;
    expect_json(&r, 200, &json!({ "message": ALTERED })).context("PATCH /connectors/{c}/offsets when STOPPED → 200")?;
    let r = c.get_reply(&format!("{u1}/connectors/src/offsets")).await?;
    (|| -> Result<()> {
        ensure!(r.status == 200, "HTTP {} {}", r.status, r.text);
        expect_same_elements(&r.body["offsets"], alter["offsets"].as_array().unwrap())
    })()
    .context("GET /connectors/{c}/offsets after PATCH shows the new offsets")?;

    // A null offset removes one partition.
    let r = c
        .patch_json(&offsets, &json!({ "offsets": [{ "partition": { "filename": "/tmp/other" }, "offset": null }] }))
        .await?;
    expect_json(&r, 200, &json!({ "message": ALTERED }))
        .context("PATCH /connectors/{c}/offsets with a null offset → 200")?;
    let r = c.get_reply(&offsets).await?;
    expect_json(&r, 200, &json!({ "offsets": [alter["offsets"][0]] }))
        .context("GET offsets after removing one partition")?;

    let r = c.delete(&offsets).await?;
    expect_json(&r, 200, &json!({ "message": RESET })).context("DELETE /connectors/{c}/offsets when STOPPED → 200")?;
    let r = c.get_reply(&format!("{u1}/connectors/src/offsets")).await?;
    expect_json(&r, 200, &json!({ "offsets": [] })).context("GET /connectors/{c}/offsets after reset → empty")?;
    let r = c.delete(&format!("{u2}/connectors/nope/offsets")).await?;
    expect_error(&r, 404, "Connector nope not found").context("DELETE /connectors/{unknown}/offsets → 404")?;
    Ok(())
}

cluster_test!(sink_connector_offsets, Cluster::new(&[]), scenario_sink_connector_offsets);

async fn scenario_sink_connector_offsets(c: &mut Cluster) -> Result<()> {
    let (_, f1, f2) = setup(c).await?;
    let u1 = c.url(f1);
    let offsets = format!("{}/connectors/snk/offsets", c.url(f2));

    let initial =
        json!({ "partition": { "kafka_topic": "conformance", "kafka_partition": 0 }, "offset": { "kafka_offset": 5 } });
    let r = c
        .post_json(
            &format!("{u1}/connectors"),
            &json!({ "name": "snk", "config": sink("/tmp/snk"), "initial_state": "STOPPED", "offsets": [initial] }),
        )
        .await?;
    expect_json(&r, 201, &info("snk", &sink("/tmp/snk"), "sink"))
        .context("POST /connectors (sink, STOPPED, initial offsets) → 201")?;
    let r = c.get_reply(&offsets).await?;
    expect_json(&r, 200, &json!({ "offsets": [initial] })).context("GET /connectors/{c}/offsets (sink shape)")?;

    // Kafka Connect's sink offset format errors (SinkUtils), each exact.
    let cases = [
        (
            json!({ "partition": null, "offset": { "kafka_offset": 1 } }),
            "The partition for a sink connector offset cannot be null or missing",
        ),
        (
            json!({ "offset": { "kafka_offset": 1 } }),
            "The partition for a sink connector offset cannot be null or missing",
        ),
        (
            json!({ "partition": { "kafka_topic": "t" }, "offset": { "kafka_offset": 1 } }),
            "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
        ),
        (
            json!({ "partition": { "kafka_topic": null, "kafka_partition": 0 }, "offset": { "kafka_offset": 1 } }),
            "Kafka topic names must be valid strings and may not be null",
        ),
        (
            json!({ "partition": { "kafka_topic": "t", "kafka_partition": null }, "offset": { "kafka_offset": 1 } }),
            "Kafka partitions must be valid numbers and may not be null",
        ),
        (
            json!({ "partition": { "kafka_topic": "t", "kafka_partition": 0 }, "offset": { "position": 1 } }),
            "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
        ),
    ];
    for (entry, message) in &cases {
        let r = c.patch_json(&offsets, &json!({ "offsets": [entry] })).await?;
        expect_error(&r, 400, message).with_context(|| format!("PATCH sink offsets {entry} → 400"))?;
    }
    // The same checks refuse bad initial offsets at create time, and nothing is created.
    let r = c
        .post_json(
            &format!("{u1}/connectors"),
            &json!({ "name": "snk2", "config": sink("/tmp/snk2"), "offsets": [cases[2].0] }),
        )
        .await?;
    expect_error(&r, 400, cases[2].1).context("POST /connectors with malformed sink offsets → 400")?;
    let r = c.get_reply(&format!("{u1}/connectors/snk2")).await?;
    expect_error(&r, 404, "Connector snk2 not found").context("a refused create with offsets creates nothing")?;

    // Numbers given as strings are accepted (SinkUtils parses String.valueOf); null resets one.
    let r = c
        .patch_json(
            &offsets,
            &json!({ "offsets": [
                { "partition": { "kafka_topic": "conformance", "kafka_partition": "1" }, "offset": { "kafka_offset": "7" } },
                { "partition": { "kafka_topic": "conformance", "kafka_partition": 0 }, "offset": null },
            ]}),
        )
        .await?;
    expect_json(&r, 200, &json!({ "message": ALTERED })).context("PATCH sink offsets → 200")?;
    let r = c.get_reply(&format!("{u1}/connectors/snk/offsets")).await?;
    expect_json(
        &r,
        200,
        &json!({ "offsets": [{ "partition": { "kafka_topic": "conformance", "kafka_partition": 1 }, "offset": { "kafka_offset": 7 } }] }),
    )
    .context("GET sink offsets after PATCH")?;

    let r = c.delete(&offsets).await?;
    expect_json(&r, 200, &json!({ "message": RESET })).context("DELETE sink offsets → 200")?;
    let r = c.get_reply(&offsets).await?;
    expect_json(&r, 200, &json!({ "offsets": [] })).context("GET sink offsets after reset → empty")?;

    // Resumed, it may no longer be altered.
    c.put_empty(&format!("{u1}/connectors/snk/resume")).await?;
    let r = c.delete(&offsets).await?;
    expect_error(&r, 400, &NOT_STOPPED.replace("/connectors/src/stop", "/connectors/snk/stop"))
        .context("DELETE sink offsets after resume → 400")?;
    Ok(())
}
