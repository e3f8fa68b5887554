//! The command-line client: talks to a node's REST API, or reads a stopped node's data
//! directory offline. Output is a table, or JSON with `--json` (one object per line for logs).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use raftconnect_storage::view;
use serde_json::Value;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8083";

#[derive(Args)]
pub struct LogArgs {
    /// Node to read from.
    #[arg(long, default_value = DEFAULT_URL, conflicts_with = "data_dir")]
    url: String,
    /// Read a stopped node's data directory instead of asking a running node.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// First index to show.
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Most entries to show (per poll with --follow).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// Keep polling for new entries.
    #[arg(long, conflicts_with = "data_dir")]
    follow: bool,
    /// One JSON object per entry per line, as in GET /cluster/log.
    #[arg(long)]
    json: bool,
    /// With --data-dir: print the decoded state instead of the log.
    #[arg(long, requires = "data_dir")]
    state: bool,
}

/// How the client reaches nodes: REST credentials (Kafka Connect's Basic auth) and the CA of
/// https:// URLs. Global options of every client command.
#[derive(clap::Args, Clone, Default)]
pub struct ClientOptions {
    /// REST user (Basic auth), for nodes started with --rest-users-file.
    #[arg(long, global = true, env = "RAFTCONNECT_USER")]
    pub user: Option<String>,
    /// The REST user's password.
    #[arg(long, global = true, env = "RAFTCONNECT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// PEM CA certificate(s) to trust for https:// node URLs (besides the built-in roots).
    #[arg(long, global = true, env = "RAFTCONNECT_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
}

/// The HTTP client of every request the CLI makes, with the credentials applied to each.
struct Http {
    client: reqwest::Client,
    credentials: Option<(String, Option<String>)>,
}

impl Http {
    fn new(opts: ClientOptions) -> anyhow::Result<Http> {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(path) = &opts.ca_cert {
            let pem = std::fs::read(path).with_context(|| format!("cannot read --ca-cert {}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("--ca-cert {} is not a PEM certificate file", path.display()))?;
            if certs.is_empty() {
                bail!("--ca-cert {} holds no PEM certificate", path.display());
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let credentials = match (opts.user, opts.password) {
            (Some(user), password) => Some((user, password)),
            (None, Some(_)) => bail!("--password (RAFTCONNECT_PASSWORD) needs --user (RAFTCONNECT_USER)"),
            (None, None) => None,
        };
        Ok(Http { client: builder.build().context("cannot build the HTTP client")?, credentials })
    }

    fn request(&self, method: reqwest::Method, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        let req = self.client.request(method, url);
        match &self.credentials {
            Some((user, password)) => req.basic_auth(user, password.as_ref()),
            None => req,
        }
    }

    fn get(&self, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, url)
    }

    fn delete(&self, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::DELETE, url)
    }
}

static HTTP: std::sync::OnceLock<Http> = std::sync::OnceLock::new();

/// Set up the HTTP client of the client commands (before the first request; later calls keep
/// the first client).
pub fn init_client(opts: ClientOptions) -> anyhow::Result<()> {
    let http = Http::new(opts)?;
    let _ = HTTP.set(http);
    Ok(())
}

fn http() -> &'static Http {
    HTTP.get_or_init(|| {
        Http::new(ClientOptions::default())
            .unwrap_or_else(|_| Http { client: reqwest::Client::new(), credentials: None })
    })
}

/// Turn a non-2xx answer into an error carrying Kafka Connect's `message` (a JSON error body),
/// or the body's text when it is not JSON (the 401 of REST authentication is plain text).
async fn check(resp: reqwest::Response) -> anyhow::Result<reqwest::Response> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let message = match serde_json::from_str::<Value>(&text) {
        Ok(body) => body.get("message").and_then(Value::as_str).map(str::to_string),
        Err(_) => Some(text.trim().to_string()).filter(|t| !t.is_empty()),
    };
    let message = message.unwrap_or_else(|| "(no message)".to_string());
    if status == reqwest::StatusCode::UNAUTHORIZED {
        bail!("HTTP {}: {message} (give --user/--password or RAFTCONNECT_USER/RAFTCONNECT_PASSWORD)", status.as_u16())
    }
    bail!("HTTP {status}: {message}")
}

pub async fn cluster_status(url: &str, json: bool) -> anyhow::Result<()> {
    let resp = http().get(format!("{url}/cluster")).send().await.with_context(|| format!("cannot reach {url}"))?;
    let status: Value = check(resp).await?.json().await?;
    if json {
        println!("{status}");
        return Ok(());
    }
    let leader = status["leader"].as_u64();
    println!(
        "node {}  leader {}  term {}  last_log_index {}  applied_index {}",
        status["id"],
        leader.map(|l| l.to_string()).unwrap_or_else(|| "none".into()),
        status["term"],
        status["last_log_index"],
        status["applied_index"]
    );
    println!("{:<6} {:<30} {:<8} {:<7} {:<7}", "ID", "URL", "ROLE", "ALIVE", "LEADER");
    for m in status["members"].as_array().into_iter().flatten() {
        let id = m["id"].as_u64().unwrap_or(0);
        let alive = match m["alive"].as_bool() {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        println!(
            "{:<6} {:<30} {:<8} {:<7} {:<7}",
            id,
            m["url"].as_str().unwrap_or(""),
            m["role"].as_str().unwrap_or(""),
            alive,
            if Some(id) == leader { "*" } else { "" }
        );
    }
    Ok(())
}

pub async fn cluster_remove(url: &str, id: u64) -> anyhow::Result<()> {
    let resp = http()
        .delete(format!("{url}/cluster/members/{id}"))
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    check(resp).await?;
    println!("Removed node {id}.");
    Ok(())
}

fn print_entry(entry: &Value, json: bool) {
    if json {
        println!("{entry}");
        return;
    }
    let detail = match entry["kind"].as_str() {
        Some("command") => entry["command"].to_string(),
        Some("membership") => entry["membership"].to_string(),
        _ => String::new(),
    };
    println!(
        "{:<8} {:<6} {:<11} {}",
        entry["index"].to_string(),
        entry["term"].to_string(),
        entry["kind"].as_str().unwrap_or(""),
        detail
    );
}

fn print_header(json: bool) {
    if !json {
        println!("{:<8} {:<6} {:<11} DETAIL", "INDEX", "TERM", "KIND");
    }
}

pub async fn log(args: LogArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.data_dir {
        return offline_log(dir, &args);
    }
    let client = http();
    let mut from = args.from;
    print_header(args.json);
    loop {
        let resp = client
            .get(format!("{}/cluster/log", args.url))
            .query(&[("from", from.to_string()), ("limit", args.limit.to_string())])
            .send()
            .await
            .with_context(|| format!("cannot reach {}", args.url))?;
        let body: Value = check(resp).await?.json().await?;
        for entry in body["entries"].as_array().into_iter().flatten() {
            print_entry(entry, args.json);
            from = entry["index"].as_u64().unwrap_or(from) + 1;
        }
        if !args.follow {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Decode a stopped node's log (and, with --state, its state) straight from its data directory.
fn offline_log(dir: &std::path::Path, args: &LogArgs) -> anyhow::Result<()> {
    let raft_dir = dir.join("raft");
    if !raft_dir.exists() {
        bail!("{} holds no raftconnect data (no raft/ directory)", dir.display());
    }
    let (log, sm) = raftconnect_storage::open::<raftconnect_raft::TypeConfig>(&raft_dir)
        .with_context(|| format!("cannot open {}", raft_dir.display()))?;
    if args.state {
        let state = sm.handle().read(|a| {
            serde_json::json!({
                "applied_index": a.last_applied.map(|l| l.index).unwrap_or(0),
                "membership": view::membership_json(a.membership.membership()),
                "state": view::state_json(&a.state),
            })
        });
        println!("{}", if args.json { state.to_string() } else { serde_json::to_string_pretty(&state)? });
        return Ok(());
    }
    print_header(args.json);
    for entry in log.read_entries(args.from, args.limit)? {
        print_entry(&view::entry_json(&entry), args.json);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// raftconnect connector …
// ---------------------------------------------------------------------------------------------

#[derive(clap::Subcommand)]
pub enum ConnectorCommand {
    /// Connectors with their state and task count.
    List,
    /// Create a connector from a file: Kafka Connect's `{"name","config"}` JSON, a flat JSON
    /// config with `name`, or a `.properties` file.
    Create {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// A connector's info (config, tasks, type).
    Get {
        name: String,
    },
    /// A connector's config.
    Config {
        name: String,
    },
    /// A connector's and its tasks' states.
    Status {
        name: String,
    },
    Pause {
        name: String,
    },
    Resume {
        name: String,
    },
    /// Stop the connector: zero tasks, offsets can then be changed.
    Stop {
        name: String,
    },
    /// Restart the connector (and with --include-tasks its tasks), or one task with --task.
    Restart {
        name: String,
        #[arg(long)]
        include_tasks: bool,
        #[arg(long)]
        only_failed: bool,
        #[arg(long, conflicts_with_all = ["include_tasks", "only_failed"])]
        task: Option<u32>,
    },
    Delete {
        name: String,
    },
    /// A connector's committed offsets; --reset deletes them (connector must be STOPPED).
    Offsets {
        name: String,
        #[arg(long)]
        reset: bool,
    },
}

#[derive(Args)]
pub struct ConnectorArgs {
    #[command(subcommand)]
    pub command: ConnectorCommand,
    /// Node to talk to (any member; writes are forwarded to the leader).
    #[arg(long, global = true, default_value = DEFAULT_URL)]
    pub url: String,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Send a request; a non-2xx answer becomes an error with Kafka Connect's message.
async fn send(method: reqwest::Method, url: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let mut req = http().request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| format!("cannot reach {url}"))?;
    let resp = check(resp).await?;
    let text = resp.text().await?;
    Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// Read a connector definition: `{"name","config"}`, a flat config with `name`, or properties.
fn read_connector_file(path: &std::path::Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let v: Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
        if v.get("config").is_some() {
            return Ok(v);
        }
        let name = v.get("name").and_then(Value::as_str).context("the config has no \"name\"")?.to_string();
        return Ok(serde_json::json!({ "name": name, "config": v }));
    }
    // Java properties: key=value or key: value, # and ! comments.
    let mut config = serde_json::Map::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!')) {
        let (k, v) =
            line.split_once('=').or_else(|| line.split_once(':')).with_context(|| format!("bad line: {line}"))?;
        config.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
    }
    let name = config.get("name").and_then(Value::as_str).context("the properties have no name=")?.to_string();
    Ok(serde_json::json!({ "name": name, "config": config }))
}

fn print_status(status: &Value) {
    println!(
        "{}  {}  {}  {}",
        status["name"].as_str().unwrap_or(""),
        status["type"].as_str().unwrap_or(""),
        status["connector"]["state"].as_str().unwrap_or(""),
        status["connector"]["worker_id"].as_str().unwrap_or("")
    );
    println!("{:<6} {:<12} {:<24} TRACE", "TASK", "STATE", "WORKER");
    for t in status["tasks"].as_array().into_iter().flatten() {
        let trace = t["trace"].as_str().unwrap_or("").lines().next().unwrap_or("");
        println!(
            "{:<6} {:<12} {:<24} {}",
            t["id"].to_string(),
            t["state"].as_str().unwrap_or(""),
            t["worker_id"].as_str().unwrap_or(""),
            trace
        );
    }
}

pub async fn connector(args: ConnectorArgs) -> anyhow::Result<()> {
    use reqwest::Method;
    let base = args.url.trim_end_matches('/');
    let c = |name: &str, rest: &str| format!("{base}/connectors/{}{rest}", raftconnect::rest::encode_path(name));
    let out = match &args.command {
        ConnectorCommand::List => {
            let v = send(Method::GET, &format!("{base}/connectors?expand=status&expand=info"), None).await?;
            if !args.json {
                println!("{:<32} {:<8} {:<12} TASKS", "NAME", "TYPE", "STATE");
                for (name, e) in v.as_object().into_iter().flatten() {
                    println!(
                        "{:<32} {:<8} {:<12} {}",
                        name,
                        e["info"]["type"].as_str().unwrap_or(""),
                        e["status"]["connector"]["state"].as_str().unwrap_or(""),
                        e["info"]["tasks"].as_array().map(Vec::len).unwrap_or(0)
                    );
                }
                return Ok(());
            }
            v
        }
        ConnectorCommand::Create { file } => {
            let body = read_connector_file(file)?;
            let v = send(Method::POST, &format!("{base}/connectors"), Some(body)).await?;
            if !args.json {
                println!("Created connector {}.", v["name"].as_str().unwrap_or(""));
                return Ok(());
            }
            v
        }
        ConnectorCommand::Get { name } => send(Method::GET, &c(name, ""), None).await?,
        ConnectorCommand::Config { name } => {
            let v = send(Method::GET, &c(name, "/config"), None).await?;
            if !args.json {
                for (k, val) in v.as_object().into_iter().flatten() {
                    println!("{k}={}", val.as_str().unwrap_or(""));
                }
                return Ok(());
            }
            v
        }
        ConnectorCommand::Status { name } => {
            let v = send(Method::GET, &c(name, "/status"), None).await?;
            if !args.json {
                print_status(&v);
                return Ok(());
            }
            v
        }
        ConnectorCommand::Pause { name } => {
            action(send(Method::PUT, &c(name, "/pause"), None).await?, "Paused", name, args.json)
        }
        ConnectorCommand::Resume { name } => {
            action(send(Method::PUT, &c(name, "/resume"), None).await?, "Resumed", name, args.json)
        }
        ConnectorCommand::Stop { name } => {
            action(send(Method::PUT, &c(name, "/stop"), None).await?, "Stopped", name, args.json)
        }
        ConnectorCommand::Delete { name } => {
            action(send(Method::DELETE, &c(name, ""), None).await?, "Deleted", name, args.json)
        }
        ConnectorCommand::Restart { name, include_tasks, only_failed, task } => {
            let url = match task {
                Some(t) => c(name, &format!("/tasks/{t}/restart")),
                None => c(name, &format!("/restart?includeTasks={include_tasks}&onlyFailed={only_failed}")),
            };
            let v = send(Method::POST, &url, None).await?;
            if !args.json && v.is_object() {
                print_status(&v);
                return Ok(());
            }
            action(v, "Restart requested for", name, args.json)
        }
        ConnectorCommand::Offsets { name, reset } => {
            if *reset {
                send(Method::DELETE, &c(name, "/offsets"), None).await?
            } else {
                let v = send(Method::GET, &c(name, "/offsets"), None).await?;
                if !args.json {
                    println!("{:<48} OFFSET", "PARTITION");
                    for o in v["offsets"].as_array().into_iter().flatten() {
                        println!("{:<48} {}", o["partition"].to_string(), o["offset"]);
                    }
                    return Ok(());
                }
                v
            }
        }
    };
    match out {
        Value::Null => {}
        Value::Object(ref m) if !args.json && m.len() == 1 && m.contains_key("message") => {
            println!("{}", m["message"].as_str().unwrap_or(""));
        }
        other => println!("{}", if args.json { other.to_string() } else { serde_json::to_string_pretty(&other)? }),
    }
    Ok(())
}

fn action(v: Value, verb: &str, name: &str, json: bool) -> Value {
    if json || !v.is_null() {
        return v;
    }
    println!("{verb} connector {name}.");
    Value::Null
}
