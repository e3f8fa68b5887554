//! The worker: runs on every node and makes the units running here match the assignment in
//! the replicated state. It plans nothing.
//!
//! - One supervised tokio task per connector or task unit. Calls into plugin code run on the
//!   blocking pool under timeouts, so a connector stuck in `start` stalls nothing else.
//! - A unit runs under the epoch of its assignment; every status and task-config write carries
//!   it, and `apply` rejects it once the unit was given to another node.
//! - A revoked unit is stopped and released (`ReleaseUnits`) so the planner can place it.
//! - A node that has not heard from a leader for longer than its lease stops all its units on
//!   its own: it may be partitioned, and its work is given away after the grace
//!   (grace > lease + stop timeout).
//! - Failed units are restarted automatically with exponential backoff (unless disabled); the
//!   restart count and the next attempt are in their status.

pub mod status;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use raftconnect_raft::RaftNode;
use raftconnect_storage::model::{ConfigMap, NodeId, StatusReport, TargetState, TopicPartition, UnitState, WorkUnit};
use raftconnect_storage::{Command, Response, State};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::providers::{self, ConfigProviders};
use crate::dataplane::offsets::TaskKey;
use crate::dataplane::{DataPlane, TaskEnv};
use crate::plugin::api::{self, ConnectError, ConnectorInstance, Lifecycle, SourceTaskContext, Task, TaskInstance};
use crate::plugin::registry;
use status::StatusReporter;

#[derive(Debug, Clone)]
pub struct RestartPolicy {
    pub enabled: bool,
    pub initial: Duration,
    pub max: Duration,
}

impl RestartPolicy {
    /// Delay before restart number `n` (1-based): initial × 2^(n−1), capped.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.saturating_sub(1).min(20));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Stop everything when no leader was heard from for this long.
    pub lease: Duration,
    /// How long a unit gets to stop before it is abandoned.
    pub stop_timeout: Duration,
    /// How long `start` / `task_configs` of a plugin may take before the unit fails.
    pub call_timeout: Duration,
    /// How often a running unit is checked.
    pub check_interval: Duration,
    pub restart: RestartPolicy,
}

/// What the worker knows about a unit it runs (for `GET /cluster/worker` and tests).
#[derive(Debug, Clone, Serialize)]
pub struct UnitStat {
    pub unit: String,
    pub epoch: u64,
    pub running: bool,
    /// How many times this process started the unit.
    pub starts: u64,
}

/// Shared view of the worker's units.
#[derive(Default)]
pub struct WorkerStats {
    units: Mutex<BTreeMap<String, UnitStat>>,
}

impl WorkerStats {
    pub fn snapshot(&self) -> Vec<UnitStat> {
        self.units.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    fn started(&self, unit: &WorkUnit, epoch: u64) {
        let mut m = self.units.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(unit.to_string()).or_insert_with(|| UnitStat {
            unit: unit.to_string(),
            epoch,
            running: true,
            starts: 0,
        });
        e.starts += 1;
        e.epoch = epoch;
        e.running = true;
    }

    fn stopped(&self, unit: &WorkUnit) {
        if let Some(e) = self.units.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&unit.to_string()) {
            e.running = false;
        }
    }
}

/// Everything a unit needs to run, taken from the state when it starts.
#[derive(Clone)]
struct UnitSpec {
    unit: WorkUnit,
    epoch: u64,
    /// Connector: its config's `updated_index`; task: its task configs' generation.
    version: u64,
    plugin: &'static registry::Plugin,
    /// The connector's config (for a task: its task config), as stored: config-provider
    /// placeholders are resolved only when the unit starts, into a copy kept in memory.
    config: ConfigMap,
    /// For a task: its connector's config (converters, client overrides).
    connector_config: ConfigMap,
    /// For a sink task that moves data: the topic-partitions the leader spread to it. They
    /// change while the task runs (new partitions or topics), without a restart.
    partitions: Option<Vec<TopicPartition>>,
}

struct UnitHandle {
    spec: UnitSpec,
    target: watch::Sender<TargetState>,
    partitions: watch::Sender<Vec<TopicPartition>>,
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The version a unit runs under (see [`UnitSpec::version`]), if it can run at all.
fn version_of(state: &State, unit: &WorkUnit) -> Option<u64> {
    let c = state.connectors.get(unit.connector())?;
    match unit {
        WorkUnit::Connector(_) => Some(c.updated_index),
        WorkUnit::Task { task, .. } => {
            let tc = state.task_configs.get(unit.connector())?;
            ((*task as usize) < tc.configs.len()).then(|| tc.generation.max(c.updated_index))
        }
    }
}

/// What a reconcile round wants of a unit assigned here.
enum Wanted {
    /// Not running here under this epoch and version: start it (after stopping an old run).
    Start(Box<UnitSpec>),
    /// Running as it should; a sink task's partitions when they changed.
    Keep { partitions: Option<Vec<TopicPartition>> },
}

/// A unit's spec and target state from the state, if it is assigned to `me` and can run here.
fn spec_of(state: &State, me: NodeId, unit: &WorkUnit) -> Option<(UnitSpec, TargetState, bool)> {
    let a = state.assignments.get(unit).filter(|a| a.node == me)?;
    let c = state.connectors.get(unit.connector())?;
    let plugin = c.config.get("connector.class").and_then(|cl| registry::connector(cl))?;
    plugin.connector_runtime()?;
    let mut partitions = None;
    let (version, config) = match unit {
        WorkUnit::Connector(_) => (c.updated_index, c.config.clone()),
        WorkUnit::Task { task, .. } => {
            let tc = state.task_configs.get(unit.connector())?;
            if plugin.connector_runtime().is_some_and(|rt| rt.kind == api::TaskKind::Sink) {
                // The leader's spread for these task configs; none yet: no partitions yet.
                let spread = state.sink_partitions.get(unit.connector());
                let mine = spread.and_then(|s| s.of_task(tc.generation, *task)).map(<[_]>::to_vec);
                partitions = Some(mine.unwrap_or_default());
            }
            // A task also restarts when only its connector's config changed (converters,
            // client overrides, error tolerance), even if its task config did not.
            (tc.generation.max(c.updated_index), tc.configs.get(*task as usize)?.clone())
        }
    };
    let spec = UnitSpec {
        unit: unit.clone(),
        epoch: a.epoch,
        version,
        plugin,
        config,
        connector_config: c.config.clone(),
        partitions,
    };
    Some((spec, c.target_state, a.revoking))
}

pub struct Worker {
    node: Arc<RaftNode>,
    settings: WorkerSettings,
    plane: Arc<DataPlane>,
    reporter: Arc<StatusReporter>,
    pub stats: Arc<WorkerStats>,
    shutdown: watch::Sender<bool>,
}

impl Worker {
    pub fn new(node: Arc<RaftNode>, settings: WorkerSettings, plane: Arc<DataPlane>) -> Arc<Self> {
        Arc::new(Self {
            reporter: StatusReporter::new(node.clone()),
            node,
            settings,
            plane,
            stats: Arc::new(WorkerStats::default()),
            shutdown: watch::channel(false).0,
        })
    }

    /// Ask the run loop to stop every unit, release them and return.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// The reconcile loop; returns after a shutdown was requested and the units were released.
    pub async fn run(self: Arc<Self>) {
        let me = self.node.id;
        // Statuses of every unit here go to Raft in a few batched entries.
        tokio::spawn(self.reporter.clone().run());
        let mut applied = self.node.state().applied_watch();
        let mut shutdown = self.shutdown.subscribe();
        let mut units: HashMap<WorkUnit, UnitHandle> = HashMap::new();
        // Restart requests already in the state when we start are not replayed.
        let mut handled: BTreeMap<WorkUnit, u64> = self.node.state().read(|a| a.state.restarts.clone());
        let mut lease_lost = false;
        // Reconcile only when something a unit depends on changed (`units_index`: not the
        // statuses and offsets that make up most of the log), or every second, and at most
        // every 20 ms however fast entries come: a round is linear in the units assigned here.
        let mut reconciled: Option<(u64, std::time::Instant)> = None;
        // …and at least eight times as far apart as reading the state took last time.
        let mut spacing = Duration::from_millis(20);
        loop {
            tokio::select! {
                _ = applied.changed() => {}
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            if *shutdown.borrow() {
                let released = self.stop_units(&mut units, |_| true).await;
                self.release(released).await;
                return;
            }
            if !self.node.within_lease(self.settings.lease) {
                if !units.is_empty() {
                    tracing::warn!(
                        lease_ms = self.settings.lease.as_millis() as u64,
                        units = units.len(),
                        "No leader heard from within the lease; stopping every unit on this node."
                    );
                    // Nothing can be committed now and the work may already run elsewhere:
                    // tasks drop what is in flight instead of flushing it.
                    self.plane.set_abandon(true);
                    self.stop_units(&mut units, |_| true).await;
                }
                lease_lost = true;
                continue;
            }
            if lease_lost {
                tracing::info!("Leader heard from again; resuming assigned work.");
                self.plane.set_abandon(false);
                lease_lost = false;
                reconciled = None;
            }
            if let Some((index, at)) = reconciled {
                if index == self.node.state().units_index() && at.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                let gap = spacing.saturating_sub(at.elapsed());
                if !gap.is_zero() {
                    tokio::time::sleep(gap).await;
                }
            }

            // What should run here, from the state: a full spec only for what starts.
            let read_at = std::time::Instant::now();
            let (index, wanted, restarts, revoking_here) = self.node.state().read(|a| {
                let st = &a.state;
                // Restart requests (KIP-745) not handled yet: `apply` marked each unit to
                // restart with the request's index; a marked unit running here starts again.
                let restarts: Vec<(WorkUnit, u64)> = st
                    .restarts
                    .iter()
                    .filter(|(u, index)| handled.get(*u) != Some(*index))
                    .map(|(u, index)| (u.clone(), *index))
                    .collect();
                let restart: HashSet<&WorkUnit> = restarts.iter().map(|(u, _)| u).collect();
                let mut wanted: HashMap<WorkUnit, (Wanted, TargetState, bool)> = HashMap::new();
                for (u, asg) in st.assignments.iter().filter(|(_, asg)| asg.node == me) {
                    let running = units.get(u).filter(|h| {
                        h.spec.epoch == asg.epoch && version_of(st, u) == Some(h.spec.version) && !restart.contains(u)
                    });
                    let Some(h) = running else {
                        if let Some((spec, target, revoking)) = spec_of(st, me, u) {
                            wanted.insert(u.clone(), (Wanted::Start(Box::new(spec)), target, revoking));
                        }
                        continue;
                    };
                    let Some(c) = st.connectors.get(u.connector()) else { continue };
                    let partitions = match (u, &h.spec.partitions) {
                        (WorkUnit::Task { task, .. }, Some(_)) => {
                            let generation = st.task_configs.get(u.connector()).map(|t| t.generation);
                            let now = generation
                                .and_then(|g| st.sink_partitions.get(u.connector()).and_then(|s| s.of_task(g, *task)))
                                .unwrap_or(&[]);
                            (*h.partitions.borrow() != now).then(|| now.to_vec())
                        }
                        _ => None,
                    };
                    wanted.insert(u.clone(), (Wanted::Keep { partitions }, c.target_state, asg.revoking));
                }
                // Units revoked from this node, with their epoch: including tasks of a connector
                // that was STOPPED (no spec any more, but a final commit to make).
                let revoking_here: HashMap<WorkUnit, u64> = st
                    .assignments
                    .iter()
                    .filter(|(_, asg)| asg.node == me && asg.revoking)
                    .map(|(u, asg)| (u.clone(), asg.epoch))
                    .collect();
                (a.units_index, wanted, restarts, revoking_here)
            });
            reconciled = Some((index, std::time::Instant::now()));
            spacing = Duration::from_millis(20).max(8 * read_at.elapsed());

            let mut restarting: HashSet<WorkUnit> = HashSet::new();
            for (u, index) in restarts {
                if units.contains_key(&u) {
                    restarting.insert(u.clone());
                }
                handled.insert(u, index);
            }
            if !restarting.is_empty() {
                tracing::info!(units = ?restarting.iter().map(ToString::to_string).collect::<Vec<_>>(), "Restarting on request.");
            }

            // Stop what is no longer ours, or ours under another epoch or version, or to restart;
            // release revoked.
            let mut revoked = Vec::new();
            let stale = |u: &WorkUnit| match wanted.get(u) {
                None => true,
                Some((Wanted::Start(_), _, _)) => true,
                Some((Wanted::Keep { .. }, _, revoking)) => *revoking,
            };
            let to_stop: HashSet<WorkUnit> = units.keys().filter(|u| stale(u)).cloned().collect();
            if !to_stop.is_empty() {
                let stopped = self.stop_units(&mut units, |u| to_stop.contains(u)).await;
                revoked.extend(stopped.into_iter().filter(|(u, e)| revoking_here.get(u) == Some(e)));
            }
            // A revoked unit we were not running is released at once.
            let released: HashSet<WorkUnit> = revoked.iter().map(|(u, _)| u.clone()).collect();
            for (u, epoch) in &revoking_here {
                if !units.contains_key(u) && !released.contains(u) {
                    revoked.push((u.clone(), *epoch));
                }
            }
            self.release(revoked).await;

            // Start what is ours and not running; pass target-state changes to the rest.
            for (u, (want, target, revoking)) in wanted {
                if revoking {
                    continue;
                }
                match (units.get(&u), want) {
                    (Some(h), Wanted::Keep { partitions }) => {
                        h.target.send_if_modified(|t| {
                            let changed = *t != target;
                            *t = target;
                            changed
                        });
                        if let Some(p) = partitions {
                            h.partitions.send_replace(p);
                        }
                    }
                    (None, Wanted::Start(spec)) => {
                        let handle = self.start_unit(*spec, target, restarting.contains(&u));
                        units.insert(u, handle);
                    }
                    // Neither happens: a unit to start was stopped above, and one kept is running.
                    (None, Wanted::Keep { .. }) | (Some(_), Wanted::Start(_)) => {}
                }
            }
        }
    }

    fn start_unit(&self, spec: UnitSpec, target: TargetState, restarting: bool) -> UnitHandle {
        let (target_tx, target_rx) = watch::channel(target);
        let (partitions_tx, partitions_rx) = watch::channel(spec.partitions.clone().unwrap_or_default());
        let (stop_tx, stop_rx) = watch::channel(false);
        self.stats.started(&spec.unit, spec.epoch);
        tracing::info!(unit = %spec.unit, epoch = spec.epoch, "Starting unit.");
        let sup = Supervisor {
            node: self.node.clone(),
            settings: self.settings.clone(),
            spec: spec.clone(),
            plane: self.plane.clone(),
            reporter: self.reporter.clone(),
            secrets: Mutex::new(Secrets::of(&spec.config).chain(&spec.connector_config)),
        };
        let join = tokio::spawn(sup.run(target_rx, stop_rx, partitions_rx, restarting));
        UnitHandle { spec, target: target_tx, partitions: partitions_tx, stop: stop_tx, join }
    }

    /// Stop the matching units (all at once); returns them with the epoch they ran under. A
    /// unit stops doing work within the stop timeout; a task then gets up to the offset flush
    /// timeout for its final flush and as long again for its final commit.
    async fn stop_units(
        &self,
        units: &mut HashMap<WorkUnit, UnitHandle>,
        which: impl Fn(&WorkUnit) -> bool,
    ) -> Vec<(WorkUnit, u64)> {
        let keys: Vec<WorkUnit> = units.keys().filter(|u| which(u)).cloned().collect();
        let handles: Vec<UnitHandle> = keys.iter().filter_map(|k| units.remove(k)).collect();
        for h in &handles {
            h.stop.send_replace(true);
        }
        let deadline =
            tokio::time::Instant::now() + self.settings.stop_timeout + 2 * self.plane.worker.offset_flush_timeout;
        let mut out = Vec::new();
        for mut h in handles {
            if tokio::time::timeout_at(deadline, &mut h.join).await.is_err() {
                tracing::warn!(unit = %h.spec.unit, "Unit did not stop within the stop timeout; abandoning it.");
                h.join.abort();
            }
            self.stats.stopped(&h.spec.unit);
            out.push((h.spec.unit.clone(), h.spec.epoch));
        }
        out
    }

    async fn release(&self, units: Vec<(WorkUnit, u64)>) {
        if units.is_empty() {
            return;
        }
        tracing::info!(units = ?units.iter().map(|(u, _)| u.to_string()).collect::<Vec<_>>(), "Releasing units.");
        if let Err(e) = self.node.write_all(Command::ReleaseUnits { node: self.node.id, units }).await {
            tracing::warn!(error = %e, "Could not release units; they move after the grace instead.");
        }
    }
}

/// The life of one unit: start, run, report, fail and restart with backoff, stop.
struct Supervisor {
    node: Arc<RaftNode>,
    settings: WorkerSettings,
    spec: UnitSpec,
    plane: Arc<DataPlane>,
    reporter: Arc<StatusReporter>,
    /// Values this unit's traces and logs must never show (see [`Secrets`]).
    secrets: Mutex<Secrets>,
}

/// The secret values of a unit's configs: those of secret-looking keys, and every value a
/// config provider resolved. A failure's message may quote a config value (a driver error, a
/// URL); before it becomes a status trace or a log line, each of these is replaced by
/// `[hidden]`.
#[derive(Default)]
struct Secrets(std::collections::BTreeSet<String>);

impl Secrets {
    /// Shorter values would hide ordinary words of a message.
    const MIN_LEN: usize = 4;

    fn of(config: &ConfigMap) -> Self {
        let mut s = Self::default();
        s.add_secret_keys(config);
        s
    }

    fn chain(mut self, config: &ConfigMap) -> Self {
        self.add_secret_keys(config);
        self
    }

    fn add_secret_keys(&mut self, config: &ConfigMap) {
        for (k, v) in config {
            if raftconnect_storage::view::is_secret_key(k) {
                self.add(v);
            }
        }
    }

    fn add(&mut self, value: &str) {
        if value.len() >= Self::MIN_LEN && !providers::has_placeholder(value) {
            self.0.insert(value.to_string());
        }
    }

    fn scrub(&self, text: &str) -> String {
        // Longest first, so that a secret containing another is hidden whole.
        let mut values: Vec<&String> = self.0.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.iter().fold(text.to_string(), |t, v| t.replace(v.as_str(), raftconnect_storage::view::HIDDEN))
    }
}

/// Why one run of a unit ended.
enum RunEnd {
    Stopped,
    TargetChanged,
    Failed(ConnectError),
}

/// Sets a task loop's stop flag when dropped.
struct StopOnDrop(Arc<crate::dataplane::StopSignal>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// A plugin instance shared with blocking calls.
type Shared<T> = Arc<Mutex<Box<T>>>;

impl Supervisor {
    /// Report a status under this unit's epoch; returns once it was written (or rejected as
    /// stale, or given up on), so a unit never runs while its status says otherwise.
    async fn report(&self, state: UnitState, trace: Option<String>, restarts: u32, next_restart_ms: Option<u64>) {
        let report = StatusReport {
            unit: self.spec.unit.clone(),
            epoch: self.spec.epoch,
            state,
            trace,
            restarts,
            next_restart_ms,
        };
        self.reporter.report(report).await;
    }

    /// `e` with every secret value of this unit hidden.
    fn scrubbed(&self, e: ConnectError) -> ConnectError {
        let secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        if secrets.0.is_empty() {
            return e;
        }
        ConnectError::new(secrets.scrub(&e.message))
    }

    /// Run a blocking plugin call under a timeout.
    async fn call<T, R>(
        &self,
        inst: &Shared<T>,
        timeout: Duration,
        f: impl FnOnce(&mut T) -> Result<R, ConnectError> + Send + 'static,
    ) -> Result<R, ConnectError>
    where
        T: ?Sized + Send + 'static,
        R: Send + 'static,
    {
        let inst = inst.clone();
        let job = tokio::task::spawn_blocking(move || {
            let mut guard = inst.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut **guard)
        });
        match tokio::time::timeout(timeout, job).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(ConnectError::new(format!("plugin call panicked: {e}"))),
            Err(_) => Err(ConnectError::new(format!("plugin call did not return within {} ms", timeout.as_millis()))),
        }
    }

    async fn run(
        self,
        mut target: watch::Receiver<TargetState>,
        mut stop: watch::Receiver<bool>,
        partitions: watch::Receiver<Vec<TopicPartition>>,
        restarting: bool,
    ) {
        let mut restarts = 0u32;
        if restarting {
            // Kafka Connect's `onRestart`: the unit is being restarted on request.
            self.report(UnitState::Restarting, None, 0, None).await;
        }
        loop {
            if *stop.borrow() {
                return;
            }
            let t = *target.borrow_and_update();
            if t != TargetState::Running {
                let state = if t == TargetState::Paused { UnitState::Paused } else { UnitState::Stopped };
                self.report(state, None, restarts, None).await;
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = target.changed() => continue,
                }
            }
            let end = match &self.spec.unit {
                WorkUnit::Connector(_) => self.run_connector(restarts, &mut target, &mut stop).await,
                WorkUnit::Task { .. } => self.run_task(restarts, &mut target, &mut stop, &partitions).await,
            };
            match end {
                RunEnd::Stopped => return,
                RunEnd::TargetChanged => continue,
                RunEnd::Failed(e) => {
                    let e = self.scrubbed(e);
                    tracing::warn!(unit = %self.spec.unit, error = %e, "Unit failed.");
                    if *stop.borrow() {
                        // Failed while being stopped (its final flush): it is going anyway.
                        return;
                    }
                    if !self.settings.restart.enabled {
                        self.report(UnitState::Failed, Some(e.trace()), restarts, None).await;
                        // Stays FAILED until a restart request or a target change.
                        tokio::select! {
                            _ = stop.changed() => return,
                            _ = target.changed() => continue,
                        }
                    }
                    restarts += 1;
                    let delay = self.settings.restart.delay(restarts);
                    self.report(
                        UnitState::Failed,
                        Some(e.trace()),
                        restarts,
                        Some(now_ms() + delay.as_millis() as u64),
                    )
                    .await;
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Wait for stop, a target change, or the next check.
    async fn wait(
        &self,
        target: &mut watch::Receiver<TargetState>,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<RunEnd> {
        tokio::select! {
            _ = stop.changed() => Some(RunEnd::Stopped),
            _ = target.changed() => (*target.borrow() != TargetState::Running).then_some(RunEnd::TargetChanged),
            _ = tokio::time::sleep(self.settings.check_interval) => None,
        }
    }

    async fn run_connector(
        &self,
        restarts: u32,
        target: &mut watch::Receiver<TargetState>,
        stop: &mut watch::Receiver<bool>,
    ) -> RunEnd {
        let Some(rt) = self.spec.plugin.connector_runtime() else {
            return RunEnd::Failed(ConnectError::new("plugin cannot run"));
        };
        // The plugin sees the resolved config; the raw one stays what is stored.
        let config = match self.resolve(&self.spec.config).await {
            Ok(c) => c,
            Err(e) => return RunEnd::Failed(e),
        };
        let inst: Shared<dyn ConnectorInstance> = Arc::new(Mutex::new((rt.connector)()));
        let start_config = config.clone();
        if let Err(e) = self.call(&inst, self.settings.call_timeout, move |c| c.start(&start_config)).await {
            return RunEnd::Failed(e);
        }
        let max = api::tasks_max(&config);
        let published = match self.call(&inst, self.settings.call_timeout, move |c| c.task_configs(max)).await {
            Ok(configs) => {
                // Task configs go to the log with the placeholders, never the resolved values.
                let configs = ConfigProviders::reverse_transform(&self.spec.config, &config, configs);
                self.publish_task_configs(rt.task_class, max, configs).await
            }
            Err(e) => Err(e),
        };
        let end = match published {
            Ok(()) => self.supervise(&inst, restarts, target, stop).await,
            Err(e) => RunEnd::Failed(e),
        };
        self.stop_instance(&inst).await;
        end
    }

    async fn run_task(
        &self,
        restarts: u32,
        target: &mut watch::Receiver<TargetState>,
        stop: &mut watch::Receiver<bool>,
        partitions: &watch::Receiver<Vec<TopicPartition>>,
    ) -> RunEnd {
        let Some(rt) = self.spec.plugin.connector_runtime() else {
            return RunEnd::Failed(ConnectError::new("plugin cannot run"));
        };
        let config = match self.resolve(&self.spec.config).await {
            Ok(c) => c,
            Err(e) => return RunEnd::Failed(e),
        };
        let inst: Shared<dyn TaskInstance> = match (rt.task)() {
            Task::Inert(t) => Arc::new(Mutex::new(t)),
            data => return self.run_data_task(data, config, restarts, target, stop, partitions.clone()).await,
        };
        if let Err(e) = self.call(&inst, self.settings.call_timeout, move |t| t.start(&config)).await {
            return RunEnd::Failed(e);
        }
        let end = self.supervise(&inst, restarts, target, stop).await;
        self.stop_instance(&inst).await;
        end
    }

    /// A task that moves data: its loop runs on its own thread; stopping it sets a flag, and
    /// the loop flushes before it returns. Then its offsets are committed at once.
    async fn run_data_task(
        &self,
        task: Task,
        task_config: ConfigMap,
        restarts: u32,
        target: &mut watch::Receiver<TargetState>,
        stop: &mut watch::Receiver<bool>,
        mut partitions: watch::Receiver<Vec<TopicPartition>>,
    ) -> RunEnd {
        let WorkUnit::Task { connector, task: index } = &self.spec.unit else {
            return RunEnd::Failed(ConnectError::new("not a task"));
        };
        let key = TaskKey::new(connector, *index, self.spec.epoch);
        // Converters and client overrides of the connector config may hold placeholders too.
        let connector_config = match self.resolve(&self.spec.connector_config).await {
            Ok(c) => c,
            Err(e) => return RunEnd::Failed(e),
        };
        // Offsets are read from the local replica: make sure it has applied everything the
        // leader had committed (a previous owner's final commit among it).
        if let Err(e) = self.barrier().await {
            return RunEnd::Failed(e);
        }
        let stop_flag = Arc::new(crate::dataplane::StopSignal::default());
        // However this future ends (returned, or abandoned by the worker), the loop is told.
        let _stop_on_drop = StopOnDrop(stop_flag.clone());
        let env = TaskEnv {
            key: key.clone(),
            connector_config,
            task_config,
            plane: self.plane.clone(),
            stop: stop_flag.clone(),
        };
        let (started_tx, mut started_rx) = tokio::sync::oneshot::channel();
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<Result<(), ConnectError>>();
        let state = self.node.state().clone();
        let body: Box<dyn FnOnce() -> Result<(), ConnectError> + Send> = match task {
            Task::Source(t) => {
                let name = connector.clone();
                let context = SourceTaskContext {
                    connector: connector.clone(),
                    task: *index,
                    offsets: Box::new(move |partition| {
                        let text =
                            state.read(|a| a.state.source_offsets.get(&(name.clone(), partition.to_string())).cloned());
                        text.and_then(|t| serde_json::from_str(&t).ok())
                    }),
                };
                Box::new(move || crate::dataplane::source::run(t, context, &env, started_tx))
            }
            Task::Sink(t) => {
                let name = connector.clone();
                let committed: crate::dataplane::sink::CommittedReader = Box::new(move |tp| {
                    state.read(|a| a.state.sink_offsets.get(&(name.clone(), tp.topic.clone(), tp.partition)).copied())
                });
                // The loop applies the current partitions first, then every change.
                partitions.mark_changed();
                Box::new(move || crate::dataplane::sink::run(t, partitions, committed, &env, started_tx))
            }
            Task::Inert(_) => return RunEnd::Failed(ConnectError::new("not a data task")),
        };
        // A task loop lives as long as the task: its own thread, not the blocking pool (which
        // the plugin calls of every unit share).
        let spawned = std::thread::Builder::new().name(format!("task-{}", self.spec.unit)).spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body))
                .unwrap_or_else(|_| Err(ConnectError::new("task thread panicked")));
            let _ = done_tx.send(r);
        });
        if let Err(e) = spawned {
            return RunEnd::Failed(ConnectError::new(format!("cannot start the task thread: {e}")));
        }
        let joined = |r: Result<Result<(), ConnectError>, tokio::sync::oneshot::error::RecvError>| match r {
            Ok(Ok(())) => ConnectError::new("task loop ended by itself"),
            Ok(Err(e)) => e,
            Err(_) => ConnectError::new("task thread ended without a result"),
        };
        let mut reported = false;
        let end = loop {
            tokio::select! {
                r = &mut started_rx, if !reported => {
                    reported = true;
                    if r.is_ok() {
                        // Report RUNNING, but never at the expense of noticing a stop.
                        tokio::select! {
                            _ = self.report(UnitState::Running, None, restarts, None) => {}
                            _ = stop.changed() => break RunEnd::Stopped,
                        }
                    }
                }
                r = &mut done_rx => break RunEnd::Failed(joined(r)),
                _ = stop.changed() => break RunEnd::Stopped,
                _ = target.changed() => {
                    if *target.borrow() != TargetState::Running {
                        break RunEnd::TargetChanged;
                    }
                }
            }
        };
        if matches!(end, RunEnd::Failed(_)) {
            // The loop is over; what it deposited before failing is still committed.
            self.plane.committer.commit_task(&key, self.plane.abandoning()).await;
            return end;
        }
        // The loop stops polling at once, then flushes (within offset.flush.timeout.ms).
        stop_flag.stop();
        let budget = self.settings.stop_timeout + self.plane.worker.offset_flush_timeout;
        let result = match tokio::time::timeout(budget, &mut done_rx).await {
            Ok(r) => r.map_err(|_| ConnectError::new("task thread ended without a result")).and_then(|r| r),
            Err(_) => Err(ConnectError::new(format!("the task did not stop within {} ms", budget.as_millis()))),
        };
        self.plane.committer.commit_task(&key, self.plane.abandoning()).await;
        match result {
            Ok(()) => end,
            Err(e) => RunEnd::Failed(e),
        }
    }

    /// `config` with its config-provider placeholders resolved by this node's providers, for
    /// this start of the unit only (never written anywhere). A placeholder that cannot be
    /// resolved fails the unit with the provider's message, which names the key and the
    /// placeholder and no resolved value.
    async fn resolve(&self, config: &ConfigMap) -> Result<ConfigMap, ConnectError> {
        if !config.values().any(|v| providers::has_placeholder(v)) {
            return Ok(config.clone());
        }
        let providers = self.plane.worker.providers.clone();
        let raw = config.clone();
        let config = config.clone();
        let span = tracing::info_span!("resolve", unit = %self.spec.unit);
        // Reading files may block: off the async threads, under the plugin call timeout.
        let job = tokio::task::spawn_blocking(move || span.in_scope(|| providers.resolve(&config)));
        match tokio::time::timeout(self.settings.call_timeout, job).await {
            Ok(Ok(Ok(resolved))) => {
                let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
                secrets.add_secret_keys(&resolved);
                for (k, v) in &resolved {
                    if raw.get(k) != Some(v) {
                        secrets.add(v);
                    }
                }
                Ok(resolved)
            }
            Ok(Ok(Err(e))) => Err(ConnectError::new(e.to_string())),
            Ok(Err(e)) => Err(ConnectError::new(format!("config provider resolution panicked: {e}"))),
            Err(_) => Err(ConnectError::new(format!(
                "config providers did not resolve the config within {} ms",
                self.settings.call_timeout.as_millis()
            ))),
        }
    }

    /// A ReadIndex barrier, retried briefly through an election.
    async fn barrier(&self) -> Result<(), ConnectError> {
        let mut last = None;
        for attempt in 0..20u64 {
            match self.node.linearizable_barrier().await {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(50 + 25 * attempt)).await;
        }
        Err(ConnectError::new(format!(
            "could not read the committed offsets: {}",
            last.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    /// A started instance: report RUNNING, then check it until it fails, is stopped, or its
    /// target state changes.
    async fn supervise<T>(
        &self,
        inst: &Shared<T>,
        restarts: u32,
        target: &mut watch::Receiver<TargetState>,
        stop: &mut watch::Receiver<bool>,
    ) -> RunEnd
    where
        T: ?Sized + Lifecycle + 'static,
    {
        self.report(UnitState::Running, None, restarts, None).await;
        // Started and not in any call: the lock is free.
        let checked = inst.lock().unwrap_or_else(|p| p.into_inner()).needs_check();
        loop {
            if !checked {
                tokio::select! {
                    _ = stop.changed() => return RunEnd::Stopped,
                    _ = target.changed() => {
                        if *target.borrow() != TargetState::Running {
                            return RunEnd::TargetChanged;
                        }
                    }
                }
                continue;
            }
            if let Some(end) = self.wait(target, stop).await {
                return end;
            }
            if let Err(e) = self.call(inst, self.settings.call_timeout, |x| x.check()).await {
                return RunEnd::Failed(e);
            }
        }
    }

    async fn stop_instance<T: ?Sized + Lifecycle + 'static>(&self, inst: &Shared<T>) {
        let _ = self
            .call(inst, self.settings.stop_timeout, |x| {
                x.stop();
                Ok(())
            })
            .await;
    }

    /// Kafka Connect's task configs (§4.7): the connector's output plus `task.class` (and the
    /// sink's topics), written through the leader only when they changed.
    async fn publish_task_configs(
        &self,
        task_class: &str,
        max: usize,
        configs: Vec<ConfigMap>,
    ) -> Result<(), ConnectError> {
        let name = self.spec.unit.connector().to_string();
        if configs.len() > max {
            return Err(ConnectError::new(format!(
                "The connector {name} has generated {} tasks, which is greater than {max}, the maximum number of tasks it is configured to create.",
                configs.len()
            )));
        }
        let sink = self.spec.plugin.ty == registry::PluginType::Sink;
        let configs: Vec<ConfigMap> = configs
            .into_iter()
            .map(|mut c| {
                c.insert("task.class".into(), task_class.to_string());
                if sink {
                    for key in ["topics", "topics.regex"] {
                        if let Some(v) = self.spec.config.get(key) {
                            c.insert(key.into(), v.clone());
                        }
                    }
                }
                c
            })
            .collect();
        // Kafka Connect retries this write forever with backoff (250 ms ×2 up to 60 s); a
        // leader change is routine, not a connector failure. Before each attempt, read the
        // state through the leader: a write whose answer was lost may have applied.
        let mut delay = Duration::from_millis(250);
        loop {
            if self.node.linearizable_barrier().await.is_ok() {
                let current = self
                    .node
                    .state()
                    .read(|a| a.state.task_configs.get(&name).map(|t| (t.configs.clone(), t.generation)));
                // Unchanged configs generated from the current connector config: nothing to write.
                if let Some((existing, generation)) = &current {
                    if *existing == configs && *generation >= self.spec.version {
                        return Ok(());
                    }
                }
                let cmd = Command::PutTaskConfigs {
                    connector: name.clone(),
                    epoch: self.spec.epoch,
                    configs: configs.clone(),
                };
                // Configs too large for one entry go in parts (Kafka Connect: task configs,
                // then the commit record); the last part makes them current.
                match self.node.write_all(cmd).await {
                    Ok(outcomes) => match outcomes.iter().find(|o| !matches!(o.response, Response::Applied)) {
                        None => return Ok(()),
                        // Stale epoch or STOPPED: this instance no longer speaks for the connector.
                        Some(o) => {
                            return Err(ConnectError::new(format!("task configs not accepted: {:?}", o.response)))
                        }
                    },
                    Err(e) => tracing::warn!(connector = %name, error = %e, "Could not write task configs; retrying."),
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_in_failure_messages() {
        let raw: ConfigMap = [("connection.password", "hunter22"), ("connection.url", "jdbc:x"), ("api.token", "abc")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut s = Secrets::of(&raw);
        // Too short to hide; a provider's value is hidden whatever its key.
        s.add("longer-resolved-value");
        let text = s.scrub("login failed for hunter22 at jdbc:x (abc); longer-resolved-value, hunter22");
        assert_eq!(text, "login failed for [hidden] at jdbc:x (abc); [hidden], [hidden]");
        assert_eq!(Secrets::default().scrub("as is"), "as is");
    }
}
