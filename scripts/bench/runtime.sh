#!/usr/bin/env bash
# Coordinator/worker benchmark: P1 (crash of a non-leader → its tasks RUNNING elsewhere),
# P2 (graceful stop → handoff), P3 (leader crash → first accepted write), P4 (restarts of
# tasks that did not move when a 4th node joins). See scripts/bench/runtime.py.
#   scripts/bench/runtime.sh [RUNS]
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/raftconnect-target}"
cargo build --release --bin raftconnect --manifest-path "$REPO_ROOT/Cargo.toml" >&2
export RAFTCONNECT_BIN="$CARGO_TARGET_DIR/release/raftconnect"
exec python3 "$REPO_ROOT/scripts/bench/runtime.py" "$@"
