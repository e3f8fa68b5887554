//! Node-to-node RPC, client side: one pooled HTTP client for all peers, bincode bodies, and a
//! record of each peer's last successful and failed RPC (the leader's liveness judgement).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::error::{
    Fatal, InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError,
    Unreachable,
};
use openraft::network::{Backoff, RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, SnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, Snapshot, SnapshotMeta, Vote};
use raftconnect_storage::codec;
use raftconnect_storage::NodeId;
use serde::{de::DeserializeOwned, Serialize};

use crate::TypeConfig;

/// Header naming the node an RPC is meant for; the server refuses RPCs meant for another id.
pub const TARGET_HEADER: &str = "x-raftconnect-target";

/// Largest RPC response the client decodes.
pub const MAX_RPC_RESPONSE: u64 = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The peer could not be connected to: nothing was sent.
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The peer's port refused the connection: nothing was sent, and no process listens there.
    #[error("connection refused by {url}: {reason}")]
    Refused { url: String, reason: String },
    /// The request may have been delivered; its answer did not come back.
    #[error("request to {url} failed: {reason}")]
    Failed { url: String, reason: String },
    #[error("{url} answered HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("undecodable answer from {url}: {reason}")]
    Decode { url: String, reason: String },
}

impl TransportError {
    /// True when the request certainly did not reach the peer's handler.
    pub fn not_sent(&self) -> bool {
        matches!(self, TransportError::Connect { .. } | TransportError::Refused { .. })
    }

    /// True when the peer's port actively refused the connection (nothing listens there).
    pub fn refused(&self) -> bool {
        matches!(self, TransportError::Refused { .. })
    }
}

/// Did connecting fail because the peer refused the connection (ECONNREFUSED)?
fn is_refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        source = err.source();
    }
    false
}

/// Per-peer record of RPC outcomes, written by the network layer, read for liveness.
#[derive(Clone, Default)]
pub struct PeerHealth {
    inner: Arc<Mutex<HashMap<NodeId, PeerRecord>>>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PeerRecord {
    pub last_ok: Option<Instant>,
    pub last_err: Option<Instant>,
    /// When the peer last granted this node its vote.
    pub vote_granted: Option<Instant>,
    /// Since when every RPC to the peer found its port closed (connection refused): no process
    /// is listening there. Cleared by the next successful RPC.
    pub refused_since: Option<Instant>,
}

impl PeerRecord {
    /// The peer's port refuses connections and nothing succeeded since: its process is gone.
    /// (A silent peer — partitioned, frozen, or dropping packets — is not refused.)
    pub fn refused(&self) -> bool {
        match (self.refused_since, self.last_ok) {
            (Some(r), Some(ok)) => r > ok,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

impl PeerHealth {
    fn record<T>(&self, target: NodeId, res: &Result<T, TransportError>) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let r = map.entry(target).or_default();
        let now = Instant::now();
        match res {
            Ok(_) => {
                r.last_ok = Some(now);
                r.refused_since = None;
            }
            Err(e) => {
                r.last_err = Some(now);
                if e.refused() {
                    r.refused_since.get_or_insert(now);
                } else {
                    r.refused_since = None;
                }
            }
        }
    }

    fn record_vote_granted(&self, target: NodeId) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(target).or_default().vote_granted = Some(Instant::now());
    }

    pub fn get(&self, target: NodeId) -> PeerRecord {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).get(&target).copied().unwrap_or_default()
    }
}

/// The pooled HTTP client every RPC goes through. It signs every request with the cluster
/// secret (if any) and trusts the cluster's CA for `https://` peers.
#[derive(Clone)]
pub struct RpcClient {
    http: reqwest::Client,
    secret: Option<Arc<crate::auth::ClusterSecret>>,
}

impl RpcClient {
    pub fn new(security: &crate::auth::RpcSecurity) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(500))
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true);
        if let Some(pem) = &security.ca_pem {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("invalid CA certificates: {e}"))?;
            if certs.is_empty() {
                return Err("the CA file holds no PEM certificate".into());
            }
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| format!("cannot build the RPC client: {e}"))?;
        Ok(Self { http, secret: security.secret.clone() })
    }

    /// POST a bincode body to `{base}{path}` and decode a bincode answer.
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        target: Option<NodeId>,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp, TransportError> {
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        let body = codec::encode(req);
        let mut builder =
            self.http.post(&url).timeout(timeout).header(reqwest::header::CONTENT_TYPE, "application/octet-stream");
        if let Some(secret) = &self.secret {
            builder = builder.header(crate::auth::AUTH_HEADER, secret.sign("POST", path, target, &body));
        }
        if let Some(t) = target {
            builder = builder.header(TARGET_HEADER, t.to_string());
        }
        let builder = builder.body(body);
        let resp = builder.send().await.map_err(|e| {
            if e.is_connect() && is_refused(&e) {
                TransportError::Refused { url: url.clone(), reason: e.to_string() }
            } else if e.is_connect() {
                TransportError::Connect { url: url.clone(), reason: e.to_string() }
            } else {
                TransportError::Failed { url: url.clone(), reason: e.to_string() }
            }
        })?;
        let status = resp.status();
        let body =
            resp.bytes().await.map_err(|e| TransportError::Failed { url: url.clone(), reason: e.to_string() })?;
        if !status.is_success() {
            return Err(TransportError::Status {
                url,
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).chars().take(500).collect(),
            });
        }
        codec::decode_limited(&body, MAX_RPC_RESPONSE)
            .map_err(|e| TransportError::Decode { url, reason: e.to_string() })
    }
}

/// openraft's network factory: hands out lazy per-target connections.
#[derive(Clone)]
pub struct Network {
    pub client: RpcClient,
    pub health: PeerHealth,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Conn;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Conn {
        Conn { target, base: node.addr.clone(), client: self.client.clone(), health: self.health.clone() }
    }
}

/// One peer. Connecting is lazy: every RPC uses the shared pool.
pub struct Conn {
    target: NodeId,
    base: String,
    client: RpcClient,
    health: PeerHealth,
}

/// The body of a whole-snapshot RPC.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct SnapshotRpc {
    pub vote: Vote<NodeId>,
    pub meta: SnapshotMeta<NodeId, BasicNode>,
    pub data: Vec<u8>,
}

impl Conn {
    async fn rpc<Req, Resp, E>(
        &self,
        path: &str,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let res: Result<Result<Resp, RaftError<NodeId, E>>, TransportError> =
            self.client.call(&self.base, path, Some(self.target), req, timeout).await;
        self.health.record(self.target, &res);
        match res {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(remote)) => Err(RPCError::RemoteError(RemoteError::new(self.target, remote))),
            // Known down: openraft backs off instead of retrying hot.
            Err(e @ (TransportError::Connect { .. } | TransportError::Refused { .. })) => {
                Err(RPCError::Unreachable(Unreachable::new(&e)))
            }
            Err(e) => Err(RPCError::Network(NetworkError::new(&e))),
        }
    }
}

impl RaftNetwork<TypeConfig> for Conn {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.rpc("/raft/append", &rpc, option.hard_ttl()).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        let res: Result<VoteResponse<NodeId>, _> = self.rpc("/raft/vote", &rpc, option.hard_ttl()).await;
        if matches!(&res, Ok(r) if r.vote_granted) {
            self.health.record_vote_granted(self.target);
        }
        res
    }

    /// Snapshots go whole through `full_snapshot`; the chunked path is never used.
    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>>
    {
        let e = std::io::Error::other("chunked snapshots are not used; see full_snapshot");
        Err(RPCError::Network(NetworkError::new(&e)))
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote<NodeId>,
        snapshot: Snapshot<TypeConfig>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<NodeId>, StreamingError<TypeConfig, Fatal<NodeId>>> {
        let req = SnapshotRpc { vote, meta: snapshot.meta, data: snapshot.snapshot.into_inner() };
        // openraft does not time this out for us: bound it by its hard TTL and the cancel signal.
        let call = self.client.call::<_, Result<SnapshotResponse<NodeId>, Fatal<NodeId>>>(
            &self.base,
            "/raft/snapshot",
            Some(self.target),
            &req,
            option.hard_ttl(),
        );
        let res = tokio::select! {
            res = call => res,
            closed = cancel => return Err(StreamingError::Closed(closed)),
        };
        self.health.record(self.target, &res);
        match res {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(fatal)) => Err(StreamingError::RemoteError(RemoteError::new(self.target, fatal))),
            Err(e @ (TransportError::Connect { .. } | TransportError::Refused { .. })) => {
                Err(StreamingError::Unreachable(Unreachable::new(&e)))
            }
            Err(e) => Err(StreamingError::Network(NetworkError::new(&e))),
        }
    }

    fn backoff(&self) -> Backoff {
        // Shorter than openraft's 500 ms default so a restarted peer is caught up quickly.
        Backoff::new(std::iter::repeat(Duration::from_millis(200)))
    }
}
