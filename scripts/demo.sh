#!/usr/bin/env bash
# Local 3-node raftconnect cluster on a local Kafka-protocol broker, moving a file through Kafka.
#
#   scripts/demo.sh          build, start the broker (nisshi, installed once if missing) and a fresh
#                            3-node cluster; FileStreamSource .demo/input.txt -> topic demo-lines
#                            (4 partitions) -> FileStreamSink (2 tasks) -> .demo/output.txt; wait until
#                            every line arrived, show status, offsets, output and the log; leave it running
#   scripts/demo.sh stop     stop the cluster (SIGTERM, wait for exit) and the broker; Raft data is kept
#                            in .demo/ (the broker keeps its topics in memory: they are gone)
#   scripts/demo.sh clean    stop the cluster and the broker, and remove .demo/
#
# Environment:
#   BASE_PORT         port of node 1 (default 8083); nodes 2 and 3 use BASE_PORT+1, BASE_PORT+2
#   BROKER_PORT       port of the demo's broker (default 19092)
#   LINES             lines in .demo/input.txt (default 1000)
#   CARGO_TARGET_DIR  cargo's target directory (default $HOME/.cache/raftconnect-target)
#   STARTUP_TIMEOUT   seconds to wait for the cluster to form (default 60)
#   DATA_TIMEOUT      seconds to wait for the lines to reach .demo/output.txt (default 60)
#   STOP_TIMEOUT      seconds to wait for a node to exit after SIGTERM before SIGKILL (default 20)
#
# Needs the Rust toolchain, curl and python3. On a machine without the broker, scripts/broker.sh
# builds it first (about 16 minutes on 2 cores, once; cached in ~/.local/nisshi).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO_DIR="$REPO_ROOT/.demo"
PIDS_FILE="$DEMO_DIR/pids"
BASE_PORT="${BASE_PORT:-8083}"
BROKER_PORT="${BROKER_PORT:-19092}"
LINES="${LINES:-1000}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
DATA_TIMEOUT="${DATA_TIMEOUT:-60}"
STOP_TIMEOUT="${STOP_TIMEOUT:-20}"
NODES=(1 2 3)
TOPIC=demo-lines
INPUT="$DEMO_DIR/input.txt"
OUTPUT="$DEMO_DIR/output.txt"
BROKER_SH="$REPO_ROOT/scripts/broker.sh"
# The demo's broker keeps its pid, address and log here, apart from a broker started by hand
# with scripts/broker.sh (whose state is in ~/.cache/raftconnect-broker).
export BROKER_DIR="$DEMO_DIR/broker"
NISSHI="${NISSHI_ROOT:-$HOME/.local/nisshi}/bin/nisshi"

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

# The demo's broker, if one is recorded in $BROKER_DIR.
stop_broker() {
    [[ -f "$BROKER_DIR/broker.pid" ]] || return 0
    "$BROKER_SH" stop
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# POST a connector ({"name","config"} in $2) through the node at $1 and print the answer.
create_connector() {
    echo "POST $1/connectors $2"
    curl -fsS -m 30 -H 'Content-Type: application/json' -d "$2" "$1/connectors" ||
        die "creating the connector through $1 failed"
    echo
}

# Status of the demo's connectors and the last lines of every node's log, for a failed wait.
show_diagnostics() {
    local name id
    for name in demo-source demo-sink; do
        echo "GET $(url_of 1)/connectors/$name/status" >&2
        curl -sS -m 5 "$(url_of 1)/connectors/$name/status" >&2 || true
        echo >&2
    done
    for id in "${NODES[@]}"; do
        echo "--- last lines of $DEMO_DIR/node$id.log" >&2
        tail -n 15 "$DEMO_DIR/node$id.log" >&2 || true
    done
}

lines_in() { if [[ -f "$1" ]]; then wc -l <"$1"; else echo 0; fi; }

# Poll until $OUTPUT has $1 lines (DATA_TIMEOUT seconds at most); fail if it gets more.
wait_output_lines() {
    local want="$1" deadline=$((SECONDS + DATA_TIMEOUT)) next_report=$((SECONDS + 5)) have id
    while :; do
        have="$(lines_in "$OUTPUT")"
        ((have == want)) && return 0
        if ((have > want)); then
            show_diagnostics
            die "$OUTPUT has $have lines, more than the $want written to $INPUT (duplicates)"
        fi
        for id in "${NODES[@]}"; do check_node_running "$id" "${PIDS[id]}"; done
        if ((SECONDS >= deadline)); then
            show_diagnostics
            die "$OUTPUT has $have of $want lines after ${DATA_TIMEOUT}s"
        fi
        if ((SECONDS >= next_report)); then
            log "... $have of $want lines in $OUTPUT"
            next_report=$((SECONDS + 5))
        fi
        sleep 0.1
    done
}

# Reads {"source": GET offsets of demo-source, "sink": GET offsets of demo-sink} on stdin;
# succeeds when the source's position is the input's size and the sink's offsets add up to
# the lines written (a fresh topic starts at offset 0).
offsets_caught_up() {
    python3 -c '
import json, sys
size, lines = int(sys.argv[1]), int(sys.argv[2])
try:
    o = json.load(sys.stdin)
    src = [e["offset"].get("position") for e in o["source"]["offsets"]]
    snk = sum(int(e["offset"]["kafka_offset"]) for e in o["sink"]["offsets"])
except (ValueError, KeyError, TypeError):
    sys.exit(1)
sys.exit(0 if src == [size] and snk == lines else 1)
' "$@"
}

fetch_offsets() {
    local src snk
    src="$(curl -fsS -m 5 "$(url_of 1)/connectors/demo-source/offsets")" || return 1
    snk="$(curl -fsS -m 5 "$(url_of 1)/connectors/demo-sink/offsets")" || return 1
    printf '{"source": %s, "sink": %s}' "$src" "$snk"
}

start_cluster() {
    [[ "$LINES" =~ ^[1-9][0-9]*$ ]] || die "LINES must be a positive integer"
    [[ "$BROKER_PORT" =~ ^[1-9][0-9]*$ ]] || die "BROKER_PORT must be a port number"
    command -v curl >/dev/null || die "curl not found"
    command -v python3 >/dev/null || die "python3 not found"
    build

    if [[ -f "$PIDS_FILE" ]]; then
        log "a cluster from a previous run is recorded; stopping it first"
        stop_cluster
    fi
    stop_broker
    local id
    for id in "${NODES[@]}"; do
        if curl -s -o /dev/null -m 1 "$(url_of "$id")/" 2>/dev/null; then
            die "something is already listening on port $(port_of "$id"); stop it or set BASE_PORT"
        fi
    done
    port_in_use "$BROKER_PORT" && die "something is already listening on port $BROKER_PORT; stop it or set BROKER_PORT"

    # The broker: built and installed once per machine (long; cargo shows its progress).
    "$BROKER_SH" install

    # If anything below fails, do not leave half a cluster (or the broker) running.
    trap 'rc=$?; if ((rc != 0)); then log "start failed; stopping what was started so far"; stop_cluster; stop_broker; fi' EXIT

    # Fresh data every time: a demo cluster starts from an empty log and an empty broker.
    rm -rf "$DEMO_DIR"
    mkdir -p "$DEMO_DIR"
    : >"$PIDS_FILE"
    declare -g -a PIDS=()

    local kafka
    kafka="$("$BROKER_SH" start --port "$BROKER_PORT" | tail -n 1)"
    [[ "$kafka" == 127.0.0.1:* ]] || die "scripts/broker.sh start printed '$kafka', not an address"
    log "broker (nisshi, in memory) at $kafka, log $BROKER_DIR/broker.log"
    "$NISSHI" topic create --broker "tcp://$kafka" --partitions 4 "$TOPIC" >&2 ||
        die "could not create topic $TOPIC"

    start_node 1 --bootstrap --kafka "$kafka"
    wait_formed 1
    log "node 1 is the leader of a one-node cluster; adding nodes 2 and 3"
    start_node 2 --join "$(url_of 1)" --kafka "$kafka"
    start_node 3 --join "$(url_of 1)" --kafka "$kafka"
    wait_formed "${NODES[@]}"
    log "cluster formed: 3 voters, all alive"

    python3 -c '
import sys
n = int(sys.argv[2])
w = len(str(n))
with open(sys.argv[1], "w") as f:
    for i in range(1, n + 1):
        f.write("line %0*d of %d: hello from raftconnect\n" % (w, i, n))
' "$INPUT" "$LINES"
    log "wrote $LINES lines to $INPUT"

    local via2 via3 conv='"value.converter":"org.apache.kafka.connect.storage.StringConverter"'
    via2="$(url_of 2)"
    via3="$(url_of 3)"
    log "node 2 is $(cluster_field "$via2" state | tr -d '"'); creating the source through it and the sink through node 3 (Kafka Connect REST API, forwarded to the leader)"
    create_connector "$via2" "{\"name\":\"demo-source\",\"config\":{\"connector.class\":\"FileStreamSource\",\"tasks.max\":\"1\",\"file\":\"$INPUT\",\"topic\":\"$TOPIC\",$conv}}"
    create_connector "$via3" "{\"name\":\"demo-sink\",\"config\":{\"connector.class\":\"FileStreamSink\",\"tasks.max\":\"2\",\"topics\":\"$TOPIC\",\"file\":\"$OUTPUT\",$conv}}"

    local t0=$SECONDS
    log "waiting for all $LINES lines to arrive in $OUTPUT (at most ${DATA_TIMEOUT}s)"
    wait_output_lines "$LINES"
    # Each partition keeps its order, but the two sink tasks interleave partitions: compare sorted.
    if ! cmp -s <(LC_ALL=C sort "$INPUT") <(LC_ALL=C sort "$OUTPUT"); then
        show_diagnostics
        die "$OUTPUT has $LINES lines but not the lines of $INPUT (diff <(sort $INPUT) <(sort $OUTPUT))"
    fi
    log "all $LINES lines arrived in $OUTPUT within $((SECONDS - t0))s, each exactly once"

    # Tailing: lines appended to the input follow within about a second.
    local extra=5 i t1
    for ((i = 1; i <= extra; i++)); do
        echo "appended line $i at $(date +%T)" >>"$INPUT"
    done
    t1="$(date +%s%N)"
    log "appended $extra lines to $INPUT; waiting for them"
    wait_output_lines $((LINES + extra))
    log "the appended lines arrived after $((($(date +%s%N) - t1) / 1000000)) ms"
    LINES=$((LINES + extra))

    # Offsets are committed to Raft every offset.flush.interval.ms (1 s by default).
    local size offsets deadline=$((SECONDS + 15))
    size="$(stat -c %s "$INPUT")"
    until offsets="$(fetch_offsets)" && offsets_caught_up "$size" "$LINES" <<<"$offsets"; do
        if ((SECONDS >= deadline)); then
            log "warning: the committed offsets do not cover everything after 15s (source position should be $size, sink offsets should add up to $LINES):"
            break
        fi
        sleep 0.2
    done

    echo
    local name
    for name in demo-source demo-sink; do
        echo "GET $(url_of 1)/connectors/$name/status"
        curl -fsS -m 10 "$(url_of 1)/connectors/$name/status"
        echo
    done
    for name in demo-source demo-sink; do
        echo "GET $(url_of 3)/connectors/$name/offsets"
        curl -fsS -m 10 "$(url_of 3)/connectors/$name/offsets"
        echo
    done
    echo
    echo "\$ head -n 3 $OUTPUT; tail -n 3 $OUTPUT"
    head -n 3 "$OUTPUT"
    echo "..."
    tail -n 3 "$OUTPUT"
    echo
    echo "\$ raftconnect cluster status --url $via2"
    "$BIN" cluster status --url "$via2"
    local last from
    last="$(cluster_field "$via3" last_log_index)"
    from=$((last > 15 ? last - 14 : 1))
    echo
    echo "\$ raftconnect log --url $via3 --from $from     # the last 15 entries"
    "$BIN" log --url "$via3" --from "$from"

    cat <<EOF

The cluster is running (pids in $PIDS_FILE, logs in $DEMO_DIR/node{1,2,3}.log), and so is the
broker ($kafka, in memory; log $BROKER_DIR/broker.log).
  watch the sink:  tail -f $OUTPUT
  add lines:       echo "hello again" >> $INPUT       (they reach the output within about a second)
  status:          curl $(url_of 1)/connectors?expand=status
                   $BIN cluster status --url $(url_of 1)
  who runs what:   curl $(url_of 2)/cluster/worker
  offsets:         curl $(url_of 1)/connectors/demo-sink/offsets
  stop / resume:   curl -X PUT $(url_of 1)/connectors/demo-source/stop
                   curl -X PUT $(url_of 1)/connectors/demo-source/resume
  replay the file: (while stopped) curl -X PATCH -H 'Content-Type: application/json' $(url_of 1)/connectors/demo-source/offsets \\
                     -d '{"offsets":[{"partition":{"filename":"$INPUT"},"offset":{"position":0}}]}'
  follow the log:  $BIN log --url $(url_of 1) --follow
  topic:           $NISSHI topic list --broker tcp://$kafka
  stop:            scripts/demo.sh stop     (Raft data kept; offline: $BIN log --data-dir $DEMO_DIR/node1)
  stop + remove:   scripts/demo.sh clean
EOF
    trap - EXIT
}

case "${1:-start}" in
    start) start_cluster ;;
    stop)
        stop_cluster
        stop_broker
        ;;
    clean)
        stop_cluster
        stop_broker
        rm -rf "$DEMO_DIR"
        log "removed $DEMO_DIR"
        ;;
    -h | --help | help) sed -n '2,22p' "$0" ;;
    *) die "unknown command '$1' (expected: start, stop, clean)" ;;
esac
