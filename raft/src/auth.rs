//! Cluster RPC authentication: every node-to-node request carries an HMAC-SHA256, made with
//! the shared cluster secret, over its method, path, target node, a timestamp, a nonce and the
//! SHA-256 of its body. The receiving node recomputes it and refuses (401) a request without a
//! valid proof, one whose timestamp is outside [`WINDOW`] of its own clock, and a nonce it has
//! already seen inside that window (a replay). Nothing of a refused request is decoded.
//!
//! Kafka Connect's KIP-507 signs only two internal REST calls, over the body alone, with a key
//! kept in the config topic; here every RPC is signed (joins, removals, forwarded writes and
//! Raft's own traffic) and the key never enters the replicated state.

use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use raftconnect_storage::NodeId;
use sha2::{Digest, Sha256};

/// The header that carries the proof: `v1:<unix ms>:<nonce hex>:<mac hex>`.
pub const AUTH_HEADER: &str = "x-raftconnect-auth";

/// How far a request's timestamp may be from the receiver's clock (either way).
pub const WINDOW: Duration = Duration::from_secs(30);

/// Fewest bytes a cluster secret may have.
pub const MIN_SECRET_BYTES: usize = 16;

/// Most nonces remembered at once; beyond it the oldest are forgotten early (only holders of
/// the secret can make nonces that are remembered, so this bounds memory, not an attacker).
const MAX_NONCES: usize = 1 << 20;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the cluster secret file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(
        "the cluster secret file {path} holds {len} bytes; at least {MIN_SECRET_BYTES} are needed \
         (make one with `raftconnect secret generate --out FILE`)"
    )]
    TooShort { path: String, len: usize },
}

/// The shared cluster secret. Its `Debug` never shows the key.
pub struct ClusterSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterSecret(<hidden>)")
    }
}

impl ClusterSecret {
    /// Read a secret file: its content with surrounding whitespace trimmed is the key.
    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let text =
            std::fs::read(path).map_err(|source| AuthError::Read { path: path.display().to_string(), source })?;
        let key = text.trim_ascii().to_vec();
        if key.len() < MIN_SECRET_BYTES {
            return Err(AuthError::TooShort { path: path.display().to_string(), len: key.len() });
        }
        Ok(Self { key })
    }

    pub fn from_bytes(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(
        &self,
        method: &str,
        path: &str,
        target: Option<NodeId>,
        ts_ms: u64,
        nonce: &str,
        body: &[u8],
    ) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        let target = target.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
        let digest = hex(&Sha256::digest(body));
        mac.update(format!("v1\n{method}\n{path}\n{target}\n{ts_ms}\n{nonce}\n{digest}").as_bytes());
        mac
    }

    /// The value of [`AUTH_HEADER`] for one request.
    pub fn sign(&self, method: &str, path: &str, target: Option<NodeId>, body: &[u8]) -> String {
        let ts = now_ms();
        let nonce = format!("{:032x}", fastrand::u128(..));
        let mac = self.mac(method, path, target, ts, &nonce, body).finalize().into_bytes();
        format!("v1:{ts}:{nonce}:{}", hex(&mac))
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Why a request was refused (said in the 401 body; never anything secret).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the request carries no cluster authentication ({AUTH_HEADER}); is this node's cluster secret given to the sender?")]
    Missing,
    #[error("malformed {AUTH_HEADER} header")]
    Malformed,
    #[error("the request's timestamp is {0} s away from this node's clock (at most 30 s allowed)")]
    Stale(u64),
    #[error("the request's proof does not match this node's cluster secret")]
    BadProof,
    #[error("the request was already received (a replay)")]
    Replay,
}

/// Checks requests against the secret, remembering the nonces seen within the window.
pub struct Verifier {
    secret: Arc<ClusterSecret>,
    seen: Mutex<Nonces>,
}

#[derive(Default)]
struct Nonces {
    set: HashSet<u128>,
    order: VecDeque<(u64, u128)>,
}

impl Verifier {
    pub fn new(secret: Arc<ClusterSecret>) -> Self {
        Self { secret, seen: Mutex::new(Nonces::default()) }
    }

    /// Accept or refuse one request; `header` is the value of [`AUTH_HEADER`], if any.
    pub fn verify(
        &self,
        header: Option<&str>,
        method: &str,
        path: &str,
        target: Option<NodeId>,
        body: &[u8],
    ) -> Result<(), Refusal> {
        let header = header.ok_or(Refusal::Missing)?;
        let mut parts = header.split(':');
        let (Some("v1"), Some(ts), Some(nonce), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Malformed);
        };
        let ts: u64 = ts.parse().map_err(|_| Refusal::Malformed)?;
        let nonce_value = u128::from_str_radix(nonce, 16).map_err(|_| Refusal::Malformed)?;
        let mac = unhex(mac).ok_or(Refusal::Malformed)?;
        let now = now_ms();
        let skew = now.abs_diff(ts);
        if skew > WINDOW.as_millis() as u64 {
            return Err(Refusal::Stale(skew / 1000));
        }
        // verify_slice compares in constant time.
        self.secret.mac(method, path, target, ts, nonce, body).verify_slice(&mac).map_err(|_| Refusal::BadProof)?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let horizon = now.saturating_sub(2 * WINDOW.as_millis() as u64);
        while let Some(&(at, n)) = seen.order.front() {
            if at >= horizon && seen.order.len() < MAX_NONCES {
                break;
            }
            seen.order.pop_front();
            seen.set.remove(&n);
        }
        if !seen.set.insert(nonce_value) {
            return Err(Refusal::Replay);
        }
        seen.order.push_back((now, nonce_value));
        Ok(())
    }
}

/// How this node's RPC client and server are secured.
#[derive(Clone, Debug, Default)]
pub struct RpcSecurity {
    /// Sign every request, and refuse requests without a valid proof.
    pub secret: Option<Arc<ClusterSecret>>,
    /// PEM certificates to trust for `https://` peers (the cluster's CA).
    pub ca_pem: Option<Arc<Vec<u8>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> (Arc<ClusterSecret>, Verifier) {
        let s = Arc::new(ClusterSecret::from_bytes(b"0123456789abcdef0123456789abcdef"));
        (s.clone(), Verifier::new(s))
    }

    #[test]
    fn a_signed_request_passes_once() {
        let (s, v) = verifier();
        let h = s.sign("POST", "/raft/append", Some(2), b"body");
        assert_eq!(v.verify(Some(&h), "POST", "/raft/append", Some(2), b"body"), Ok(()));
        assert_eq!(v.verify(Some(&h), "POST", "/raft/append", Some(2), b"body"), Err(Refusal::Replay));
    }

    #[test]
    fn every_signed_part_matters() {
        let (s, v) = verifier();
        let h = s.sign("POST", "/raft/append", Some(2), b"body");
        assert_eq!(v.verify(Some(&h), "POST", "/raft/append", Some(2), b"bodY"), Err(Refusal::BadProof));
        assert_eq!(v.verify(Some(&h), "POST", "/raft/vote", Some(2), b"body"), Err(Refusal::BadProof));
        assert_eq!(v.verify(Some(&h), "POST", "/raft/append", Some(3), b"body"), Err(Refusal::BadProof));
        assert_eq!(v.verify(Some(&h), "POST", "/raft/append", None, b"body"), Err(Refusal::BadProof));
        assert_eq!(v.verify(Some(&h), "PUT", "/raft/append", Some(2), b"body"), Err(Refusal::BadProof));
        let other = ClusterSecret::from_bytes(b"another secret of enough length");
        let h = other.sign("POST", "/raft/append", Some(2), b"body");
        assert_eq!(v.verify(Some(&h), "POST", "/raft/append", Some(2), b"body"), Err(Refusal::BadProof));
    }

    #[test]
    fn missing_malformed_and_stale_proofs_are_refused() {
        let (s, v) = verifier();
        assert_eq!(v.verify(None, "POST", "/raft/join", None, b""), Err(Refusal::Missing));
        for bad in ["", "v2:1:2:3", "v1:x:00:00", "v1:1:zz:00", "v1:1:00:0", "v1:1:00:00:00"] {
            assert_eq!(v.verify(Some(bad), "POST", "/raft/join", None, b""), Err(Refusal::Malformed), "{bad}");
        }
        let old = now_ms() - 31_000;
        let nonce = "00000000000000000000000000000001";
        let mac = hex(&s.mac("POST", "/raft/join", None, old, nonce, b"").finalize().into_bytes());
        let h = format!("v1:{old}:{nonce}:{mac}");
        assert_eq!(v.verify(Some(&h), "POST", "/raft/join", None, b""), Err(Refusal::Stale(31)));
    }

    #[test]
    fn secrets_are_read_trimmed_and_must_be_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, "  0123456789abcdef0123\n").unwrap();
        let s = ClusterSecret::load(&p).unwrap();
        assert_eq!(s.key, b"0123456789abcdef0123");
        assert_eq!(format!("{s:?}"), "ClusterSecret(<hidden>)");
        std::fs::write(&p, "short\n").unwrap();
        let e = ClusterSecret::load(&p).unwrap_err().to_string();
        assert!(e.contains("5 bytes") && e.contains("raftconnect secret generate"), "{e}");
    }
}
