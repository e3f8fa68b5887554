//! [`RaftNode`]: the Raft handle of one raftconnect node.
//!
//! Any member accepts any request. Leader-only work (writes, read indexes, joins, removals,
//! liveness) runs locally on the leader; elsewhere it is forwarded to the leader over the RPC
//! client, following leader changes until `request_timeout`. A forwarded write is retried only
//! when it certainly did not reach a leader; if its answer is lost the caller gets
//! [`RaftNodeError::OutcomeUnknown`], never a silent duplicate.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::error::RaftError;
use openraft::{BasicNode, ChangeMembers, ServerState};
use raftconnect_storage::model::Rejection;
use raftconnect_storage::{Command, NodeId, Response, StateHandle};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::RaftNodeError;
use crate::network::{Network, PeerHealth, RpcClient};
use crate::settings::RaftSettings;
use crate::{Entry, LogStore, Raft};

/// A check the leader runs on every command right before proposing it, against its current
/// state: how the layers above keep invalid commands out of the log (e.g. connector configs are
/// validated on the leader). `Err((status, message))` refuses the command.
pub type ProposalCheck = Arc<dyn Fn(&Command, &raftconnect_storage::State) -> Result<(), (u16, String)> + Send + Sync>;

/// Largest command accepted into the log; defined by the storage crate, which splits the
/// cluster's own commands to fit it.
pub use raftconnect_storage::model::MAX_COMMAND_BYTES;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Log index of the entry; also the epoch of any assignment it made.
    pub index: u64,
    pub response: Response,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRequest {
    pub id: NodeId,
    pub url: String,
    pub incarnation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinResponse {
    pub leader: NodeId,
    pub voter: bool,
}

/// One member's liveness as judged by the leader.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Liveness {
    pub id: NodeId,
    pub alive: bool,
    /// The member's port refuses connections: no process is left to run its work.
    pub refused: bool,
    pub last_contact_ms: Option<u64>,
    pub matched_index: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberStatus {
    pub id: NodeId,
    pub url: String,
    /// `voter` or `learner`.
    pub role: String,
    /// As judged by the leader; null when no leader could be asked.
    pub alive: Option<bool>,
    pub last_contact_ms: Option<u64>,
    pub matched_index: Option<u64>,
    pub leaving: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterStatus {
    pub id: NodeId,
    pub leader: Option<NodeId>,
    pub term: u64,
    pub state: String,
    pub last_log_index: u64,
    pub applied_index: u64,
    pub snapshot_index: Option<u64>,
    pub purged_index: Option<u64>,
    pub members: Vec<MemberStatus>,
}

pub struct RaftNode {
    pub id: NodeId,
    pub url: String,
    pub incarnation: String,
    pub raft: Raft,
    pub settings: RaftSettings,
    state: StateHandle,
    pub(crate) log: LogStore,
    /// For forwarding, joins and pre-votes. Raft's own RPCs use a client of their own, whose
    /// connections live on the Raft runtime.
    pub(crate) client: RpcClient,
    health: PeerHealth,
    /// Membership changes must not run concurrently (openraft FAQ).
    membership_lock: Mutex<()>,
    check: std::sync::RwLock<Option<ProposalCheck>>,
    /// When a leader last reached this node with an AppendEntries it accepted.
    pub(crate) leader_contact: std::sync::Mutex<Option<Instant>>,
    pub(crate) started_at: Instant,
    /// The runtime Raft runs on (RaftCore, replication, storage, elections, the RPC server):
    /// its own threads and blocking pool, so connectors, the planner and REST cannot delay a
    /// heartbeat, a vote or an fsync.
    runtime: std::sync::Mutex<Option<tokio::runtime::Runtime>>,
    runtime_handle: tokio::runtime::Handle,
    /// Group commit of every writer's writes (see `batch.rs`).
    batcher: Arc<crate::batch::Batcher>,
    /// Read-index rounds of `linearizable_barrier`: one at a time, and the last one's start
    /// and outcome.
    barrier_round: Mutex<()>,
    last_barrier: std::sync::Mutex<Option<(Instant, Result<u64, RaftNodeError>)>>,
}

impl Drop for RaftNode {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.lock().unwrap_or_else(|p| p.into_inner()).take() {
            rt.shutdown_background();
        }
    }
}

impl RaftNode {
    /// Open the store under `dir` and start Raft. The node is not part of a cluster until
    /// [`RaftNode::bootstrap`] or a join through an existing member.
    pub async fn start(
        id: NodeId,
        dir: &Path,
        url: String,
        incarnation: String,
        settings: RaftSettings,
    ) -> Result<Arc<Self>, RaftNodeError> {
        let (log, sm) = raftconnect_storage::open(dir).map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        let state = sm.handle();
        let config = settings.openraft_config().map_err(|e| RaftNodeError::Invalid(e.to_string()))?;
        let client = RpcClient::new(&settings.security).map_err(RaftNodeError::Invalid)?;
        let health = PeerHealth::default();
        let network = Network {
            client: RpcClient::new(&settings.security).map_err(RaftNodeError::Invalid)?,
            health: health.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(format!("raft-{id}"))
            .enable_all()
            .build()
            .map_err(|e| RaftNodeError::Raft(format!("cannot start the Raft runtime: {e}")))?;
        let runtime_handle = runtime.handle().clone();
        // openraft spawns RaftCore, replication and the state machine worker on the runtime
        // it is created on.
        let log_for_raft = log.clone();
        let raft = runtime
            .spawn(async move { Raft::new(id, Arc::new(config), network, log_for_raft, sm).await })
            .await
            .map_err(|e| RaftNodeError::Raft(e.to_string()))?
            .map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        let node = Arc::new(Self {
            id,
            url,
            incarnation,
            raft,
            settings,
            state,
            log,
            client,
            health,
            membership_lock: Mutex::new(()),
            check: std::sync::RwLock::new(None),
            leader_contact: std::sync::Mutex::new(None),
            started_at: Instant::now(),
            runtime: std::sync::Mutex::new(Some(runtime)),
            runtime_handle,
            batcher: Arc::default(),
            barrier_round: Mutex::new(()),
            last_barrier: std::sync::Mutex::new(None),
        });
        node.runtime_handle.spawn(node.clone().drive_elections());
        node.runtime_handle.spawn(node.batcher.clone().run(node.raft.clone()));
        Ok(node)
    }

    /// The runtime Raft runs on; the node's RPC server belongs there too.
    pub fn raft_runtime(&self) -> tokio::runtime::Handle {
        self.runtime_handle.clone()
    }

    pub fn state(&self) -> &StateHandle {
        &self.state
    }

    pub async fn is_initialized(&self) -> bool {
        self.raft.is_initialized().await.unwrap_or(false)
    }

    /// Form a new one-node cluster with this node as its only voter. A no-op on a node that
    /// already belongs to a cluster (restart with the same data directory).
    pub async fn bootstrap(&self) -> Result<(), RaftNodeError> {
        if self.is_initialized().await {
            tracing::info!(id = self.id, "Already initialized; not bootstrapping again.");
            return Ok(());
        }
        let members = BTreeMap::from([(self.id, BasicNode::new(&self.url))]);
        match self.raft.initialize(members).await {
            Ok(()) => Ok(()),
            Err(RaftError::APIError(e)) => {
                tracing::info!(error = %e, "Initialize not allowed; the node is already initialized.");
                Ok(())
            }
            Err(e) => Err(RaftNodeError::Raft(e.to_string())),
        }
    }

    /// Record this node (URL, incarnation) in the replicated registry, through the leader.
    pub async fn register_self(&self) -> Result<(), RaftNodeError> {
        let cmd =
            Command::RegisterNode { id: self.id, rest_url: self.url.clone(), incarnation: self.incarnation.clone() };
        match self.write(cmd).await?.response {
            Response::Rejected(Rejection::IncarnationMismatch { id }) => Err(RaftNodeError::DuplicateId { id }),
            _ => Ok(()),
        }
    }

    /// Join an existing cluster through any of its members (`seed`), following redirects to
    /// the leader. The node's Raft and RPC server must already be running.
    pub async fn join_via(&self, seed: &str, timeout: Duration) -> Result<JoinResponse, RaftNodeError> {
        let req = JoinRequest { id: self.id, url: self.url.clone(), incarnation: self.incarnation.clone() };
        let deadline = Instant::now() + timeout;
        let mut target = seed.to_string();
        loop {
            let res: Result<Result<JoinResponse, RaftNodeError>, _> =
                self.client.call(&target, "/raft/join", None, &req, remaining(deadline)).await;
            let retry_reason = match res {
                Ok(Ok(resp)) => return Ok(resp),
                Ok(Err(RaftNodeError::NotLeader { leader: Some((_, url)) })) => {
                    target = url;
                    continue;
                }
                Ok(Err(e @ (RaftNodeError::NotLeader { .. } | RaftNodeError::NoLeader))) => e.to_string(),
                Ok(Err(RaftNodeError::Timeout(e))) => e,
                Ok(Err(e)) => return Err(e),
                // Without the cluster's secret no retry can succeed.
                Err(crate::network::TransportError::Status { status: 401, body, .. }) => {
                    return Err(RaftNodeError::Refused {
                        status: 401,
                        message: format!(
                            "the cluster refused this node's authentication ({body}); give every node the \
                             same --cluster-secret-file"
                        ),
                    })
                }
                Err(e) => e.to_string(),
            };
            // The leader may have added us and then died before answering: if the membership we
            // have replicated includes us, we have joined.
            if let Some(resp) = self.joined() {
                tracing::info!(reason = %retry_reason, "Join answer lost, but this node is a member.");
                return Ok(resp);
            }
            if Instant::now() >= deadline {
                return Err(RaftNodeError::Timeout(format!("joining through {seed}: {retry_reason}")));
            }
            tracing::info!(seed = %target, reason = %retry_reason, "Join not accepted yet; retrying.");
            // Follow a leader we have heard of (the seed may be the one that died), else the seed.
            target = match self.leader() {
                Some((id, url)) if id != self.id => url,
                _ => seed.to_string(),
            };
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Record that a current leader reached this node (called by the RPC server).
    pub fn note_leader_contact(&self) {
        *self.leader_contact.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// A vote request from `candidate` reached this node. With at most three voters, the
    /// candidate and this node are a majority that no longer follows the old leader, so no
    /// leader that could move this node's work exists until a new one is elected, and a new
    /// leader counts a node's silence from its own election: the lease is renewed. (With five
    /// voters two nodes are no majority; learners get no vote requests: for them an election
    /// longer than the lease stops their work.)
    pub fn note_election_contact(&self, candidate: NodeId) {
        let m = self.raft.metrics().borrow().clone();
        let voters: BTreeSet<NodeId> = m.membership_config.membership().voter_ids().collect();
        if candidate != self.id && voters.len() <= 3 && voters.contains(&candidate) && voters.contains(&self.id) {
            self.note_leader_contact();
        }
    }

    /// Has this node heard from a leader within `lease`? A leader counts the acks of a quorum;
    /// a follower the last AppendEntries it accepted. A node that has not must stop its work on
    /// its own: it may be partitioned and its work about to be given to another node.
    pub fn within_lease(&self, lease: Duration) -> bool {
        let m = self.raft.metrics().borrow().clone();
        let voters: BTreeSet<NodeId> = m.membership_config.membership().voter_ids().collect();
        let leader_with_quorum = m.current_leader == Some(self.id)
            && (voters.iter().all(|v| *v == self.id)
                || m.millis_since_quorum_ack.map(|ms| u128::from(ms) <= lease.as_millis()).unwrap_or(false));
        if leader_with_quorum {
            return true;
        }
        let recent = |t: Option<Instant>| t.map(|t| t.elapsed() <= lease).unwrap_or(false);
        if recent(*self.leader_contact.lock().unwrap_or_else(|p| p.into_inner())) {
            return true;
        }
        // A candidate that another voter granted its vote: with at most three voters the two
        // are a majority in the new term, so no older leader can move this node's work.
        voters.len() <= 3 && voters.iter().any(|v| *v != self.id && recent(self.health.get(*v).vote_granted))
    }

    /// `Some` once the membership this node has replicated includes it.
    fn joined(&self) -> Option<JoinResponse> {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        membership.get_node(&self.id)?;
        let voter = membership.voter_ids().any(|v| v == self.id);
        Some(JoinResponse { leader: m.current_leader.unwrap_or(0), voter })
    }

    /// The leader (id, URL) as this node knows it.
    pub fn leader(&self) -> Option<(NodeId, String)> {
        let m = self.raft.metrics().borrow().clone();
        let leader = m.current_leader?;
        // Elections need a pre-vote majority (election.rs), so a node cut off from its leader
        // stays a follower of it: after twice the leader lease without a word from it, that
        // leader is not known any more (as a candidate knows none).
        let lost = 2 * self.settings.election_timeout_max;
        if leader != self.id && self.leader_silence() > lost {
            return None;
        }
        // Likewise a leader no quorum has acknowledged for that long leads nobody (check quorum):
        // nothing it proposes can commit.
        if leader == self.id && m.millis_since_quorum_ack.is_some_and(|ms| u128::from(ms) > lost.as_millis()) {
            return None;
        }
        let url = m.membership_config.membership().get_node(&leader)?.addr.clone();
        Some((leader, url))
    }

    /// Run `local` on the leader: here if this node leads, otherwise by POSTing `req` to the
    /// leader's `path`. Retries while no leader is known or the leader could not be reached,
    /// until the request timeout.
    async fn on_leader<Req, Resp, F, Fut>(&self, path: &str, req: &Req, local: F) -> Result<Resp, RaftNodeError>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Resp, RaftNodeError>>,
    {
        let deadline = Instant::now() + self.settings.request_timeout;
        let mut metrics = self.raft.metrics();
        loop {
            let res = match self.leader() {
                Some((id, _)) if id == self.id => local().await,
                Some((id, url)) => {
                    match self
                        .client
                        .call::<_, Result<Resp, RaftNodeError>>(&url, path, None, req, remaining(deadline))
                        .await
                    {
                        Ok(r) => r,
                        Err(e) if e.not_sent() => {
                            Err(RaftNodeError::LeaderUnreachable { leader: id, url, reason: e.to_string() })
                        }
                        Err(e) => return Err(RaftNodeError::OutcomeUnknown { leader: id, reason: e.to_string() }),
                    }
                }
                None => Err(RaftNodeError::NoLeader),
            };
            match res {
                Err(
                    e @ (RaftNodeError::NotLeader { .. }
                    | RaftNodeError::NoLeader
                    | RaftNodeError::LeaderUnreachable { .. }),
                ) => {
                    if Instant::now() >= deadline {
                        return Err(e);
                    }
                    // Wait for a change of leadership (or a short while) and try again.
                    let _ = tokio::time::timeout(Duration::from_millis(100), metrics.changed()).await;
                }
                other => return other,
            }
        }
    }

    /// Propose `cmd` through the leader and wait until it is committed and applied there.
    pub async fn write(&self, cmd: Command) -> Result<WriteOutcome, RaftNodeError> {
        let size = raftconnect_storage::codec::encode(&cmd).len();
        if size > MAX_COMMAND_BYTES {
            return Err(RaftNodeError::CommandTooLarge { size, max: MAX_COMMAND_BYTES });
        }
        self.on_leader("/raft/write", &cmd, || self.local_write(cmd.clone())).await
    }

    /// Write a command the cluster makes itself, in pieces that fit the command cap
    /// ([`Command::split_to_fit`]), in order; the outcome of every piece. Stops at the first
    /// piece that could not be written (the caller retries the whole command: every piece is
    /// idempotent, and a multi-part write starts again at part 0).
    pub async fn write_all(&self, cmd: Command) -> Result<Vec<WriteOutcome>, RaftNodeError> {
        let mut outcomes = Vec::new();
        for piece in cmd.split_to_fit(MAX_COMMAND_BYTES) {
            outcomes.push(self.write(piece).await?);
        }
        Ok(outcomes)
    }

    /// Install the check the leader runs before proposing (see [`ProposalCheck`]).
    pub fn set_proposal_check(&self, check: ProposalCheck) {
        *self.check.write().unwrap_or_else(|p| p.into_inner()) = Some(check);
    }

    /// Propose on this node, which must be the leader. Every entry path (local writes, the
    /// forwarded `/raft/write`) goes through here and gets the same command cap.
    pub async fn local_write(&self, cmd: Command) -> Result<WriteOutcome, RaftNodeError> {
        let size = raftconnect_storage::codec::encode(&cmd).len();
        if size > MAX_COMMAND_BYTES {
            return Err(RaftNodeError::CommandTooLarge { size, max: MAX_COMMAND_BYTES });
        }
        let check = self.check.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(check) = check {
            self.ensure_leader()?;
            self.state
                .read(|a| check(&cmd, &a.state))
                .map_err(|(status, message)| RaftNodeError::Refused { status, message })?;
        }
        if cmd.batch_key().is_some() {
            return self.batcher.submit(cmd).await;
        }
        crate::batch::write_outcome(self.raft.client_write(cmd).await)
    }

    /// Make the local state at least as new as everything committed before this call
    /// (ReadIndex through the leader), so that a read of [`RaftNode::state`] is linearizable.
    /// Concurrent callers share read-index rounds, one at a time: a round that started after a
    /// caller arrived serves it too, so a thousand units starting at once cost two rounds.
    pub async fn linearizable_barrier(&self) -> Result<(), RaftNodeError> {
        let arrived = Instant::now();
        let index = {
            let _one_at_a_time = self.barrier_round.lock().await;
            let last = self.last_barrier.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match last {
                // A round that failed after this caller arrived fails it too: callers queued
                // behind an election must not each wait out the request timeout in turn.
                Some((started, result)) if started >= arrived => result?,
                _ => {
                    let started = Instant::now();
                    let result: Result<u64, RaftNodeError> =
                        self.on_leader("/raft/read-index", &(), || self.local_read_index()).await;
                    *self.last_barrier.lock().unwrap_or_else(|p| p.into_inner()) = Some((started, result.clone()));
                    result?
                }
            }
        };
        tokio::time::timeout(self.settings.request_timeout, self.state.wait_applied(index))
            .await
            .map_err(|_| RaftNodeError::Timeout(format!("waiting to apply index {index}")))
    }

    /// The read index on this node, which must be the leader.
    pub async fn local_read_index(&self) -> Result<u64, RaftNodeError> {
        match self.raft.ensure_linearizable().await {
            Ok(read_log_id) => Ok(read_log_id.map(|l| l.index).unwrap_or(0)),
            Err(RaftError::APIError(openraft::error::CheckIsLeaderError::ForwardToLeader(f))) => Err(not_leader(&f)),
            Err(e) => Err(RaftNodeError::Raft(e.to_string())),
        }
    }

    /// Leader side of a join: register the node, add it as a learner, and promote it to voter
    /// once it has caught up if the cluster has fewer voters than configured.
    pub async fn handle_join(&self, req: JoinRequest) -> Result<JoinResponse, RaftNodeError> {
        let _guard = self.membership_lock.lock().await;
        self.ensure_leader()?;
        if req.url.is_empty() || !(req.url.starts_with("http://") || req.url.starts_with("https://")) {
            return Err(RaftNodeError::Invalid(format!("invalid node URL '{}'", req.url)));
        }
        // The registry decides whether the id is free or belongs to this data directory.
        let registered = self
            .local_write(Command::RegisterNode {
                id: req.id,
                rest_url: req.url.clone(),
                incarnation: req.incarnation.clone(),
            })
            .await?;
        if let Response::Rejected(Rejection::IncarnationMismatch { id }) = registered.response {
            return Err(RaftNodeError::DuplicateId { id });
        }
        let membership = self.raft.metrics().borrow().membership_config.membership().clone();
        if membership.get_node(&req.id).is_none() {
            tracing::info!(id = req.id, url = %req.url, "Adding learner.");
            self.raft
                .add_learner(req.id, BasicNode::new(&req.url), false)
                .await
                .map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        } else if membership.get_node(&req.id).map(|n| n.addr != req.url).unwrap_or(false) {
            tracing::info!(id = req.id, url = %req.url, "Member rejoined with a new URL.");
            self.raft
                .change_membership(ChangeMembers::SetNodes(BTreeMap::from([(req.id, BasicNode::new(&req.url))])), true)
                .await
                .map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        }
        let voter = self.promote_if_needed(req.id).await?;
        Ok(JoinResponse { leader: self.id, voter })
    }

    /// Promote `id` (a learner) to voter if the voter set is below its configured size.
    async fn promote_if_needed(&self, id: NodeId) -> Result<bool, RaftNodeError> {
        let membership = self.raft.metrics().borrow().membership_config.membership().clone();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        if voters.contains(&id) {
            return Ok(true);
        }
        if voters.len() >= self.settings.voters {
            return Ok(false);
        }
        self.wait_caught_up(id).await?;
        tracing::info!(id, "Promoting learner to voter.");
        self.raft
            .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), true)
            .await
            .map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        Ok(true)
    }

    /// Wait until the leader has replicated to `id` everything it had when called.
    async fn wait_caught_up(&self, id: NodeId) -> Result<(), RaftNodeError> {
        let target = self.raft.metrics().borrow().last_log_index.unwrap_or(0);
        let res = self
            .raft
            .wait(Some(self.settings.request_timeout))
            .metrics(
                |m| {
                    m.replication
                        .as_ref()
                        .and_then(|r| r.get(&id).cloned().flatten())
                        .map(|l| l.index >= target)
                        .unwrap_or(false)
                },
                "learner caught up",
            )
            .await;
        res.map(|_| ()).map_err(|e| RaftNodeError::Timeout(format!("node {id} catching up to {target}: {e}")))
    }

    fn ensure_leader(&self) -> Result<(), RaftNodeError> {
        match self.leader() {
            Some((id, _)) if id == self.id => Ok(()),
            leader => Err(RaftNodeError::NotLeader { leader }),
        }
    }

    /// Remove a member, through the leader. A voter is replaced by a live learner if there is
    /// one. The node stays in the registry, marked as leaving, so its id is not reused.
    pub async fn remove_member(&self, id: NodeId) -> Result<(), RaftNodeError> {
        self.on_leader("/raft/remove", &id, || self.handle_remove(id)).await
    }

    pub async fn handle_remove(&self, id: NodeId) -> Result<(), RaftNodeError> {
        let _guard = self.membership_lock.lock().await;
        self.ensure_leader()?;
        let membership = self.raft.metrics().borrow().membership_config.membership().clone();
        if membership.get_node(&id).is_none() {
            return Err(RaftNodeError::UnknownMember { id });
        }
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        if voters.contains(&id) {
            if voters.len() == 1 {
                return Err(RaftNodeError::Invalid(format!("Node {id} is the last voter and cannot be removed")));
            }
            let replacement = membership
                .learner_ids()
                .filter(|l| self.liveness_of(*l).alive)
                .find(|l| !self.state.read(|a| a.state.nodes.get(l).map(|n| n.leaving).unwrap_or(false)));
            let mut new_voters: BTreeSet<NodeId> = voters.iter().copied().filter(|v| *v != id).collect();
            if let Some(l) = replacement {
                self.wait_caught_up(l).await?;
                tracing::info!(removed = id, replacement = l, "Replacing voter with learner.");
                new_voters.insert(l);
            }
            self.raft
                .change_membership(ChangeMembers::ReplaceAllVoters(new_voters), false)
                .await
                .map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        } else {
            self.raft
                .change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
                .await
                .map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        }
        // Keep the record so the id is never reused by another data directory.
        if let Err(e) = self.local_write(Command::MarkNodeLeaving { id }).await {
            // The member is already removed; only the registry's marker is missing.
            tracing::warn!(id, error = %e, "Could not mark the removed node as leaving.");
        }
        Ok(())
    }

    fn liveness_of(&self, id: NodeId) -> Liveness {
        let m = self.raft.metrics().borrow().clone();
        let matched_index = m.replication.as_ref().and_then(|r| r.get(&id).cloned().flatten()).map(|l| l.index);
        if id == self.id {
            return Liveness {
                id,
                alive: true,
                refused: false,
                last_contact_ms: Some(0),
                matched_index: m.last_log_index,
            };
        }
        let rec = self.health.get(id);
        let since = rec.last_ok.map(|t| t.elapsed());
        Liveness {
            id,
            alive: since.map(|s| s <= self.settings.liveness_timeout).unwrap_or(false) && !rec.refused(),
            refused: rec.refused(),
            last_contact_ms: since.map(|s| s.as_millis() as u64),
            matched_index,
        }
    }

    /// Liveness of every member, as judged by this node, which must be the leader.
    pub async fn local_liveness(&self) -> Result<Vec<Liveness>, RaftNodeError> {
        self.ensure_leader()?;
        let membership = self.raft.metrics().borrow().membership_config.membership().clone();
        Ok(membership.nodes().map(|(id, _)| self.liveness_of(*id)).collect())
    }

    /// Liveness as judged by the leader, asked over RPC if needed.
    pub async fn liveness(&self) -> Result<Vec<Liveness>, RaftNodeError> {
        self.on_leader("/raft/liveness", &(), || self.local_liveness()).await
    }

    /// The view behind `GET /cluster`.
    pub async fn cluster_status(&self) -> ClusterStatus {
        let m = self.raft.metrics().borrow().clone();
        // One short question to the leader, no retries: a status read must not stall while the
        // leader is gone (liveness is then unknown: `alive` is null).
        let answer = match self.leader() {
            Some((id, _)) if id == self.id => self.local_liveness().await.ok(),
            Some((_, url)) => self
                .client
                .call::<_, Result<Vec<Liveness>, RaftNodeError>>(
                    &url,
                    "/raft/liveness",
                    None,
                    &(),
                    Duration::from_millis(300),
                )
                .await
                .ok()
                .and_then(Result::ok),
            None => None,
        };
        let liveness: BTreeMap<NodeId, Liveness> = answer.unwrap_or_default().into_iter().map(|l| (l.id, l)).collect();
        let membership = m.membership_config.membership();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        let members = membership
            .nodes()
            .map(|(id, node)| {
                let l = liveness.get(id);
                MemberStatus {
                    id: *id,
                    url: node.addr.clone(),
                    role: if voters.contains(id) { "voter" } else { "learner" }.to_string(),
                    alive: l.map(|l| l.alive),
                    last_contact_ms: l.and_then(|l| l.last_contact_ms),
                    matched_index: l.and_then(|l| l.matched_index),
                    leaving: self.state.read(|a| a.state.nodes.get(id).map(|n| n.leaving).unwrap_or(false)),
                }
            })
            .collect();
        ClusterStatus {
            id: self.id,
            // As `leader()` judges it: a silent leader, or one without a quorum, is none.
            leader: self.leader().map(|(id, _)| id),
            term: m.current_term,
            state: match m.state {
                ServerState::Leader => "leader",
                ServerState::Follower => "follower",
                ServerState::Candidate => "candidate",
                ServerState::Learner => "learner",
                ServerState::Shutdown => "shutdown",
            }
            .to_string(),
            last_log_index: m.last_log_index.unwrap_or(0),
            applied_index: m.last_applied.map(|l| l.index).unwrap_or(0),
            snapshot_index: m.snapshot.map(|l| l.index),
            purged_index: m.purged.map(|l| l.index),
            members,
        }
    }

    /// Entries of this node's log from `from`, at most `limit`; purged entries are skipped.
    pub fn log_entries(&self, from: u64, limit: usize) -> Result<Vec<Entry>, RaftNodeError> {
        self.log.read_entries(from, limit).map_err(|e| RaftNodeError::Raft(e.to_string()))
    }

    /// Build a snapshot now and purge the log up to it (operators, tests).
    pub async fn snapshot_and_purge(&self) -> Result<u64, RaftNodeError> {
        let applied = self.raft.metrics().borrow().last_applied.map(|l| l.index).unwrap_or(0);
        self.raft.trigger().snapshot().await.map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        let m = self
            .raft
            .wait(Some(self.settings.request_timeout))
            .metrics(|m| m.snapshot.map(|s| s.index >= applied).unwrap_or(applied == 0), "snapshot built")
            .await
            .map_err(|e| RaftNodeError::Timeout(e.to_string()))?;
        let index = m.snapshot.map(|s| s.index).unwrap_or(0);
        self.raft.trigger().purge_log(index).await.map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        // The purge runs in the background (it may wait for replication to read those entries).
        self.raft
            .wait(Some(self.settings.request_timeout))
            .metrics(|m| m.purged.map(|p| p.index >= index).unwrap_or(index == 0), "log purged")
            .await
            .map_err(|e| RaftNodeError::Timeout(e.to_string()))?;
        Ok(index)
    }

    pub async fn shutdown(&self) {
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "Raft shutdown failed.");
        }
    }
}

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(50))
}

pub(crate) fn not_leader(f: &openraft::error::ForwardToLeader<NodeId, BasicNode>) -> RaftNodeError {
    RaftNodeError::NotLeader { leader: f.leader_id.zip(f.leader_node.as_ref().map(|n| n.addr.clone())) }
}
