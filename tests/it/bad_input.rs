//! Bad input gets a clear error, and the cluster keeps working.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::*;

cluster_test!(
    bad_input_gets_clear_errors_and_the_cluster_keeps_working,
    // Without a cluster secret, so that bad RPC bodies reach the decoder (with one, they are
    // refused before it: tests/it/security.rs).
    Cluster::without_secret(&[]),
    scenario
);

fn error_body(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

async fn scenario(c: &mut Cluster) -> anyhow::Result<()> {
    c.form(3).await?;
    let url = c.url(2);
    let json_ct = [("content-type", "application/json")];

    // Malformed JSON.
    let (code, text) =
        c.post_raw(&format!("{url}/cluster/commands"), b"{\"put_connector\": {".to_vec(), &json_ct).await?;
    let body = error_body(&text);
    assert_eq!(code, 400, "{text}");
    assert_eq!(body["error_code"], 400);
    assert!(body["message"].as_str().unwrap().contains("Invalid JSON"), "{text}");

    // Unknown field and unknown command: 400 naming them.
    let cmd = json!({"put_connector": {"name": "x", "config": {}, "target_state": null, "bogus": 1}});
    let (code, text) = c.post_raw(&format!("{url}/cluster/commands"), serde_json::to_vec(&cmd)?, &json_ct).await?;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("bogus"), "{text}");
    let (code, text) =
        c.post_raw(&format!("{url}/cluster/commands"), br#"{"drop_everything":{}}"#.to_vec(), &json_ct).await?;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("drop_everything"), "{text}");
    let (code, text) = c.post_raw(&format!("{url}/cluster/commands"), Vec::new(), &json_ct).await?;
    assert_eq!(code, 400, "{text}");
    // Commands only the cluster writes (assignments, offset commits, statuses…) are refused.
    let forged = json!({"commit_offsets": {"node": 2, "source": [], "sink": []}});
    let (code, text) = c.post_raw(&format!("{url}/cluster/commands"), serde_json::to_vec(&forged)?, &json_ct).await?;
    assert_eq!(code, 403, "{text}");
    assert!(text.contains("'commit_offsets' is written by the cluster itself"), "{text}");

    // Bad query parameters and member ids.
    let (code, body) = c.get(&format!("{url}/cluster/log?from=abc")).await?;
    assert_eq!(code, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("'from'"), "{body}");
    let resp = c.http.delete(format!("{url}/cluster/members/abc")).send().await?;
    assert_eq!(resp.status().as_u16(), 400);
    let resp = c.http.delete(format!("{url}/cluster/members/99")).send().await?;
    assert_eq!(resp.status().as_u16(), 404);
    let body: Value = resp.json().await?;
    assert_eq!(body["message"], "Node 99 is not a member of the cluster");
    let (code, body) = c.get(&format!("{url}/no/such/path")).await?;
    assert_eq!((code, body["error_code"].as_u64()), (404, Some(404)));

    // Oversized bodies: REST and RPC.
    let (code, text) = post_declared_length(&url, "/cluster/commands", 2 << 20, &json_ct).await?;
    assert_eq!(code, 413, "REST body over 1 MiB: {text}");
    assert_eq!(error_body(&text)["error_code"], 413, "{text}");
    let target = [("x-raftconnect-target", "2")];
    let (code, _) = post_declared_length(&url, "/raft/append", 65 << 20, &target).await?;
    assert_eq!(code, 413, "AppendEntries body over 32 MiB");
    // Just under the REST limit is read, and refused as bad JSON, not as too large.
    let (code, _) = c.post_raw(&format!("{url}/cluster/commands"), vec![b' '; 1000], &json_ct).await?;
    assert_eq!(code, 400);
    // Undecodable RPC body, including a length prefix that claims a huge allocation.
    let (code, text) = c.post_raw(&format!("{url}/raft/append"), vec![0xff; 100], &target).await?;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("undecodable"), "{text}");
    // An RPC meant for another node id is refused.
    let (code, _) = c.post_raw(&format!("{url}/raft/vote"), vec![0; 8], &[("x-raftconnect-target", "99")]).await?;
    assert_eq!(code, 421);

    // A second data directory claiming node id 2 is refused and exits with a clear error.
    let dir = c.dir.path().join("impostor");
    let log = c.dir.path().join("impostor.log");
    let mut impostor = NodeProc::new(2, free_port(), dir, log.clone());
    impostor.spawn(&["--join".into(), c.url(1)]);
    let status = impostor.wait_exit(Duration::from_secs(60)).expect("the impostor exits by itself");
    assert!(!status.success());
    let text = std::fs::read_to_string(&log)?;
    assert!(text.contains("Node id 2 is already in use by another data directory"), "{text}");

    // A second node with a conflicting flag set fails fast too.
    let out = std::process::Command::new(BIN)
        .args(["node", "--id", "7", "--data-dir"])
        .arg(c.dir.path().join("n7"))
        .args(["--listen", "127.0.0.1:0", "--bootstrap", "--join", &c.url(1)])
        .output()?;
    assert!(!out.status.success());

    // The cluster still works, and node 2 is still the original one.
    let config = json!({"name": "still-fine", "connector.class": "FileStreamSink", "topics": "t"});
    c.command_eventually(3, json!({"put_connector": {"name": "still-fine", "config": config, "target_state": null}}))
        .await?;
    c.wait_members(1, &[1, 2, 3]).await?;
    let state = c.get(&format!("{}/cluster/state", c.url(1))).await?.1;
    assert_eq!(state["state"]["nodes"]["2"]["rest_url"], c.url(2));
    assert!(state["state"]["connectors"]["still-fine"].is_object());
    Ok(())
}
