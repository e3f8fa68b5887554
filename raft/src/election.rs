//! Elections driven by raftconnect, with a pre-vote round (Raft thesis §9.6) in front.
//!
//! openraft 0.9 has no pre-vote and draws each node's election timeout once per process, so a
//! node that was cut off campaigns with ever higher terms and deposes a healthy leader when it
//! comes back, and two survivors with close timeouts can split the vote term after term. So
//! openraft's own election timer is off (`enable_elect = false`, see `settings.rs`) and this
//! loop decides when a voter campaigns:
//!
//! - a voter that has heard from no leader for `election_timeout_max` plus a jitter drawn anew
//!   for every attempt asks the other voters first (`/raft/pre-vote`), without changing its
//!   term. A voter says yes only if it has not heard from a leader for `election_timeout_max`
//!   itself (it is not a leader with a live quorum either) and the candidate's log is at least
//!   as new as its own. Only with a majority of yeses does the node start a real election
//!   (`trigger().elect()`), so a node that is cut off never raises its term, and a healed node
//!   rejoins without an election (leader stickiness);
//! - a candidate whose election did not end in a leader tries again after a fresh random
//!   timeout in [`election_timeout_min`, `election_timeout_max`), which breaks split votes;
//! - a process that was frozen (SIGSTOP, a VM pause) wakes with a stale view: it gives the
//!   leader a full period to reach it before it campaigns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::storage::RaftLogStorage;
use openraft::{LogId, ServerState};
use raftconnect_storage::NodeId;
use serde::{Deserialize, Serialize};

use crate::node::RaftNode;

/// "Would you vote for me?", asked before a real election.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreVoteRequest {
    pub candidate: NodeId,
    /// The candidate's current term (the real election would use the next one).
    pub term: u64,
    pub last_log_id: Option<LogId<NodeId>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PreVoteResponse {
    pub granted: bool,
    /// Why not, for the logs.
    pub reason: String,
}

impl RaftNode {
    /// The last log id this node has (appended, not necessarily committed).
    async fn last_log_id(&self) -> Option<LogId<NodeId>> {
        let mut log = self.log.clone();
        match log.get_log_state().await {
            Ok(s) => s.last_log_id,
            Err(e) => {
                tracing::warn!(error = %e, "Cannot read the log state for a pre-vote.");
                None
            }
        }
    }

    /// Time since a leader last reached this node; from the process start if none ever did.
    pub(crate) fn leader_silence(&self) -> Duration {
        let contact = *self.leader_contact.lock().unwrap_or_else(|p| p.into_inner());
        contact.unwrap_or(self.started_at).elapsed()
    }

    /// Answer a pre-vote: yes only if this node would grant the real vote now.
    pub async fn handle_pre_vote(&self, req: PreVoteRequest) -> PreVoteResponse {
        let deny = |reason: String| PreVoteResponse { granted: false, reason };
        let m = self.raft.metrics().borrow().clone();
        let lease = self.settings.election_timeout_max;
        if m.current_leader == Some(self.id) {
            let quorum_fresh = m.millis_since_quorum_ack.map(|ms| u128::from(ms) < lease.as_millis()).unwrap_or(false);
            if quorum_fresh {
                return deny(format!("node {} leads with a live quorum", self.id));
            }
        } else {
            let silence = self.leader_silence();
            if silence < lease {
                return deny(format!("node {} heard from a leader {} ms ago", self.id, silence.as_millis()));
            }
        }
        if req.term < m.current_term {
            return deny(format!("candidate term {} is behind {}", req.term, m.current_term));
        }
        let mine = self.last_log_id().await;
        if req.last_log_id < mine {
            return deny(format!("candidate log {:?} is behind {:?}", req.last_log_id, mine));
        }
        PreVoteResponse { granted: true, reason: String::new() }
    }

    /// Ask every other voter; true when a majority of the voters (this node included) say yes.
    async fn pre_vote(&self, voters: &[(NodeId, String)]) -> bool {
        let m = self.raft.metrics().borrow().clone();
        let req = PreVoteRequest { candidate: self.id, term: m.current_term, last_log_id: self.last_log_id().await };
        let timeout = self.settings.election_timeout_min;
        let asks = voters.iter().filter(|(id, _)| *id != self.id).map(|(id, url)| {
            let req = req.clone();
            async move {
                let res: Result<PreVoteResponse, _> =
                    self.client.call(url, "/raft/pre-vote", Some(*id), &req, timeout).await;
                (*id, res)
            }
        });
        let answers = futures::future::join_all(asks).await;
        let mut granted = 1; // our own
        for (id, res) in &answers {
            match res {
                Ok(r) if r.granted => granted += 1,
                Ok(r) => tracing::debug!(voter = id, reason = %r.reason, "Pre-vote denied."),
                Err(e) => tracing::debug!(voter = id, error = %e, "Pre-vote not answered."),
            }
        }
        granted * 2 > voters.len()
    }

    /// The election loop (see the module doc). Runs for the life of the node.
    pub(crate) async fn drive_elections(self: Arc<Self>) {
        let min = self.settings.election_timeout_min;
        let max = self.settings.election_timeout_max;
        let tick = (self.settings.heartbeat / 2).max(Duration::from_millis(5));
        let mut last_tick = Instant::now();
        let mut awake_since = Instant::now();
        // When this node last started a real election, and how long to wait before the next.
        let mut last_election: Option<(Instant, Duration)> = None;
        let mut jitter = random_between(Duration::ZERO, min / 3);
        loop {
            tokio::time::sleep(tick).await;
            if last_tick.elapsed() > max {
                awake_since = Instant::now();
            }
            last_tick = Instant::now();
            let m = self.raft.metrics().borrow().clone();
            let membership = m.membership_config.membership();
            let voters: Vec<(NodeId, String)> = membership
                .voter_ids()
                .filter_map(|id| membership.get_node(&id).map(|n| (id, n.addr.clone())))
                .collect();
            if !voters.iter().any(|(id, _)| *id == self.id) || m.state == ServerState::Leader {
                last_election = None;
                continue;
            }
            if m.state == ServerState::Shutdown {
                return;
            }
            let silent_for = self.leader_silence().min(awake_since.elapsed());
            let due = match (m.state, last_election) {
                // A candidate whose election has not produced a leader: a fresh random wait.
                (ServerState::Candidate, Some((at, wait))) => at.elapsed() >= wait,
                (_, Some((at, wait))) if at.elapsed() < wait => false,
                _ => silent_for > max + jitter,
            };
            if !due {
                continue;
            }
            let single = voters.len() == 1;
            if !single && !self.pre_vote(&voters).await {
                // Not now: ask again on a later tick, with a new jitter; the term is unchanged.
                jitter = random_between(Duration::ZERO, min / 3);
                continue;
            }
            tracing::info!(
                silent_ms = silent_for.as_millis() as u64,
                term = m.current_term,
                "No leader heard from and a majority agrees; starting an election."
            );
            if let Err(e) = self.raft.trigger().elect().await {
                tracing::warn!(error = %e, "Could not start an election.");
            }
            last_election = Some((Instant::now(), random_between(min, max)));
            jitter = random_between(Duration::ZERO, min / 3);
        }
    }
}

/// A duration drawn uniformly from [lo, hi) (lo when the range is empty).
fn random_between(lo: Duration, hi: Duration) -> Duration {
    let (lo_ms, hi_ms) = (lo.as_millis() as u64, hi.as_millis() as u64);
    if hi_ms <= lo_ms {
        return lo;
    }
    Duration::from_millis(fastrand::u64(lo_ms..hi_ms))
}
