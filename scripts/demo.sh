#!/usr/bin/env bash
# Local 3-node raftconnect cluster for trying things out.
#
#   scripts/demo.sh          build, (re)start a fresh 3-node cluster, write a command, show status/log
#   scripts/demo.sh stop     stop the cluster (SIGTERM, wait for exit); data is kept in .demo/
#   scripts/demo.sh clean    stop the cluster and remove .demo/
#
# Environment:
#   BASE_PORT         port of node 1 (default 8083); nodes 2 and 3 use BASE_PORT+1, BASE_PORT+2
#   CARGO_TARGET_DIR  cargo's target directory (default $HOME/.cache/raftconnect-target)
#   STARTUP_TIMEOUT   seconds to wait for the cluster to form (default 60)
#   STOP_TIMEOUT      seconds to wait for a node to exit after SIGTERM before SIGKILL (default 20)
#
# Needs only the Rust toolchain, curl and python3.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO_DIR="$REPO_ROOT/.demo"
PIDS_FILE="$DEMO_DIR/pids"
BASE_PORT="${BASE_PORT:-8083}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
STOP_TIMEOUT="${STOP_TIMEOUT:-20}"
NODES=(1 2 3)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

port_of() { echo $((BASE_PORT + $1 - 1)); }
url_of() { echo "http://127.0.0.1:$(port_of "$1")"; }

# True if PID is alive and (where /proc allows checking) a raftconnect node using DIR.
is_demo_node() {
    local pid="$1" dir="$2"
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--data-dir $dir " || return 1
    fi
    return 0
}

stop_cluster() {
    [[ -f "$PIDS_FILE" ]] || { log "no cluster recorded in $PIDS_FILE"; return 0; }
    local id pid
    local -a running=()
    while read -r id pid; do
        [[ -n "${pid:-}" ]] || continue
        if is_demo_node "$pid" "$DEMO_DIR/node$id"; then
            log "stopping node $id (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            running+=("$id:$pid")
        fi
    done <"$PIDS_FILE"
    local deadline=$((SECONDS + STOP_TIMEOUT)) entry
    for entry in "${running[@]}"; do
        id="${entry%%:*}"
        pid="${entry#*:}"
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "node $id (pid $pid) did not exit within ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -f "$PIDS_FILE"
    log "cluster stopped"
}

build() {
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/raftconnect-target}"
    command -v cargo >/dev/null || die "cargo not found; install the Rust toolchain"
    log "building raftconnect (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$REPO_ROOT" && cargo build --bin raftconnect)
    # A relative CARGO_TARGET_DIR is relative to the directory cargo ran in.
    case "$CARGO_TARGET_DIR" in
        /*) BIN="$CARGO_TARGET_DIR/debug/raftconnect" ;;
        *) BIN="$REPO_ROOT/$CARGO_TARGET_DIR/debug/raftconnect" ;;
    esac
    [[ -x "$BIN" ]] || die "binary not found at $BIN"
}

# Reads GET /cluster JSON on stdin; succeeds when it names a leader and lists exactly
# the expected member ids, all voters and alive.
cluster_formed() {
    python3 -c '
import json, sys
want = {int(i) for i in sys.argv[1:]}
try:
    s = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
members = s.get("members") or []
ok = (s.get("leader") is not None
      and {m.get("id") for m in members} == want
      and all(m.get("role") == "voter" and m.get("alive") is True for m in members))
sys.exit(0 if ok else 1)
' "$@"
}

# Field of GET /cluster at URL, printed as JSON ("null" when absent).
cluster_field() {
    curl -fsS -m 2 "$1/cluster" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin).get(sys.argv[1])))' "$2"
}

check_node_running() {
    local id="$1" pid="$2"
    if ! kill -0 "$pid" 2>/dev/null; then
        log "node $id exited; last lines of $DEMO_DIR/node$id.log:"
        tail -n 20 "$DEMO_DIR/node$id.log" >&2 || true
        die "node $id failed to start"
    fi
}

start_node() {
    local id="$1"
    shift
    local dir="$DEMO_DIR/node$id"
    mkdir -p "$dir"
    NO_COLOR=1 "$BIN" node --id "$id" --data-dir "$dir" --listen "127.0.0.1:$(port_of "$id")" "$@" \
        >"$DEMO_DIR/node$id.log" 2>&1 &
    local pid=$!
    echo "$id $pid" >>"$PIDS_FILE"
    PIDS[id]=$pid
    log "started node $id (pid $pid) on $(url_of "$id"), log $DEMO_DIR/node$id.log"
}

# Poll until every started node reports a leader whose membership is exactly the given ids,
# all voters and alive. Fails after STARTUP_TIMEOUT seconds.
wait_formed() {
    local deadline=$((SECONDS + STARTUP_TIMEOUT)) id body all_ok
    while ((SECONDS < deadline)); do
        all_ok=1
        for id in "$@"; do
            check_node_running "$id" "${PIDS[id]}"
            if ! body="$(curl -fsS -m 1 "$(url_of "$id")/cluster" 2>/dev/null)" || ! cluster_formed "$@" <<<"$body"; then
                all_ok=0
                break
            fi
        done
        ((all_ok)) && return 0
        sleep 0.2
    done
    die "cluster (nodes $*) did not form within ${STARTUP_TIMEOUT}s; see $DEMO_DIR/node*.log"
}

start_cluster() {
    command -v curl >/dev/null || die "curl not found"
    command -v python3 >/dev/null || die "python3 not found"
    build

    if [[ -f "$PIDS_FILE" ]]; then
        log "a cluster from a previous run is recorded; stopping it first"
        stop_cluster
    fi
    local id
    for id in "${NODES[@]}"; do
        if curl -s -o /dev/null -m 1 "$(url_of "$id")/" 2>/dev/null; then
            die "something is already listening on port $(port_of "$id"); stop it or set BASE_PORT"
        fi
    done

    # If anything below fails, do not leave half a cluster running.
    trap 'rc=$?; if ((rc != 0)); then log "start failed; stopping the nodes started so far"; stop_cluster; fi' EXIT

    # Fresh data every time: a demo cluster starts from an empty log.
    rm -rf "$DEMO_DIR"
    mkdir -p "$DEMO_DIR"
    : >"$PIDS_FILE"
    declare -g -a PIDS=()

    start_node 1 --bootstrap
    wait_formed 1
    log "node 1 is the leader of a one-node cluster; adding nodes 2 and 3"
    start_node 2 --join "$(url_of 1)"
    start_node 3 --join "$(url_of 1)"
    wait_formed "${NODES[@]}"
    log "cluster formed: 3 voters, all alive"

    local via
    via="$(url_of 2)"
    log "node 2 is $(cluster_field "$via" state | tr -d '"'); creating a connector through it with the Kafka Connect REST API (forwarded to the leader)"
    local body='{"name":"demo-source","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/demo.txt","topic":"demo"}}'
    echo "POST $via/connectors $body"
    curl -fsS -m 10 -H 'Content-Type: application/json' -d "$body" "$via/connectors"
    echo
    echo "PUT $via/connectors/demo-source/pause"
    curl -fsS -m 10 -X PUT -o /dev/null -w 'HTTP %{http_code}\n' "$via/connectors/demo-source/pause"
    echo "GET $(url_of 3)/connectors/demo-source/status"
    curl -fsS -m 10 "$(url_of 3)/connectors/demo-source/status"
    echo
    echo
    echo "\$ raftconnect cluster status --url $via"
    "$BIN" cluster status --url "$via"
    echo
    echo "\$ raftconnect log --url $(url_of 3)"
    "$BIN" log --url "$(url_of 3)"

    cat <<EOF

The cluster is running (pids in $PIDS_FILE, logs in $DEMO_DIR/node{1,2,3}.log).
  binary:          $BIN
  status:          $BIN cluster status --url $(url_of 1)
  follow the log:  $BIN log --url $(url_of 1) --follow
  connectors:      curl $(url_of 1)/connectors?expand=status
  resume:          curl -X PUT $(url_of 1)/connectors/demo-source/resume
  state:           curl $(url_of 1)/cluster/state
  stop:            scripts/demo.sh stop     (data kept; offline: $BIN log --data-dir $DEMO_DIR/node1)
  stop + remove:   scripts/demo.sh clean
EOF
    trap - EXIT
}

case "${1:-start}" in
    start) start_cluster ;;
    stop) stop_cluster ;;
    clean)
        stop_cluster
        rm -rf "$DEMO_DIR"
        log "removed $DEMO_DIR"
        ;;
    -h | --help | help) sed -n '2,14p' "$0" ;;
    *) die "unknown command '$1' (expected: start, stop, clean)" ;;
esac
