#!/usr/bin/env bash
# Control-plane scale benchmark: a 3-node local cluster (release build, no broker) with 10,000
# units. Shape A: SCALE_CONNECTORS MockSourceConnectors (one task each): REST creates/s with 8
# clients, time until all units run, elections and GET /cluster latency while creating and
# idling, lease stops, SIGKILL of a non-leader, a whole-cluster cold restart, RSS per unit.
# Shape B (fresh cluster): IDLE_CONNECTORS IdleSourceConnectors x IDLE_TASKS tasks, the same
# plus two CPU hogs beside the cluster. Fast path (fresh cluster): one IdleSourceConnector with
# 29 tasks, SIGKILL of a non-leader -> its units RUNNING elsewhere. See scripts/bench/scale.py.
#   scripts/bench/scale.sh
#   SCALE_CONNECTORS=500 IDLE_CONNECTORS=100 RUNS_KILL=1 RUNS_FAST=3 HOG_SECONDS=10 IDLE_SECONDS=5 scripts/bench/scale.sh
#
# Environment:
#   SCALE_CONNECTORS  shape A connectors (default 5000: 10,000 units)
#   IDLE_CONNECTORS   shape B connectors (default 1000)
#   IDLE_TASKS        shape B tasks per connector (default 9: 10,000 units)
#   RUNS_KILL         SIGKILLs of a non-leader at shape A (default 3)
#   RUNS_FAST         SIGKILLs of a non-leader on the 30-unit fast-path cluster (default 10)
#   HOG_SECONDS       how long the two CPU hogs run beside shape B (default 60)
#   IDLE_SECONDS      idle phase after all units run (default 20)
#   KEEP_WORKDIR=1    keep the work directory (node data and logs) after a successful run
#   OUT               JSON results file (default target-bench/scale.json in the repo root)
#   CARGO_TARGET_DIR  cargo's target directory (default $HOME/.cache/raftconnect-target)
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/raftconnect-target}"
cargo build --release --bin raftconnect --manifest-path "$REPO_ROOT/Cargo.toml" >&2
export RAFTCONNECT_BIN="$CARGO_TARGET_DIR/release/raftconnect"
exec python3 "$REPO_ROOT/scripts/bench/scale.py" "$@"
