#!/usr/bin/env bash
# In-process planner benchmark (release build): a planning round at 10,000 units on 3 nodes and
# at 100,000 units on 10 nodes (targets: ≤ 50 ms and ≤ 500 ms a round), plus the copy out of
# the state, a quiet round, a lost node and a join. Prints one JSON line per case and writes
# them to OUT.
#
#   scripts/bench/planner.sh
#
# Environment:
#   OUT               JSON lines file (default target-bench/planner.jsonl in the repo root)
#   CARGO_TARGET_DIR  cargo's target directory (default $HOME/.cache/raftconnect-target)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${OUT:-$REPO_ROOT/target-bench/planner.jsonl}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/raftconnect-target}"
mkdir -p "$(dirname "$OUT")"
cd "$REPO_ROOT"
cargo run --quiet --release --example plan_bench -- --json | tee "$OUT"
