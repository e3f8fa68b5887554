//! The `raftconnect` binary: run a node, or talk to one (cluster status, log inspection).

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use raftconnect::control::planner::PlanSettings;
use raftconnect::logging::LogControl;
use raftconnect::node::server::{self, NodeOptions, RuntimeSettings};
use raftconnect::worker::{RestartPolicy, WorkerSettings};
use raftconnect_raft::RaftSettings;

#[derive(Parser)]
#[command(name = "raftconnect", version, about = "Kafka Connect's distributed mode on an embedded Raft cluster")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    client: cli::ClientOptions,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node: a Raft member, a REST server and a worker.
    Node(NodeArgs),
    /// Inspect or change the cluster's membership.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Show the replicated log, decoded, from a running node or a stopped node's data directory.
    Log(cli::LogArgs),
    /// Manage connectors through the Kafka Connect REST API.
    Connector(cli::ConnectorArgs),
    /// Make cluster secrets and REST password hashes.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
}

#[derive(Subcommand)]
enum SecretCommand {
    /// Write a new random cluster secret (256 bits, hex) to a file readable by its owner only.
    Generate {
        /// The file to write; refused if it exists.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print an argon2id hash of a REST password read from stdin, for --rest-users-file.
    HashPassword,
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Leader, term, indexes and members (role, liveness).
    Status {
        #[arg(long, default_value = cli::DEFAULT_URL)]
        url: String,
        /// Print the JSON of GET /cluster.
        #[arg(long)]
        json: bool,
    },
    /// Remove a member (a voter is replaced by a live learner, if any).
    Remove {
        id: u64,
        #[arg(long, default_value = cli::DEFAULT_URL)]
        url: String,
    },
}

#[derive(Args)]
struct NodeArgs {
    /// Node id: a positive integer, stable for the life of the data directory.
    #[arg(long)]
    id: u64,
    /// Where the node keeps its Raft log, state and identity.
    #[arg(long)]
    data_dir: PathBuf,
    /// Address to listen on for REST and node-to-node RPC.
    #[arg(long, default_value = "127.0.0.1:8083")]
    listen: String,
    /// URL other nodes and clients use to reach this node (default: http://<listen address>).
    #[arg(long)]
    advertise: Option<String>,
    /// Form a new cluster with this node as its first voter.
    #[arg(long, conflicts_with = "join")]
    bootstrap: bool,
    /// Join the cluster that the node at this URL belongs to.
    #[arg(long)]
    join: Option<String>,
    /// Number of voters (3 or 5); further nodes are learners.
    #[arg(long, default_value_t = 3, value_parser = parse_voters)]
    voters: usize,
    /// Raft heartbeat interval, also openraft 0.9's AppendEntries timeout.
    #[arg(long, default_value_t = 100)]
    heartbeat_ms: u64,
    /// Lower bound of the randomized election timeout.
    #[arg(long, default_value_t = 300)]
    election_timeout_min_ms: u64,
    /// Upper bound of the randomized election timeout.
    #[arg(long, default_value_t = 500)]
    election_timeout_max_ms: u64,
    /// A member not heard from by the leader for this long is reported not alive.
    #[arg(long, default_value_t = 1000)]
    liveness_timeout_ms: u64,
    /// Build a snapshot after this many entries since the last one.
    #[arg(long, default_value_t = 5000)]
    snapshot_every: u64,
    /// Entries kept in the log behind a snapshot.
    #[arg(long, default_value_t = 1000)]
    log_keep: u64,
    /// How long an unreachable node keeps its connectors and tasks before they move
    /// (Kafka Connect's scheduled.rebalance.max.delay.ms, 300 000 there).
    #[arg(long, alias = "scheduled-rebalance-max-delay-ms", default_value_t = 850)]
    rebalance_grace_ms: u64,
    /// A node that has not heard from a leader (or, during an election, from a candidate)
    /// for this long stops all its work. Must exceed the election timeout's upper bound.
    #[arg(long, default_value_t = 650)]
    lease_ms: u64,
    /// How long a connector or task gets to stop before it is abandoned.
    #[arg(long, default_value_t = 150)]
    task_stop_timeout_ms: u64,
    /// First delay before restarting a failed connector or task (doubles each time).
    #[arg(long, default_value_t = 1000)]
    restart_backoff_ms: u64,
    /// Longest delay between automatic restarts.
    #[arg(long, default_value_t = 60_000)]
    restart_backoff_max_ms: u64,
    /// Do not restart failed connectors and tasks automatically (Kafka Connect's behaviour).
    #[arg(long)]
    no_auto_restart: bool,
    /// How long a connector's start or task-config generation may take before it fails.
    #[arg(long, default_value_t = 10_000)]
    plugin_call_timeout_ms: u64,
    /// Worker properties file with Kafka Connect's key names (bootstrap.servers,
    /// offset.flush.interval.ms, key.converter, producer.*, consumer.*, …).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The Kafka broker(s), HOST:PORT[,HOST:PORT…]; overrides bootstrap.servers of --config.
    #[arg(long)]
    kafka: Option<String>,
    /// The shared cluster secret that authenticates every node-to-node request (worker
    /// property cluster.secret.file). Make one with `raftconnect secret generate --out FILE`.
    #[arg(long)]
    cluster_secret_file: Option<PathBuf>,
    /// Allow a non-loopback listen address without a cluster secret.
    #[arg(long)]
    insecure: bool,
    /// Serve REST and RPC over HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// PEM CA certificate(s) that peers' certificates are verified against.
    #[arg(long)]
    tls_ca: Option<PathBuf>,
    /// REST users, in the format of Kafka Connect's Basic-auth extension (a properties file,
    /// `user: password`; worker property rest.users.file). Every listed user may do everything,
    /// unless --rest-roles-file makes them viewers. Values starting `$argon2` are hashes
    /// (`raftconnect secret hash-password`).
    #[arg(long)]
    rest_users_file: Option<PathBuf>,
    /// REST roles: a properties file `user=admin|viewer` (worker property rest.roles.file);
    /// viewers may only read, unlisted users are admins. Needs --rest-users-file.
    #[arg(long)]
    rest_roles_file: Option<PathBuf>,
    /// Most connections the listener holds at once; further ones are closed on accept.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
}

impl NodeArgs {
    fn into_options(self, logs: Arc<LogControl>) -> anyhow::Result<NodeOptions> {
        let mut props = match &self.config {
            Some(path) => raftconnect::config::parse_properties(
                &std::fs::read_to_string(path).with_context(|| format!("cannot read --config {}", path.display()))?,
            ),
            None => Default::default(),
        };
        if let Some(k) = &self.kafka {
            props.insert("bootstrap.servers".into(), k.clone());
        }
        // A flag wins over its worker property.
        let secret_file = self
            .cluster_secret_file
            .clone()
            .or_else(|| props.get("cluster.secret.file").map(|v| PathBuf::from(v.trim())));
        let secret = match &secret_file {
            Some(path) => Some(Arc::new(raftconnect_raft::auth::ClusterSecret::load(path)?)),
            None => None,
        };
        let ca_pem = match &self.tls_ca {
            Some(path) => Some(Arc::new(raftconnect::node::serve::ca_bundle(path)?)),
            None => None,
        };
        let users_file =
            self.rest_users_file.clone().or_else(|| props.get("rest.users.file").map(|v| PathBuf::from(v.trim())));
        let roles_file =
            self.rest_roles_file.clone().or_else(|| props.get("rest.roles.file").map(|v| PathBuf::from(v.trim())));
        let rest_auth = match (&users_file, &roles_file) {
            (Some(users), roles) => Some(Arc::new(raftconnect::rest::auth::RestAuth::load(users, roles.as_deref())?)),
            (None, Some(_)) => {
                anyhow::bail!("--rest-roles-file (rest.roles.file) needs --rest-users-file (rest.users.file)")
            }
            (None, None) => None,
        };
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(server::ServerTls(raftconnect::node::serve::server_tls(cert, key)?)),
            _ => None,
        };
        let worker_config = raftconnect::config::WorkerConfig::from_props(&props)?;
        let settings = RaftSettings {
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            election_timeout_min: Duration::from_millis(self.election_timeout_min_ms),
            election_timeout_max: Duration::from_millis(self.election_timeout_max_ms),
            voters: self.voters,
            liveness_timeout: Duration::from_millis(self.liveness_timeout_ms),
            snapshot_logs_since_last: self.snapshot_every,
            max_in_snapshot_log_to_keep: self.log_keep,
            security: raftconnect_raft::auth::RpcSecurity { secret, ca_pem },
            ..RaftSettings::default()
        };
        let runtime = RuntimeSettings {
            plan: PlanSettings {
                grace: Duration::from_millis(self.rebalance_grace_ms),
                reachable: Duration::from_millis(self.heartbeat_ms * 3),
            },
            worker: WorkerSettings {
                lease: Duration::from_millis(self.lease_ms),
                stop_timeout: Duration::from_millis(self.task_stop_timeout_ms),
                call_timeout: Duration::from_millis(self.plugin_call_timeout_ms),
                check_interval: Duration::from_millis(200),
                restart: RestartPolicy {
                    enabled: !self.no_auto_restart,
                    initial: Duration::from_millis(self.restart_backoff_ms),
                    max: Duration::from_millis(self.restart_backoff_max_ms),
                },
            },
        };
        Ok(NodeOptions {
            id: self.id,
            data_dir: self.data_dir,
            listen: self.listen,
            advertise: self.advertise,
            bootstrap: self.bootstrap,
            join: self.join,
            settings,
            logs,
            runtime,
            worker_config,
            tls,
            insecure: self.insecure,
            rest_auth,
            serve_limits: raftconnect::node::serve::ServeLimits {
                max_connections: self.max_connections.max(16),
                ..Default::default()
            },
        })
    }
}

/// `raftconnect secret generate`: 32 random bytes from the OS, hex, in a new 0600 file.
fn generate_secret(out: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| anyhow::anyhow!("cannot read random bytes: {e}"))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(format!("{hex}\n").as_bytes())?;
    eprintln!(
        "Wrote a new cluster secret to {}. Give every node --cluster-secret-file {}.",
        out.display(),
        out.display()
    );
    Ok(())
}

fn parse_voters(s: &str) -> Result<usize, String> {
    match s {
        "1" | "3" | "5" => Ok(s.parse().unwrap_or(3)),
        _ => Err("the number of voters must be 1, 3 or 5".into()),
    }
}

/// Log to stderr through a filter that `/admin/loggers` can change at run time.
fn init_tracing() -> Arc<LogControl> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(LogControl::initial_directives("INFO")));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
    Arc::new(LogControl::new("INFO", move |directives| {
        let filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
        handle.reload(filter).map_err(|e| e.to_string())
    }))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Node(_)) {
        // A client printing into a closed pipe (`raftconnect log | head`) should end quietly,
        // as other command-line tools do, instead of panicking in println!.
        // SAFETY: restoring the default disposition of one signal before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<()> = runtime.block_on(async move {
        if !matches!(cli.command, Command::Node(_)) {
            cli::init_client(cli.client.clone())?;
        }
        match cli.command {
            Command::Node(args) => {
                let logs = init_tracing();
                server::run(args.into_options(logs)?).await?;
                Ok(())
            }
            Command::Cluster { command: ClusterCommand::Status { url, json } } => cli::cluster_status(&url, json).await,
            Command::Cluster { command: ClusterCommand::Remove { id, url } } => cli::cluster_remove(&url, id).await,
            Command::Log(args) => cli::log(args).await,
            Command::Connector(args) => cli::connector(args).await,
            Command::Secret { command: SecretCommand::Generate { out } } => generate_secret(&out),
            Command::Secret { command: SecretCommand::HashPassword } => {
                let mut password = String::new();
                std::io::stdin().read_line(&mut password).context("cannot read the password from stdin")?;
                let password = password.trim_end_matches(['\n', '\r']);
                anyhow::ensure!(!password.is_empty(), "no password on stdin");
                println!("{}", raftconnect::rest::auth::hash_password(password)?);
                Ok(())
            }
        }
    });
    // A plugin call stuck on the blocking pool must not keep the process alive: the node has
    // already stopped (within its stop timeout) when we get here.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
