//! Kafka over TLS and SASL_SSL, end to end against the real broker: nisshi given `--cert` and
//! `--key` accepts TLS only (and with `--authentication`, SCRAM users only); the nodes' worker
//! `--config` carries Kafka Connect's security keys, and records move FileStreamSource → Kafka
//! → FileStreamSink. The certificates are made here with the `openssl` CLI: a CA and a server
//! certificate for 127.0.0.1/localhost signed by it (plus a client PKCS12 key store, which the
//! broker does not ask for but librdkafka must load).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{json, Value};

use crate::broker::Broker;
use crate::harness::*;

const STRING: &str = "org.apache.kafka.connect.storage.StringConverter";
const STORE_PASSWORD: &str = "store-pw-7f3a";
const SCRAM_PASSWORD: &str = "scram-pw-91c2";

struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_p12: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl").current_dir(dir).args(args).output().context("run openssl")?;
    if !out.status.success() {
        bail!("openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// A CA, a server certificate for IP:127.0.0.1 and DNS:localhost signed by it, and a client
/// certificate in a PKCS12 key store.
fn make_pki(dir: &Path) -> Result<Pki> {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=raftconnect test CA"]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(dir, &ca)?;
    for (name, cn, san) in [("server", "localhost", true), ("client", "raftconnect-client", false)] {
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        let mut req = vec!["req"];
        req.extend(ec);
        let subj = format!("/CN={cn}");
        req.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        if san {
            req.extend(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]);
        }
        openssl(dir, &req)?;
        openssl(
            dir,
            &["x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", &pem]
                .into_iter()
                .chain(["-days", "2", "-copy_extensions", "copy"])
                .collect::<Vec<_>>(),
        )?;
    }
    let pass = format!("pass:{STORE_PASSWORD}");
    openssl(
        dir,
        &["pkcs12", "-export", "-in", "client.pem", "-inkey", "client.key", "-out", "client.p12", "-passout", &pass],
    )?;
    Ok(Pki {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_p12: dir.join("client.p12"),
    })
}

fn tls_args(pki: &Pki) -> Vec<String> {
    vec!["--cert".into(), pki.server_cert.display().to_string(), "--key".into(), pki.server_key.display().to_string()]
}

/// The test's own client: librdkafka's names, TLS to the broker (plus `extra`).
fn client(broker: &Broker, pki: &Pki, extra: &[(&str, &str)]) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", broker.bootstrap())
        .set("security.protocol", "ssl")
        .set("ssl.ca.location", pki.ca.display().to_string());
    for (k, v) in extra {
        c.set(*k, *v);
    }
    c
}

async fn create_topic(cfg: &ClientConfig, name: &str, partitions: i32) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = cfg.create()?;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(20)));
    let res = admin.create_topics(&[NewTopic::new(name, partitions, TopicReplication::Fixed(1))], &opts).await?;
    for r in res {
        r.map_err(|(t, e)| anyhow::anyhow!("create topic {t}: {e}"))?;
    }
    Ok(())
}

/// Records in `topic` (all `partitions`), read from the beginning until `expected` were seen.
fn count_records(cfg: &ClientConfig, topic: &str, partitions: i32, expected: usize) -> Result<usize> {
    let c: BaseConsumer =
        cfg.clone().set("group.id", "raftconnect-test-reader").set("enable.auto.commit", "false").create()?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    c.assign(&tpl)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    while n < expected {
        ensure!(Instant::now() < deadline, "read {n} of {expected} records of {topic} before the deadline");
        if let Some(m) = c.poll(Duration::from_millis(100)) {
            m?;
            n += 1;
        }
    }
    Ok(n)
}

/// A one-node cluster whose worker config is `props` (after `bootstrap.servers`).
async fn cluster(broker: &Broker, props: &str) -> Result<Cluster> {
    let mut c = Cluster::new(&[]);
    let cfg = c.dir.path().join("worker.properties");
    std::fs::write(&cfg, format!("bootstrap.servers={}\n{props}", broker.bootstrap()))?;
    c.flags.extend(["--config".to_string(), cfg.display().to_string()]);
    c.form(1).await?;
    Ok(c)
}

/// FileStreamSource → `topic` → FileStreamSink with `n` lines; returns when the sink's file
/// has them all (checked to be the input's lines, each once).
async fn pipeline(c: &Cluster, topic: &str, n: usize) -> Result<()> {
    let input = c.dir.path().join(format!("{topic}.in"));
    let output = c.dir.path().join(format!("{topic}.out"));
    let text: String = (0..n).map(|i| format!("{topic}-{i:05}\n")).collect();
    std::fs::write(&input, &text)?;
    post_connector(
        c,
        1,
        "src",
        json!({ "connector.class": "FileStreamSource", "file": input, "topic": topic, "value.converter": STRING }),
    )
    .await?;
    post_connector(
        c,
        1,
        "sink",
        json!({ "connector.class": "FileStreamSink", "file": output, "topics": topic, "value.converter": STRING }),
    )
    .await?;
    let got = wait_for(Duration::from_secs(60), || {
        let output = output.clone();
        async move {
            let l = file_lines(&output);
            (l.len() >= n).then_some(l)
        }
    })
    .await
    .with_context(|| format!("{} has {} of {n} lines", output.display(), file_lines(&output).len()))?;
    let mut sorted = got.clone();
    sorted.sort();
    let expected: Vec<String> = text.lines().map(String::from).collect();
    ensure!(sorted == expected, "the sink's {} lines are not the input's {n}", got.len());
    Ok(())
}

fn node_log(c: &Cluster) -> String {
    without_colours(&std::fs::read_to_string(&c.nodes[&1].log_path).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_flow_over_tls_with_kafka_connects_ssl_keys() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = make_pki(dir.path()).expect("certificates");
    let broker = Broker::start_with(dir.path(), None, &tls_args(&pki)).expect("broker");
    let props = format!(
        "security.protocol=SSL\nssl.truststore.location={}\nssl.truststore.type=PEM\n\
         ssl.endpoint.identification.algorithm=https\nssl.enabled.protocols=TLSv1.2,TLSv1.3\n\
         ssl.keystore.type=PKCS12\nssl.keystore.location={}\nssl.keystore.password={STORE_PASSWORD}\n\
         ssl.key.password={STORE_PASSWORD}\n",
        pki.ca.display(),
        pki.client_p12.display()
    );
    let c = cluster(&broker, &props).await.expect("cluster");
    let res = async {
        let tls = client(&broker, &pki, &[]);
        create_topic(&tls, "tls-lines", 2).await?;
        pipeline(&c, "tls-lines", 2000).await?;
        ensure!(count_records(&tls, "tls-lines", 2, 2000)? == 2000);
        // The metadata client (the Kafka cluster id of `GET /`) speaks TLS too.
        c.get_until(&format!("{}/", c.url(1)), "GET / with the broker's kafka_cluster_id", |r| {
            r.body["kafka_cluster_id"].as_str().is_some_and(|id| !id.is_empty())
        })
        .await?;
        ensure!(!node_log(&c).contains(STORE_PASSWORD), "the key store password is in the node's log");
        Ok(())
    }
    .await;
    c.report(res);
    note_duration("TLS pipeline", started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_security_keys_reports_the_tls_only_broker_and_moves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = make_pki(dir.path()).expect("certificates");
    let broker = Broker::start_with(dir.path(), None, &tls_args(&pki)).expect("broker");
    let c = cluster(&broker, "").await.expect("cluster");
    let res = async {
        let tls = client(&broker, &pki, &[]);
        create_topic(&tls, "plain-lines", 1).await?;
        let input = c.dir.path().join("in.txt");
        std::fs::write(&input, "a\nb\nc\n")?;
        post_connector(
            &c,
            1,
            "src",
            json!({ "connector.class": "FileStreamSource", "file": input, "topic": "plain-lines" }),
        )
        .await?;
        // The TLS listener closes the connection on librdkafka's plaintext ApiVersion request;
        // the node logs it for the task's producer.
        wait_for(Duration::from_secs(30), || async {
            node_log(&c)
                .lines()
                .any(|l| l.contains("connector-producer-src-0") && l.contains("in state APIVERSION_QUERY"))
                .then_some(())
        })
        .await
        .context("the node never logged the source task's producer cut off at ApiVersion")?;
        let (low, high) = {
            let consumer: BaseConsumer = tls.clone().set("group.id", "raftconnect-test-reader").create()?;
            consumer.fetch_watermarks("plain-lines", 0, Duration::from_secs(10))?
        };
        ensure!(high - low == 0, "{} records reached the topic without TLS", high - low);
        let r = c.get_reply(&format!("{}/", c.url(1))).await?;
        ensure!(r.body.get("kafka_cluster_id").is_none_or(Value::is_null), "GET / names a Kafka cluster: {}", r.text);
        Ok(())
    }
    .await;
    c.report(res);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_flow_over_sasl_ssl_with_a_scram_jaas_config() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = make_pki(dir.path()).expect("certificates");
    // nisshi keeps SCRAM users in its storage (sqlite: not memory) and makes them over its
    // plaintext listener: make the user and the topic first, then restart with TLS and
    // authentication on the same storage and port. (nisshi reads `sqlite:///x` as the path `x`
    // relative to its working directory: an absolute path takes four slashes.)
    let storage = vec!["--storage-engine".to_string(), format!("sqlite:///{}", dir.path().join("nisshi.db").display())];
    let mut plain = Broker::start_with(dir.path(), None, &storage).expect("broker");
    let url = format!("tcp://127.0.0.1:{}", plain.port);
    plain
        .cli(&["user", "create", "--broker", &url, "--mechanism", "scram256", "alice", SCRAM_PASSWORD])
        .expect("nisshi user create");
    plain.create_topic("sasl-lines", 2).expect("topic");
    plain.stop();
    let port = plain.port;
    drop(plain);
    let mut args = storage.clone();
    args.push("--authentication".into());
    args.extend(tls_args(&pki));
    let broker = Broker::start_with(dir.path(), Some(port), &args).expect("broker with TLS and SASL");
    let props = format!(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"{SCRAM_PASSWORD}\";\n\
         ssl.truststore.location={}\nssl.truststore.type=PEM\n",
        pki.ca.display()
    );
    let c = cluster(&broker, &props).await.expect("cluster");
    let res = async {
        pipeline(&c, "sasl-lines", 1000).await?;
        let sasl = client(
            &broker,
            &pki,
            &[
                ("security.protocol", "sasl_ssl"),
                ("sasl.mechanism", "SCRAM-SHA-256"),
                ("sasl.username", "alice"),
                ("sasl.password", SCRAM_PASSWORD),
            ],
        );
        ensure!(count_records(&sasl, "sasl-lines", 2, 1000)? == 1000);
        // The broker does require the SASL login: TLS alone gets no metadata.
        let anonymous: BaseConsumer = client(&broker, &pki, &[("group.id", "raftconnect-test-reader")]).create()?;
        ensure!(
            anonymous.fetch_metadata(Some("sasl-lines"), Duration::from_secs(2)).is_err(),
            "a client without SASL credentials read metadata"
        );
        ensure!(!node_log(&c).contains(SCRAM_PASSWORD), "the SASL password is in the node's log");
        Ok(())
    }
    .await;
    c.report(res);
    note_duration("SASL_SSL pipeline", started);
}

/// How long a scenario took, on the test's output (shown with `--nocapture`).
fn note_duration(what: &str, started: Instant) {
    eprintln!("{what}: {:.1} s", started.elapsed().as_secs_f64());
}
