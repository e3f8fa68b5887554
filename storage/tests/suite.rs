//! openraft's own storage test suite (35 cases) against the sled store.

mod common;

use common::{Log, Sm, TypeConfig};
use openraft::testing::{StoreBuilder, Suite};
use openraft::{AnyError, StorageError, StorageIOError};

struct SledBuilder;

impl StoreBuilder<TypeConfig, Log, Sm, tempfile::TempDir> for SledBuilder {
    async fn build(&self) -> Result<(tempfile::TempDir, Log, Sm), StorageError<u64>> {
        let dir = tempfile::TempDir::new().expect("tempdir");
        // A fresh, empty store for every case; the TempDir guard is dropped after the case.
        let (log, sm) = raftconnect_storage::open::<TypeConfig>(dir.path())
            .map_err(|e| StorageError::from(StorageIOError::write(AnyError::new(&e))))?;
        Ok((dir, log, sm))
    }
}

/// Not `#[tokio::test]`: the suite builds a tokio runtime per case.
#[test]
fn openraft_storage_suite() {
    if let Err(e) = Suite::test_all(SledBuilder) {
        panic!("openraft storage suite failed: {e}");
    }
}
