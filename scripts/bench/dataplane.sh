#!/usr/bin/env bash
# Data-plane benchmark: raftconnect's FileStreamSource / FileStreamSink against kcat, on one
# broker (nisshi, memory://) in one run, plus the node's memory with 100 idle tasks.
#
# N lines of RECORD_BYTES bytes (+ "\n") are generated once; then RUNS times, each on fresh
# topics of 4 partitions (pre-created):
#   a) kcat -P -l FILE -> topic A                     wall time from launch to exit (and once more
#                                                     with enable.idempotence=true, for reference)
#   b) raftconnect FileStreamSource FILE -> topic B   from the POST /connectors call returning
#      (value.converter and key.converter            until the high watermarks of B add up to N
#       StringConverter: value = line, key null)     (ListOffsets polled every 10 ms)
#   c) kcat -C -e -o beginning topic A -> file        wall time from launch to exit (and once more
#                                                     with fetch.queue.backoff.ms=10: plain kcat
#                                                     stalls for 1 s now and then, see c) below)
#   d) raftconnect FileStreamSink topic A -> file     from the POST returning until the file holds
#      (StringConverter; tasks.max=1 and 4)           N * (RECORD_BYTES + 1) bytes (polled every 5 ms)
# Every output is checked afterwards (record count; sorted content equals the input), each
# connector is deleted and the node is idle again before the next measurement. raftconnect runs
# as a 1-node cluster (release build, default worker settings unless WORKER_CONFIG is given).
# Reported: every run, medians, msg/s, and raftconnect/kcat throughput ratios (target >= 0.9).
#   e) VmRSS of a fresh node: idle (cluster formed, no connectors), then with IDLE_TASKS idle
#      tasks: IDLE_TASKS FileStreamSource connectors on files that do not exist (each waits;
#      2 * IDLE_TASKS units), and, on another fresh node, one FileStreamSink with
#      tasks.max=IDLE_TASKS on an empty topic of IDLE_TASKS partitions (one partition per task).
#
#   scripts/bench/dataplane.sh
#   RUNS=5 N=2000000 scripts/bench/dataplane.sh
#
# Environment:
#   N                 records (lines) per measurement (default 1000000)
#   RECORD_BYTES      bytes per line without the newline (default 100)
#   RUNS              repetitions of a)-d) (default 3); medians are reported
#   SINK_TASKS        tasks.max values for d) (default "1 4")
#   IDLE_TASKS        tasks for e) (default 100; 0 skips e)
#   BROKER_PORT       the benchmark's own broker (default 19192)
#   NODE_PORT         the raftconnect node (default 18283)
#   WORKER_CONFIG     a worker properties file passed to the node as --config (default none)
#   DATA_TIMEOUT      seconds one raftconnect measurement may take (default 300); a run that makes
#                     no progress for STALL_TIMEOUT seconds (default 30) fails at once
#   SETTLE            seconds over which RSS is sampled after all units are RUNNING (default 3)
#   VERIFY=0          skip the content checks (count checks stay)
#   KCAT_IDEMPOTENT=0 skip the extra, informative kcat -P run with enable.idempotence=true
#   KCAT_TUNED=0      skip the extra kcat -C run with -X fetch.queue.backoff.ms=10
#   SCRATCH_DIR       where the input and output files go (default /dev/shm if it has room, else
#                     the work directory under TMPDIR)
#   OUT               text report (default target-bench/dataplane.txt; JSON next to it, .json)
#   KEEP_WORKDIR=1    keep the temporary directory (input, node data, logs) after a successful run
#   CARGO_TARGET_DIR  cargo's target directory (default $HOME/.cache/raftconnect-target)
#
# Needs the Rust toolchain, curl, python3 and kcat (installed with apt-get if missing). kcat runs
# with LD_LIBRARY_PATH at the librdkafka 2.12.1 that rdkafka-sys built (Debian's 2.0.2 cannot
# talk to nisshi; ../shared/reference/kafka-broker.md §1.3).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELPER="$REPO_ROOT/scripts/bench/dataplane.py"
N="${N:-1000000}"
RECORD_BYTES="${RECORD_BYTES:-100}"
RUNS="${RUNS:-3}"
SINK_TASKS="${SINK_TASKS:-1 4}"
IDLE_TASKS="${IDLE_TASKS:-100}"
BROKER_PORT="${BROKER_PORT:-19192}"
NODE_PORT="${NODE_PORT:-18283}"
DATA_TIMEOUT="${DATA_TIMEOUT:-300}"
export STALL_TIMEOUT="${STALL_TIMEOUT:-30}"
SETTLE="${SETTLE:-3}"
VERIFY="${VERIFY:-1}"
KCAT_IDEMPOTENT="${KCAT_IDEMPOTENT:-1}"
KCAT_TUNED="${KCAT_TUNED:-1}"
OUT="${OUT:-$REPO_ROOT/target-bench/dataplane.txt}"
OUT_JSON="${OUT%.txt}.json"
[[ "$OUT_JSON" != "$OUT" ]] || OUT_JSON="$OUT.json"
KEEP_WORKDIR="${KEEP_WORKDIR:-0}"
PARTITIONS=4
STARTUP_TIMEOUT=60
NISSHI="${NISSHI_ROOT:-$HOME/.local/nisshi}/bin/nisshi"
STRING_CONVERTER=org.apache.kafka.connect.storage.StringConverter

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for var in N RECORD_BYTES RUNS BROKER_PORT NODE_PORT DATA_TIMEOUT STALL_TIMEOUT; do
    [[ "${!var}" =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive integer"
done
[[ "$IDLE_TASKS" =~ ^[0-9]+$ ]] || die "IDLE_TASKS must be a number"
for k in $SINK_TASKS; do [[ "$k" =~ ^[1-9][0-9]*$ ]] || die "SINK_TASKS must list positive integers"; done
[[ -z "${WORKER_CONFIG:-}" || -r "$WORKER_CONFIG" ]] || die "WORKER_CONFIG $WORKER_CONFIG is not readable"
command -v cargo >/dev/null || die "cargo not found; install the Rust toolchain"
command -v curl >/dev/null || die "curl not found"
command -v python3 >/dev/null || die "python3 not found"

# --- build ----------------------------------------------------------------------------------
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/raftconnect-target}"
case "$CARGO_TARGET_DIR" in
    /*) TARGET="$CARGO_TARGET_DIR" ;;
    *) TARGET="$REPO_ROOT/$CARGO_TARGET_DIR" ;;
esac
log "building the release binary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
(cd "$REPO_ROOT" && cargo build --release --bin raftconnect)
BIN="$TARGET/release/raftconnect"
[[ -x "$BIN" ]] || die "binary not found at $BIN"

# --- kcat with librdkafka 2.12.1 ----------------------------------------------------------------
if ! command -v kcat >/dev/null; then
    log "installing kcat (apt-get)"
    SUDO=()
    ((EUID == 0)) || SUDO=(sudo)
    "${SUDO[@]}" apt-get install -y kcat >&2 || { "${SUDO[@]}" apt-get update >&2 && "${SUDO[@]}" apt-get install -y kcat >&2; } ||
        die "could not install kcat"
fi
# The newest librdkafka.so.1 rdkafka-sys built (release first; a stale build dir may linger).
RDKAFKA_LIB=""
for profile in release debug; do
    RDKAFKA_LIB="$(find "$TARGET/$profile/build" -maxdepth 4 -path '*/rdkafka-sys-*/out/src/librdkafka.so.1' \
        -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -n 1 | cut -d' ' -f2- || true)"
    [[ -n "$RDKAFKA_LIB" ]] && break
done
[[ -n "$RDKAFKA_LIB" ]] || die "no librdkafka.so.1 under $TARGET/{release,debug}/build/rdkafka-sys-*/out/src (rdkafka's default bundled build leaves it there)"
LD_LIBRARY_PATH="$(dirname "$RDKAFKA_LIB")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
KCAT_VERSION="$(kcat -V 2>&1 | grep -o 'Version [^ ]*.*librdkafka [0-9.]*' | sed 's/ (.*librdkafka/, librdkafka/' || true)"
kcat -V 2>&1 | grep -q 'librdkafka 2\.12\.1' ||
    die "kcat does not use librdkafka 2.12.1 with LD_LIBRARY_PATH=$LD_LIBRARY_PATH: $(kcat -V 2>&1 | grep Version)"
log "kcat: $KCAT_VERSION (LD_LIBRARY_PATH=$(dirname "$RDKAFKA_LIB"))"

# --- broker, work directory, cleanup ----------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_in_use "$BROKER_PORT" && die "port $BROKER_PORT is in use; set BROKER_PORT"
port_in_use "$NODE_PORT" && die "port $NODE_PORT is in use; set NODE_PORT"
"$REPO_ROOT/scripts/broker.sh" install

WORK="$(mktemp -d "${TMPDIR:-/tmp}/raftconnect-dataplane.XXXXXX")"
export BROKER_DIR="$WORK/broker"
# The input and the consumers' output files live in memory (tmpfs) when possible, so that
# writeback of earlier runs' 100 MB files does not disturb later measurements (kcat and the
# sink write to the same place). The nodes' Raft data stays on disk, in $WORK.
# Room for the input, two outputs and a check copy.
SCRATCH="$WORK"
scratch_dir="${SCRATCH_DIR:-/dev/shm}"
if [[ -d "$scratch_dir" && -w "$scratch_dir" ]] &&
    (($(df -Pk "$scratch_dir" | awk 'NR == 2 { print $4 }') > 4 * N * (RECORD_BYTES + 1) / 1024)); then
    SCRATCH="$(mktemp -d "$scratch_dir/raftconnect-dataplane.XXXXXX")"
fi
NODE_PID=""
NODE_LOG=""
SUCCESS=0

stop_node() {
    [[ -n "$NODE_PID" ]] || return 0
    kill -TERM "$NODE_PID" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while kill -0 "$NODE_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    kill -KILL "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
    NODE_PID=""
}

cleanup() {
    stop_node
    "$REPO_ROOT/scripts/broker.sh" stop 2>/dev/null || true
    if [[ "$KEEP_WORKDIR" == 1 ]]; then
        log "node data and logs kept in $WORK, input and outputs in $SCRATCH"
        return
    fi
    # Big files in memory are never left behind; logs are kept when something failed.
    [[ "$SCRATCH" == "$WORK" ]] || rm -rf "$SCRATCH"
    if ((SUCCESS)); then
        rm -rf "$WORK"
    else
        rm -f "$WORK/input.txt" "$WORK"/*-out.txt "$WORK/check.txt"
        log "node data and logs kept in $WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

KAFKA="$("$REPO_ROOT/scripts/broker.sh" start --port "$BROKER_PORT" | tail -n 1)"
[[ "$KAFKA" == 127.0.0.1:* ]] || die "scripts/broker.sh start printed '$KAFKA', not an address"
NISSHI_VERSION="$("$NISSHI" --version 2>/dev/null | head -n 1 || echo nisshi)"

create_topic() {
    "$NISSHI" topic create --broker "tcp://$KAFKA" --partitions "$2" "$1" >/dev/null || die "could not create topic $1"
}

# Sum of the high watermarks of topic $1 (ListOffsets through the helper).
hw_sum() { python3 "$HELPER" hw "$KAFKA" "$1" "${2:-$PARTITIONS}" | cut -d' ' -f1; }

# The same, with kcat -Q (used once, to check the helper).
kcat_hw_sum() {
    local args=() p
    for ((p = 0; p < PARTITIONS; p++)); do args+=(-t "$1:$p:-1"); done
    kcat -Q -b "$KAFKA" "${args[@]}" 2>/dev/null | awk '{ s += $NF } END { print s + 0 }'
}

# --- the node -------------------------------------------------------------------------------
URL="http://127.0.0.1:$NODE_PORT"
NODE_ARGS=(--kafka "$KAFKA")
[[ -n "${WORKER_CONFIG:-}" ]] && NODE_ARGS+=(--config "$WORKER_CONFIG")

node_log_tail() {
    [[ -n "$NODE_LOG" ]] || return 0
    echo "--- last 40 lines of $NODE_LOG" >&2
    tail -n 40 "$NODE_LOG" >&2 || true
}

# The raftconnect side failed: say what happened, show the node's log, stop.
fail_rc() {
    log "FAILED: $*"
    node_log_tail
    die "$*"
}

# A fresh 1-node cluster in $WORK/$1 (the data directory); waits until it is leader.
start_node() {
    stop_node
    local dir="$WORK/$1"
    rm -rf "$dir"
    mkdir -p "$dir"
    NODE_LOG="$WORK/$1.log"
    NO_COLOR=1 "$BIN" node --id 1 --data-dir "$dir" --listen "127.0.0.1:$NODE_PORT" --bootstrap "${NODE_ARGS[@]}" \
        >"$NODE_LOG" 2>&1 &
    NODE_PID=$!
    local deadline=$((SECONDS + STARTUP_TIMEOUT)) body
    until body="$(curl -fsS -m 1 "$URL/cluster" 2>/dev/null)" &&
        python3 -c 'import json, sys; s = json.load(sys.stdin); sys.exit(0 if s.get("leader") == 1 and s.get("state") == "leader" else 1)' <<<"$body"; do
        kill -0 "$NODE_PID" 2>/dev/null || fail_rc "the node exited at start"
        ((SECONDS < deadline)) || fail_rc "the node did not become leader within ${STARTUP_TIMEOUT}s"
        sleep 0.1
    done
    python3 "$HELPER" wait-idle "$URL" 30 || fail_rc "the fresh node is not idle"
}

delete_connector() {
    curl -fsS -m 30 -X DELETE -o /dev/null "$URL/connectors/$1" || fail_rc "DELETE /connectors/$1 failed"
    python3 "$HELPER" wait-idle "$URL" 60 || fail_rc "the node did not stop $1's units"
}

# Record the node's VmRSS (and thread count): sampled every 0.5 s over SETTLE seconds, the last
# sample counts. $1 label; for a loaded node also $2 tasks, $3 units, compared with $IDLE_KIB.
# Sets RSS_KIB.
record_rss() {
    local end=$((SECONDS + SETTLE)) sample max=0 threads
    while :; do
        read -r RSS_KIB threads < <(python3 "$HELPER" rss "$NODE_PID") || fail_rc "cannot read /proc/$NODE_PID/status"
        ((RSS_KIB > max)) && max=$RSS_KIB
        ((SECONDS >= end)) && break
        sleep 0.5
    done
    log "VmRSS $((RSS_KIB / 1024)) MiB (max while sampling $((max / 1024)) MiB), $threads threads: $1"
    sample="\"kind\": \"rss\", \"label\": \"$1\", \"kib\": $RSS_KIB, \"threads\": $threads"
    if (($# > 1)); then
        sample="$sample, \"idle_kib\": $IDLE_KIB, \"tasks\": $2, \"units\": $3"
    fi
    record "{$sample}"
}

# --- results --------------------------------------------------------------------------------
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
record() { echo "$1" >>"$RESULTS"; }

# $1 key, $2 label, $3 run, $4 the helper's JSON result ({"seconds", "first_s", …})
record_time() {
    python3 - "$1" "$2" "$3" "$4" "$N" "$RESULTS" <<'PY'
import json, sys
key, label, run, res, n, results = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
row = {"kind": "time", "key": key, "label": label, "run": run, "seconds": res["seconds"],
       "first_s": res.get("first_s"), "p99_s": res.get("p99_s")}
with open(results, "a") as f:
    f.write(json.dumps(row) + "\n")
marks = "  (first record %.3f s, 99%% %.3f s)" % (row["first_s"], row["p99_s"]) if row["first_s"] and row["p99_s"] else ""
print("    %-40s run %d: %.3f s %11s msg/s%s" % (label, run, row["seconds"], "{:,.0f}".format(n / row["seconds"]), marks),
      file=sys.stderr)
PY
}

json_field() { python3 -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print("null" if v is None else v)' "$1" "$2"; }

# Sorted content of $1 equals the input (which is generated in sorted order).
verify_file() {
    ((VERIFY)) || return 0
    LC_ALL=C sort -S 25% "$1" | cmp -s - "$INPUT" || fail_rc "$2: $1 holds $(wc -l <"$1") lines but not the input's lines"
}

# --- input ----------------------------------------------------------------------------------
INPUT="$SCRATCH/input.txt"
EXPECT_BYTES=$((N * (RECORD_BYTES + 1)))
log "generating $N lines of $RECORD_BYTES bytes in $INPUT (outputs go to $SCRATCH)"
python3 - "$INPUT" "$N" "$RECORD_BYTES" <<'PY'
import sys
path, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
width = len(str(n))
pad = b"x" * max(0, size - width - 1)
with open(path, "wb") as f:
    chunk = []
    for i in range(n):
        chunk.append(b"%0*d %s\n" % (width, i, pad))
        if len(chunk) == 10000:
            f.write(b"".join(chunk))
            chunk.clear()
    f.write(b"".join(chunk))
PY
[[ "$(stat -c %s "$INPUT")" == "$EXPECT_BYTES" ]] || die "RECORD_BYTES=$RECORD_BYTES is too small for N=$N (each line starts with its number)"

GIT_REV="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null || true)" ]]; then GIT_REV="$GIT_REV-dirty"; fi
record "$(python3 -c '
import json, sys, time
print(json.dumps({"kind": "meta", "nisshi": sys.argv[1], "kcat": sys.argv[2], "git_rev": sys.argv[3],
                  "cluster": sys.argv[4], "settle": sys.argv[5],
                  "load": " ".join(open("/proc/loadavg").read().split()[:3]),
                  "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
' "$NISSHI_VERSION" "$KCAT_VERSION" "$GIT_REV" \
    "1-node cluster, release build, $([[ -n "${WORKER_CONFIG:-}" ]] && echo "--config $WORKER_CONFIG" || echo "default worker config"); connectors with key.converter=value.converter=StringConverter" \
    "$SETTLE")"

# --- a)-d) ----------------------------------------------------------------------------------
if pgrep -x cargo >/dev/null || pgrep -x rustc >/dev/null; then
    log "warning: cargo/rustc is running next to the benchmark (load $(cut -d' ' -f1-3 /proc/loadavg)): expect noisy figures"
fi
start_node node-throughput
log "1-node cluster at $URL (pid $NODE_PID), broker $KAFKA ($NISSHI_VERSION, memory://)"

for ((run = 1; run <= RUNS; run++)); do
    log "run $run of $RUNS"
    TA="bench-kcat-$run"
    TB="bench-rc-$run"
    create_topic "$TA" "$PARTITIONS"
    create_topic "$TB" "$PARTITIONS"

    # a) kcat produce
    res="$(python3 "$HELPER" timed /dev/null "hw:$KAFKA:$TA:$PARTITIONS:$N" -- kcat -P -b "$KAFKA" -t "$TA" -l "$INPUT")" ||
        die "kcat -P failed"
    got="$(hw_sum "$TA")"
    ((got == N)) || die "kcat produced $got records into $TA, expected $N"
    if ((run == 1)); then
        kq="$(kcat_hw_sum "$TA")"
        ((kq == N)) || die "kcat -Q reports $kq records in $TA where ListOffsets reports $got: the watermark probe is not reliable here"
    fi
    record_time kcat_produce "produce: kcat -P -l" "$run" "$res"
    if ((KCAT_IDEMPOTENT)); then
        # raftconnect's source producer is idempotent (as Kafka Connect's); librdkafka's PID
        # acquisition costs an idempotent producer about 0.5 s before its first send.
        TI="bench-kcat-idem-$run"
        create_topic "$TI" "$PARTITIONS"
        res="$(python3 "$HELPER" timed /dev/null "hw:$KAFKA:$TI:$PARTITIONS:$N" -- kcat -P -b "$KAFKA" -t "$TI" \
            -X enable.idempotence=true -l "$INPUT")" || die "kcat -P -X enable.idempotence=true failed"
        got="$(hw_sum "$TI")"
        ((got == N)) || die "kcat (idempotent) produced $got records into $TI, expected $N"
        record_time kcat_produce_idem "produce: kcat -P -l, idempotent" "$run" "$res"
    fi

    # b) raftconnect FileStreamSource
    name="bench-source-$run"
    body="{\"name\":\"$name\",\"config\":{\"connector.class\":\"FileStreamSource\",\"tasks.max\":\"1\",\"file\":\"$INPUT\",\"topic\":\"$TB\",\"key.converter\":\"$STRING_CONVERTER\",\"value.converter\":\"$STRING_CONVERTER\"}}"
    res="$(python3 "$HELPER" source-run "$URL" "$body" "$KAFKA" "$TB" "$PARTITIONS" "$N" "$DATA_TIMEOUT" "$NODE_PID")" ||
        fail_rc "run $run: FileStreamSource $name did not bring $N records into $TB"
    got="$(json_field "$res" records)"
    ((got == N)) || fail_rc "run $run: $TB holds $got records after FileStreamSource $name, expected $N (per partition: $(json_field "$res" per_partition))"
    record_time rc_source "produce: raftconnect FileStreamSource" "$run" "$res"
    delete_connector "$name"
    if ((VERIFY)); then
        kcat -C -b "$KAFKA" -t "$TB" -e -q -o beginning >"$SCRATCH/check.txt" || die "kcat -C of $TB failed"
        verify_file "$SCRATCH/check.txt" "FileStreamSource into $TB"
        rm -f "$SCRATCH/check.txt"
    fi

    # c) kcat consume (into a file, as the sink does). Plain kcat stalls now and then for
    # librdkafka's fetch.queue.backoff.ms (1 s) when its fetch queue runs over; the second, tuned
    # run shows kcat without those stalls (and is the stricter baseline).
    for variant in plain tuned; do
        [[ "$variant" == tuned ]] && ((!KCAT_TUNED)) && continue
        extra=()
        key=kcat_consume
        label="consume: kcat -C -e (to a file)"
        if [[ "$variant" == tuned ]]; then
            extra=(-X fetch.queue.backoff.ms=10)
            key=kcat_consume_tuned
            label="consume: kcat -C -e, fetch backoff 10ms"
        fi
        res="$(python3 "$HELPER" timed "$SCRATCH/kcat-out.txt" "file:$EXPECT_BYTES" -- kcat -C -b "$KAFKA" -t "$TA" -e -q \
            -o beginning "${extra[@]}")" || die "kcat -C failed"
        size="$(stat -c %s "$SCRATCH/kcat-out.txt")"
        ((size == EXPECT_BYTES)) || die "kcat -C wrote $size bytes, expected $EXPECT_BYTES"
        record_time "$key" "$label" "$run" "$res"
        verify_file "$SCRATCH/kcat-out.txt" "kcat -C of $TA"
        rm -f "$SCRATCH/kcat-out.txt"
    done

    # d) raftconnect FileStreamSink
    for k in $SINK_TASKS; do
        name="bench-sink$k-$run"
        out="$SCRATCH/sink-out.txt"
        rm -f "$out"
        body="{\"name\":\"$name\",\"config\":{\"connector.class\":\"FileStreamSink\",\"tasks.max\":\"$k\",\"topics\":\"$TA\",\"file\":\"$out\",\"key.converter\":\"$STRING_CONVERTER\",\"value.converter\":\"$STRING_CONVERTER\"}}"
        res="$(python3 "$HELPER" sink-run "$URL" "$body" "$out" "$EXPECT_BYTES" "$DATA_TIMEOUT" "$NODE_PID")" ||
            fail_rc "run $run: FileStreamSink $name (tasks.max=$k) did not write $EXPECT_BYTES bytes to $out (has $(stat -c %s "$out" 2>/dev/null || echo 0))"
        got="$(json_field "$res" bytes)"
        ((got == EXPECT_BYTES)) || fail_rc "run $run: FileStreamSink $name wrote $got bytes, expected $EXPECT_BYTES (duplicates?)"
        record_time "rc_sink$k" "consume: raftconnect FileStreamSink x$k" "$run" "$res"
        delete_connector "$name"
        verify_file "$out" "FileStreamSink $name"
        rm -f "$out"
    done
done
stop_node

# --- e) memory ------------------------------------------------------------------------------
if ((IDLE_TASKS > 0)); then
    log "memory: $IDLE_TASKS FileStreamSource connectors on files that do not exist (fresh node)"
    start_node node-rss-sources
    record_rss "idle (cluster formed, no connectors)"
    IDLE_KIB=$RSS_KIB
    bodies="$WORK/sources.jsonl"
    : >"$bodies"
    for ((i = 1; i <= IDLE_TASKS; i++)); do
        echo "{\"name\":\"idle-source-$i\",\"config\":{\"connector.class\":\"FileStreamSource\",\"tasks.max\":\"1\",\"file\":\"$WORK/absent/in-$i.txt\",\"topic\":\"bench-idle-src\",\"key.converter\":\"$STRING_CONVERTER\",\"value.converter\":\"$STRING_CONVERTER\"}}" >>"$bodies"
    done
    python3 "$HELPER" create-many "$URL" "$bodies" >/dev/null || fail_rc "creating $IDLE_TASKS source connectors failed"
    python3 "$HELPER" wait-running "$URL" $((2 * IDLE_TASKS)) 120 "$NODE_PID" >&2 ||
        fail_rc "$IDLE_TASKS source connectors did not all reach RUNNING"
    record_rss "$IDLE_TASKS FileStreamSource connectors, files absent ($((2 * IDLE_TASKS)) units)" "$IDLE_TASKS" $((2 * IDLE_TASKS))

    log "memory: one FileStreamSink, tasks.max=$IDLE_TASKS, on an empty topic of $IDLE_TASKS partitions (fresh node)"
    create_topic bench-idle-sink "$IDLE_TASKS"
    start_node node-rss-sink
    record_rss "idle (cluster formed, no connectors), 2nd node"
    IDLE_KIB=$RSS_KIB
    body="{\"name\":\"idle-sink\",\"config\":{\"connector.class\":\"FileStreamSink\",\"tasks.max\":\"$IDLE_TASKS\",\"topics\":\"bench-idle-sink\",\"file\":\"$WORK/idle-sink.txt\",\"key.converter\":\"$STRING_CONVERTER\",\"value.converter\":\"$STRING_CONVERTER\"}}"
    curl -fsS -m 30 -o /dev/null -H 'Content-Type: application/json' -d "$body" "$URL/connectors" ||
        fail_rc "creating the idle sink failed"
    python3 "$HELPER" wait-running "$URL" $((IDLE_TASKS + 1)) 120 "$NODE_PID" >&2 ||
        fail_rc "the idle sink's $IDLE_TASKS tasks did not all reach RUNNING"
    record_rss "FileStreamSink tasks.max=$IDLE_TASKS, empty $IDLE_TASKS-partition topic ($((IDLE_TASKS + 1)) units)" "$IDLE_TASKS" $((IDLE_TASKS + 1))
    stop_node
fi

# --- report ---------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
echo
python3 "$HELPER" summary "$RESULTS" "$N" "$RECORD_BYTES" "$OUT" "$OUT_JSON"
log "report written to $OUT (JSON: $OUT_JSON)"
SUCCESS=1
