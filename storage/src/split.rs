//! Cutting the commands the cluster writes itself to fit under
//! [`MAX_COMMAND_BYTES`](crate::model::MAX_COMMAND_BYTES).
//!
//! The cap keeps every log entry a small sled value, but the cluster's own batches (an
//! assignment of thousands of units, a node's offset commit, a sink spread over thousands of
//! partitions, the task configs of a connector with many tasks, a status with a long trace)
//! grow with the workload: refused by the cap they would be refused forever. So a writer passes
//! each such command through [`Command::split_to_fit`] and writes the pieces in order:
//!
//! - batches whose items apply independently (`Assign`, `Revoke`, `ReleaseUnits`,
//!   `CommitOffsets`, `ReportStatuses`) become several commands of the same kind;
//! - writes that must become visible at once (`PutTaskConfigs`, `AssignSinkPartitions`) become a
//!   sequence of parts, staged by `apply` until the last one;
//! - a status trace is truncated, never split: it is a diagnostic, not data.
//!
//! Sizes are exact bincode sizes computed per item ([`crate::codec::encoded_len`]): with the
//! fixint options a `Vec` is an 8-byte length followed by its items, so a piece's size is the
//! size of its command with empty lists plus the sum of its items' sizes.

use std::borrow::Cow;

use serde::Serialize;

use crate::codec;
use crate::model::{Command, ConfigMap, SinkOffsetCommit, SourceOffsetCommit, StatusReport, TopicPartition};

/// Longest status trace kept (Kafka Connect's traces are Java stack traces: the head, with the
/// exception and the innermost frames, is what matters).
pub const MAX_TRACE_BYTES: usize = 16 << 10;

/// `trace` cut to at most `max` bytes: the head, cut at a char boundary, then a marker saying
/// how much was left out. A trace that fits is returned as it is. When `max` cannot even hold
/// the marker, only the head is kept.
pub fn truncate_trace(trace: &str, max: usize) -> Cow<'_, str> {
    if trace.len() <= max {
        return Cow::Borrowed(trace);
    }
    // The marker's length grows with the count it shows. That count is at most the trace's
    // length, so reserving room for a marker showing it keeps the result within `max`.
    let Some(room) = max.checked_sub(truncation_marker(trace.len()).len()) else {
        return Cow::Owned(head(trace, max).to_string());
    };
    let kept = head(trace, room);
    Cow::Owned(format!("{kept}{}", truncation_marker(trace.len() - kept.len())))
}

fn truncation_marker(omitted: usize) -> String {
    format!("\n... [trace truncated: {omitted} bytes omitted]")
}

/// The longest prefix of `s` of at most `max` bytes that ends at a char boundary.
fn head(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    // 0 is always a boundary, so this stops.
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Cap `trace` at `max` bytes.
fn cap_trace(trace: &mut Option<String>, max: usize) {
    if let Some(t) = trace {
        if t.len() > max {
            *t = truncate_trace(t, max).into_owned();
        }
    }
}

/// Shorten `trace` so that a command of `total` bytes, of which the trace is a part, fits `max`.
fn fit_trace(trace: &mut Option<String>, total: usize, max: usize) {
    if total <= max {
        return;
    }
    if let Some(t) = trace {
        let rest = total.saturating_sub(t.len());
        cap_trace(trace, max.saturating_sub(rest));
    }
}

/// Greedy packing of consecutive item sizes into pieces of at most `budget` bytes each.
struct Packer {
    budget: usize,
    /// Bytes in the current piece; None while it is empty.
    used: Option<usize>,
}

impl Packer {
    fn new(budget: usize) -> Self {
        Packer { budget, used: None }
    }

    /// Can `size` more bytes go into the current piece? Always, into an empty one: an item
    /// larger than the budget goes alone rather than nowhere.
    fn fits(&self, size: usize) -> bool {
        self.used.is_none_or(|used| used.saturating_add(size) <= self.budget)
    }

    fn add(&mut self, size: usize) {
        self.used = Some(self.used.unwrap_or(0).saturating_add(size));
    }

    fn start_piece(&mut self) {
        self.used = None;
    }
}

/// Consecutive `items` in as few groups as fit `budget` bytes each, by `size`. Always at least
/// one group (an empty one for no items), so a split never writes nothing.
fn pack<T>(items: impl IntoIterator<Item = T>, size: impl Fn(&T) -> usize, budget: usize) -> Vec<Vec<T>> {
    let mut groups = Vec::new();
    let mut current = Vec::new();
    let mut packer = Packer::new(budget);
    for item in items {
        let s = size(&item);
        if !packer.fits(s) {
            groups.push(std::mem::take(&mut current));
            packer.start_piece();
        }
        packer.add(s);
        current.push(item);
    }
    groups.push(current);
    groups
}

fn encoded_len<T: Serialize>(item: &T) -> usize {
    codec::encoded_len(item)
}

/// An item of a `CommitOffsets`, so source and sink commits pack as one sequence.
enum Offset {
    Source(SourceOffsetCommit),
    Sink(SinkOffsetCommit),
}

impl Offset {
    fn encoded_len(&self) -> usize {
        match self {
            Offset::Source(c) => encoded_len(c),
            Offset::Sink(c) => encoded_len(c),
        }
    }
}

impl Command {
    /// The exact size of this command in the log, as the command cap measures it.
    pub fn encoded_len(&self) -> usize {
        codec::encoded_len(self)
    }

    /// This command as pieces of at most `max` bytes each, in the order they must be written.
    /// A command that fits is returned as it is, except that status traces are always capped
    /// at [`MAX_TRACE_BYTES`] (so what a status shows does not depend on how reports were
    /// batched). Every piece fits whenever each single item (a unit, an offset, a task config,
    /// a topic-partition, a report with an empty trace) fits with its command's fixed fields.
    /// Kinds that cannot be split, user-written commands among them, come back unchanged for
    /// the cap to refuse.
    pub fn split_to_fit(self, max: usize) -> Vec<Command> {
        let cmd = self.with_capped_traces();
        let len = cmd.encoded_len();
        if len <= max {
            return vec![cmd];
        }
        match cmd {
            Command::Assign { changes } => {
                let budget = max.saturating_sub(Command::Assign { changes: Vec::new() }.encoded_len());
                pack(changes, encoded_len, budget).into_iter().map(|changes| Command::Assign { changes }).collect()
            }
            Command::Revoke { units } => {
                let budget = max.saturating_sub(Command::Revoke { units: Vec::new() }.encoded_len());
                pack(units, encoded_len, budget).into_iter().map(|units| Command::Revoke { units }).collect()
            }
            Command::ReleaseUnits { node, units } => {
                let budget = max.saturating_sub(Command::ReleaseUnits { node, units: Vec::new() }.encoded_len());
                pack(units, encoded_len, budget)
                    .into_iter()
                    .map(|units| Command::ReleaseUnits { node, units })
                    .collect()
            }
            Command::CommitOffsets { node, source, sink } => {
                let empty = Command::CommitOffsets { node, source: Vec::new(), sink: Vec::new() };
                let budget = max.saturating_sub(empty.encoded_len());
                let items = source.into_iter().map(Offset::Source).chain(sink.into_iter().map(Offset::Sink));
                pack(items, Offset::encoded_len, budget)
                    .into_iter()
                    .map(|group| {
                        let (mut source, mut sink) = (Vec::new(), Vec::new());
                        for item in group {
                            match item {
                                Offset::Source(c) => source.push(c),
                                Offset::Sink(c) => sink.push(c),
                            }
                        }
                        Command::CommitOffsets { node, source, sink }
                    })
                    .collect()
            }
            Command::ReportStatus { unit, node, epoch, state, mut trace, restarts, next_restart_ms } => {
                fit_trace(&mut trace, len, max);
                vec![Command::ReportStatus { unit, node, epoch, state, trace, restarts, next_restart_ms }]
            }
            Command::ReportStatuses { node, mut reports } => {
                let overhead = Command::ReportStatuses { node, reports: Vec::new() }.encoded_len();
                for report in &mut reports {
                    let total = overhead.saturating_add(encoded_len(report));
                    fit_trace(&mut report.trace, total, max);
                }
                pack(reports, encoded_len::<StatusReport>, max.saturating_sub(overhead))
                    .into_iter()
                    .map(|reports| Command::ReportStatuses { node, reports })
                    .collect()
            }
            Command::PutTaskConfigs { connector, epoch, configs } => split_task_configs(connector, epoch, configs, max),
            Command::AssignSinkPartitions { connector, generation, tasks } => {
                split_sink_partitions(connector, generation, tasks, max)
            }
            other => vec![other],
        }
    }

    /// Status traces capped at [`MAX_TRACE_BYTES`]; any other command as it is.
    fn with_capped_traces(mut self) -> Command {
        match &mut self {
            Command::ReportStatus { trace, .. } => cap_trace(trace, MAX_TRACE_BYTES),
            Command::ReportStatuses { reports, .. } => {
                reports.iter_mut().for_each(|r| cap_trace(&mut r.trace, MAX_TRACE_BYTES));
            }
            _ => {}
        }
        self
    }
}

/// Task configs too large for one entry as `PutTaskConfigsPart`s. Configs that cannot be cut
/// (none, or one too large by itself) stay one `PutTaskConfigs`.
fn split_task_configs(connector: String, epoch: u64, configs: Vec<ConfigMap>, max: usize) -> Vec<Command> {
    let empty =
        Command::PutTaskConfigsPart { connector: connector.clone(), epoch, part: 0, parts: 0, configs: Vec::new() };
    let groups = pack(configs, encoded_len, max.saturating_sub(empty.encoded_len()));
    match u32::try_from(groups.len()) {
        Ok(parts) if parts > 1 => (0..parts)
            .zip(groups)
            .map(|(part, configs)| Command::PutTaskConfigsPart {
                connector: connector.clone(),
                epoch,
                part,
                parts,
                configs,
            })
            .collect(),
        _ => vec![Command::PutTaskConfigs { connector, epoch, configs: groups.into_iter().flatten().collect() }],
    }
}

/// A spread too large for one entry as `SpreadSinkPartitionsPart`s. Packs topic-partitions,
/// so one task's list may continue in the next part; tasks with no partitions need no pair
/// (the staged spread starts with an empty list for every task), and a spread of only empty
/// lists is one part with no pairs.
fn split_sink_partitions(
    connector: String,
    generation: u64,
    tasks: Vec<Vec<TopicPartition>>,
    max: usize,
) -> Vec<Command> {
    // Parts and tasks are counted in u32: a spread beyond that (never made) stays whole. There
    // is at most one part per topic-partition, plus one.
    let partitions: usize = tasks.iter().map(Vec::len).sum();
    let (Ok(task_count), true) = (u32::try_from(tasks.len()), partitions < u32::MAX as usize) else {
        return vec![Command::AssignSinkPartitions { connector, generation, tasks }];
    };
    let empty = Command::SpreadSinkPartitionsPart {
        connector: connector.clone(),
        generation,
        task_count,
        part: 0,
        parts: 0,
        tasks: Vec::new(),
    };
    let pair = encoded_len(&(0u32, Vec::<TopicPartition>::new()));
    let mut packer = Packer::new(max.saturating_sub(empty.encoded_len()));
    let mut groups: Vec<Vec<(u32, Vec<TopicPartition>)>> = Vec::new();
    let mut current: Vec<(u32, Vec<TopicPartition>)> = Vec::new();
    for (task, partitions) in (0..task_count).zip(tasks) {
        // Whether `current` ends with this task's pair.
        let mut open = false;
        for tp in partitions {
            let s = encoded_len(&tp);
            if !packer.fits(if open { s } else { s.saturating_add(pair) }) {
                groups.push(std::mem::take(&mut current));
                packer.start_piece();
                open = false;
            }
            if !open {
                current.push((task, Vec::new()));
                packer.add(pair);
                open = true;
            }
            packer.add(s);
            if let Some((_, list)) = current.last_mut() {
                list.push(tp);
            }
        }
    }
    groups.push(current);
    let parts = u32::try_from(groups.len()).unwrap_or(u32::MAX);
    (0..parts)
        .zip(groups)
        .map(|(part, tasks)| Command::SpreadSinkPartitionsPart {
            connector: connector.clone(),
            generation,
            task_count,
            part,
            parts,
            tasks,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AssignmentChange, ConfigMap, DirtyKeys, Response, State, TaskConfigs, UnitState, WorkUnit, MAX_COMMAND_BYTES,
    };

    const CAP: usize = MAX_COMMAND_BYTES;

    fn task(c: &str, t: u32) -> WorkUnit {
        WorkUnit::Task { connector: c.into(), task: t }
    }

    fn put(name: &str) -> Command {
        Command::PutConnector { name: name.into(), config: ConfigMap::new(), target_state: None }
    }

    /// Apply `cmds` from index `first` on; the responses.
    fn apply_from(state: &mut State, first: u64, cmds: &[Command]) -> Vec<Response> {
        let mut dirty = DirtyKeys::new();
        cmds.iter().zip(first..).map(|(c, i)| state.apply(i, c, &mut dirty)).collect()
    }

    /// Every piece fits the cap, and there are several of them.
    fn assert_fits(pieces: &[Command], whole: usize) {
        assert!(whole >= 4 * CAP, "the batch is only {whole} bytes");
        assert!(pieces.len() >= 4, "{} pieces for {whole} bytes", pieces.len());
        for (i, p) in pieces.iter().enumerate() {
            assert!(p.encoded_len() <= CAP, "piece {i} is {} bytes", p.encoded_len());
            assert_eq!(p.encoded_len(), codec::encode(p).len(), "encoded_len is exact");
        }
    }

    /// Connector `name` with `tasks` tasks, each assigned to node 1 at index 2, and its
    /// connector unit assigned to node 1 at index 3.
    fn connector_named(name: &str, tasks: u32) -> State {
        let mut s = State::default();
        let changes = (0..tasks).map(|t| AssignmentChange { unit: task(name, t), node: Some(1) }).collect();
        let connector = AssignmentChange { unit: WorkUnit::Connector(name.into()), node: Some(1) };
        let r = apply_from(
            &mut s,
            1,
            &[put(name), Command::Assign { changes }, Command::Assign { changes: vec![connector] }],
        );
        assert!(r.iter().all(|r| *r == Response::Applied), "{r:?}");
        s
    }

    fn connector_with_tasks(tasks: u32) -> State {
        connector_named("c", tasks)
    }

    /// A connector name long enough that 10,000 units are well over four times the cap.
    const LONG: &str = "a-connector-with-a-rather-long-name";

    #[test]
    fn commands_that_fit_come_back_unchanged() {
        let small = Command::Assign { changes: vec![AssignmentChange { unit: task("c", 0), node: Some(1) }] };
        assert_eq!(small.clone().split_to_fit(CAP), vec![small]);
        // A user-written command is never split: the cap refuses it.
        let mut config = ConfigMap::new();
        config.insert("big".into(), "x".repeat(2 * CAP));
        let user = Command::PutConnector { name: "c".into(), config, target_state: None };
        assert!(user.encoded_len() > CAP);
        assert_eq!(user.clone().split_to_fit(CAP), vec![user]);
    }

    #[test]
    fn an_item_too_large_alone_goes_in_its_own_piece() {
        let unit = |name: String| AssignmentChange { unit: WorkUnit::Connector(name), node: Some(1) };
        let changes = vec![unit("a".into()), unit("b".repeat(300)), unit("c".into()), unit("d".into())];
        let max = Command::Assign { changes: vec![unit("b".repeat(200))] }.encoded_len();
        let pieces = Command::Assign { changes: changes.clone() }.split_to_fit(max);
        let groups: Vec<Vec<AssignmentChange>> = pieces
            .iter()
            .map(|p| match p {
                Command::Assign { changes } => changes.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(groups, vec![vec![changes[0].clone()], vec![changes[1].clone()], changes[2..].to_vec()]);
        assert!(pieces[1].encoded_len() > max);
        assert!(pieces[0].encoded_len() <= max && pieces[2].encoded_len() <= max);
    }

    #[test]
    fn large_assign_is_split_in_order_and_assigns_the_same_nodes() {
        // 10,000 units, some moved twice: the later change must win, as in the whole command.
        let mut changes: Vec<AssignmentChange> = (0..10_000)
            .map(|t| AssignmentChange { unit: task("connector-with-a-long-name", t), node: Some(u64::from(t % 7)) })
            .collect();
        changes.extend((0..500).map(|t| AssignmentChange {
            unit: task("connector-with-a-long-name", t * 3),
            node: if t % 2 == 0 { None } else { Some(99) },
        }));
        let whole = Command::Assign { changes: changes.clone() };
        let pieces = whole.clone().split_to_fit(CAP);
        assert_fits(&pieces, whole.encoded_len());
        let rejoined: Vec<AssignmentChange> = pieces
            .iter()
            .flat_map(|p| match p {
                Command::Assign { changes } => changes.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rejoined, changes);
        // Sizes are exact, so packing is tight: the next change would not have fitted.
        for pair in pieces.windows(2) {
            let (Command::Assign { changes }, Command::Assign { changes: next }) = (&pair[0], &pair[1]) else {
                panic!("{pair:?}")
            };
            let mut more = changes.clone();
            more.push(next[0].clone());
            assert!(Command::Assign { changes: more }.encoded_len() > CAP);
        }

        let (mut a, mut b) = (State::default(), State::default());
        apply_from(&mut a, 100, &[whole]);
        let responses = apply_from(&mut b, 100, &pieces);
        assert!(responses.iter().all(|r| *r == Response::Applied));
        let nodes = |s: &State| s.assignments.iter().map(|(u, a)| (u.clone(), a.node, a.revoking)).collect::<Vec<_>>();
        assert_eq!(nodes(&a), nodes(&b));
        assert_eq!(a.assignments.len(), 10_000 - 250);
        // Each piece's units carry that piece's index as their epoch.
        let last = 100 + pieces.len() as u64 - 1;
        assert!(b.assignments.values().all(|x| (100..=last).contains(&x.epoch)));
        assert!(b.assignments.values().any(|x| x.epoch == last) && b.assignments.values().any(|x| x.epoch == 100));
    }

    #[test]
    fn large_revoke_is_split_and_marks_the_same_units() {
        let base = connector_named(LONG, 10_000);
        let units: Vec<WorkUnit> =
            (0..10_000).filter(|t| t % 3 != 0).map(|t| task(LONG, t)).chain([task(LONG, 20_000)]).collect();
        let whole = Command::Revoke { units: units.clone() };
        let pieces = whole.clone().split_to_fit(CAP);
        assert_fits(&pieces, whole.encoded_len());
        let rejoined: Vec<WorkUnit> = pieces
            .iter()
            .flat_map(|p| match p {
                Command::Revoke { units } => units.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rejoined, units);
        let (mut a, mut b) = (base.clone(), base);
        apply_from(&mut a, 10, &[whole]);
        apply_from(&mut b, 10, &pieces);
        assert_eq!(a, b);
        assert_eq!(a.assignments.values().filter(|x| x.revoking).count(), 10_000 - 3334);
    }

    #[test]
    fn large_release_is_split_and_releases_the_same_units() {
        let base = connector_named(LONG, 10_000);
        // Every seventh release is stale (wrong epoch): rejected by the pieces as by the whole.
        let units: Vec<(WorkUnit, u64)> =
            (0..10_000).map(|t| (task(LONG, t), if t % 7 == 0 { 99 } else { 2 })).collect();
        let whole = Command::ReleaseUnits { node: 1, units: units.clone() };
        let pieces = whole.clone().split_to_fit(CAP);
        assert_fits(&pieces, whole.encoded_len());
        let rejoined: Vec<(WorkUnit, u64)> = pieces
            .iter()
            .flat_map(|p| match p {
                Command::ReleaseUnits { node: 1, units } => units.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rejoined, units);
        let (mut a, mut b) = (base.clone(), base);
        let whole_response = apply_from(&mut a, 10, &[whole]);
        let piece_responses = apply_from(&mut b, 10, &pieces);
        assert_eq!(a, b);
        let rejected = |r: &Response| match r {
            Response::Applied => 0,
            Response::Rejected(_) => 1,
            Response::PartiallyApplied { rejected, .. } => rejected.len(),
            Response::Batch(_) => panic!("not a batch"),
        };
        assert_eq!(rejected(&whole_response[0]), 1429);
        assert_eq!(piece_responses.iter().map(rejected).sum::<usize>(), 1429);
        assert_eq!(a.assignments.len(), 1429 + 1, "stale releases and the connector unit stay");
    }

    #[test]
    fn large_offset_commit_is_split_over_source_then_sink_items() {
        let base = connector_with_tasks(4);
        // Partitions repeat with newer offsets: the last commit of a partition must win.
        let source: Vec<SourceOffsetCommit> = (0..3_000)
            .map(|i| SourceOffsetCommit {
                connector: "c".into(),
                task: i % 4,
                epoch: 2,
                partition: format!(r#"{{"filename":"/var/data/input-file-{:04}.txt"}}"#, i % 1_000),
                offset: format!(r#"{{"position":{i}}}"#),
            })
            .collect();
        let sink: Vec<SinkOffsetCommit> = (0..3_000)
            .map(|i| SinkOffsetCommit {
                connector: "c".into(),
                task: i % 4,
                epoch: if i % 11 == 0 { 1 } else { 2 },
                topic: format!("orders-topic-{}", i % 50),
                partition: (i % 20) as i32,
                offset: i64::from(i),
            })
            .collect();
        let whole = Command::CommitOffsets { node: 1, source: source.clone(), sink: sink.clone() };
        let pieces = whole.clone().split_to_fit(CAP);
        assert_fits(&pieces, whole.encoded_len());
        let (mut src, mut snk) = (Vec::new(), Vec::new());
        let mut mixed = 0;
        for p in &pieces {
            match p {
                Command::CommitOffsets { node: 1, source, sink } => {
                    // Sink items come only after every source item.
                    assert!(source.is_empty() || snk.is_empty());
                    mixed += usize::from(!source.is_empty() && !sink.is_empty());
                    src.extend(source.iter().cloned());
                    snk.extend(sink.iter().cloned());
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((src, snk), (source, sink));
        assert_eq!(mixed, 1, "the piece where source items end carries sink items too");
        let (mut a, mut b) = (base.clone(), base);
        apply_from(&mut a, 10, &[whole]);
        apply_from(&mut b, 10, &pieces);
        assert_eq!(a, b);
        assert_eq!(a.source_offsets.len(), 1_000);
        assert_eq!(
            a.source_offsets[&("c".to_string(), r#"{"filename":"/var/data/input-file-0007.txt"}"#.to_string())],
            r#"{"position":2007}"#
        );
    }

    fn report(unit: WorkUnit, epoch: u64, trace: Option<String>) -> StatusReport {
        StatusReport { unit, epoch, state: UnitState::Failed, trace, restarts: 1, next_restart_ms: Some(5) }
    }

    #[test]
    fn long_status_trace_is_truncated_not_split() {
        let base = connector_with_tasks(1);
        let trace = "at org.example.Frame.method(Frame.java:42)\n".repeat(10_000);
        let status = |trace: Option<String>| Command::ReportStatus {
            unit: task("c", 0),
            node: 1,
            epoch: 2,
            state: UnitState::Failed,
            trace,
            restarts: 1,
            next_restart_ms: None,
        };
        let whole = status(Some(trace.clone()));
        assert!(whole.encoded_len() >= 4 * CAP);
        let pieces = whole.clone().split_to_fit(CAP);
        assert_eq!(pieces, vec![status(Some(truncate_trace(&trace, MAX_TRACE_BYTES).into_owned()))]);
        // Within a smaller cap the trace is cut further, still never refused.
        let pieces = whole.split_to_fit(2_000);
        assert_eq!(pieces.len(), 1);
        assert!(pieces[0].encoded_len() <= 2_000 && pieces[0].encoded_len() > 1_900, "{}", pieces[0].encoded_len());
        let Command::ReportStatus { trace: Some(cut), .. } = &pieces[0] else { panic!("{pieces:?}") };
        assert!(trace.starts_with(cut.split("\n... [trace").next().unwrap_or_default()));
        assert!(cut.ends_with(" bytes omitted]"));
        let mut s = base;
        assert_eq!(apply_from(&mut s, 10, &pieces), vec![Response::Applied]);
        assert_eq!(s.statuses[&task("c", 0)].trace.as_deref(), Some(cut.as_str()));
        // A status without a trace, or with a short one, is left alone.
        assert_eq!(status(None).split_to_fit(CAP), vec![status(None)]);
        assert_eq!(status(Some("boom".into())).split_to_fit(CAP), vec![status(Some("boom".into()))]);
    }

    #[test]
    fn many_status_reports_are_split_with_traces_truncated() {
        let base = connector_with_tasks(200);
        let reports: Vec<StatusReport> = (0..200)
            .map(|t| {
                let trace = (t % 3 != 0).then(|| format!("frame {t}\n").repeat(if t % 10 == 0 { 20_000 } else { 800 }));
                // Every 13th report is stale and rejected, per report.
                report(task("c", t), if t % 13 == 0 { 1 } else { 2 }, trace)
            })
            .collect();
        let whole = Command::ReportStatuses { node: 1, reports: reports.clone() };
        let pieces = whole.clone().split_to_fit(CAP);
        assert_fits(&pieces, whole.encoded_len());
        let rejoined: Vec<StatusReport> = pieces
            .iter()
            .flat_map(|p| match p {
                Command::ReportStatuses { node: 1, reports } => reports.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        let expected: Vec<StatusReport> = reports
            .iter()
            .map(|r| {
                let trace = r.trace.as_deref().map(|t| truncate_trace(t, MAX_TRACE_BYTES).into_owned());
                StatusReport { trace, ..r.clone() }
            })
            .collect();
        assert_eq!(rejoined, expected);
        assert!(rejoined.iter().any(|r| r.trace.as_deref().is_some_and(|t| t.ends_with(" bytes omitted]"))));

        let (mut a, mut b) = (base.clone(), base);
        apply_from(&mut a, 10, &[whole]);
        apply_from(&mut b, 10, &pieces);
        assert_eq!(a.statuses.len(), 200 - 16);
        assert_eq!(a.statuses.keys().collect::<Vec<_>>(), b.statuses.keys().collect::<Vec<_>>());
        for (unit, sa) in &a.statuses {
            let sb = &b.statuses[unit];
            let truncated = sa.trace.as_deref().map(|t| truncate_trace(t, MAX_TRACE_BYTES).into_owned());
            assert_eq!(*sb, crate::model::StatusRecord { trace: truncated, ..sa.clone() }, "{unit}");
        }
    }

    fn big_config(t: usize) -> ConfigMap {
        let mut c = ConfigMap::new();
        c.insert("task.id".into(), t.to_string());
        c.insert("query".into(), format!("SELECT * FROM table_{t} WHERE {}", "x = 1 AND ".repeat(300)));
        c
    }

    #[test]
    fn large_task_configs_become_parts_that_install_the_same_configs() {
        let base = connector_with_tasks(0);
        let configs: Vec<ConfigMap> = (0..100).map(big_config).collect();
        let whole = Command::PutTaskConfigs { connector: "c".into(), epoch: 3, configs: configs.clone() };
        let pieces = whole.clone().split_to_fit(CAP);
        assert_fits(&pieces, whole.encoded_len());
        let parts = pieces.len() as u32;
        let mut rejoined = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            match p {
                Command::PutTaskConfigsPart { connector, epoch: 3, part, parts: n, configs } if connector == "c" => {
                    assert_eq!((*part, *n), (i as u32, parts));
                    rejoined.extend(configs.iter().cloned());
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(rejoined, configs);

        let (mut a, mut b) = (base.clone(), base);
        apply_from(&mut a, 10, &[whole]);
        let responses = apply_from(&mut b, 10, &pieces);
        assert!(responses.iter().all(|r| *r == Response::Applied), "{responses:?}");
        assert_eq!(a.task_configs["c"], TaskConfigs { configs: configs.clone(), generation: 10 });
        let last = 10 + u64::from(parts) - 1;
        assert_eq!(b.task_configs["c"], TaskConfigs { configs, generation: last });
        assert!(b.staged_task_configs.is_empty());
        if let Some(t) = b.task_configs.get_mut("c") {
            t.generation = 10;
        }
        assert_eq!(a, b);
    }

    #[test]
    fn large_sink_spread_becomes_parts_that_install_the_same_spread() {
        let mut base = connector_with_tasks(0);
        base.task_configs.insert("c".into(), TaskConfigs { configs: vec![ConfigMap::new(); 5], generation: 7 });
        let tp = |i: i32| TopicPartition { topic: format!("a-fairly-long-topic-name-{}", i % 40), partition: i };
        // Tasks 1 and 3 get nothing; task 0 gets enough to span several parts alone.
        let tasks: Vec<Vec<TopicPartition>> = vec![
            (0..5_000).map(tp).collect(),
            vec![],
            (5_000..6_500).map(tp).collect(),
            vec![],
            (6_500..8_000).map(tp).collect(),
        ];
        let whole = Command::AssignSinkPartitions { connector: "c".into(), generation: 7, tasks: tasks.clone() };
        let pieces = whole.clone().split_to_fit(CAP);
        assert_fits(&pieces, whole.encoded_len());
        let parts = pieces.len() as u32;
        let mut rejoined = vec![Vec::new(); 5];
        let mut parts_of_task = [0usize; 5];
        for (i, p) in pieces.iter().enumerate() {
            match p {
                Command::SpreadSinkPartitionsPart {
                    connector,
                    generation: 7,
                    task_count: 5,
                    part,
                    parts: n,
                    tasks,
                } if connector == "c" => {
                    assert_eq!((*part, *n), (i as u32, parts));
                    for (t, list) in tasks {
                        assert!(!list.is_empty(), "no empty pairs");
                        rejoined[*t as usize].extend(list.iter().cloned());
                        parts_of_task[*t as usize] += 1;
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(rejoined, tasks);
        assert!(parts_of_task[0] >= 3, "task 0's list is split across parts: {parts_of_task:?}");
        assert_eq!((parts_of_task[1], parts_of_task[3]), (0, 0));

        let (mut a, mut b) = (base.clone(), base);
        apply_from(&mut a, 10, &[whole]);
        let responses = apply_from(&mut b, 10, &pieces);
        assert!(responses.iter().all(|r| *r == Response::Applied), "{responses:?}");
        assert_eq!(a.sink_partitions["c"].tasks, tasks);
        assert!(b.staged_sink_partitions.is_empty());
        assert_eq!(a, b);
    }

    #[test]
    fn spread_of_only_empty_lists_is_one_part() {
        let mut base = connector_with_tasks(0);
        base.task_configs.insert("c".into(), TaskConfigs { configs: vec![ConfigMap::new(); 10_000], generation: 7 });
        let whole = Command::AssignSinkPartitions { connector: "c".into(), generation: 7, tasks: vec![vec![]; 10_000] };
        assert!(whole.encoded_len() > CAP);
        let pieces = whole.clone().split_to_fit(CAP);
        assert_eq!(
            pieces,
            vec![Command::SpreadSinkPartitionsPart {
                connector: "c".into(),
                generation: 7,
                task_count: 10_000,
                part: 0,
                parts: 1,
                tasks: vec![]
            }]
        );
        let (mut a, mut b) = (base.clone(), base);
        apply_from(&mut a, 10, &[whole]);
        apply_from(&mut b, 10, &pieces);
        assert_eq!(a, b);
    }

    #[test]
    fn truncated_traces_fit_end_with_the_marker_and_keep_char_boundaries() {
        assert_eq!(truncate_trace("short", 100), "short");
        assert!(matches!(truncate_trace("short", 5), Cow::Borrowed("short")));
        // Multi-byte text: 'ü' is 2 bytes, '€' 3; the cut must not split one.
        let text = "ü€".repeat(10_000);
        for max in [100, 101, 102, 1_000, 16 << 10] {
            let cut = truncate_trace(&text, max);
            assert!(cut.len() <= max, "{} > {max}", cut.len());
            assert!(cut.len() + 5 >= max, "{} wastes room under {max}", cut.len());
            let (kept, marker) = cut.split_once("\n... [trace truncated: ").expect("marker");
            assert!(text.starts_with(kept));
            assert_eq!(marker, format!("{} bytes omitted]", text.len() - kept.len()));
        }
        // Too small for the marker: the head alone, still at a boundary.
        assert_eq!(truncate_trace(&text, 4), "ü");
        assert_eq!(truncate_trace(&text, 0), "");
    }
}
