//! Crash consistency: a child process appends, saves votes, applies, snapshots and purges in a
//! loop and is killed with SIGKILL at an arbitrary point, three times over, then once more right
//! after a `save_vote` returned. After every kill the store must reopen with a contiguous log that
//! still holds every entry the child was told is durable, the last vote the child saved,
//! `purged <= snapshot <= applied <= last log index`, and a state equal to a replay of the log.
//!
//! The child is this test binary re-executed with `child_writer --exact --include-ignored` and
//! `RC_CRASH_DIR` set; without that variable `child_writer` does nothing. The child reports
//! progress in `<dir>/progress`, one line per completed durable operation.

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use openraft::storage::{RaftLogStorage, RaftStateMachine};
use openraft::testing::log_id;
use openraft::{RaftLogReader, RaftSnapshotBuilder, Vote};
use raftconnect_storage::{open, State};

const ENV_DIR: &str = "RC_CRASH_DIR";
/// If set to N: once entry N is durable, save a vote of a new term, report it and stall.
const ENV_STALL_AFTER: &str = "RC_CRASH_STALL_AFTER";
const PROGRESS: &str = "progress";
/// A snapshot (and a purge) every this many entries.
const SNAPSHOT_EVERY: u64 = 40;
/// A vote with a new term every this many entries.
const VOTE_EVERY: u64 = 25;
/// Apply once this many entries are pending.
const APPLY_EVERY: usize = 5;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Child
// ---------------------------------------------------------------------------------------------

#[test]
#[ignore = "runs only as the child process of sigkill_during_writes_reopens_consistent"]
fn child_writer() {
    let Some(dir) = std::env::var_os(ENV_DIR) else { return };
    let stall_after = std::env::var(ENV_STALL_AFTER).ok().map(|v| v.parse::<u64>().expect("stall index"));
    runtime().block_on(writer_loop(PathBuf::from(dir), stall_after));
}

/// One line per write(2), so the parent never sees half a line as a complete one.
fn report(progress: &mut std::fs::File, line: String) {
    progress.write_all(format!("{line}\n").as_bytes()).expect("write progress");
}

async fn writer_loop(dir: PathBuf, stall_after: Option<u64>) {
    let (mut log, mut sm) = open::<TypeConfig>(&dir).expect("child: open");
    let st = log.get_log_state().await.unwrap();
    let last = st.last_log_id.map(|l| l.index).unwrap_or(0);
    let applied = sm.applied_state().await.unwrap().0.map(|l| l.index).unwrap_or(0);
    assert!(applied <= last, "child: applied {applied} > last {last}");
    // What openraft does at startup: re-apply the committed tail (everything is committed here).
    if applied < last {
        let tail = log.try_get_log_entries(applied + 1..=last).await.unwrap();
        assert_eq!(tail.len() as u64, last - applied, "child: log hole in ({applied}, {last}]");
        sm.apply(tail).await.unwrap();
    }
    let mut progress =
        OpenOptions::new().create(true).append(true).open(dir.join(PROGRESS)).expect("child: progress file");
    report(&mut progress, format!("start {last} applied {applied}"));

    let mut next = last + 1;
    // Committed but not yet applied entries: the state machine trails the log by up to
    // APPLY_EVERY entries, as it trails openraft's commit, so kills land with a gap too.
    let mut pending = Vec::new();
    loop {
        // Batches of 1..=3 entries, so appends of several entries get killed too.
        let n = 1 + next % 3;
        let entries: Vec<_> = (next..next + n).map(entry_for).collect();
        append(&mut log, entries.clone()).await;
        // The callback has fired: these entries are durable.
        report(&mut progress, (next + n - 1).to_string());
        pending.extend(entries);
        let prev = next;
        next += n;

        if stall_after.is_some_and(|s| next > s) {
            // A term above every regular one so far; nothing is written after it, so only
            // save_vote's own barrier can make it durable before the kill.
            let term = next / VOTE_EVERY + 1;
            log.save_vote(&Vote::new(term, 1)).await.unwrap();
            report(&mut progress, format!("vote {term}"));
            report(&mut progress, "stalled".to_string());
            std::future::pending::<()>().await;
        }
        // Now and then a new term's vote; reported once `save_vote` has returned.
        if let Some(i) = (prev..next).find(|i| i % VOTE_EVERY == 0) {
            let term = i / VOTE_EVERY;
            log.save_vote(&Vote::new(term, 1)).await.unwrap();
            report(&mut progress, format!("vote {term}"));
        }

        if pending.len() < APPLY_EVERY {
            continue;
        }
        let first = pending[0].log_id.index;
        sm.apply(std::mem::take(&mut pending)).await.unwrap();
        if (first..next).any(|i| i % SNAPSHOT_EVERY == 0) {
            let snap = sm.get_snapshot_builder().await.build_snapshot().await.unwrap();
            let s = snap.meta.last_log_id.expect("snapshot log id").index;
            // Like openraft's max_in_snapshot_log_to_keep: alternately keep 10 entries or none.
            let upto = if (s / SNAPSHOT_EVERY) % 2 == 1 { s - 10 } else { s };
            log.purge(log_id(1, 1, upto)).await.unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------

fn spawn_child(dir: &Path, cycle: u32, stall_after: Option<u64>) -> Child {
    let out = std::fs::File::create(dir.join(format!("child-{cycle}.log"))).unwrap();
    let err = out.try_clone().unwrap();
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_writer", "--exact", "--include-ignored", "--nocapture", "--test-threads=1"])
        .env(ENV_DIR, dir)
        .env_remove(ENV_STALL_AFTER)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if let Some(n) = stall_after {
        cmd.env(ENV_STALL_AFTER, n.to_string());
    }
    cmd.spawn().expect("spawn child")
}

/// Complete lines of the progress file.
fn progress_lines(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(PROGRESS)).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete.lines().map(str::to_string).collect()
}

/// The highest index the child reported durable.
fn reported_durable(dir: &Path) -> u64 {
    progress_lines(dir).iter().filter_map(|l| l.parse::<u64>().ok()).max().unwrap_or(0)
}

/// The highest vote term the child reported saved.
fn reported_vote_term(dir: &Path) -> u64 {
    progress_lines(dir)
        .iter()
        .filter_map(|l| l.strip_prefix("vote ").and_then(|t| t.parse::<u64>().ok()))
        .max()
        .unwrap_or(0)
}

fn child_log(dir: &Path, cycle: u32) -> String {
    std::fs::read_to_string(dir.join(format!("child-{cycle}.log"))).unwrap_or_default()
}

/// Poll the progress file until `done` holds, failing on a deadline or if the child exits on
/// its own.
fn wait_until(dir: &Path, child: &mut Child, cycle: u32, what: &str, done: impl Fn(&Path) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        if done(dir) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("child exited early ({status}) in cycle {cycle}:\n{}", child_log(dir, cycle));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "child did not reach {what} in cycle {cycle} (durable {}):\n{}",
                reported_durable(dir),
                child_log(dir, cycle)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn sigkill(child: &mut Child) {
    child.kill().expect("SIGKILL child"); // Child::kill is SIGKILL on unix
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "child was not killed: {status}");
}

/// Reopen and check every invariant; with `finish`, also re-apply the tail as openraft would.
async fn check_consistent(dir: &Path, reported: u64, vote_term: u64, finish: bool) -> (u64, u64, u64) {
    let (mut log, mut sm) = open::<TypeConfig>(dir).expect("reopen after SIGKILL");
    let vote = log.read_vote().await.unwrap();
    let term = vote.map(|v| v.leader_id.term).unwrap_or(0);
    assert!(term >= vote_term, "lost a saved vote: term {term} on disk, child saved term {vote_term}");
    if let Some(v) = vote {
        assert_eq!(v, Vote::new(term, 1));
    }

    let st = log.get_log_state().await.unwrap();
    let purged = st.last_purged_log_id.map(|l| l.index).unwrap_or(0);
    let last = st.last_log_id.map(|l| l.index).unwrap_or(0);
    assert!(purged <= last, "purged {purged} > last {last}");
    assert!(last >= reported, "lost durable entries: log ends at {last}, child reported {reported} durable");

    // No holes: exactly the entries (purged, last], each with the payload written at its index.
    let entries = log.try_get_log_entries(purged + 1..=last).await.unwrap();
    let indexes: Vec<u64> = entries.iter().map(|e| e.log_id.index).collect();
    assert_eq!(indexes, (purged + 1..=last).collect::<Vec<_>>(), "log not contiguous after purged {purged}");
    for e in &entries {
        assert_eq!(*e, entry_for(e.log_id.index), "entry {} differs from what was written", e.log_id.index);
    }

    let (applied, membership) = sm.applied_state().await.unwrap();
    let applied = applied.map(|l| l.index).unwrap_or(0);
    assert!(applied <= last, "applied {applied} > last log index {last}");
    assert!(applied >= purged, "applied {applied} < purged {purged}: cannot re-apply from the log");
    if applied >= 1 {
        assert_eq!(membership.log_id(), &Some(log_id(1, 1, 1)));
    }
    let handle = sm.handle();
    let (state, handle_applied) = handle.read(|a| (a.state.clone(), a.last_applied.map(|l| l.index).unwrap_or(0)));
    assert_eq!(handle_applied, applied);
    assert_eq!(*handle.applied_watch().borrow(), applied);

    // Oracle 1: replay from scratch. Purged entries are regenerated (payloads are a function of
    // the index, and every surviving entry was checked against that function above).
    let mut from_scratch = State::default();
    replay(&mut from_scratch, &(1..=applied).map(entry_for).collect::<Vec<_>>());
    assert_eq!(state, from_scratch, "state at applied {applied} differs from a replay from scratch");

    // Oracle 2: the snapshot plus the stored log entries up to applied.
    let snapshot = sm.get_current_snapshot().await.unwrap();
    if purged > 0 {
        assert!(snapshot.is_some(), "log purged to {purged} without a snapshot");
    }
    if let Some(snap) = snapshot {
        let s = snap.meta.last_log_id.map(|l| l.index).unwrap_or(0);
        assert!(s >= purged, "snapshot {s} below purged {purged}");
        assert!(s <= applied, "snapshot {s} newer than applied {applied} after open");
        let mut from_snapshot = snapshot_state(snap.snapshot.get_ref());
        let mut at_s = State::default();
        replay(&mut at_s, &(1..=s).map(entry_for).collect::<Vec<_>>());
        assert_eq!(from_snapshot, at_s, "snapshot {s} content differs from a replay");
        replay(&mut from_snapshot, entries.iter().filter(|e| e.log_id.index > s && e.log_id.index <= applied));
        assert_eq!(state, from_snapshot, "state differs from snapshot {s} + log ({s}, {applied}]");
    }

    if finish {
        // openraft's startup re-apply of the committed tail brings it to `last`.
        let tail: Vec<_> = entries.iter().filter(|e| e.log_id.index > applied).cloned().collect();
        sm.apply(tail).await.unwrap();
        let mut expected = State::default();
        replay(&mut expected, &(1..=last).map(entry_for).collect::<Vec<_>>());
        assert_eq!(handle.read(|a| a.state.clone()), expected);
        assert_eq!(sm.applied_state().await.unwrap().0.map(|l| l.index), Some(last));
    }
    (purged, applied, last)
}

#[test]
fn sigkill_during_writes_reopens_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let rt = runtime();
    const KILL_CYCLES: u32 = 3;
    let mut reported = 0;

    // Three kills at arbitrary points, each after the child made at least 200–300 entries
    // durable, then one right after a save_vote (the child stalls there; without save_vote's
    // barrier the vote would still sit in sled's memory).
    for cycle in 0..=KILL_CYCLES {
        let stall = cycle == KILL_CYCLES;
        let target = reported
            + if cycle == 0 {
                300
            } else if stall {
                50
            } else {
                200
            };
        let mut child = spawn_child(dir, cycle, stall.then_some(target));
        if stall {
            wait_until(dir, &mut child, cycle, "the stall", |d| {
                progress_lines(d).last().is_some_and(|l| l == "stalled")
            });
        } else {
            wait_until(dir, &mut child, cycle, &format!("entry {target}"), |d| reported_durable(d) >= target);
        }
        sigkill(&mut child);

        let before = reported;
        reported = reported_durable(dir);
        assert!(reported >= target && reported > before);
        let vote_term = reported_vote_term(dir);
        assert!(vote_term > 0, "the child saved no vote");
        let (purged, applied, last) = rt.block_on(check_consistent(dir, reported, vote_term, stall));
        eprintln!(
            "cycle {cycle}: reported {reported}, vote term {vote_term}, \
             purged {purged}, applied {applied}, last {last}"
        );
    }
    // Every child started from the store the previous one left.
    let starts = progress_lines(dir).iter().filter(|l| l.starts_with("start ")).count();
    assert_eq!(starts, KILL_CYCLES as usize + 1);
}
