//! Running a node: identity, Raft, the HTTP server (REST + RPC on one port), bootstrap or join,
//! registration, and a clean shutdown on SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use raftconnect_raft::{RaftNode, RaftNodeError, RaftSettings};
use raftconnect_storage::NodeId;

use crate::logging::LogControl;
use crate::node::identity::{self, IdentityError};
use crate::worker::Worker;

/// How a node starts.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub id: NodeId,
    pub data_dir: PathBuf,
    pub listen: String,
    pub advertise: Option<String>,
    pub bootstrap: bool,
    pub join: Option<String>,
    pub settings: RaftSettings,
    /// Run-time log levels; `LogControl::detached()` when the process' logging is not ours.
    pub logs: Arc<LogControl>,
    pub runtime: RuntimeSettings,
    /// The data plane's worker config (broker, offset flushing, converters, client defaults).
    pub worker_config: crate::config::WorkerConfig,
    /// Serve REST and RPC over HTTPS with this certificate.
    pub tls: Option<ServerTls>,
    /// Allow a non-loopback listen address without a cluster secret.
    pub insecure: bool,
    pub serve_limits: crate::node::serve::ServeLimits,
    /// REST users and roles (`--rest-users-file`, `--rest-roles-file`); `None`: the REST API is open.
    pub rest_auth: Option<Arc<crate::rest::auth::RestAuth>>,
}

/// The server side of TLS (`--tls-cert`, `--tls-key`).
#[derive(Clone)]
pub struct ServerTls(pub tokio_rustls::TlsAcceptor);

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls")
    }
}

/// Planner and worker settings.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    pub plan: crate::control::planner::PlanSettings,
    pub worker: crate::worker::WorkerSettings,
}

impl RuntimeSettings {
    /// A partitioned node must have stopped before its work runs elsewhere.
    pub fn validate(&self, raft: &RaftSettings) -> Result<(), NodeError> {
        if self.worker.lease <= raft.election_timeout_max {
            return Err(NodeError::Settings(format!(
                "the lease ({} ms) must be longer than the election timeout's upper bound ({} ms), \
                 or an ordinary election would stop every node's work",
                self.worker.lease.as_millis(),
                raft.election_timeout_max.as_millis()
            )));
        }
        let needed = self.worker.lease + self.worker.stop_timeout;
        if self.plan.grace <= needed {
            return Err(NodeError::Settings(format!(
                "the rebalance grace ({} ms) must be longer than the lease plus the task stop timeout ({} ms)",
                self.plan.grace.as_millis(),
                needed.as_millis()
            )));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("--bootstrap and --join are exclusive")]
    BootstrapAndJoin,
    #[error("a new node needs --bootstrap (first node) or --join URL (any member)")]
    NoClusterGiven,
    #[error("invalid --advertise URL '{0}': expected http://HOST:PORT")]
    Advertise(String),
    #[error("cannot join the cluster: {0}")]
    Join(RaftNodeError),
    #[error(transparent)]
    Raft(#[from] RaftNodeError),
    #[error("invalid settings: {0}")]
    Settings(String),
    #[error(
        "refusing to listen on {addr} without a cluster secret: anyone who can reach this port could \
         join, remove members or write to the log. Make a secret with `raftconnect secret generate --out FILE`, \
         give every node --cluster-secret-file FILE (worker property cluster.secret.file), or pass --insecure \
         to run unauthenticated on a trusted network"
    )]
    Insecure { addr: SocketAddr },
}

/// A running node: its Raft handle, its address, and the server task.
pub struct RunningNode {
    pub node: Arc<RaftNode>,
    pub addr: SocketAddr,
    pub url: String,
    pub worker: Arc<Worker>,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    worker_task: tokio::task::JoinHandle<()>,
    stop_timeout: Duration,
}

impl RunningNode {
    /// Leave gracefully: say so in the log, stop and release every unit (the planner moves
    /// them at once), then stop serving and shut Raft down. Bounded, even with no leader (Kafka
    /// Connect's `task.shutdown.graceful.timeout.ms`): what cannot be handed over in time moves
    /// after the grace instead.
    pub async fn stop(self) {
        let deadline = tokio::time::Instant::now() + self.stop_timeout + Duration::from_secs(1);
        let leaving = self.node.write(raftconnect_storage::Command::MarkNodeLeaving { id: self.node.id });
        if let Err(e) = tokio::time::timeout(Duration::from_secs(2), leaving)
            .await
            .unwrap_or(Err(raftconnect_raft::RaftNodeError::Timeout("marking the node as leaving".into())))
        {
            tracing::warn!(error = %e, "Could not announce the graceful leave; work moves after the grace.");
        }
        self.worker.begin_shutdown();
        let worker_deadline = deadline.checked_sub(Duration::from_millis(500)).unwrap_or(deadline);
        if tokio::time::timeout_at(worker_deadline, self.worker_task).await.is_err() {
            tracing::warn!("The worker did not finish releasing its units in time.");
        }
        let _ = self.shutdown.send(true);
        let rest = deadline.max(tokio::time::Instant::now() + Duration::from_millis(200));
        if tokio::time::timeout_at(rest, self.server).await.is_err() {
            tracing::warn!("Open connections did not close in time.");
        }
        if tokio::time::timeout_at(rest, self.node.shutdown()).await.is_err() {
            tracing::warn!("Raft did not shut down in time.");
        }
    }
}

fn advertise_url(opts: &NodeOptions, addr: SocketAddr) -> Result<String, NodeError> {
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    match &opts.advertise {
        Some(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(NodeError::Advertise(url.clone()));
            }
            Ok(url.trim_end_matches('/').to_string())
        }
        None if addr.ip().is_unspecified() => Ok(format!("{scheme}://127.0.0.1:{}", addr.port())),
        None => Ok(format!("{scheme}://{addr}")),
    }
}

/// Start a node and bring it into its cluster. Returns once the node serves requests and is a
/// member (bootstrapped, joined, or restarted from its data directory).
pub async fn start(opts: NodeOptions) -> Result<RunningNode, NodeError> {
    if opts.bootstrap && opts.join.is_some() {
        return Err(NodeError::BootstrapAndJoin);
    }
    opts.runtime.validate(&opts.settings)?;
    let ident = identity::load_or_create(&opts.data_dir, opts.id)?;
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(|source| NodeError::Bind { addr: opts.listen.clone(), source })?;
    let addr = listener.local_addr().map_err(|source| NodeError::Bind { addr: opts.listen.clone(), source })?;
    // Safe by default: only a loopback node may run without the cluster secret unasked.
    if !addr.ip().is_loopback() && opts.settings.security.secret.is_none() && !opts.insecure {
        return Err(NodeError::Insecure { addr });
    }
    if opts.settings.security.secret.is_none() {
        tracing::warn!(%addr, "No cluster secret: node-to-node RPC is not authenticated.");
    }
    let url = advertise_url(&opts, addr)?;
    let node = RaftNode::start(
        ident.id,
        &opts.data_dir.join("raft"),
        url.clone(),
        ident.incarnation.clone(),
        opts.settings.clone(),
    )
    .await?;
    // Tools and tests read the advertised URL from here when the port was chosen by the OS.
    let _ = std::fs::write(opts.data_dir.join("advertised-url"), &url);

    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    // The leader validates connector commands before proposing them.
    node.set_proposal_check(Arc::new(crate::control::proposal_check::check_proposal));
    tokio::spawn(watch_cluster_loggers(node.clone(), opts.logs.clone()));
    let committer = crate::dataplane::offsets::OffsetCommitter::new(
        node.clone(),
        opts.worker_config.offset_flush_interval,
        opts.worker_config.offset_flush_timeout,
    );
    let producers = crate::dataplane::kafka::ProducerPool::new(opts.worker_config.clone());
    producers.refill();
    let plane = Arc::new(crate::dataplane::DataPlane::new(opts.worker_config.clone(), committer.clone(), producers));
    let worker = Worker::new(node.clone(), opts.runtime.worker.clone(), plane);
    let kafka_cluster_id = Arc::new(std::sync::OnceLock::new());
    tokio::spawn(read_kafka_cluster_id(opts.worker_config.clone(), kafka_cluster_id.clone()));
    let app = crate::rest::router(
        node.clone(),
        opts.logs.clone(),
        worker.stats.clone(),
        kafka_cluster_id,
        opts.rest_auth.clone(),
    );
    // Served from the Raft runtime (REST handlers hop back to this one, see `rest::router`).
    let listener = listener.into_std().map_err(|source| NodeError::Bind { addr: opts.listen.clone(), source })?;
    let tls = opts.tls.clone().map(|t| t.0);
    let limits = opts.serve_limits.clone();
    let server = node.raft_runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        crate::node::serve::serve(listener, app, tls, limits, shutdown_rx).await
    });
    tracing::info!(id = ident.id, %url, data_dir = %opts.data_dir.display(), "Node serving.");

    if let Err(e) = join_cluster(&node, &opts).await {
        let _ = shutdown.send(true);
        let _ = server.await;
        node.shutdown().await;
        return Err(e);
    }
    // The planner acts only while this node leads; the worker runs what is assigned here.
    tokio::spawn(crate::control::planner::run(
        node.clone(),
        crate::control::planner::CoordinatorSettings {
            plan: opts.runtime.plan.clone(),
            tick: Duration::from_millis(100),
            min_gap: Duration::from_millis(20),
        },
    ));
    // Offsets of every task here go to Raft in one entry per interval; the leader spreads
    // sink partitions over tasks.
    tokio::spawn(committer.run());
    tokio::spawn(crate::control::sink_partitions::run(node.clone(), opts.worker_config.clone()));
    let worker_task = tokio::spawn(worker.clone().run());
    Ok(RunningNode {
        node,
        addr,
        url,
        worker,
        shutdown,
        server,
        worker_task,
        // Kafka Connect's task.shutdown.graceful.timeout.ms: the units' stop, then their final
        // flush; what is not handed over by then moves after the grace.
        stop_timeout: opts.runtime.worker.stop_timeout + opts.worker_config.offset_flush_timeout,
    })
}

/// Read the broker's cluster id for `GET /` (Kafka Connect shows it there); retried every
/// 30 s with a fresh client until the broker answers.
async fn read_kafka_cluster_id(worker: crate::config::WorkerConfig, out: Arc<std::sync::OnceLock<String>>) {
    loop {
        let w = worker.clone();
        let id = tokio::task::spawn_blocking(move || {
            let client = crate::dataplane::kafka::metadata_client(&w).ok()?;
            rdkafka::consumer::Consumer::client(&client).fetch_cluster_id(Duration::from_secs(5))
        })
        .await;
        if let Ok(Some(id)) = id {
            tracing::info!(kafka_cluster_id = %id, bootstrap = %worker.bootstrap_servers, "Connected to the Kafka cluster.");
            let _ = out.set(id);
            return;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
}

async fn join_cluster(node: &Arc<RaftNode>, opts: &NodeOptions) -> Result<(), NodeError> {
    let initialized = node.is_initialized().await;
    if initialized {
        tracing::info!(id = node.id, "Restarted from the data directory; rejoining as a member.");
    } else if opts.bootstrap {
        node.bootstrap().await?;
    } else if let Some(seed) = &opts.join {
        // The leader registers the node as part of the join.
        let resp = node.join_via(seed, Duration::from_secs(60)).await.map_err(NodeError::Join)?;
        tracing::info!(leader = resp.leader, voter = resp.voter, "Joined the cluster.");
        return Ok(());
    } else {
        return Err(NodeError::NoClusterGiven);
    }
    // Record (or refresh) this node's URL in the replicated registry.
    let node = node.clone();
    let registration = async move {
        loop {
            match node.register_self().await {
                Ok(()) => return Ok(()),
                Err(e @ RaftNodeError::DuplicateId { .. }) => return Err(e),
                Err(e) => {
                    tracing::info!(error = %e, "Registration not accepted yet; retrying.");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    };
    if initialized {
        // A restarted node must not wait for a quorum to serve: register in the background.
        tokio::spawn(async move {
            if let Err(e) = registration.await {
                tracing::error!(error = %e, "Registration refused.");
            }
        });
        Ok(())
    } else {
        registration.await.map_err(NodeError::Join)
    }
}

/// Apply cluster-scoped log levels (`PUT /admin/loggers/{l}?scope=cluster`) as their entries
/// are applied, on every node.
async fn watch_cluster_loggers(node: Arc<RaftNode>, logs: Arc<LogControl>) {
    let mut applied = node.state().applied_watch();
    let mut seen = 0u64;
    loop {
        let changes: Vec<(String, String, u64)> = node.state().read(|a| {
            a.state
                .loggers
                .iter()
                .filter(|(_, l)| l.index > seen)
                .map(|(name, l)| (name.clone(), l.level.clone(), l.index))
                .collect()
        });
        for (name, level, index) in changes {
            seen = seen.max(index);
            if let Err(e) = logs.set(&name, &level) {
                tracing::warn!(logger = %name, %level, error = %e, "Cannot apply a cluster log level.");
            }
        }
        if applied.changed().await.is_err() {
            return;
        }
    }
}

/// Run a node until SIGTERM or SIGINT.
pub async fn run(opts: NodeOptions) -> Result<(), NodeError> {
    let running = start(opts).await?;
    wait_for_signal().await;
    tracing::info!("Shutting down.");
    running.stop().await;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
