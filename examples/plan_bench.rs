//! In-process planner benchmark (issue 9): rounds on 10,000 units over 3 nodes and 100,000
//! units over 10 nodes — placing everything, re-placing a lost node's share, the rebalance
//! after a node joins, a settled (quiet) round, and the copy out of the state.
//!
//!   cargo run --release --example plan_bench [-- --json]

use std::time::{Duration, Instant};

use raftconnect::control::planner::{classify, plan_input, NodeClass, NodeView, PlanInput, PlanSettings};
use raftconnect_storage::model::{ConnectorRecord, DirtyKeys, TargetState, TaskConfigs};
use raftconnect_storage::{Command, State};

fn state(connectors: usize, tasks: usize) -> State {
    let mut s = State::default();
    for i in 0..connectors {
        let name = format!("connector-{i:06}");
        s.connectors.insert(
            name.clone(),
            ConnectorRecord {
                config: Default::default(),
                target_state: TargetState::Running,
                created_index: 1,
                updated_index: 1,
                created_by: String::new(),
            },
        );
        s.task_configs.insert(name, TaskConfigs { configs: vec![Default::default(); tasks], generation: 2 });
    }
    s
}

fn nodes(n: u64, lost: Option<u64>) -> Vec<NodeView> {
    (1..=n)
        .map(|id| NodeView {
            id,
            down_for: Some(Duration::from_millis(if Some(id) == lost { 60_000 } else { 0 })),
            leaving: false,
            refused: false,
        })
        .collect()
}

fn apply_all(s: &mut State, cmds: &[Command], index: &mut u64) {
    for c in cmds {
        *index += 1;
        let mut dirty = DirtyKeys::new();
        s.apply(*index, c, &mut dirty);
    }
}

/// Median of `runs` timings of `f`, in ms.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    (times[times.len() / 2], last.expect("runs > 0"))
}

fn classes(views: &[NodeView]) -> std::collections::BTreeMap<u64, NodeClass> {
    let s = PlanSettings { grace: Duration::from_secs(1), reachable: Duration::from_millis(300) };
    classify(views, Duration::from_secs(3600), &s)
}

fn bench(label: &str, connectors: usize, tasks: usize, n: u64, json: bool) {
    let mut s = state(connectors, tasks);
    let units = connectors * (1 + tasks);
    let mut index = 10;
    let all = classes(&nodes(n, None));
    let (copy_ms, input) = time(5, || PlanInput::from_state(&s));
    let (place_ms, cmds) = time(5, || plan_input(&input, &all));
    apply_all(&mut s, &cmds, &mut index);
    let input = PlanInput::from_state(&s);
    let (quiet_ms, quiet) = time(5, || plan_input(&input, &all));
    assert!(quiet.is_empty(), "a settled cluster has nothing to do");
    // A lost node: its share is placed on the others.
    let lost = classes(&nodes(n, Some(n)));
    let (failover_ms, moved) = time(5, || plan_input(&input, &lost));
    // A node joins: the rebalance round revokes its share from the others.
    let joined = classes(&nodes(n + 1, None));
    let (rebalance_ms, revoke) = time(5, || plan_input(&input, &joined));
    let entries = cmds.len() + moved.len() + revoke.len();
    let max_entry = cmds.iter().chain(&moved).chain(&revoke).map(Command::encoded_len).max().unwrap_or(0);
    if json {
        println!(
            "{{\"case\":\"{label}\",\"units\":{units},\"nodes\":{n},\"copy_ms\":{copy_ms:.2},\"place_all_ms\":{place_ms:.2},\
             \"quiet_ms\":{quiet_ms:.2},\"failover_ms\":{failover_ms:.2},\"rebalance_ms\":{rebalance_ms:.2},\
             \"entries\":{entries},\"max_entry_bytes\":{max_entry}}}"
        );
    } else {
        println!(
            "{label:>14}: {units} units / {n} nodes: copy {copy_ms:.2} ms, place all {place_ms:.2} ms, quiet {quiet_ms:.2} ms, \
             lost node {failover_ms:.2} ms, join rebalance {rebalance_ms:.2} ms ({entries} entries, largest {max_entry} B)"
        );
    }
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    bench("10k/3 (1 task)", 5_000, 1, 3, json);
    bench("10k/3 (10 tasks)", 910, 10, 3, json);
    bench("100k/10", 10_000, 9, 10, json);
}
