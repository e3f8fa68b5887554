//! Raft settings of a node. The reasoning behind the defaults is in ARCHITECTURE.md
//! ("Timeouts"): in openraft 0.9 every AppendEntries RPC (heartbeats included) has a hard timeout
//! of `heartbeat_interval`, and a vote RPC one of `election_timeout_min`, so the heartbeat must
//! cover a follower's fsync on a real disk (p99 ≈ 3–12 ms here) plus a loaded debug build's
//! scheduling delays, while the election timeout bounds leader failover.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct RaftSettings {
    pub cluster_name: String,
    pub heartbeat: Duration,
    pub election_timeout_min: Duration,
    pub election_timeout_max: Duration,
    /// How many members carry the quorum (3 or 5); further nodes join as learners.
    pub voters: usize,
    /// A member whose last successful RPC from the leader is older than this is not alive.
    pub liveness_timeout: Duration,
    /// Build a snapshot after this many applied entries since the last one.
    pub snapshot_logs_since_last: u64,
    /// Entries kept in the log behind a snapshot, so a briefly-down follower catches up from
    /// the log instead of needing a snapshot.
    pub max_in_snapshot_log_to_keep: u64,
    /// How long a forwarded write or read waits for a leader.
    pub request_timeout: Duration,
    /// The cluster secret that signs and checks every RPC, and the CA trusted for peers.
    pub security: crate::auth::RpcSecurity,
}

impl Default for RaftSettings {
    fn default() -> Self {
        Self {
            cluster_name: "raftconnect".into(),
            heartbeat: Duration::from_millis(100),
            election_timeout_min: Duration::from_millis(300),
            election_timeout_max: Duration::from_millis(500),
            voters: 3,
            liveness_timeout: Duration::from_millis(1000),
            snapshot_logs_since_last: 5000,
            max_in_snapshot_log_to_keep: 1000,
            request_timeout: Duration::from_secs(10),
            security: Default::default(),
        }
    }
}

impl RaftSettings {
    pub fn openraft_config(&self) -> Result<openraft::Config, openraft::ConfigError> {
        openraft::Config {
            cluster_name: self.cluster_name.clone(),
            heartbeat_interval: self.heartbeat.as_millis() as u64,
            election_timeout_min: self.election_timeout_min.as_millis() as u64,
            election_timeout_max: self.election_timeout_max.as_millis() as u64,
            install_snapshot_timeout: 10_000,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(self.snapshot_logs_since_last),
            max_in_snapshot_log_to_keep: self.max_in_snapshot_log_to_keep,
            // Elections are started by `election.rs`, after a pre-vote round.
            enable_elect: false,
            ..Default::default()
        }
        .validate()
    }
}
