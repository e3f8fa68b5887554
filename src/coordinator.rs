//! The planner: runs on the Raft leader only and decides which node runs which connector and
//! task, from the replicated state and the leader's liveness view alone, so a new leader goes
//! on exactly where the old one stopped.
//!
//! Rules (ARCHITECTURE.md, "Planning"):
//! - a unit stays where it is while its node is reachable, or unreachable for less than the
//!   grace; a node that leaves releases its units itself and they are placed at once;
//! - units without a node (new, released, or on a node unreachable beyond the grace) are placed
//!   at once on reachable nodes, fewest units of that connector first, then fewest units;
//! - when nothing is moving, excess units are revoked (one cooperative round: the node stops
//!   them, commits and releases them; the next plan places them), so that per node and per
//!   connector max − min ≤ 1. Units that need not move are never touched.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use raftconnect_raft::RaftNode;
use raftconnect_storage::model::{AssignmentChange, NodeId, TargetState, WorkUnit};
use raftconnect_storage::{Command, State};

/// The planner's view of one member.
#[derive(Debug, Clone)]
pub struct NodeView {
    pub id: NodeId,
    /// Time since the leader last heard from it (None: never, since this leader took over).
    pub down_for: Option<Duration>,
    pub leaving: bool,
}

#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// How long an unreachable node keeps its work (Kafka Connect's
    /// `scheduled.rebalance.max.delay.ms`, 300 s there).
    pub grace: Duration,
    /// A node heard from within this is reachable: new work may be placed on it.
    pub reachable: Duration,
}

/// The units that should exist: every connector (a STOPPED one still has its connector unit,
/// which reports STOPPED) and the tasks of those not STOPPED.
pub fn desired_units(state: &State) -> BTreeSet<WorkUnit> {
    let mut units = BTreeSet::new();
    for (name, c) in &state.connectors {
        units.insert(WorkUnit::Connector(name.clone()));
        if c.target_state == TargetState::Stopped {
            continue;
        }
        let tasks = state.task_configs.get(name).map(|t| t.configs.len()).unwrap_or(0);
        for t in 0..tasks as u32 {
            units.insert(WorkUnit::Task { connector: name.clone(), task: t });
        }
    }
    units
}

/// One planning round: the commands to propose (possibly none).
pub fn plan(state: &State, nodes: &[NodeView], leader_for: Duration, s: &PlanSettings) -> Vec<Command> {
    let view: BTreeMap<NodeId, &NodeView> = nodes.iter().map(|n| (n.id, n)).collect();
    // Silence counts from this leader's election at most: contact times from an earlier
    // leadership, or none at all, say nothing about now.
    let silence = |n: &NodeView| n.down_for.map(|d| d.min(leader_for)).unwrap_or(leader_for);
    let keepable = |id: NodeId| view.get(&id).map(|n| silence(n) <= s.grace).unwrap_or(false);
    let placeable: Vec<NodeId> =
        nodes.iter().filter(|n| !n.leaving && silence(n) <= s.reachable).map(|n| n.id).collect();

    let desired = desired_units(state);
    let mut changes = Vec::new();
    let mut revoking_pending = false;
    // Load of each placeable node (units being revoked excluded).
    let mut loads = Loads::new(&placeable);
    let mut held: BTreeMap<NodeId, Vec<WorkUnit>> = BTreeMap::new();
    let mut unplaced: Vec<WorkUnit> = Vec::new();

    for (unit, a) in &state.assignments {
        if !desired.contains(unit) {
            if a.revoking && keepable(a.node) {
                // Its node stops it, commits its final offsets and releases it.
                revoking_pending = true;
            } else {
                changes.push(AssignmentChange { unit: unit.clone(), node: None });
            }
        } else if !keepable(a.node) {
            unplaced.push(unit.clone());
        } else if a.revoking {
            revoking_pending = true;
        } else if loads.has(a.node) {
            loads.add(a.node, unit);
            held.entry(a.node).or_default().push(unit.clone());
        }
    }
    unplaced.extend(desired.iter().filter(|u| !state.assignments.contains_key(*u)).cloned());
    // Place each connector's units together (its connector unit, then its tasks in order),
    // which keeps both the per-connector and the per-node spread within one.
    unplaced.sort_by_key(placement_key);

    let mut placed_any = false;
    for unit in &unplaced {
        if let Some(node) = loads.best(unit.connector()) {
            loads.add(node, unit);
            changes.push(AssignmentChange { unit: unit.clone(), node: Some(node) });
            placed_any = true;
        }
    }

    let mut commands = Vec::new();
    if !changes.is_empty() {
        commands.push(Command::Assign { changes });
    }
    // Rebalance only in a quiet round: nothing moving, nothing just placed.
    if !revoking_pending && !placed_any && unplaced.is_empty() && placeable.len() >= 2 {
        let revoke = rebalance(&held, &placeable);
        if !revoke.is_empty() {
            commands.push(Command::Revoke { units: revoke });
        }
    }
    commands
}

/// Units per placeable node, in total and per connector, and the one placement rule that
/// `plan`, `rebalance` and `settle_revokes` all use.
#[derive(Clone)]
struct Loads {
    total: BTreeMap<NodeId, usize>,
    per_conn: BTreeMap<(NodeId, String), usize>,
}

impl Loads {
    fn new(nodes: &[NodeId]) -> Self {
        Self { total: nodes.iter().map(|n| (*n, 0)).collect(), per_conn: BTreeMap::new() }
    }

    fn from_held(held: &BTreeMap<NodeId, Vec<WorkUnit>>, nodes: &[NodeId]) -> Self {
        let mut loads = Self::new(nodes);
        for (n, units) in held {
            for u in units {
                loads.add(*n, u);
            }
        }
        loads
    }

    fn has(&self, node: NodeId) -> bool {
        self.total.contains_key(&node)
    }

    fn of(&self, node: NodeId, connector: &str) -> usize {
        self.per_conn.get(&(node, connector.to_string())).copied().unwrap_or(0)
    }

    fn add(&mut self, node: NodeId, unit: &WorkUnit) {
        if let Some(t) = self.total.get_mut(&node) {
            *t += 1;
            *self.per_conn.entry((node, unit.connector().to_string())).or_default() += 1;
        }
    }

    fn remove(&mut self, node: NodeId, unit: &WorkUnit) {
        if let Some(t) = self.total.get_mut(&node) {
            *t = t.saturating_sub(1);
            if let Some(c) = self.per_conn.get_mut(&(node, unit.connector().to_string())) {
                *c = c.saturating_sub(1);
            }
        }
    }

    /// Where the next unit of `connector` goes: fewest units of that connector, then fewest
    /// units, then the lowest id.
    fn best(&self, connector: &str) -> Option<NodeId> {
        self.total.iter().min_by_key(|(n, t)| (self.of(**n, connector), **t, **n)).map(|(n, _)| *n)
    }

    /// Sum of squared loads, per node and per (node, connector): lower is better balanced.
    fn imbalance(&self) -> usize {
        self.total.values().map(|l| l * l).sum::<usize>() + self.per_conn.values().map(|l| l * l).sum::<usize>()
    }

    /// Move `unit` off `src` and place it by the rule: its destination and the new imbalance.
    fn try_move(&mut self, src: NodeId, unit: &WorkUnit) -> (NodeId, usize) {
        self.remove(src, unit);
        let dest = self.best(unit.connector()).unwrap_or(src);
        self.add(dest, unit);
        (dest, self.imbalance())
    }
}

/// Units to revoke so that, once re-placed, the cluster is better balanced per node and per
/// connector. Greedy: repeatedly pick the single move (a unit leaving its node and placed by
/// the placement rule) that lowers the imbalance most, until none does; then check the set as
/// the next round will place it (`settle_revokes`).
fn rebalance(held: &BTreeMap<NodeId, Vec<WorkUnit>>, nodes: &[NodeId]) -> Vec<WorkUnit> {
    let mut at: BTreeMap<WorkUnit, NodeId> =
        held.iter().flat_map(|(n, units)| units.iter().map(move |u| (u.clone(), *n))).collect();
    let mut loads = Loads::from_held(held, nodes);
    let mut moved: BTreeSet<WorkUnit> = BTreeSet::new();
    loop {
        let current = loads.imbalance();
        let mut best: Option<(usize, WorkUnit, NodeId)> = None;
        for (u, src) in &at {
            if moved.contains(u) {
                continue;
            }
            let (dest, after) = loads.clone().try_move(*src, u);
            if dest != *src && after < current && best.as_ref().map(|b| after < b.0).unwrap_or(true) {
                best = Some((after, u.clone(), *src));
            }
        }
        let Some((_, u, src)) = best else { break };
        let (dest, _) = loads.try_move(src, &u);
        at.insert(u.clone(), dest);
        moved.insert(u);
    }
    settle_revokes(held, nodes, moved.into_iter().collect())
}

/// Keep only revokes that pay off: simulate the next round's placement (the same rule as
/// `plan`) of the revoked units; drop any unit that would land back on its own node, and revoke
/// nothing unless the result is strictly better balanced. The imbalance measure strictly
/// decreases with every rebalancing round, so rebalancing always stops: no revoke storms.
fn settle_revokes(held: &BTreeMap<NodeId, Vec<WorkUnit>>, nodes: &[NodeId], revoke: Vec<WorkUnit>) -> Vec<WorkUnit> {
    if revoke.is_empty() {
        return revoke;
    }
    let from: BTreeMap<&WorkUnit, NodeId> =
        held.iter().flat_map(|(n, units)| units.iter().map(move |u| (u, *n))).collect();
    let mut loads = Loads::from_held(held, nodes);
    let before = loads.imbalance();
    let mut order = revoke;
    order.sort_by_key(placement_key);
    let mut kept = Vec::new();
    for u in order {
        let Some(&src) = from.get(&u) else { continue };
        let (dest, _) = loads.try_move(src, &u);
        if dest != src {
            kept.push(u);
        }
    }
    if loads.imbalance() < before {
        kept.sort();
        kept
    } else {
        Vec::new()
    }
}

/// The order in which units are placed: each connector's units together, connector first.
fn placement_key(u: &WorkUnit) -> (String, u8, u32) {
    match u {
        WorkUnit::Connector(c) => (c.clone(), 0, 0),
        WorkUnit::Task { connector, task } => (connector.clone(), 1, *task),
    }
}

/// Planner settings as the node runs them.
#[derive(Debug, Clone)]
pub struct CoordinatorSettings {
    pub plan: PlanSettings,
    /// How often the leader re-plans when nothing changed (liveness changes with time).
    pub tick: Duration,
}

/// Run the planner for as long as the node lives; it acts only while the node leads.
pub async fn run(node: Arc<RaftNode>, settings: CoordinatorSettings) {
    let mut applied = node.state().applied_watch();
    let mut leader_since: Option<Instant> = None;
    loop {
        let _ = tokio::time::timeout(settings.tick, applied.changed()).await;
        let leads = matches!(node.leader(), Some((id, _)) if id == node.id);
        if !leads {
            leader_since = None;
            continue;
        }
        let since = *leader_since.get_or_insert_with(Instant::now);
        let Ok(liveness) = node.local_liveness().await else { continue };
        let (views, commands) = node.state().read(|a| {
            let views: Vec<NodeView> = liveness
                .iter()
                .map(|l| NodeView {
                    id: l.id,
                    down_for: l.last_contact_ms.map(Duration::from_millis),
                    leaving: a.state.nodes.get(&l.id).map(|n| n.leaving).unwrap_or(false),
                })
                .collect();
            let commands = plan(&a.state, &views, since.elapsed(), &settings.plan);
            (views, commands)
        });
        for cmd in commands {
            tracing::info!(command = %cmd.kind(), nodes = ?views.iter().map(|v| v.id).collect::<Vec<_>>(), "Planner proposes.");
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
    use raftconnect_storage::model::{ConnectorRecord, DirtyKeys, TaskConfigs};

    fn settings() -> PlanSettings {
        PlanSettings { grace: Duration::from_millis(800), reachable: Duration::from_millis(300) }
    }

    fn node(id: NodeId, down_ms: u64) -> NodeView {
        NodeView { id, down_for: Some(Duration::from_millis(down_ms)), leaving: false }
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

    fn assert_balanced(s: &State, nodes: &[NodeId]) {
        let l = loads(s);
        let counts: Vec<usize> = nodes.iter().map(|n| l.get(n).copied().unwrap_or(0)).collect();
        assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1, "per node: {counts:?}");
        for c in s.connectors.keys() {
            let per: Vec<usize> = nodes
                .iter()
                .map(|n| s.assignments.iter().filter(|(u, a)| a.node == *n && u.connector() == c).count())
                .collect();
            assert!(per.iter().max().unwrap() - per.iter().min().unwrap() <= 1, "connector {c}: {per:?}");
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
                let counts: Vec<usize> = ids.iter().map(|n| l.get(n).copied().unwrap_or(0)).collect();
                assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1, "{shape:?}: {counts:?}");
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
        let unknown = NodeView { id: 3, down_for: None, leaving: false };
        let nodes = [node(1, 0), node(2, 0), unknown];
        assert!(
            plan(&s, &nodes, Duration::from_millis(100), &settings()).is_empty(),
            "young leader keeps node 3's work"
        );
        assert!(!plan(&s, &nodes, Duration::from_millis(900), &settings()).is_empty(), "after the grace it moves");
    }
}
