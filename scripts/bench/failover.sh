#!/usr/bin/env bash
# Leader failover benchmark.
#
# Starts a 3-node cluster (release build) in a temporary directory, then RUNS times:
# finds the leader (GET /cluster), SIGKILLs its process and measures the time from the kill
# until the first successful POST /cluster/commands sent to a surviving node (retried every
# ~20 ms, alternating between the two survivors, curl -m 1); then restarts the killed node
# from its data directory and waits until it is back (all three voters alive, the restarted
# node caught up with the leader's last_log_index) before the next run.
#
# A node holds a write while it knows no reachable leader (up to its request timeout) and
# forwards it once a leader is elected, so an attempt in flight completes as soon as failover
# is done; an attempt cut off by curl's 1 s limit is followed by the next one ~20 ms later, so
# the error of a measurement is at most a few tens of ms.
#
# Expectation with openraft 0.9: a follower that saw a committed leader starts an election only
# after leader_lease (= election_timeout_max) + its election timeout (random in [min, max],
# drawn once per process start), so failover takes roughly max + [min, max] ms plus the vote.
#
#   scripts/bench/failover.sh
#   HEARTBEAT_MS=150 ELECTION_MIN_MS=600 ELECTION_MAX_MS=1200 OUT=target-bench/slow.json scripts/bench/failover.sh
#
# Environment:
#   RUNS              failovers to measure (default 10)
#   BASE_PORT         port of node 1 (default 18183); nodes 2 and 3 use BASE_PORT+1, BASE_PORT+2
#   HEARTBEAT_MS      passed as --heartbeat-ms            (unset: the node's default)
#   ELECTION_MIN_MS   passed as --election-timeout-min-ms (unset: the node's default)
#   ELECTION_MAX_MS   passed as --election-timeout-max-ms (unset: the node's default)
#   OUT               JSON results file (default target-bench/failover.json in the repo root)
#   FAILOVER_TIMEOUT  seconds a single failover may take before the benchmark fails (default 30)
#   RECOVER_TIMEOUT   seconds to wait for the cluster to form / the node to catch up (default 60)
#   KEEP_WORKDIR=1    keep the temporary directory (node data and logs) after the run
#   CARGO_TARGET_DIR  cargo's target directory (default $HOME/.cache/raftconnect-target)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${RUNS:-10}"
BASE_PORT="${BASE_PORT:-18183}"
OUT="${OUT:-$REPO_ROOT/target-bench/failover.json}"
FAILOVER_TIMEOUT="${FAILOVER_TIMEOUT:-30}"
RECOVER_TIMEOUT="${RECOVER_TIMEOUT:-60}"
KEEP_WORKDIR="${KEEP_WORKDIR:-0}"
NODES=(1 2 3)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
for var in HEARTBEAT_MS ELECTION_MIN_MS ELECTION_MAX_MS; do
    if [[ -n "${!var:-}" && ! "${!var}" =~ ^[0-9]+$ ]]; then
        die "$var must be a number of milliseconds"
    fi
done
command -v cargo >/dev/null || die "cargo not found; install the Rust toolchain"
command -v curl >/dev/null || die "curl not found"
command -v python3 >/dev/null || die "python3 not found"

# --- build ----------------------------------------------------------------------------------
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/raftconnect-target}"
log "building the release binary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
(cd "$REPO_ROOT" && cargo build --release --bin raftconnect)
case "$CARGO_TARGET_DIR" in
    /*) BIN="$CARGO_TARGET_DIR/release/raftconnect" ;;
    *) BIN="$REPO_ROOT/$CARGO_TARGET_DIR/release/raftconnect" ;;
esac
[[ -x "$BIN" ]] || die "binary not found at $BIN"

# Raft timing flags: only those given are passed; the others stay at the node's defaults,
# which are read from `raftconnect node --help` for the report.
TIMING=()
[[ -n "${HEARTBEAT_MS:-}" ]] && TIMING+=(--heartbeat-ms "$HEARTBEAT_MS")
[[ -n "${ELECTION_MIN_MS:-}" ]] && TIMING+=(--election-timeout-min-ms "$ELECTION_MIN_MS")
[[ -n "${ELECTION_MAX_MS:-}" ]] && TIMING+=(--election-timeout-max-ms "$ELECTION_MAX_MS")
node_default() {
    "$BIN" node --help | grep -A1 -- "--$1 " | sed -n 's/.*\[default: \([0-9]*\)\].*/\1/p' | head -n 1
}
EFF_HEARTBEAT="${HEARTBEAT_MS:-$(node_default heartbeat-ms)}"
EFF_ELECTION_MIN="${ELECTION_MIN_MS:-$(node_default election-timeout-min-ms)}"
EFF_ELECTION_MAX="${ELECTION_MAX_MS:-$(node_default election-timeout-max-ms)}"

# --- cluster --------------------------------------------------------------------------------
URLS=()
for id in "${NODES[@]}"; do
    port=$((BASE_PORT + id - 1))
    URLS[id]="http://127.0.0.1:$port"
    python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null ||
        die "port $port is in use; set BASE_PORT to a free range"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/raftconnect-failover.XXXXXX")"
PIDS=()
SUCCESS=0

cleanup() {
    local id pid deadline
    for id in "${!PIDS[@]}"; do
        pid="${PIDS[id]}"
        kill -TERM "$pid" 2>/dev/null || true
    done
    deadline=$((SECONDS + 10))
    for id in "${!PIDS[@]}"; do
        pid="${PIDS[id]}"
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if ((SUCCESS)) && [[ "$KEEP_WORKDIR" != 1 ]]; then
        rm -rf "$WORK"
    else
        log "node data and logs kept in $WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_node() {
    local id="$1"
    shift
    mkdir -p "$WORK/node$id"
    NO_COLOR=1 "$BIN" node --id "$id" --data-dir "$WORK/node$id" --listen "127.0.0.1:$((BASE_PORT + id - 1))" \
        "${TIMING[@]}" "$@" >>"$WORK/node$id.log" 2>&1 &
    PIDS[id]=$!
    # Out of the job table: no "Killed" notices; the shell still reaps the process when it dies.
    disown "${PIDS[id]}"
}

# Poll GET /cluster on every node until: all answer, all name the same leader, the leader
# says it is leader and lists nodes 1..3 as voters, all alive; and, if CAUGHT_UP is a node id,
# that node's applied_index has reached the leader's last_log_index. Prints the leader's id.
wait_healthy() {
    local timeout="$1" caught_up="$2" id
    for id in "${NODES[@]}"; do
        kill -0 "${PIDS[id]}" 2>/dev/null || {
            tail -n 20 "$WORK/node$id.log" >&2
            die "node $id is not running"
        }
    done
    python3 - "$timeout" "$caught_up" "${URLS[@]}" <<'PY' || die "cluster not healthy within ${timeout}s; logs in $WORK"
import json, sys, time, urllib.request

timeout, caught_up, urls = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
ids = set(range(1, len(urls) + 1))

def status(node):
    try:
        with urllib.request.urlopen(urls[node - 1] + "/cluster", timeout=1) as resp:
            return json.load(resp)
    except Exception:
        return None

deadline = time.monotonic() + timeout
why = "no answer yet"
while time.monotonic() < deadline:
    views = {i: status(i) for i in sorted(ids)}
    leaders = {v.get("leader") for v in views.values() if v}
    if not all(views.values()):
        why = "nodes not answering: %s" % sorted(i for i, v in views.items() if not v)
    elif len(leaders) != 1 or None in leaders:
        why = "leaders seen: %s" % sorted(map(str, leaders))
    else:
        leader = leaders.pop()
        lv = status(leader)
        members = (lv or {}).get("members") or []
        if not lv or lv.get("state") != "leader":
            why = "node %s not (yet) leader" % leader
        elif {m.get("id") for m in members} != ids or not all(
            m.get("role") == "voter" and m.get("alive") is True for m in members
        ):
            why = "members: %s" % [(m.get("id"), m.get("role"), m.get("alive")) for m in members]
        else:
            target = lv["last_log_index"]
            v = status(caught_up) if caught_up else None
            if not caught_up or (v and (v.get("applied_index") or 0) >= target):
                print(leader)
                sys.exit(0)
            why = "node %d applied %s < leader last_log_index %s" % (
                caught_up, v and v.get("applied_index"), target)
    time.sleep(0.05)
print("last check: " + why, file=sys.stderr)
sys.exit(1)
PY
}

log "starting 3 nodes in $WORK (ports $BASE_PORT-$((BASE_PORT + 2)); heartbeat=${EFF_HEARTBEAT}ms election=${EFF_ELECTION_MIN}-${EFF_ELECTION_MAX}ms)"
start_node 1 --bootstrap
start_node 2 --join "${URLS[1]}"
start_node 3 --join "${URLS[1]}"
LEADER="$(wait_healthy "$RECOVER_TIMEOUT" 0)"
log "cluster formed; leader is node $LEADER"

# --- failovers ------------------------------------------------------------------------------
TIMES=()
DETAILS=()
for ((run = 1; run <= RUNS; run++)); do
    # The current leader, as GET /cluster reports it now.
    LEADER="$(wait_healthy "$RECOVER_TIMEOUT" 0)"
    survivors=()
    for id in "${NODES[@]}"; do
        ((id == LEADER)) || survivors+=("$id")
    done
    payload="{\"put_connector\":{\"name\":\"bench\",\"config\":{\"n\":\"$run\"},\"target_state\":null}}"

    t0="$(date +%s%N)"
    kill -KILL "${PIDS[LEADER]}"
    attempts=0
    while :; do
        target="${survivors[attempts % ${#survivors[@]}]}"
        attempts=$((attempts + 1))
        code="$(curl -s -o /dev/null -w '%{http_code}' -m 1 -H 'Content-Type: application/json' \
            -d "$payload" "${URLS[target]}/cluster/commands" || true)"
        [[ "$code" == 200 ]] && break
        if (($(date +%s%N) - t0 > FAILOVER_TIMEOUT * 1000000000)); then
            die "run $run: no successful write within ${FAILOVER_TIMEOUT}s after killing node $LEADER (last HTTP status $code)"
        fi
        sleep 0.02
    done
    t1="$(date +%s%N)"

    tenths=$(((t1 - t0) / 100000))
    ms="$((tenths / 10)).$((tenths % 10))"
    TIMES+=("$ms")
    new_leader="$(curl -fsS -m 1 "${URLS[target]}/cluster" |
        python3 -c 'import json, sys; print(json.load(sys.stdin).get("leader"))' || echo null)"
    DETAILS+=("$run $LEADER $new_leader $target $attempts $ms")
    printf 'run %2d: killed leader %d -> write ok via node %d after %s ms (%d attempts; new leader %s)\n' \
        "$run" "$LEADER" "$target" "$ms" "$attempts" "$new_leader"

    # Bring the killed node back from its data directory and let it catch up.
    while kill -0 "${PIDS[LEADER]}" 2>/dev/null; do sleep 0.01; done
    start_node "$LEADER"
    wait_healthy "$RECOVER_TIMEOUT" "$LEADER" >/dev/null
done

# --- report ---------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
GIT_REV="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null || true)" ]]; then GIT_REV="$GIT_REV-dirty"; fi
printf '%s\n' "${DETAILS[@]}" | python3 -c '
import json, math, os, statistics, sys, time
out, hb, emin, emax, git_rev, explicit = sys.argv[1:7]
runs = []
for line in sys.stdin:
    run, killed, new_leader, via, attempts, ms = line.split()
    runs.append({"run": int(run), "killed": int(killed),
                 "new_leader": None if new_leader in ("null", "None") else int(new_leader),
                 "write_via": int(via), "attempts": int(attempts), "ms": float(ms)})
times = [r["ms"] for r in runs]
ordered = sorted(times)
p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
result = {
    "benchmark": "failover",
    "description": "SIGKILL the leader of a 3-node cluster; ms until the first successful "
                   "POST /cluster/commands to a survivor",
    "runs": len(runs),
    "settings": {"heartbeat_ms": int(hb), "election_timeout_min_ms": int(emin),
                 "election_timeout_max_ms": int(emax),
                 "explicit_flags": explicit.split() if explicit else []},
    "times_ms": times,
    "median_ms": round(statistics.median(times), 1),
    "p99_ms": p99,
    "min_ms": ordered[0],
    "max_ms": ordered[-1],
    "mean_ms": round(statistics.fmean(times), 1),
    "details": runs,
    "binary": "release",
    "git_rev": git_rev,
    "cpus": os.cpu_count(),
    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print("failover_ms median=%s p99=%s min=%s max=%s runs=%d (heartbeat=%sms election=%s-%sms)" % (
    result["median_ms"], p99, ordered[0], ordered[-1], len(runs), hb, emin, emax))
' "$OUT" "$EFF_HEARTBEAT" "$EFF_ELECTION_MIN" "$EFF_ELECTION_MAX" "$GIT_REV" "${TIMING[*]}"
log "results written to $OUT"
SUCCESS=1
