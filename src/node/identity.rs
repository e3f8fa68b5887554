//! A node's identity in its data directory: the node id (stable, never reused for another data
//! directory) and the incarnation (a random id of this data directory, recorded in the
//! replicated registry so the cluster can tell a restarted node from an impostor).

use std::path::{Path, PathBuf};

use raftconnect_storage::NodeId;

const ID_FILE: &str = "node.id";
const INCARNATION_FILE: &str = "incarnation";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("data directory {dir} belongs to node {found}, not node {requested}")]
    WrongId { dir: PathBuf, found: NodeId, requested: NodeId },
    #[error("node id must be a positive integer")]
    ZeroId,
    #[error("corrupt {file}: {reason}")]
    Corrupt { file: PathBuf, reason: String },
    #[error("I/O on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub id: NodeId,
    pub incarnation: String,
    /// True when this start created the data directory's identity.
    pub fresh: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
    move |source| IdentityError::Io { path: path.to_path_buf(), source }
}

/// Load the identity of `dir`, or create it for `requested` if the directory is new.
pub fn load_or_create(dir: &Path, requested: NodeId) -> Result<Identity, IdentityError> {
    if requested == 0 {
        return Err(IdentityError::ZeroId);
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let id_path = dir.join(ID_FILE);
    let inc_path = dir.join(INCARNATION_FILE);
    match std::fs::read_to_string(&id_path) {
        Ok(text) => {
            let found: NodeId = text.trim().parse().map_err(|e: std::num::ParseIntError| IdentityError::Corrupt {
                file: id_path.clone(),
                reason: e.to_string(),
            })?;
            if found != requested {
                return Err(IdentityError::WrongId { dir: dir.to_path_buf(), found, requested });
            }
            let incarnation = std::fs::read_to_string(&inc_path).map_err(io(&inc_path))?.trim().to_string();
            Ok(Identity { id: found, incarnation, fresh: false })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let incarnation = uuid::Uuid::new_v4().to_string();
            write_synced(&inc_path, &incarnation)?;
            // The id file last: its presence means the identity is complete.
            write_synced(&id_path, &requested.to_string())?;
            Ok(Identity { id: requested, incarnation, fresh: true })
        }
        Err(e) => Err(IdentityError::Io { path: id_path, source: e }),
    }
}

fn write_synced(path: &Path, text: &str) -> Result<(), IdentityError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_created_once_and_checked_after() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), 3).unwrap();
        assert!(first.fresh);
        let again = load_or_create(dir.path(), 3).unwrap();
        assert!(!again.fresh);
        assert_eq!(again.incarnation, first.incarnation);
        let err = load_or_create(dir.path(), 4).unwrap_err();
        assert!(err.to_string().contains("belongs to node 3, not node 4"), "{err}");
        assert!(matches!(load_or_create(dir.path(), 0), Err(IdentityError::ZeroId)));
    }
}
