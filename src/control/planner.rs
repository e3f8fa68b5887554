//! The planner: runs on the Raft leader only and decides which node runs which connector and
//! task, from the replicated state and the leader's liveness view alone, so a new leader goes
//! on exactly where the old one stopped.
//!
//! Rules (ARCHITECTURE.md, "Planning"):
//! - a unit stays where it is while its node is reachable, or unreachable for less than the
//!   grace; a node that leaves releases its units itself and they are placed at once; a node
//!   whose port refuses connections has no process left, so its units move at once;
//! - connectors and tasks are balanced apart, as Kafka Connect's assignor does: each reachable
//!   node's share of connectors and of tasks is within one of the others' (the extra tasks go
//!   to nodes without an extra connector, so the totals are within one too);
//! - units without a node (new, released, or on a lost node) are placed at once on nodes below
//!   their share: tasks on the node with the fewest tasks of that connector, then the largest
//!   shortfall;
//! - when nothing is moving, the excess over each node's share is revoked (one cooperative
//!   round: the node stops them, commits and releases them; the next round places them). Units
//!   that need not move are never touched.
//!
//! The planner copies what it needs out of the state ([`PlanInput`]) and plans without a lock;
//! a round whose inputs are those of a round that had nothing to do is skipped.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use raftconnect_raft::RaftNode;
use raftconnect_storage::model::{AssignmentChange, NodeId, TargetState, WorkUnit};
use raftconnect_storage::{Command, State};

/// Planner commands are cut into entries of at most this size (raft-at-scale.md: small
/// entries keep AppendEntries, and so heartbeats, short).
pub const PLAN_COMMAND_BYTES: usize = 32 << 10;

/// The planner's view of one member.
#[derive(Debug, Clone)]
pub struct NodeView {
    pub id: NodeId,
    /// Time since the leader last heard from it (None: never, since this leader took over).
    pub down_for: Option<Duration>,
    pub leaving: bool,
    /// Every RPC since the last success was refused: no process listens there any more.
    pub refused: bool,
}

#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// How long an unreachable node keeps its work (Kafka Connect's
    /// `scheduled.rebalance.max.delay.ms`, 300 s there).
    pub grace: Duration,
    /// A node heard from within this is reachable: new work may be placed on it.
    pub reachable: Duration,
}

/// What a round makes of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeClass {
    /// Reachable and not leaving: keeps its work and gets new work.
    Placeable,
    /// Leaving, or unreachable within the grace: keeps its work, gets none.
    Holding,
    /// Unreachable beyond the grace, refusing connections, or unknown: its work moves.
    Lost,
}

/// Each member's class this round. Silence counts from this leader's election at most:
/// contact times from an earlier leadership, or none at all, say nothing about now.
pub fn classify(nodes: &[NodeView], leader_for: Duration, s: &PlanSettings) -> BTreeMap<NodeId, NodeClass> {
    nodes
        .iter()
        .map(|n| {
            let silence = n.down_for.map(|d| d.min(leader_for)).unwrap_or(leader_for);
            let class = if n.refused || silence > s.grace {
                NodeClass::Lost
            } else if n.leaving || silence > s.reachable {
                NodeClass::Holding
            } else {
                NodeClass::Placeable
            };
            (n.id, class)
        })
        .collect()
}

/// What the planner needs of the state, copied out under the read lock so that planning holds
/// no lock that `apply` or a read needs.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// Connector → its target state and number of task configs.
    pub connectors: BTreeMap<String, (TargetState, u32)>,
    /// Unit → (node, revoking).
    pub assignments: BTreeMap<WorkUnit, (NodeId, bool)>,
}

impl PlanInput {
    pub fn from_state(state: &State) -> Self {
        let connectors = state
            .connectors
            .iter()
            .map(|(name, c)| {
                let tasks = state.task_configs.get(name).map(|t| t.configs.len() as u32).unwrap_or(0);
                (name.clone(), (c.target_state, tasks))
            })
            .collect();
        let assignments = state.assignments.iter().map(|(u, a)| (u.clone(), (a.node, a.revoking))).collect();
        Self { connectors, assignments }
    }

    /// Whether `unit` should exist: every connector (a STOPPED one still has its connector
    /// unit, which reports STOPPED) and the tasks of those not STOPPED.
    fn desired(&self, unit: &WorkUnit) -> bool {
        match unit {
            WorkUnit::Connector(c) => self.connectors.contains_key(c),
            WorkUnit::Task { connector, task } => self
                .connectors
                .get(connector)
                .is_some_and(|(target, tasks)| *target != TargetState::Stopped && task < tasks),
        }
    }

    /// The units that should exist, each connector's units together, connector first.
    fn desired_units(&self) -> impl Iterator<Item = WorkUnit> + '_ {
        self.connectors.iter().flat_map(|(name, (target, tasks))| {
            let tasks = if *target == TargetState::Stopped { 0 } else { *tasks };
            std::iter::once(WorkUnit::Connector(name.clone()))
                .chain((0..tasks).map(move |task| WorkUnit::Task { connector: name.clone(), task }))
        })
    }
}

/// One planning round: the commands to propose (possibly none), each within
/// [`PLAN_COMMAND_BYTES`]. Linear in the units (times the nodes), never quadratic.
pub fn plan_input(input: &PlanInput, classes: &BTreeMap<NodeId, NodeClass>) -> Vec<Command> {
    let class = |id: NodeId| classes.get(&id).copied().unwrap_or(NodeClass::Lost);
    let placeable: Vec<NodeId> =
        classes.iter().filter(|(_, c)| **c == NodeClass::Placeable).map(|(id, _)| *id).collect();
    // Desired units nobody holds: new ones, and released ones.
    let missing: Vec<WorkUnit> = input.desired_units().filter(|u| !input.assignments.contains_key(u)).collect();
    let mut load = Load::new(&placeable);
    let mut changes = Vec::new();
    let mut unplaced: Vec<&WorkUnit> = Vec::new();
    // Units on their way back to be placed (revoked, not yet released), per kind.
    let mut revoking = Counts::default();
    let mut holding = false;

    for (unit, (node, is_revoking)) in &input.assignments {
        let keep = class(*node) != NodeClass::Lost;
        if !input.desired(unit) {
            if *is_revoking && keep {
                // Its node stops it, commits its final offsets and releases it.
                holding = true;
            } else {
                changes.push(AssignmentChange { unit: unit.clone(), node: None });
            }
        } else if !keep {
            unplaced.push(unit);
        } else if *is_revoking {
            revoking.add(unit);
        } else if class(*node) == NodeClass::Placeable {
            load.hold(*node, unit);
        } else {
            holding = true;
        }
    }
    unplaced.extend(missing.iter());
    unplaced.sort_by(|a, b| placement_key(a).cmp(&placement_key(b)));

    let mut total = load.totals();
    total.add_all(unplaced.iter().copied());
    total.connectors += revoking.connectors;
    total.tasks += revoking.tasks;
    let shares = Shares::compute(&load, total);
    for unit in &unplaced {
        if let Some(node) = load.best(unit, &shares) {
            load.add(node, unit);
            changes.push(AssignmentChange { unit: (*unit).clone(), node: Some(node) });
        }
    }

    let mut commands = Vec::new();
    if !changes.is_empty() {
        commands.extend(Command::Assign { changes }.split_to_fit(PLAN_COMMAND_BYTES));
    }
    // Rebalance only in a quiet round: nothing moving, nothing placed, no node in between.
    let quiet = unplaced.is_empty() && revoking.connectors + revoking.tasks == 0 && !holding;
    if quiet && placeable.len() >= 2 {
        let units = load.excess(&shares);
        if !units.is_empty() {
            commands.extend(Command::Revoke { units }.split_to_fit(PLAN_COMMAND_BYTES));
        }
    }
    commands
}

/// The order in which units are placed: each connector's units together, connector first.
fn placement_key(u: &WorkUnit) -> (&str, u8, u32) {
    match u {
        WorkUnit::Connector(c) => (c, 0, 0),
        WorkUnit::Task { connector, task } => (connector, 1, *task),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    connectors: usize,
    tasks: usize,
}

impl Counts {
    fn add(&mut self, unit: &WorkUnit) {
        match unit {
            WorkUnit::Connector(_) => self.connectors += 1,
            WorkUnit::Task { .. } => self.tasks += 1,
        }
    }

    fn add_all<'u>(&mut self, units: impl Iterator<Item = &'u WorkUnit>) {
        for u in units {
            self.add(u);
        }
    }
}

/// What each placeable node holds, and the units it already ran this round (revoke candidates).
struct Load<'a> {
    nodes: BTreeMap<NodeId, Counts>,
    per_connector: HashMap<(NodeId, &'a str), usize>,
    held: BTreeMap<NodeId, Vec<&'a WorkUnit>>,
}

impl<'a> Load<'a> {
    fn new(nodes: &[NodeId]) -> Self {
        Self {
            nodes: nodes.iter().map(|n| (*n, Counts::default())).collect(),
            per_connector: HashMap::new(),
            held: BTreeMap::new(),
        }
    }

    fn hold(&mut self, node: NodeId, unit: &'a WorkUnit) {
        self.add(node, unit);
        self.held.entry(node).or_default().push(unit);
    }

    fn add(&mut self, node: NodeId, unit: &'a WorkUnit) {
        let Some(c) = self.nodes.get_mut(&node) else { return };
        c.add(unit);
        if let WorkUnit::Task { connector, .. } = unit {
            *self.per_connector.entry((node, connector.as_str())).or_default() += 1;
        }
    }

    fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for c in self.nodes.values() {
            t.connectors += c.connectors;
            t.tasks += c.tasks;
        }
        t
    }

    fn of(&self, node: NodeId, connector: &str) -> usize {
        self.per_connector.get(&(node, connector)).copied().unwrap_or(0)
    }

    /// Where `unit` goes: a node below its share if there is one, else the least loaded.
    /// Tasks: fewest tasks of that connector first, so a connector's tasks spread.
    fn best(&self, unit: &WorkUnit, shares: &Shares) -> Option<NodeId> {
        let short = |n: NodeId, c: &Counts| {
            let share = shares.of(n);
            match unit {
                WorkUnit::Connector(_) => share.connectors.saturating_sub(c.connectors),
                WorkUnit::Task { .. } => share.tasks.saturating_sub(c.tasks),
            }
        };
        let nodes = || self.nodes.iter().map(|(n, c)| (*n, c));
        let below: Vec<(NodeId, &Counts)> = nodes().filter(|(n, c)| short(*n, c) > 0).collect();
        let pick = |candidates: &mut dyn Iterator<Item = (NodeId, &Counts)>| match unit {
            WorkUnit::Connector(_) => candidates
                .min_by_key(|(n, c)| (Reverse(short(*n, c)), c.connectors, c.connectors + c.tasks, *n))
                .map(|(n, _)| n),
            WorkUnit::Task { connector, .. } => candidates
                .min_by_key(|(n, c)| (self.of(*n, connector), Reverse(short(*n, c)), c.tasks, *n))
                .map(|(n, _)| n),
        };
        if below.is_empty() {
            pick(&mut nodes())
        } else {
            pick(&mut below.into_iter())
        }
    }

    /// The units to revoke so that every node holds its share: each node's excess connectors
    /// (highest names first) and excess tasks (from the connectors it holds most tasks of).
    fn excess(&self, shares: &Shares) -> Vec<WorkUnit> {
        let mut out = Vec::new();
        // Tasks of each connector on the placeable nodes.
        let mut totals: HashMap<&str, usize> = HashMap::new();
        for ((_, name), n) in &self.per_connector {
            *totals.entry(name).or_default() += n;
        }
        for (node, units) in &self.held {
            let (Some(c), share) = (self.nodes.get(node), shares.of(*node)) else { continue };
            let mut extra_connectors = c.connectors.saturating_sub(share.connectors);
            let extra_tasks = c.tasks.saturating_sub(share.tasks);
            if extra_connectors == 0 && extra_tasks == 0 {
                continue;
            }
            let mut tasks: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
            for u in units.iter().rev() {
                match u {
                    WorkUnit::Connector(_) if extra_connectors > 0 => {
                        extra_connectors -= 1;
                        out.push((*u).clone());
                    }
                    WorkUnit::Connector(_) => {}
                    WorkUnit::Task { connector, task } => tasks.entry(connector).or_default().push(*task),
                }
            }
            // From the connector this node holds most of beyond its fair part (its tasks here ×
            // nodes − its tasks in all, so a connector's tasks end up spread too); task numbers
            // ascending per connector, the highest goes first.
            let nodes = self.nodes.len() as i64;
            let mut heap: BinaryHeap<(i64, Reverse<&str>)> = tasks
                .iter()
                .map(|(name, ts)| {
                    (ts.len() as i64 * nodes - totals.get(name).copied().unwrap_or(0) as i64, Reverse(*name))
                })
                .collect();
            for list in tasks.values_mut() {
                list.sort_unstable();
            }
            for _ in 0..extra_tasks {
                let Some((over, Reverse(name))) = heap.pop() else { break };
                let Some(task) = tasks.get_mut(name).and_then(Vec::pop) else { continue };
                out.push(WorkUnit::Task { connector: name.to_string(), task });
                if tasks.get(name).is_some_and(|l| !l.is_empty()) {
                    heap.push((over - nodes, Reverse(name)));
                }
            }
        }
        out.sort();
        out
    }
}

/// Each placeable node's share of connectors and tasks: the totals spread evenly, the extras
/// to the nodes holding the most already (so a balanced cluster keeps its shape), extra tasks
/// to nodes without an extra connector first (so the totals stay within one).
struct Shares {
    of: BTreeMap<NodeId, Counts>,
}

impl Shares {
    fn compute(load: &Load<'_>, total: Counts) -> Self {
        let n = load.nodes.len();
        let mut of: BTreeMap<NodeId, Counts> = load.nodes.keys().map(|id| (*id, Counts::default())).collect();
        if n == 0 {
            return Self { of };
        }
        let mut order: Vec<(NodeId, Counts)> = load.nodes.iter().map(|(id, c)| (*id, *c)).collect();
        order.sort_by_key(|(id, c)| (Reverse(c.connectors), *id));
        for (i, (id, _)) in order.iter().enumerate() {
            of.entry(*id).or_default().connectors = total.connectors / n + usize::from(i < total.connectors % n);
        }
        let base = total.connectors / n;
        order.sort_by_key(|(id, c)| (of[id].connectors > base, Reverse(c.tasks), *id));
        for (i, (id, _)) in order.iter().enumerate() {
            of.entry(*id).or_default().tasks = total.tasks / n + usize::from(i < total.tasks % n);
        }
        Self { of }
    }

    fn of(&self, node: NodeId) -> Counts {
        self.of.get(&node).copied().unwrap_or_default()
    }
}

/// Planner settings as the node runs them.
#[derive(Debug, Clone)]
pub struct CoordinatorSettings {
    pub plan: PlanSettings,
    /// How often the leader re-plans when nothing changed (liveness changes with time).
    pub tick: Duration,
    /// Rounds are at least this far apart, however fast entries are applied.
    pub min_gap: Duration,
}

/// Run the planner for as long as the node lives; it acts only while the node leads.
pub async fn run(node: Arc<RaftNode>, settings: CoordinatorSettings) {
    let mut applied = node.state().applied_watch();
    let mut leader_since: Option<Instant> = None;
    // The inputs of the last round that had nothing to do: the same inputs need no round.
    let mut quiet: Option<(u64, BTreeMap<NodeId, NodeClass>)> = None;
    let mut last_round = Instant::now();
    // Rounds at least min_gap apart, and at least eight times as long apart as the last one
    // took: planning never takes more than a ninth of a core, however fast entries come.
    let mut spacing = settings.min_gap;
    loop {
        let _ = tokio::time::timeout(settings.tick, applied.changed()).await;
        let gap = spacing.saturating_sub(last_round.elapsed());
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
        let leads = matches!(node.leader(), Some((id, _)) if id == node.id);
        if !leads {
            leader_since = None;
            quiet = None;
            continue;
        }
        let since = *leader_since.get_or_insert_with(Instant::now);
        let Ok(liveness) = node.local_liveness().await else { continue };
        let layout = node.state().layout_index();
        let leaving: Vec<bool> = node
            .state()
            .read(|a| liveness.iter().map(|l| a.state.nodes.get(&l.id).is_some_and(|n| n.leaving)).collect());
        let views: Vec<NodeView> = liveness
            .iter()
            .zip(leaving)
            .map(|(l, leaving)| NodeView {
                id: l.id,
                down_for: l.last_contact_ms.map(Duration::from_millis),
                leaving,
                refused: l.refused,
            })
            .collect();
        let classes = classify(&views, since.elapsed(), &settings.plan);
        if quiet.as_ref().is_some_and(|(l, c)| *l == layout && *c == classes) {
            continue;
        }
        last_round = Instant::now();
        let input = node.state().read(|a| PlanInput::from_state(&a.state));
        let commands = plan_input(&input, &classes);
        spacing = settings.min_gap.max(8 * last_round.elapsed());
        quiet = commands.is_empty().then(|| (layout, classes.clone()));
        for cmd in commands {
            tracing::info!(command = %cmd.kind(), classes = ?classes, "Planner proposes.");
            if let Err(e) = node.write(cmd).await {
                tracing::warn!(error = %e, "Planner write failed; will re-plan.");
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The units that should exist (see [`PlanInput::desired`]).
    fn desired_units(state: &State) -> Vec<WorkUnit> {
        PlanInput::from_state(state).desired_units().collect()
    }

    /// One planning round on the state itself.
    fn plan(state: &State, nodes: &[NodeView], leader_for: Duration, s: &PlanSettings) -> Vec<Command> {
        plan_input(&PlanInput::from_state(state), &classify(nodes, leader_for, s))
    }
    use raftconnect_storage::model::{ConnectorRecord, DirtyKeys, TaskConfigs};

    fn settings() -> PlanSettings {
        PlanSettings { grace: Duration::from_millis(800), reachable: Duration::from_millis(300) }
    }

    fn node(id: NodeId, down_ms: u64) -> NodeView {
        NodeView { id, down_for: Some(Duration::from_millis(down_ms)), leaving: false, refused: false }
    }

    fn state(connectors: &[(&str, usize)]) -> State {
        let mut s = State::default();
        for (name, tasks) in connectors {
            s.connectors.insert(
                name.to_string(),
                ConnectorRecord {
                    config: Default::default(),
                    target_state: TargetState::Running,
                    created_index: 1,
                    updated_index: 1,
                    created_by: String::new(),
                },
            );
            s.task_configs
                .insert(name.to_string(), TaskConfigs { configs: vec![Default::default(); *tasks], generation: 2 });
        }
        s
    }

    /// Apply the plan's commands (as the log would) until the planner is quiet; revoked units
    /// are released at once, as a healthy node does. Returns the rounds and revokes it took.
    fn settle(s: &mut State, nodes: &[NodeView]) -> (usize, usize) {
        let mut index = 100;
        let mut revoked = 0;
        for round in 0..20 {
            let cmds = plan(s, nodes, Duration::from_secs(10), &settings());
            if cmds.is_empty() {
                return (round, revoked);
            }
            for cmd in cmds {
                index += 1;
                let mut dirty = DirtyKeys::new();
                if let Command::Revoke { units } = &cmd {
                    revoked += units.len();
                    // Each holder releases what it was asked to give up.
                    for u in units {
                        let a = s.assignments[u];
                        s.apply(
                            index,
                            &Command::ReleaseUnits { node: a.node, units: vec![(u.clone(), a.epoch)] },
                            &mut dirty,
                        );
                    }
                } else {
                    s.apply(index, &cmd, &mut dirty);
                }
            }
        }
        panic!("the planner never settled");
    }

    fn loads(s: &State) -> BTreeMap<NodeId, usize> {
        let mut l = BTreeMap::new();
        for a in s.assignments.values() {
            *l.entry(a.node).or_default() += 1;
        }
        l
    }

    /// max − min of a per-node count.
    fn spread(nodes: &[NodeId], count: impl Fn(NodeId) -> usize) -> (usize, Vec<usize>) {
        let counts: Vec<usize> = nodes.iter().map(|n| count(*n)).collect();
        (counts.iter().max().unwrap() - counts.iter().min().unwrap(), counts)
    }

    /// Per node: units, connectors and tasks each within one; per connector its tasks within one.
    fn assert_balanced(s: &State, nodes: &[NodeId]) {
        let on = |n: NodeId, f: &dyn Fn(&WorkUnit) -> bool| {
            s.assignments.iter().filter(|(u, a)| a.node == n && f(u)).count()
        };
        let (d, c) = spread(nodes, |n| on(n, &|_| true));
        assert!(d <= 1, "units per node: {c:?}");
        let (d, c) = spread(nodes, |n| on(n, &|u| matches!(u, WorkUnit::Connector(_))));
        assert!(d <= 1, "connectors per node: {c:?}");
        let (d, c) = spread(nodes, |n| on(n, &|u| matches!(u, WorkUnit::Task { .. })));
        assert!(d <= 1, "tasks per node: {c:?}");
        for name in s.connectors.keys() {
            let (d, c) =
                spread(nodes, |n| on(n, &|u| matches!(u, WorkUnit::Task { connector, .. } if connector == name)));
            assert!(d <= 1, "tasks of {name} per node: {c:?}");
        }
        assert_eq!(s.assignments.len(), desired_units(s).len(), "every unit assigned once");
    }

    #[test]
    fn new_units_are_placed_at_once_and_balanced() {
        let mut s = state(&[("a", 10), ("b", 7), ("c", 1)]);
        let nodes = [node(1, 0), node(2, 0), node(3, 0)];
        let (rounds, revoked) = settle(&mut s, &nodes);
        assert_eq!((rounds, revoked), (1, 0), "one round, nothing revoked");
        assert_balanced(&s, &[1, 2, 3]);
    }

    #[test]
    fn a_joining_node_gets_work_in_one_cooperative_round_and_nothing_else_moves() {
        let mut s = state(&[("a", 29)]);
        settle(&mut s, &[node(1, 0), node(2, 0), node(3, 0)]);
        let before = s.assignments.clone();
        let (rounds, revoked) = settle(&mut s, &[node(1, 0), node(2, 0), node(3, 0), node(4, 0)]);
        assert_balanced(&s, &[1, 2, 3, 4]);
        assert!(rounds <= 3, "revoke round + assign round: {rounds}");
        let moved =
            before.iter().filter(|(u, a)| s.assignments.get(*u).map(|b| b.node != a.node).unwrap_or(true)).count();
        assert_eq!(moved, revoked, "only revoked units moved");
        assert_eq!(moved, 7, "30 units over 4 nodes: the new node takes 7");
        let unmoved_epochs_kept = before
            .iter()
            .filter(|(u, a)| s.assignments[*u].node == a.node)
            .all(|(u, a)| s.assignments[u].epoch == a.epoch);
        assert!(unmoved_epochs_kept, "units that did not move keep their epoch (were not restarted)");
    }

    #[test]
    fn rebalancing_always_settles_without_storms() {
        // Many shapes of connectors and cluster sizes: the planner reaches a quiet round in a
        // few rounds, balanced, after nodes join one by one.
        for shape in [
            vec![("a", 1)],
            vec![("a", 0), ("b", 1)],
            vec![("a", 2), ("b", 2), ("c", 2)],
            vec![("a", 5), ("b", 1), ("c", 0)],
            vec![("a", 9), ("b", 3)],
        ] {
            let mut s = state(&shape);
            let mut nodes = vec![node(1, 0)];
            settle(&mut s, &nodes);
            for id in 2..=5 {
                nodes.push(node(id, 0));
                let (rounds, _) = settle(&mut s, &nodes);
                assert!(rounds <= 4, "{shape:?} with {id} nodes took {rounds} rounds");
                let ids: Vec<NodeId> = nodes.iter().map(|n| n.id).collect();
                let l = loads(&s);
                let (d, counts) = spread(&ids, |n| l.get(&n).copied().unwrap_or(0));
                assert!(d <= 1, "{shape:?}: {counts:?}");
                let tasks = |n: NodeId| {
                    s.assignments.iter().filter(|(u, a)| a.node == n && matches!(u, WorkUnit::Task { .. })).count()
                };
                let (d, counts) = spread(&ids, tasks);
                assert!(d <= 1, "{shape:?}: tasks {counts:?}");
            }
        }
    }

    #[test]
    fn an_unreachable_node_keeps_its_work_within_the_grace_then_loses_it() {
        let mut s = state(&[("a", 6)]);
        settle(&mut s, &[node(1, 0), node(2, 0), node(3, 0)]);
        let on3: Vec<WorkUnit> = s.assignments.iter().filter(|(_, a)| a.node == 3).map(|(u, _)| u.clone()).collect();
        assert!(!on3.is_empty());
        // Down for 500 ms (< grace 800): nothing moves.
        assert!(plan(&s, &[node(1, 0), node(2, 0), node(3, 500)], Duration::from_secs(10), &settings()).is_empty());
        // Down for 900 ms: its units go to 1 and 2, nothing else moves.
        let before = s.assignments.clone();
        settle(&mut s, &[node(1, 0), node(2, 0), node(3, 900)]);
        assert!(s.assignments.values().all(|a| a.node != 3));
        for (u, a) in &before {
            if a.node != 3 {
                assert_eq!(s.assignments[u], *a, "{u} stayed put");
            }
        }
        assert_balanced(&s, &[1, 2]);
    }

    #[test]
    fn a_leaving_node_gets_no_new_work_and_stopped_or_deleted_units_are_removed() {
        let mut s = state(&[("a", 2), ("b", 2)]);
        let mut nodes = vec![node(1, 0), node(2, 0)];
        nodes[1].leaving = true;
        settle(&mut s, &nodes);
        assert!(s.assignments.values().all(|a| a.node == 1));
        s.connectors.get_mut("b").unwrap().target_state = TargetState::Stopped;
        let cmds = plan(&s, &nodes, Duration::from_secs(10), &settings());
        match &cmds[..] {
            [Command::Assign { changes }] => {
                assert!(changes.iter().all(|c| c.node.is_none() && c.unit.connector() == "b"), "{changes:?}");
                assert_eq!(changes.len(), 2, "b's two tasks go; its connector unit stays to report STOPPED");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_new_leader_waits_the_grace_for_nodes_it_has_not_heard_from() {
        let mut s = state(&[("a", 3)]);
        settle(&mut s, &[node(1, 0), node(2, 0), node(3, 0)]);
        let unknown = NodeView { id: 3, down_for: None, leaving: false, refused: false };
        let nodes = [node(1, 0), node(2, 0), unknown];
        assert!(
            plan(&s, &nodes, Duration::from_millis(100), &settings()).is_empty(),
            "young leader keeps node 3's work"
        );
        assert!(!plan(&s, &nodes, Duration::from_millis(900), &settings()).is_empty(), "after the grace it moves");
    }

    #[test]
    fn tasks_are_balanced_apart_from_connectors() {
        // 30 one-task connectors on 3 nodes: 10 connectors and 10 tasks each (Kafka Connect's
        // assignor), not 7/11/12 tasks with the units totals balanced.
        let shape: Vec<(String, usize)> = (0..30).map(|i| (format!("c{i:02}"), 1)).collect();
        let shape: Vec<(&str, usize)> = shape.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        let mut s = state(&shape);
        let (rounds, revoked) = settle(&mut s, &[node(1, 0), node(2, 0), node(3, 0)]);
        assert_eq!((rounds, revoked), (1, 0));
        assert_balanced(&s, &[1, 2, 3]);
        // And a fourth node takes its share of both, nothing else moving.
        let before = s.assignments.clone();
        let (_, revoked) = settle(&mut s, &[node(1, 0), node(2, 0), node(3, 0), node(4, 0)]);
        assert_balanced(&s, &[1, 2, 3, 4]);
        let moved = before.iter().filter(|(u, a)| s.assignments[*u].node != a.node).count();
        assert_eq!(moved, revoked);
        assert_eq!(moved, 15, "60 units over 4 nodes: the new node takes 7 or 8 of each kind");
    }

    #[test]
    fn a_node_back_from_a_crash_gets_its_share_without_skewing_a_connector() {
        // 30 tasks of one connector and a one-task connector: after node 2 crashes and comes
        // back, each node runs 10 of the big connector's tasks again.
        let mut s = state(&[("load", 30), ("probe", 1)]);
        let all = [node(1, 0), node(2, 0), node(3, 0)];
        settle(&mut s, &all);
        settle(&mut s, &[node(1, 0), node(2, 5_000), node(3, 0)]);
        settle(&mut s, &all);
        assert_balanced(&s, &[1, 2, 3]);
    }

    #[test]
    fn a_refusing_node_loses_its_work_at_once_a_silent_one_only_after_the_grace() {
        let mut s = state(&[("a", 6)]);
        settle(&mut s, &[node(1, 0), node(2, 0), node(3, 0)]);
        let mut refusing = node(3, 60);
        refusing.refused = true;
        let cmds = plan(&s, &[node(1, 0), node(2, 0), refusing.clone()], Duration::from_secs(10), &settings());
        match &cmds[..] {
            [Command::Assign { changes }] => {
                assert!(!changes.is_empty() && changes.iter().all(|c| matches!(c.node, Some(1 | 2))), "{changes:?}")
            }
            other => panic!("refused node's work should move at once: {other:?}"),
        }
        assert!(plan(&s, &[node(1, 0), node(2, 0), node(3, 60)], Duration::from_secs(10), &settings()).is_empty());
    }

    #[test]
    fn ten_thousand_units_are_placed_in_one_round_of_small_entries_and_a_settled_round_is_empty() {
        let names: Vec<String> = (0..1000).map(|i| format!("connector-with-a-longish-name-{i:04}")).collect();
        let shape: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 9)).collect();
        let mut s = state(&shape);
        let nodes = [node(1, 0), node(2, 0), node(3, 0)];
        let cmds = plan(&s, &nodes, Duration::from_secs(10), &settings());
        assert!(cmds.len() > 1, "10,000 changes do not fit one entry");
        for c in &cmds {
            assert!(c.encoded_len() <= PLAN_COMMAND_BYTES, "{} bytes", c.encoded_len());
        }
        let (rounds, revoked) = settle(&mut s, &nodes);
        assert_eq!((rounds, revoked), (1, 0));
        assert_balanced(&s, &[1, 2, 3]);
        assert!(plan(&s, &nodes, Duration::from_secs(10), &settings()).is_empty(), "nothing to do");
        // A lost node at this size: its share moves in one round, still in small entries.
        let lost = [node(1, 0), node(2, 0), node(3, 5_000)];
        let cmds = plan(&s, &lost, Duration::from_secs(10), &settings());
        let moved: usize = cmds
            .iter()
            .map(|c| match c {
                Command::Assign { changes } => changes.len(),
                other => panic!("{other:?}"),
            })
            .sum();
        assert_eq!(moved, s.assignments.values().filter(|a| a.node == 3).count());
        assert!(cmds.iter().all(|c| c.encoded_len() <= PLAN_COMMAND_BYTES));
    }
}
