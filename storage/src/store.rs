//! The sled-backed openraft v2 storage: [`LogStore`] (`RaftLogStorage`) and [`StateMachine`]
//! (`RaftStateMachine`), sharing one `sled::Db` per node.
//!
//! Durability recipe (see ARCHITECTURE.md): sled's `flush` on Linux is `sync_file_range`, not a
//! cache flush, so every barrier is `flush_async()` followed by `fdatasync` of sled's `db` file.
//! The barrier runs before `save_vote` returns, before the append callback fires, after truncate
//! and purge, after a snapshot install and before a snapshot is built. `apply` writes the changed
//! keys together with `applied` and `membership` in one atomic batch, without a barrier: after a
//! crash the state machine is older but consistent, and openraft re-applies from the log (the log
//! is never purged past a snapshot, and a snapshot is only built after a barrier). Snapshots are
//! files (`snapshot.bin`, written to a temporary file, fsynced and renamed).

use std::fmt::Debug;
use std::io::{Cursor, Write};
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, Entry, EntryPayload, ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftLogReader,
    RaftSnapshotBuilder, RaftTypeConfig, SnapshotMeta, StorageError, StorageIOError, StoredMembership, Vote,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::codec::{self, decode_versioned, encode_versioned};
use crate::model::keys::{self, all_keys, encode_key, encode_value, load_into};
use crate::model::{Command, DirtyKeys, NodeId, Response, State};

/// The openraft type configuration this store works with. Declared by the raft crate (and by
/// tests); anything with these associated types fits.
pub trait StoreConfig:
    RaftTypeConfig<
    D = Command,
    R = Response,
    NodeId = NodeId,
    Node = BasicNode,
    Entry = Entry<Self>,
    SnapshotData = Cursor<Vec<u8>>,
>
{
}
impl<T> StoreConfig for T where
    T: RaftTypeConfig<
        D = Command,
        R = Response,
        NodeId = NodeId,
        Node = BasicNode,
        Entry = Entry<T>,
        SnapshotData = Cursor<Vec<u8>>,
    >
{
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("data directory {0} is in use by a running node (sled lock held)")]
    Locked(PathBuf),
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("I/O on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("corrupt value in {what}: {source}")]
    Corrupt { what: String, source: codec::CodecError },
}

const TREE_LOG: &str = "log";
const TREE_META: &str = "meta";
const TREE_SM: &str = "sm";
const META_VOTE: &[u8] = b"vote";
const META_PURGED: &[u8] = b"last_purged";
const META_COMMITTED: &[u8] = b"committed";
/// State-machine tree: application keys start with [`keys::KEY_PREFIX`] (`k`), bookkeeping keys
/// with `m`.
const SM_APPLIED: &[u8] = b"m:applied";
const SM_MEMBERSHIP: &[u8] = b"m:membership";
const SNAPSHOT_FILE: &str = "snapshot.bin";

/// Shared sled handles. Dropping the last clone releases sled's file lock.
struct Db {
    db: sled::Db,
    log: sled::Tree,
    meta: sled::Tree,
    sm: sled::Tree,
    dir: PathBuf,
}

impl Db {
    /// The durability barrier: sled flush, then a real `fdatasync` of sled's data file.
    async fn sync(&self) -> std::io::Result<()> {
        self.db.flush_async().await.map_err(std::io::Error::other)?;
        let file = self.dir.join("sled").join("db");
        tokio::task::spawn_blocking(move || std::fs::File::open(&file)?.sync_data())
            .await
            .map_err(std::io::Error::other)?
    }
}

/// Open (or create) a node's store under `dir`: `dir/sled` and `dir/snapshot.bin`.
pub fn open<C: StoreConfig>(dir: &Path) -> Result<(LogStore<C>, StateMachine<C>), OpenError> {
    std::fs::create_dir_all(dir).map_err(|source| OpenError::Io { path: dir.into(), source })?;
    // sled releases its file lock only when its background threads drop their last handle, a
    // moment after the `Db` itself is dropped: retry briefly before calling the data directory
    // in use (a running node holds it for good).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let db = loop {
        let opened = sled::Config::new()
            .path(dir.join("sled"))
            .mode(sled::Mode::LowSpace)
            .cache_capacity(64 << 20)
            .flush_every_ms(Some(500))
            .open();
        match opened {
            Ok(db) => break db,
            // sled 0.34.7 reports a held lock as `ErrorKind::Other` with this message (the
            // `WouldBlock` from flock is only in the text), so match on both.
            Err(sled::Error::Io(ref io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().starts_with("could not acquire lock") =>
            {
                if std::time::Instant::now() >= deadline {
                    return Err(OpenError::Locked(dir.to_path_buf()));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(other) => return Err(OpenError::Sled(other)),
        }
    };
    let db = Arc::new(Db {
        log: db.open_tree(TREE_LOG)?,
        meta: db.open_tree(TREE_META)?,
        sm: db.open_tree(TREE_SM)?,
        db,
        dir: dir.to_path_buf(),
    });
    let sm = StateMachine::load(db.clone())?;
    Ok((LogStore { db, _c: PhantomData }, sm))
}

fn io_err(e: impl std::error::Error + 'static) -> AnyError {
    AnyError::new(&e)
}

fn read_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageIOError::read_logs(io_err(e)).into()
}

fn write_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageIOError::write_logs(io_err(e)).into()
}

fn index_key(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

// ---------------------------------------------------------------------------------------------
// Log store
// ---------------------------------------------------------------------------------------------

/// The Raft log, the vote and the last purged log id. Clones share the same sled trees.
pub struct LogStore<C> {
    db: Arc<Db>,
    _c: PhantomData<C>,
}

impl<C> Clone for LogStore<C> {
    fn clone(&self) -> Self {
        Self { db: self.db.clone(), _c: PhantomData }
    }
}

impl<C: StoreConfig> LogStore<C> {
    fn read_meta<T: for<'de> Deserialize<'de>>(&self, key: &[u8]) -> Result<Option<T>, StorageError<NodeId>> {
        match self.db.meta.get(key).map_err(read_err)? {
            None => Ok(None),
            Some(v) => Ok(Some(decode_versioned(&v).map_err(read_err)?)),
        }
    }

    fn decode_entry(bytes: &[u8]) -> Result<C::Entry, StorageError<NodeId>> {
        decode_versioned(bytes).map_err(read_err)
    }

    /// Up to `limit` entries from index `from` on that are still in the log (purged ones are
    /// skipped, including leftovers of an interrupted purge below `last_purged`).
    pub fn read_entries(&self, from: u64, limit: usize) -> Result<Vec<C::Entry>, StorageError<NodeId>> {
        let first = match self.last_purged()? {
            Some(p) => from.max(p.index.saturating_add(1)),
            None => from,
        };
        let mut out = Vec::new();
        for kv in self.db.log.range(index_key(first)..).take(limit) {
            let (_, v) = kv.map_err(read_err)?;
            out.push(Self::decode_entry(&v)?);
        }
        Ok(out)
    }

    pub fn last_purged(&self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        self.read_meta(META_PURGED)
    }

    fn last_entry_id(&self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        match self.db.log.last().map_err(read_err)? {
            None => Ok(None),
            Some((_, v)) => Ok(Some(Self::decode_entry(&v)?.log_id)),
        }
    }
}

impl<C: StoreConfig> RaftLogReader<C> for LogStore<C> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, StorageError<NodeId>> {
        let start = match range.start_bound() {
            Bound::Included(i) => *i,
            Bound::Excluded(i) => i.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(i) => Some(i.saturating_add(1)),
            Bound::Excluded(i) => Some(*i),
            Bound::Unbounded => None,
        };
        let iter = match end {
            Some(end) if end <= start => return Ok(Vec::new()),
            Some(end) => self.db.log.range(index_key(start)..index_key(end)),
            None => self.db.log.range(index_key(start)..),
        };
        let mut out = Vec::new();
        for kv in iter {
            let (_, v) = kv.map_err(read_err)?;
            out.push(Self::decode_entry(&v)?);
        }
        Ok(out)
    }
}

impl<C: StoreConfig> RaftLogStorage<C> for LogStore<C> {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, StorageError<NodeId>> {
        let last_purged_log_id = self.last_purged()?;
        // max, not `or`: an interrupted purge (see `purge`) can leave entries below
        // `last_purged`, and when it purged past the end of the log (openraft purges up to an
        // installed snapshot) those leftovers must not pull `last_log_id` below it.
        let last_log_id = self.last_entry_id()?.max(last_purged_log_id);
        Ok(LogState { last_purged_log_id, last_log_id })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let werr = |e: std::io::Error| -> StorageError<NodeId> { StorageIOError::write_vote(io_err(e)).into() };
        self.db
            .meta
            .insert(META_VOTE, encode_versioned(vote))
            .map_err(|e| StorageError::from(StorageIOError::write_vote(io_err(e))))?;
        self.db.sync().await.map_err(werr)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        self.read_meta(META_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> Result<(), StorageError<NodeId>> {
        // No barrier needed: a lost `committed` only means entries are re-applied later.
        self.db.meta.insert(META_COMMITTED, encode_versioned(&committed)).map_err(write_err)?;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        Ok(self.read_meta::<Option<LogId<NodeId>>>(META_COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<C>) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = sled::Batch::default();
        for entry in entries {
            batch.insert(&index_key(entry.log_id.index), encode_versioned(&entry));
        }
        self.db.log.apply_batch(batch).map_err(write_err)?;
        // Entries are readable now; they are durable only after the barrier.
        let res = self.db.sync().await;
        let ret = res.as_ref().map(|_| ()).map_err(|e| write_err(std::io::Error::new(e.kind(), e.to_string())));
        callback.log_io_completed(res);
        ret
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        tracing::debug!(index = log_id.index, "Truncating log.");
        let mut batch = sled::Batch::default();
        for kv in self.db.log.range(index_key(log_id.index)..) {
            let (k, _) = kv.map_err(read_err)?;
            batch.remove(k);
        }
        self.db.log.apply_batch(batch).map_err(write_err)?;
        self.db.sync().await.map_err(write_err)
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        tracing::debug!(index = log_id.index, "Purging log.");
        // `last_purged` first: sled recovers writes in order, so a crash can leave extra
        // entries below it (harmless) but never a hole above it.
        self.db.meta.insert(META_PURGED, encode_versioned(&log_id)).map_err(write_err)?;
        let mut batch = sled::Batch::default();
        for kv in self.db.log.range(..=index_key(log_id.index)) {
            let (k, _) = kv.map_err(read_err)?;
            batch.remove(k);
        }
        self.db.log.apply_batch(batch).map_err(write_err)?;
        self.db.sync().await.map_err(write_err)
    }
}

// ---------------------------------------------------------------------------------------------
// State machine
// ---------------------------------------------------------------------------------------------

/// The applied state plus Raft's bookkeeping, as readers see it.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub state: State,
    pub last_applied: Option<LogId<NodeId>>,
    pub membership: StoredMembership<NodeId, BasicNode>,
    /// Log index of the last entry that changed what placement depends on
    /// ([`Command::changes_layout`], membership); the planner skips rounds while it and the
    /// members' liveness stay as they were in a round that had nothing to do.
    pub layout_index: u64,
    /// Log index of the last entry that can change what a node runs ([`Command::affects_units`],
    /// membership): a worker reconciles only when it moves.
    pub units_index: u64,
}

/// Read access to the applied state for the layers above (REST, coordinator, worker).
#[derive(Clone)]
pub struct StateHandle {
    inner: Arc<RwLock<Applied>>,
    applied_rx: watch::Receiver<u64>,
}

impl StateHandle {
    /// Run `f` on the current applied state.
    pub fn read<T>(&self, f: impl FnOnce(&Applied) -> T) -> T {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    /// See [`Applied::layout_index`].
    pub fn layout_index(&self) -> u64 {
        self.read(|a| a.layout_index)
    }

    /// See [`Applied::units_index`].
    pub fn units_index(&self) -> u64 {
        self.read(|a| a.units_index)
    }

    /// A watch of the last applied log index (0 before anything is applied).
    pub fn applied_watch(&self) -> watch::Receiver<u64> {
        self.applied_rx.clone()
    }

    /// Wait until the state has applied `index`.
    pub async fn wait_applied(&self, index: u64) {
        let mut rx = self.applied_rx.clone();
        // An Err means the state machine was dropped: nothing more will be applied.
        let _ = rx.wait_for(|applied| *applied >= index).await;
    }
}

/// What a snapshot file holds.
#[derive(Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, BasicNode>,
    data: Vec<u8>,
}

/// The body of a snapshot (`Snapshot::snapshot`): version byte + bincode of this.
#[derive(Serialize, Deserialize)]
struct SnapshotBody {
    state: State,
}

/// Decode a snapshot body. The network layer calls this before installing, so a corrupt or
/// incompatible snapshot is refused instead of stopping the node.
pub fn validate_snapshot_data(data: &[u8]) -> Result<(), codec::CodecError> {
    decode_versioned::<SnapshotBody>(data).map(|_| ())
}

fn read_snapshot_file(dir: &Path) -> std::io::Result<Option<StoredSnapshot>> {
    match std::fs::read(dir.join(SNAPSHOT_FILE)) {
        Ok(bytes) => decode_versioned(&bytes).map(Some).map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Write the snapshot file atomically: temp file, fsync, rename, fsync the directory.
fn write_snapshot_file(dir: &Path, stored: &StoredSnapshot) -> std::io::Result<()> {
    let tmp = dir.join(format!("{SNAPSHOT_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&encode_versioned(stored))?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(SNAPSHOT_FILE))?;
    std::fs::File::open(dir)?.sync_all()
}

pub struct StateMachine<C> {
    db: Arc<Db>,
    applied: Arc<RwLock<Applied>>,
    applied_tx: Arc<watch::Sender<u64>>,
    snapshot_seq: u64,
    _c: PhantomData<C>,
}

fn sm_write_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageIOError::write_state_machine(io_err(e)).into()
}

fn snap_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageError::from_io_error(ErrorSubject::Snapshot(None), ErrorVerb::Write, std::io::Error::other(e.to_string()))
}

impl<C: StoreConfig> StateMachine<C> {
    fn load(db: Arc<Db>) -> Result<Self, OpenError> {
        let corrupt = |what: &str| {
            let what = what.to_string();
            move |source| OpenError::Corrupt { what: what.clone(), source }
        };
        let mut applied = Applied::default();
        for kv in db.sm.scan_prefix([keys::KEY_PREFIX]) {
            let (k, v) = kv?;
            load_into(&mut applied.state, &k, &v).map_err(corrupt("state"))?;
        }
        if let Some(v) = db.sm.get(SM_APPLIED)? {
            applied.last_applied = decode_versioned(&v).map_err(corrupt("applied"))?;
        }
        if let Some(v) = db.sm.get(SM_MEMBERSHIP)? {
            applied.membership = decode_versioned(&v).map_err(corrupt("membership"))?;
        }
        let index = applied.last_applied.map(|l| l.index).unwrap_or(0);
        applied.layout_index = index;
        applied.units_index = index;
        let sm = StateMachine {
            db,
            applied: Arc::new(RwLock::new(applied)),
            applied_tx: Arc::new(watch::channel(index).0),
            snapshot_seq: 0,
            _c: PhantomData,
        };
        // Repair a crash between "snapshot file written" and "state replaced".
        if let Some(stored) = read_snapshot_file(&sm.db.dir)
            .map_err(|source| OpenError::Io { path: sm.db.dir.join(SNAPSHOT_FILE), source })?
        {
            let current = sm.read_applied().last_applied;
            if stored.meta.last_log_id > current {
                tracing::warn!(
                    snapshot = ?stored.meta.last_log_id,
                    applied = ?current,
                    "State machine is behind its snapshot; restoring it from the snapshot."
                );
                let body: SnapshotBody = decode_versioned(&stored.data).map_err(corrupt("snapshot"))?;
                sm.replace_state(&stored.meta, body.state).map_err(|e| OpenError::Io {
                    path: sm.db.dir.clone(),
                    source: std::io::Error::other(e.to_string()),
                })?;
            }
        }
        Ok(sm)
    }

    /// A read handle onto the applied state.
    pub fn handle(&self) -> StateHandle {
        StateHandle { inner: self.applied.clone(), applied_rx: self.applied_tx.subscribe() }
    }

    fn read_applied(&self) -> std::sync::RwLockReadGuard<'_, Applied> {
        self.applied.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_applied(&self) -> std::sync::RwLockWriteGuard<'_, Applied> {
        self.applied.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Replace the whole state (keys absent from `state` are removed) in one batch.
    fn replace_state(&self, meta: &SnapshotMeta<NodeId, BasicNode>, state: State) -> Result<(), sled::Error> {
        let mut batch = sled::Batch::default();
        for kv in self.db.sm.iter() {
            let (k, _) = kv?;
            batch.remove(k);
        }
        for key in all_keys(&state) {
            if let Some(v) = encode_value(&state, &key) {
                batch.insert(encode_key(&key), v);
            }
        }
        batch.insert(SM_APPLIED, encode_versioned(&meta.last_log_id));
        batch.insert(SM_MEMBERSHIP, encode_versioned(&meta.last_membership));
        self.db.sm.apply_batch(batch)?;
        let mut applied = self.write_applied();
        applied.state = state;
        applied.last_applied = meta.last_log_id;
        applied.membership = meta.last_membership.clone();
        applied.layout_index = meta.last_log_id.map(|l| l.index).unwrap_or(0);
        applied.units_index = applied.layout_index;
        self.applied_tx.send_replace(meta.last_log_id.map(|l| l.index).unwrap_or(0));
        Ok(())
    }
}

/// A consistent copy of the state, taken in order with `apply`, from which a snapshot is built.
pub struct SnapshotBuilder<C> {
    db: Arc<Db>,
    copy: Applied,
    seq: u64,
    _c: PhantomData<C>,
}

impl<C: StoreConfig> RaftSnapshotBuilder<C> for SnapshotBuilder<C> {
    async fn build_snapshot(&mut self) -> Result<Snapshot<C>, StorageError<NodeId>> {
        // Make the state machine durable up to `applied` before a snapshot (and so a purge)
        // can exist.
        self.db.sync().await.map_err(snap_err)?;
        let data = encode_versioned(&SnapshotBody { state: self.copy.state.clone() });
        let last = self.copy.last_applied;
        let snapshot_id = match last {
            Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, self.seq),
            None => format!("0-0-{}", self.seq),
        };
        let meta = SnapshotMeta { last_log_id: last, last_membership: self.copy.membership.clone(), snapshot_id };
        let stored = StoredSnapshot { meta: meta.clone(), data };
        write_snapshot_file(&self.db.dir, &stored).map_err(snap_err)?;
        tracing::info!(last_log_id = ?meta.last_log_id, bytes = stored.data.len(), "Built snapshot.");
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(stored.data)) })
    }
}

impl<C: StoreConfig> RaftStateMachine<C> for StateMachine<C> {
    type SnapshotBuilder = SnapshotBuilder<C>;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>), StorageError<NodeId>> {
        let a = self.read_applied();
        Ok((a.last_applied, a.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut responses = Vec::new();
        let mut dirty = DirtyKeys::new();
        let mut guard = self.write_applied();
        let applied = &mut *guard;
        let mut membership_changed = false;
        for entry in entries {
            applied.last_applied = Some(entry.log_id);
            let resp = match entry.payload {
                EntryPayload::Blank => Response::Applied,
                EntryPayload::Normal(ref cmd) => {
                    if cmd.changes_layout() {
                        applied.layout_index = entry.log_id.index;
                    }
                    if cmd.affects_units() {
                        applied.units_index = entry.log_id.index;
                    }
                    applied.state.apply(entry.log_id.index, cmd, &mut dirty)
                }
                EntryPayload::Membership(ref m) => {
                    applied.layout_index = entry.log_id.index;
                    applied.units_index = entry.log_id.index;
                    applied.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                    membership_changed = true;
                    Response::Applied
                }
            };
            responses.push(resp);
        }
        let mut batch = sled::Batch::default();
        for key in &dirty {
            match encode_value(&applied.state, key) {
                Some(v) => batch.insert(encode_key(key), v),
                None => batch.remove(encode_key(key)),
            }
        }
        batch.insert(SM_APPLIED, encode_versioned(&applied.last_applied));
        if membership_changed {
            batch.insert(SM_MEMBERSHIP, encode_versioned(&applied.membership));
        }
        let index = applied.last_applied.map(|l| l.index).unwrap_or(0);
        drop(guard);
        self.db.sm.apply_batch(batch).map_err(sm_write_err)?;
        self.applied_tx.send_replace(index);
        Ok(responses)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.snapshot_seq += 1;
        SnapshotBuilder {
            db: self.db.clone(),
            copy: self.read_applied().clone(),
            seq: self.snapshot_seq,
            _c: PhantomData,
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let data = snapshot.into_inner();
        let body: SnapshotBody = decode_versioned(&data).map_err(snap_err)?;
        tracing::info!(last_log_id = ?meta.last_log_id, bytes = data.len(), "Installing snapshot.");
        write_snapshot_file(&self.db.dir, &StoredSnapshot { meta: meta.clone(), data }).map_err(snap_err)?;
        self.replace_state(meta, body.state).map_err(sm_write_err)?;
        self.db.sync().await.map_err(sm_write_err)
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<C>>, StorageError<NodeId>> {
        let stored = read_snapshot_file(&self.db.dir).map_err(snap_err)?;
        Ok(stored.map(|s| Snapshot { meta: s.meta, snapshot: Box::new(Cursor::new(s.data)) }))
    }
}

#[cfg(test)]
mod tests {
    use openraft::testing::log_id;

    use super::*;
    use crate::model::keys::tests::half_staged;
    use crate::model::TaskConfigs;

    openraft::declare_raft_types!(
        TestConfig:
            D = Command,
            R = Response,
            NodeId = NodeId,
            Node = BasicNode,
            Entry = Entry<TestConfig>,
            SnapshotData = Cursor<Vec<u8>>,
            AsyncRuntime = openraft::TokioRuntime,
    );

    #[tokio::test]
    async fn staged_parts_survive_reopening_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let entries: Vec<Entry<TestConfig>> = half_staged()
            .into_iter()
            .zip(1..)
            .map(|(cmd, i)| Entry { log_id: log_id(1, 1, i), payload: EntryPayload::Normal(cmd) })
            .collect();
        let before = {
            let (_log, mut sm) = open::<TestConfig>(dir.path()).expect("open");
            let responses = sm.apply(entries).await.expect("apply");
            assert!(responses.iter().all(|r| *r == Response::Applied), "{responses:?}");
            sm.handle().read(|a| a.state.clone())
        };
        assert_eq!(before.staged_task_configs.len(), 1);
        assert_eq!(before.staged_sink_partitions.len(), 1);
        let (_log, mut sm) = open::<TestConfig>(dir.path()).expect("reopen");
        assert_eq!(sm.handle().read(|a| a.state.clone()), before);
        // The staging goes on where it stopped: the last part installs the configs.
        let last = Command::PutTaskConfigsPart { connector: "c".into(), epoch: 2, part: 1, parts: 2, configs: vec![] };
        let r =
            sm.apply([Entry { log_id: log_id(1, 1, 6), payload: EntryPayload::Normal(last) }]).await.expect("apply");
        assert_eq!(r, vec![Response::Applied]);
        let configs = sm.handle().read(|a| a.state.task_configs["c"].clone());
        assert_eq!(configs, TaskConfigs { configs: before.staged_task_configs["c"].configs.clone(), generation: 6 });
    }
}
