//! Security on real processes: cluster RPC refuses outsiders, a node without the secret cannot
//! join, a non-loopback node refuses to start unprotected, a TLS cluster works end to end, and
//! planted secrets appear in no output.

use std::path::{Path, PathBuf};
use std::time::Duration;

use raftconnect_raft::auth::{ClusterSecret, AUTH_HEADER};
use raftconnect_storage::{codec, Command};
use serde_json::{json, Value};

use crate::harness::*;

/// Every RPC route, with the node id it is meant for where the route checks one.
const RPC_ROUTES: &[&str] = &[
    "/raft/append",
    "/raft/vote",
    "/raft/pre-vote",
    "/raft/snapshot",
    "/raft/write",
    "/raft/read-index",
    "/raft/join",
    "/raft/remove",
    "/raft/liveness",
];

fn evil_connector() -> Command {
    let config = [("connector.class", "MockSourceConnector"), ("name", "evil")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Command::PutConnector { name: "evil".into(), config, target_state: None }
}

/// A body that the route would accept if it were authenticated.
fn body_for(route: &str, victim: u64) -> Vec<u8> {
    match route {
        "/raft/remove" => codec::encode(&victim),
        "/raft/write" => codec::encode(&evil_connector()),
        "/raft/join" => codec::encode(&raftconnect_raft::node::JoinRequest {
            id: 66,
            url: "http://127.0.0.1:9".into(),
            incarnation: "stranger".into(),
        }),
        _ => vec![0; 64],
    }
}

cluster_test!(outsiders_without_the_secret_change_nothing, Cluster::new(&[]), outsiders);

async fn outsiders(c: &mut Cluster) -> anyhow::Result<()> {
    c.form(3).await?;
    let before = c.get(&format!("{}/cluster", c.url(1))).await?.1;
    let wrong = ClusterSecret::from_bytes(b"not the cluster's secret at all");
    for id in 1..=3u64 {
        let url = c.url(id);
        let target = id.to_string();
        for route in RPC_ROUTES {
            let body = body_for(route, if id == 1 { 2 } else { 1 });
            // No proof at all.
            let (code, text) =
                c.post_raw(&format!("{url}{route}"), body.clone(), &[("x-raftconnect-target", &target)]).await?;
            assert_eq!(code, 401, "{route} on node {id} without a proof: {text}");
            assert!(text.contains("no cluster authentication"), "{text}");
            // A proof made with another secret.
            let forged = wrong.sign("POST", route, Some(id), &body);
            let headers = [("x-raftconnect-target", target.as_str()), (AUTH_HEADER, forged.as_str())];
            let (code, text) = c.post_raw(&format!("{url}{route}"), body.clone(), &headers).await?;
            assert_eq!(code, 401, "{route} on node {id} with a forged proof: {text}");
            assert!(text.contains("does not match"), "{text}");
            // A proof for another route, replayed here.
            let other = ClusterSecret::load(c.secret.as_ref().expect("secret"))?.sign(
                "POST",
                "/raft/liveness",
                Some(id),
                &body,
            );
            let headers = [("x-raftconnect-target", target.as_str()), (AUTH_HEADER, other.as_str())];
            let (code, _) = c.post_raw(&format!("{url}{route}"), body.clone(), &headers).await?;
            if *route != "/raft/liveness" {
                assert_eq!(code, 401, "{route} with a proof made for /raft/liveness");
            }
        }
    }
    // The same request, signed with the cluster's secret, is served: the refusals above were
    // the authentication's doing. A replay of it is refused.
    let secret = ClusterSecret::load(c.secret.as_ref().expect("secret"))?;
    let proof = secret.sign("POST", "/raft/liveness", Some(1), b"");
    let headers = [("x-raftconnect-target", "1"), (AUTH_HEADER, proof.as_str())];
    let (code, text) = c.post_raw(&format!("{}/raft/liveness", c.url(1)), Vec::new(), &headers).await?;
    assert_eq!(code, 200, "{text}");
    let (code, text) = c.post_raw(&format!("{}/raft/liveness", c.url(1)), Vec::new(), &headers).await?;
    assert_eq!(code, 401, "a replay: {text}");
    assert!(text.contains("replay"), "{text}");

    // Nothing changed: the same members and voters, no connector, no stranger in the registry.
    let after = c.wait_members(1, &[1, 2, 3]).await?;
    assert_eq!(after["members"].as_array().map(Vec::len), before["members"].as_array().map(Vec::len));
    c.wait_voters(1, 3).await?;
    let state = c.get(&format!("{}/cluster/state", c.url(2))).await?.1;
    assert!(state["state"]["connectors"].get("evil").is_none(), "{state}");
    assert!(state["state"]["nodes"].get("66").is_none(), "{state}");
    for e in c.log(1).await? {
        assert!(!e.to_string().contains("evil"), "{e}");
    }
    // Refusals are logged at WARN, never at ERROR.
    let logs = without_colours(&c.logs());
    assert!(logs.contains("Refused an unauthenticated cluster RPC"), "{logs}");
    assert!(!logs.lines().any(|l| l.contains(" ERROR ")), "{logs}");
    Ok(())
}

cluster_test!(a_node_without_the_secret_cannot_join, Cluster::new(&[]), stranger_joins);

async fn stranger_joins(c: &mut Cluster) -> anyhow::Result<()> {
    c.form(1).await?;
    let wrong = c.dir.path().join("wrong.secret");
    cli(&["secret", "generate", "--out", wrong.to_str().expect("utf-8")])?;
    for (name, extra) in [
        ("no secret", vec![]),
        ("another secret", vec!["--cluster-secret-file".to_string(), wrong.display().to_string()]),
    ] {
        let dir = c.dir.path().join(format!("stranger-{}", name.replace(' ', "-")));
        let log = c.dir.path().join(format!("stranger-{}.log", name.replace(' ', "-")));
        let mut stranger = NodeProc::new(5, free_port(), dir, log.clone());
        let mut args = vec!["--join".to_string(), c.url(1)];
        args.extend(extra);
        stranger.spawn(&args);
        let status = stranger.wait_exit(Duration::from_secs(30)).expect("the stranger gives up by itself");
        assert!(!status.success(), "{name}");
        let text = std::fs::read_to_string(&log)?;
        assert!(text.contains("refused this node's authentication"), "{name}: {text}");
    }
    c.wait_members(1, &[1]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_a_public_address_refuses_to_start_without_a_secret() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = std::process::Command::new(BIN)
        .args(["node", "--id", "1", "--bootstrap", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path().join("n1"))
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without a cluster secret") && err.contains("raftconnect secret generate"), "{err}");
    assert!(err.contains("--insecure"), "{err}");

    // --insecure is the explicit way out: the node starts and serves.
    let mut node = NodeProc::new(1, free_port(), dir.path().join("n2"), dir.path().join("n2.log"));
    node.host = "0.0.0.0".into();
    node.spawn(&["--bootstrap".into(), "--insecure".into()]);
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/health", node.port);
    let code = wait_for(DEADLINE, || async {
        match http.get(&url).send().await {
            Ok(r) if r.status().is_success() => Some(r.status().as_u16()),
            _ => None,
        }
    })
    .await?;
    assert_eq!(code, 200);
    let log = std::fs::read_to_string(&node.log_path)?;
    assert!(log.contains("not authenticated"), "{log}");
    Ok(())
}

/// A CA and a certificate for 127.0.0.1/localhost signed by it, made with the openssl CLI.
pub struct TestCerts {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn make_certs(dir: &Path) -> anyhow::Result<TestCerts> {
    let run = |args: &[&str]| -> anyhow::Result<()> {
        let out = std::process::Command::new("openssl").args(args).current_dir(dir).output()?;
        anyhow::ensure!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(())
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca =
        vec!["req", "-x509", "-days", "2", "-subj", "/CN=raftconnect test CA", "-keyout", "ca.key", "-out", "ca.pem"];
    ca.extend(ec);
    run(&ca)?;
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1", "-keyout", "node.key", "-out", "node.csr"];
    csr.extend(ec);
    run(&csr)?;
    std::fs::write(dir.join("node.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")?;
    run(&[
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "node.ext",
        "-out",
        "node.pem",
    ])?;
    Ok(TestCerts { ca: dir.join("ca.pem"), cert: dir.join("node.pem"), key: dir.join("node.key") })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cluster_forms_fails_over_and_runs_connectors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = make_certs(dir.path()).expect("certificates");
    let flags: Vec<String> = [
        "--tls-cert".to_string(),
        certs.cert.display().to_string(),
        "--tls-key".into(),
        certs.key.display().to_string(),
        "--tls-ca".into(),
        certs.ca.display().to_string(),
    ]
    .into();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut c = Cluster::new(&flags);
    let ca = std::fs::read(&certs.ca).expect("ca");
    c.http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("ca pem"))
        .build()
        .expect("https client");
    let res = tls_cluster(&mut c, &certs).await;
    c.report(res);
}

async fn tls_cluster(c: &mut Cluster, certs: &TestCerts) -> anyhow::Result<()> {
    c.form_with(3, |n| n.scheme = "https").await?;
    for id in 1..=3 {
        assert!(c.url(id).starts_with("https://"));
    }
    let members = c.get(&format!("{}/cluster", c.url(2))).await?.1;
    for m in members["members"].as_array().expect("members") {
        assert!(m["url"].as_str().is_some_and(|u| u.starts_with("https://")), "{m}");
    }
    // A plain-HTTP request to a TLS node gets no answer.
    let plain = format!("http://127.0.0.1:{}/", c.nodes[&1].port);
    let res = reqwest::Client::new().get(&plain).timeout(Duration::from_secs(5)).send().await;
    assert!(res.is_err(), "plain HTTP was answered: {:?}", res.map(|r| r.status()));

    let r = c
        .post_json(
            &format!("{}/connectors", c.url(2)),
            &json!({"name": "m", "config": {"connector.class": "MockSourceConnector", "tasks.max": "1"}}),
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_running(c, 3, "m").await?;

    // Fail over: kill the leader; the others elect one and keep running the connector.
    let leader = c.leader(1).await?;
    c.node(leader).kill();
    let other = (1..=3).find(|i| *i != leader).expect("another node");
    wait_for(DEADLINE, || async { c.leader(other).await.ok().filter(|l| *l != leader) }).await?;
    wait_running(c, other, "m").await?;

    // The CLI speaks HTTPS with the CA, and refuses the node's certificate without it.
    let url = c.url(other);
    let ca = certs.ca.display().to_string();
    let out = cli(&["cluster", "status", "--url", &url, "--ca-cert", &ca])?;
    assert!(out.contains("leader"), "{out}");
    assert!(cli(&["cluster", "status", "--url", &url]).is_err());
    Ok(())
}

async fn wait_running(c: &Cluster, via: u64, name: &str) -> anyhow::Result<()> {
    let url = format!("{}/connectors/{name}/status", c.url(via));
    wait_for(DEADLINE, || async {
        let (code, s) = c.get(&url).await.unwrap_or((0, Value::Null));
        let tasks = s["tasks"].as_array().cloned().unwrap_or_default();
        let running = code == 200
            && s["connector"]["state"] == "RUNNING"
            && !tasks.is_empty()
            && tasks.iter().all(|t| t["state"] == "RUNNING");
        running.then_some(())
    })
    .await
}

/// Every REST write, as (method, path, body).
fn rest_writes() -> Vec<(reqwest::Method, &'static str, Option<Value>)> {
    use reqwest::Method;
    let config = json!({"connector.class": "MockSourceConnector", "tasks.max": "1"});
    vec![
        (Method::POST, "/connectors", Some(json!({"name": "evil", "config": config}))),
        (Method::PUT, "/connectors/evil/config", Some(config.clone())),
        (
            Method::PUT,
            "/connectors/m/config",
            Some(json!({"connector.class": "MockSourceConnector", "tasks.max": "3"})),
        ),
        (Method::PUT, "/connectors/m/pause", None),
        (Method::PUT, "/connectors/m/stop", None),
        (Method::PUT, "/connectors/m/resume", None),
        (Method::POST, "/connectors/m/restart", None),
        (Method::POST, "/connectors/m/tasks/0/restart", None),
        (Method::DELETE, "/connectors/m/offsets", None),
        (Method::PATCH, "/connectors/m/offsets", Some(json!({"offsets": []}))),
        (Method::PUT, "/connectors/m/topics/reset", None),
        (Method::DELETE, "/connectors/m", None),
        (Method::PUT, "/admin/loggers/root", Some(json!({"level": "ERROR"}))),
        (Method::DELETE, "/cluster/members/2", None),
        (Method::POST, "/cluster/commands", Some(json!({"delete_connector": {"name": "m"}}))),
    ]
}

cluster_test!(rest_users_and_roles_guard_every_write, Cluster::new(&[]), rest_users);

async fn rest_users(c: &mut Cluster) -> anyhow::Result<()> {
    // A hashed password, made by the CLI from stdin.
    let mut hash = std::process::Command::new(BIN)
        .args(["secret", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    {
        use std::io::Write;
        hash.stdin.take().expect("stdin").write_all(b"h4shed pw\n")?;
    }
    let hash = String::from_utf8(hash.wait_with_output()?.stdout)?.trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    // Kafka Connect's format: the whole value is the password, whatever it holds.
    let users = c.dir.path().join("users.properties");
    std::fs::write(&users, format!("# users\nadmin: s3cret,admin\nviewer=look only\nhashed: {hash}\n"))?;
    let roles = c.dir.path().join("roles.properties");
    std::fs::write(&roles, "viewer=viewer\n")?;
    c.flags.extend([
        "--rest-users-file".into(),
        users.display().to_string(),
        "--rest-roles-file".into(),
        roles.display().to_string(),
    ]);
    // The harness's own client is the admin.
    c.http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            let token = base64_basic("admin", "s3cret,admin");
            h.insert(reqwest::header::AUTHORIZATION, token.parse()?);
            h
        })
        .build()?;
    c.form(3).await?;
    let r = c
        .post_json(
            &format!("{}/connectors", c.url(1)),
            &json!({"name": "m", "config": {"connector.class": "MockSourceConnector", "tasks.max": "1"}}),
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_running(c, 2, "m").await?;
    let before = c.log(1).await?.len();

    let plain = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
    let url = c.url(2);
    // Probes need no credentials.
    assert_eq!(plain.get(format!("{url}/health")).send().await?.status().as_u16(), 200);
    for (who, auth) in [
        ("nobody", None),
        ("a wrong password", Some(("admin", "s3cret"))),
        ("an unknown user", Some(("mallory", "s3cret,admin"))),
        ("a wrong password for a hashed user", Some(("hashed", "h4shed"))),
    ] {
        for (method, path, body) in rest_writes().into_iter().chain([(reqwest::Method::GET, "/connectors", None)]) {
            let mut req = plain.request(method.clone(), format!("{url}{path}"));
            if let Some((u, p)) = auth {
                req = req.basic_auth(u, Some(p));
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let resp = req.send().await?;
            assert_eq!(resp.status().as_u16(), 401, "{method} {path} as {who}");
            assert_eq!(resp.text().await?, "User cannot access the resource.", "{method} {path} as {who}");
        }
    }
    // A viewer reads, and may not write.
    let viewer =
        |m: reqwest::Method, p: &str| plain.request(m, format!("{url}{p}")).basic_auth("viewer", Some("look only"));
    assert_eq!(viewer(reqwest::Method::GET, "/connectors/m/status").send().await?.status().as_u16(), 200);
    for (method, path, body) in rest_writes() {
        let mut req = viewer(method.clone(), path);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        assert_eq!(resp.status().as_u16(), 403, "{method} {path} as a viewer");
        let body: Value = resp.json().await?;
        assert_eq!(body["error_code"], 403, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("viewer")), "{body}");
    }
    // Nothing changed: no entry was written, the connector runs as it did.
    assert_eq!(c.log(1).await?.len(), before);
    wait_running(c, 3, "m").await?;
    c.wait_members(1, &[1, 2, 3]).await?;

    // A hashed password works, and so does the CLI with credentials (flag or environment).
    let resp = plain.get(format!("{url}/connectors")).basic_auth("hashed", Some("h4shed pw")).send().await?;
    assert_eq!(resp.status().as_u16(), 200);
    let out = cli(&["connector", "list", "--url", &url, "--user", "viewer", "--password", "look only"])?;
    assert!(out.contains('m'), "{out}");
    let err = cli(&["connector", "list", "--url", &url]).expect_err("no credentials");
    assert!(err.to_string().contains("User cannot access the resource."), "{err}");
    Ok(())
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

cluster_test!(planted_secrets_appear_in_no_output, Cluster::new(&[]), planted);

async fn planted(c: &mut Cluster) -> anyhow::Result<()> {
    c.form(3).await?;
    let planted = ["PLANTED-pw-1234", "PLANTED-tok-5678", "PLANTED-jaas-9012"];
    let config = json!({
        "connector.class": "MockSourceConnector",
        "tasks.max": "2",
        "connection.password": planted[0],
        "api.token": planted[1],
        "producer.override.sasl.jaas.config": format!(
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"{}\";",
            planted[2]
        ),
    });
    let r = c.post_json(&format!("{}/connectors", c.url(1)), &json!({"name": "s", "config": config})).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_running(c, 2, "s").await?;
    // Change it once, so the log holds an update and new task configs too.
    let mut updated = config.clone();
    updated["tasks.max"] = json!("1");
    let r = c.put_json(&format!("{}/connectors/s/config", c.url(3)), &updated).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    wait_for(DEADLINE, || async {
        let (_, s) = c.get(&format!("{}/connectors/s/status", c.url(1))).await.ok()?;
        (s["tasks"].as_array().map(Vec::len) == Some(1) && s["tasks"][0]["state"] == "RUNNING").then_some(())
    })
    .await?;
    let incarnations: Vec<String> = c
        .nodes
        .values()
        .map(|n| std::fs::read_to_string(n.data_dir.join("incarnation")).map(|s| s.trim().to_string()))
        .collect::<Result<_, _>>()?;
    assert!(incarnations.iter().all(|i| i.len() > 8), "{incarnations:?}");

    // Every output surface, from every node.
    let mut outputs: Vec<(String, String)> = Vec::new();
    for id in 1..=3 {
        let url = c.url(id);
        for path in [
            "/cluster/log?from=1&limit=10000",
            "/cluster/state",
            "/cluster",
            "/cluster/worker",
            "/connectors?expand=status",
            "/connectors/s/status",
        ] {
            outputs.push((format!("GET {path} on node {id}"), c.get(&format!("{url}{path}")).await?.1.to_string()));
        }
        outputs.push((format!("raftconnect log on node {id}"), cli(&["log", "--url", &url])?));
        outputs.push((format!("raftconnect log --json on node {id}"), cli(&["log", "--url", &url, "--json"])?));
        outputs.push((
            format!("raftconnect cluster status on node {id}"),
            cli(&["cluster", "status", "--url", &url, "--json"])?,
        ));
    }
    // The offline reader of a stopped node's data directory.
    c.node(3).stop();
    let dir = c.nodes[&3].data_dir.display().to_string();
    outputs.push(("raftconnect log --data-dir".into(), cli(&["log", "--data-dir", &dir])?));
    outputs.push(("raftconnect log --data-dir --json".into(), cli(&["log", "--data-dir", &dir, "--json"])?));
    outputs.push(("raftconnect log --data-dir --state".into(), cli(&["log", "--data-dir", &dir, "--state"])?));
    outputs.push((
        "node logs".into(),
        c.nodes.values().map(|n| std::fs::read_to_string(&n.log_path).unwrap_or_default()).collect(),
    ));

    let log_view = &outputs[0].1;
    assert!(log_view.contains("put_connector") && log_view.contains("[hidden]"), "{log_view}");
    for (surface, text) in &outputs {
        for secret in planted.iter().map(|s| s.to_string()).chain(incarnations.iter().cloned()) {
            assert!(!text.contains(&secret), "{surface} shows {secret}: {text}");
        }
    }
    Ok(())
}
