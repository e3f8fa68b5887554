//! Test harness: spawns real `raftconnect node` processes on free loopback ports, each with its
//! own data directory and log file, and waits on their state (never on a bare sleep).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_raftconnect");

/// A generous deadline for cluster-level state changes on a loaded 2-core CI machine.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A loopback port that was free a moment ago and that this test process has not handed out
/// before. (The probe listener is closed before the node binds the port, so the OS may return
/// the same port to the next probe; two nodes then race for it and one fails with "Address
/// already in use". Remembering every port given out rules that out within the process.)
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = l.local_addr().expect("local addr").port();
        if GIVEN.lock().unwrap_or_else(|p| p.into_inner()).insert(port) {
            return port;
        }
    }
}

pub struct NodeProc {
    pub id: u64,
    pub port: u16,
    pub data_dir: PathBuf,
    pub log_path: PathBuf,
    child: Option<Child>,
    /// The address it listens on (127.0.0.1 unless it runs in a network namespace).
    pub host: String,
    /// The network namespace it runs in (`ip netns exec`), if any.
    pub netns: Option<String>,
    /// `http`, or `https` for a node given a TLS certificate.
    pub scheme: &'static str,
}

impl NodeProc {
    pub fn new(id: u64, port: u16, data_dir: PathBuf, log_path: PathBuf) -> Self {
        Self { id, port, data_dir, log_path, child: None, host: "127.0.0.1".into(), netns: None, scheme: "http" }
    }

    /// Kafka Connect's `worker_id` of the node: its advertised `host:port`.
    pub fn worker_id(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Wait for the process to exit by itself; None if it is still running at the deadline.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            // Polling a child process for exit; the state waited on is its exit.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("{}://{}:{}", self.scheme, self.host, self.port)
    }

    /// Start (or restart) the node process with extra flags (`--bootstrap`, `--join URL`, …).
    pub fn spawn(&mut self, extra: &[String]) {
        assert!(self.child.is_none(), "node {} is already running", self.id);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log_path).expect("open log");
        let mut cmd = match &self.netns {
            // `ip netns exec` execs the binary: the child's pid is the node's.
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, BIN]);
                c
            }
            None => Command::new(BIN),
        };
        cmd.args(["node", "--id", &self.id.to_string()])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen", &self.worker_id()])
            .args(extra)
            .env("RUST_LOG", "info,openraft=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        self.child = Some(cmd.spawn().expect("spawn raftconnect node"));
    }

    /// SIGKILL: no goodbye, no flush.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match c.try_wait() {
                    Ok(Some(_)) => break,
                    _ if Instant::now() > deadline => {
                        let _ = c.kill();
                        let _ = c.wait();
                        break;
                    }
                    // Polling a child process for exit; the state waited on is its exit.
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(200)..].join("\n")
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `#[tokio::test]` of a scenario run on one cluster, the wrapper every cluster test shares:
/// builds the cluster with `$cluster` (an expression, e.g. `Cluster::new(&["--voters", "1"])` or
/// `Cluster::without_secret(&[])`), runs `$scenario(&mut cluster, $args…)` and, if it failed,
/// panics with its error and every node's log tail ([`Cluster::report`]). Attributes and doc
/// comments written before the name go on the test.
///
/// ```ignore
/// cluster_test!(
///     /// What the test shows.
///     test_name,
///     Cluster::new(&[]),
///     scenario_fn,
///     extra_argument
/// );
/// ```
macro_rules! cluster_test {
    ($(#[$attr:meta])* $name:ident, $cluster:expr, $scenario:path $(, $arg:expr)* $(,)?) => {
        $(#[$attr])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let mut c = $cluster;
            let res = $scenario(&mut c $(, $arg)*).await;
            c.report(res);
        }
    };
}
pub(crate) use cluster_test;

/// A set of node processes sharing one temporary directory.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub nodes: BTreeMap<u64, NodeProc>,
    pub http: reqwest::Client,
    /// Extra flags given to every node.
    pub flags: Vec<String>,
    /// The cluster secret file every node is given (made by `raftconnect secret generate`).
    pub secret: Option<PathBuf>,
}

impl Cluster {
    /// A cluster whose nodes authenticate their RPCs with a cluster secret, as a real one does.
    pub fn new(flags: &[&str]) -> Self {
        let mut c = Self::without_secret(flags);
        let path = c.dir.path().join("cluster.secret");
        cli(&["secret", "generate", "--out", path.to_str().expect("utf-8 path")]).expect("raftconnect secret generate");
        c.flags.extend(["--cluster-secret-file".to_string(), path.display().to_string()]);
        c.secret = Some(path);
        c
    }

    /// A loopback cluster without a cluster secret (RPC unauthenticated).
    pub fn without_secret(flags: &[&str]) -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            nodes: BTreeMap::new(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(15)).build().expect("http client"),
            flags: flags.iter().map(|s| s.to_string()).collect(),
            secret: None,
        }
    }

    pub fn add_node(&mut self, id: u64) -> &mut NodeProc {
        let data_dir = self.dir.path().join(format!("n{id}"));
        let log_path = self.dir.path().join(format!("n{id}.log"));
        self.nodes.insert(id, NodeProc::new(id, free_port(), data_dir, log_path));
        self.nodes.get_mut(&id).expect("just inserted")
    }

    pub fn node(&mut self, id: u64) -> &mut NodeProc {
        self.nodes.get_mut(&id).expect("no such node")
    }

    pub fn url(&self, id: u64) -> String {
        self.nodes[&id].url()
    }

    pub fn start(&mut self, id: u64, extra: &[String]) {
        let mut args = self.flags.clone();
        args.extend_from_slice(extra);
        self.node(id).spawn(&args);
    }

    /// Bootstrap node 1 and join nodes 2..=n through it; wait until all are members.
    pub async fn form(&mut self, n: u64) -> anyhow::Result<()> {
        self.form_with(n, |_| {}).await
    }

    /// [`Cluster::form`], with each node prepared (its host, its network namespace) before it
    /// starts.
    pub async fn form_with(&mut self, n: u64, prepare: impl Fn(&mut NodeProc)) -> anyhow::Result<()> {
        prepare(self.add_node(1));
        self.start(1, &["--bootstrap".into()]);
        let seed = self.url(1);
        for id in 2..=n {
            prepare(self.add_node(id));
            self.start(id, &["--join".into(), seed.clone()]);
        }
        let ids: Vec<u64> = (1..=n).collect();
        self.wait_members(1, &ids).await?;
        // Up to three nodes are all voters: wait until every log holds that final configuration
        // (not a joint one), so a test may kill any node right away. A single bootstrapped node
        // has nothing to settle (its membership is not a log entry).
        if (2..=3).contains(&n) {
            self.wait_voters(1, n as usize).await?;
        }
        Ok(())
    }

    pub async fn get(&self, url: &str) -> anyhow::Result<(u16, Value)> {
        let resp = self.http.get(url).send().await?;
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    pub async fn get_post(&self, url: &str) -> anyhow::Result<(u16, Value)> {
        let resp = self.http.post(url).send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    pub async fn post_raw(&self, url: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> anyhow::Result<(u16, String)> {
        let mut req = self.http.post(url).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await?;
        Ok((resp.status().as_u16(), resp.text().await.unwrap_or_default()))
    }

    /// Send a request with an optional JSON body; the reply keeps status, headers and raw text.
    pub async fn send(&self, method: reqwest::Method, url: &str, body: Option<&Value>) -> anyhow::Result<Reply> {
        let mut req = self.http.request(method.clone(), url);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.with_context(|| format!("{method} {url}"))?;
        Reply::read(resp).await
    }

    /// Send a raw body with `content-type: application/json`.
    pub async fn send_raw(&self, method: reqwest::Method, url: &str, body: &str) -> anyhow::Result<Reply> {
        let resp = self
            .http
            .request(method.clone(), url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        Reply::read(resp).await
    }

    pub async fn get_reply(&self, url: &str) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::GET, url, None).await
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::POST, url, Some(body)).await
    }

    /// POST without a body (restart endpoints).
    pub async fn post_empty(&self, url: &str) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::POST, url, None).await
    }

    pub async fn put_json(&self, url: &str, body: &Value) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::PUT, url, Some(body)).await
    }

    /// PUT without a body (pause, resume, stop, topics/reset).
    pub async fn put_empty(&self, url: &str) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::PUT, url, None).await
    }

    pub async fn patch_json(&self, url: &str, body: &Value) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::PATCH, url, Some(body)).await
    }

    pub async fn delete(&self, url: &str) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::DELETE, url, None).await
    }

    /// The current leader and the other members, as node `via` sees them.
    pub async fn roles(&self, via: u64) -> anyhow::Result<(u64, Vec<u64>)> {
        let s = self.status(via).await?;
        let leader = s["leader"].as_u64().ok_or_else(|| anyhow!("node {via} knows no leader: {s}"))?;
        let followers = s["members"]
            .as_array()
            .map(|m| m.iter().filter_map(|m| m["id"].as_u64()).filter(|id| *id != leader).collect())
            .unwrap_or_default();
        Ok((leader, followers))
    }

    pub async fn status(&self, id: u64) -> anyhow::Result<Value> {
        let (code, body) = self.get(&format!("{}/cluster", self.url(id))).await?;
        if code != 200 {
            bail!("GET /cluster on node {id}: HTTP {code}: {body}");
        }
        Ok(body)
    }

    /// Propose a command through node `via` (forwarded to the leader if needed).
    pub async fn command(&self, via: u64, cmd: Value) -> anyhow::Result<(u16, Value)> {
        let resp = self.http.post(format!("{}/cluster/commands", self.url(via))).json(&cmd).send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// Propose until it is accepted (200) or the deadline passes; returns the entry's index.
    pub async fn command_eventually(&self, via: u64, cmd: Value) -> anyhow::Result<u64> {
        let last = std::cell::RefCell::new(String::new());
        let last = &last;
        let cmd = &cmd;
        let res = wait_for(DEADLINE, || async move {
            match self.command(via, cmd.clone()).await {
                Ok((200, body)) => body["index"].as_u64(),
                Ok((code, body)) => {
                    *last.borrow_mut() = format!("HTTP {code}: {body}");
                    None
                }
                Err(e) => {
                    *last.borrow_mut() = e.to_string();
                    None
                }
            }
        })
        .await;
        res.with_context(|| format!("command through node {via} never accepted; last answer: {}", last.borrow()))
    }

    /// Wait until node `via` reports a leader and exactly `ids` as live members.
    pub async fn wait_members(&self, via: u64, ids: &[u64]) -> anyhow::Result<Value> {
        let last = std::cell::RefCell::new(Value::Null);
        let last = &last;
        let res = wait_for(DEADLINE, || async move {
            let s = self.status(via).await.ok()?;
            *last.borrow_mut() = s.clone();
            let members = s["members"].as_array()?;
            let mut found: Vec<u64> = members.iter().filter_map(|m| m["id"].as_u64()).collect();
            found.sort();
            let all_alive = members.iter().all(|m| m["alive"] == Value::Bool(true));
            (s["leader"].is_u64() && found == ids && all_alive).then_some(s)
        })
        .await;
        res.with_context(|| format!("members never became {ids:?}; last status from node {via}: {}", last.borrow()))
    }

    /// Wait until node `via` sees a leader and exactly `n` members, all alive voters, and every
    /// member's log ends with the same plain (non-joint) configuration of those `n` voters.
    ///
    /// `form` returns as soon as every node is a member, but the last promotion may still be
    /// in flight: a node may be a learner, or hold only the joint configuration
    /// `[[old], [old + new]]`. Killing the leader then can leave the survivors without a quorum
    /// for good (the old half `{1, x}` needs the dead leader), so a test that kills nodes right
    /// after forming must wait for this first.
    pub async fn wait_voters(&self, via: u64, n: usize) -> anyhow::Result<Value> {
        let last = std::cell::RefCell::new(String::new());
        let last = &last;
        let res = wait_for(DEADLINE, || async move {
            let s = self.status(via).await.ok()?;
            *last.borrow_mut() = format!("status from node {via}: {s}");
            let members = s["members"].as_array()?;
            let ok = s["leader"].is_u64()
                && members.len() == n
                && members.iter().all(|m| m["role"] == "voter" && m["alive"] == Value::Bool(true));
            if !ok {
                return None;
            }
            let mut ids: Vec<u64> = members.iter().filter_map(|m| m["id"].as_u64()).collect();
            ids.sort();
            for id in &ids {
                let log = self.log(*id).await.ok()?;
                let membership = log.iter().rev().find(|e| e["kind"] == "membership")?["membership"].clone();
                *last.borrow_mut() = format!("last membership in node {id}'s log: {membership}");
                if membership["voters"] != serde_json::json!([ids]) || membership["learners"] != serde_json::json!([]) {
                    return None;
                }
            }
            Some(s)
        })
        .await;
        res.with_context(|| format!("never {n} live voters in a settled configuration; last seen: {}", last.borrow()))
    }

    /// Wait until node `id` itself answers and knows a leader.
    pub async fn wait_up(&self, id: u64) -> anyhow::Result<()> {
        wait_for(DEADLINE, || async { self.status(id).await.ok()?["leader"].as_u64() })
            .await
            .with_context(|| format!("node {id} never came up with a known leader"))?;
        Ok(())
    }

    pub async fn leader(&self, via: u64) -> anyhow::Result<u64> {
        self.status(via).await?["leader"].as_u64().ok_or_else(|| anyhow!("node {via} knows no leader"))
    }

    /// The decoded log of node `id` over HTTP.
    pub async fn log(&self, id: u64) -> anyhow::Result<Vec<Value>> {
        let (code, body) = self.get(&format!("{}/cluster/log?from=1&limit=10000", self.url(id))).await?;
        if code != 200 {
            bail!("GET /cluster/log on node {id}: HTTP {code}: {body}");
        }
        Ok(body["entries"].as_array().cloned().unwrap_or_default())
    }

    /// Fail the test with the scenario's error and every node's log tail.
    pub fn report(&self, res: anyhow::Result<()>) {
        if let Err(e) = res {
            panic!("{e:#}\n{}", self.logs());
        }
    }

    pub fn logs(&self) -> String {
        self.nodes.values().map(|n| format!("--- node {} ---\n{}", n.id, n.log_tail())).collect::<Vec<_>>().join("\n")
    }
}

/// Log text without its ANSI colour codes (`ESC [ … m`), as a node's log file has them.
pub fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|d| *d == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// The commands of a decoded log entry: its command, or each write of a batch (the leader's
/// group commit puts users' connector writes that arrive together into one entry).
pub fn entry_commands(e: &Value) -> Vec<&Value> {
    match e["command"]["type"].as_str() {
        Some("batch") => e["command"]["commands"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
        Some(_) => vec![&e["command"]],
        None => Vec::new(),
    }
}

/// One HTTP answer: status, headers, raw body, and the body parsed as JSON (`Null` when it is
/// empty or not JSON; `text` tells those apart).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    async fn read(resp: reqwest::Response) -> anyhow::Result<Reply> {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply { status, headers, text, body })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Poll `f` every 50 ms until it yields Some, or fail after `timeout`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("condition not met within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// POST with a declared `Content-Length` of `declared` bytes but send only a few, over a raw
/// socket, and return the status code and the response body. Tests the server's body limit
/// without racing its early close against a client still writing megabytes.
pub async fn post_declared_length(
    url: &str,
    path: &str,
    declared: usize,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await?;
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {declared}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n0123456789");
    sock.write_all(req.as_bytes()).await?;
    // Read until the server closes the connection or the response is complete.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut chunk)).await??;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok());
            if len.map(|l| body.len() >= l).unwrap_or(false) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| anyhow!("no status line in {head:?}"))?;
    Ok((code, body.to_string()))
}

/// `POST /connectors` through node `via`, with `name` also set in the config; must answer 201.
pub async fn post_connector(c: &Cluster, via: u64, name: &str, config: Value) -> anyhow::Result<()> {
    let mut config = config;
    config["name"] = serde_json::json!(name);
    let body = serde_json::json!({ "name": name, "config": config });
    let r = c.post_json(&format!("{}/connectors", c.url(via)), &body).await?;
    anyhow::ensure!(r.status == 201, "create {name}: HTTP {} {}", r.status, r.text);
    Ok(())
}

/// The lines of a file (none while it does not exist).
pub fn file_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(String::from).collect()
}

/// Run the CLI and return its stdout (fails on a non-zero exit).
pub fn cli(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(BIN).args(args).output().context("run raftconnect CLI")?;
    if !out.status.success() {
        bail!("raftconnect {:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Parse `--json` output: one JSON object per line.
pub fn json_lines(text: &str) -> anyhow::Result<Vec<Value>> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| Ok(serde_json::from_str(l)?)).collect()
}

pub fn data_dir_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

impl NodeProc {
    /// The node process' pid, while it runs (for SIGSTOP/SIGCONT).
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// Send a signal to the node process (SIGSTOP, SIGCONT, …).
    pub fn signal(&self, sig: i32) {
        if let Some(pid) = self.pid() {
            unsafe {
                libc::kill(pid, sig);
            }
        }
    }
}

/// Helpers for checking what the connector runtime reports.
impl Cluster {
    /// Kafka Connect's `worker_id` of every node of the cluster: its advertised `host:port`.
    pub fn member_worker_ids(&self) -> Vec<String> {
        self.nodes.values().map(NodeProc::worker_id).collect()
    }

    /// GET `url` until `ok` holds for the reply (HTTP errors and refused connections count as
    /// not yet); on timeout the error names `what` and the last reply.
    pub async fn get_until(&self, url: &str, what: &str, ok: impl Fn(&Reply) -> bool) -> anyhow::Result<Reply> {
        let last = std::cell::RefCell::new(String::from("no answer"));
        let last = &last;
        let ok = &ok;
        let res = wait_for(DEADLINE, || async move {
            match self.get_reply(url).await {
                Ok(r) => {
                    *last.borrow_mut() = format!("HTTP {} {}", r.status, r.text);
                    ok(&r).then_some(r)
                }
                Err(e) => {
                    *last.borrow_mut() = format!("{e:#}");
                    None
                }
            }
        })
        .await;
        res.with_context(|| format!("{what}: never; last answer from GET {url}: {}", last.borrow()))
    }

    /// How often the workers of all nodes have started `unit` (`c` or `c-0`), from
    /// `GET /cluster/worker` (a unit moved between nodes counts on each).
    pub async fn unit_starts(&self, unit: &str) -> anyhow::Result<u64> {
        let mut total = 0;
        for id in self.nodes.keys() {
            let (code, body) = self.get(&format!("{}/cluster/worker", self.url(*id))).await?;
            if code != 200 {
                bail!("GET /cluster/worker on node {id}: HTTP {code}: {body}");
            }
            let units = body["units"].as_array().cloned().unwrap_or_default();
            total += units.iter().filter(|u| u["unit"] == unit).filter_map(|u| u["starts"].as_u64()).sum::<u64>();
        }
        Ok(total)
    }

    /// Whether the worker on the node whose `worker_id` is `worker_id` runs `unit` right now.
    pub async fn runs_unit(&self, worker_id: &str, unit: &str) -> anyhow::Result<bool> {
        let id = self
            .nodes
            .values()
            .find(|n| n.worker_id() == worker_id)
            .map(|n| n.id)
            .ok_or_else(|| anyhow!("no node has the worker_id {worker_id}"))?;
        let (code, body) = self.get(&format!("{}/cluster/worker", self.url(id))).await?;
        if code != 200 {
            bail!("GET /cluster/worker on node {id}: HTTP {code}: {body}");
        }
        Ok(body["units"]
            .as_array()
            .map(|us| us.iter().any(|u| u["unit"] == unit && u["running"] == true))
            .unwrap_or(false))
    }
}
