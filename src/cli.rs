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

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_default()
}

/// Turn a non-2xx answer into an error carrying Kafka Connect's `message`.
async fn check(resp: reqwest::Response) -> anyhow::Result<reqwest::Response> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let message = body.get("message").and_then(Value::as_str).unwrap_or("(no message)");
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
