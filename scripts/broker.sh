#!/usr/bin/env bash
# The Kafka-protocol broker for integration tests, the demo and benchmarks: nisshi 0.8.1 (see
# ../shared/reference/kafka-broker.md for why), installed once per machine and reused.
#
#   scripts/broker.sh install            build and cache the broker (~16 min on 2 cores, once)
#   scripts/broker.sh start [--port P]   start it in the background; prints the bootstrap address
#   scripts/broker.sh stop               stop the broker started by `start`
#   scripts/broker.sh status             is it running, and where
#
# Environment: NISSHI_ROOT (install root, default $HOME/.local/nisshi), BROKER_DIR (pid and log,
# default $HOME/.cache/raftconnect-broker).
set -euo pipefail

VERSION=0.8.1
NISSHI_ROOT="${NISSHI_ROOT:-$HOME/.local/nisshi}"
BIN="$NISSHI_ROOT/bin/nisshi"
BROKER_DIR="${BROKER_DIR:-$HOME/.cache/raftconnect-broker}"
PID_FILE="$BROKER_DIR/broker.pid"
ADDR_FILE="$BROKER_DIR/broker.addr"
LOG_FILE="$BROKER_DIR/broker.log"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

installed() { [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; }

install() {
    if installed; then
        log "nisshi $VERSION already installed at $BIN"
        return
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install the Rust toolchain first"
    log "building nisshi $VERSION into $NISSHI_ROOT (about 16 minutes on 2 cores; progress follows)"
    # Its lockfile asks for rustc >= 1.96 (one dependency); the stable toolchain builds a working
    # broker anyway with --ignore-rust-version (kafka-broker.md).
    cargo install nisshi --locked --ignore-rust-version --version "$VERSION" \
        --no-default-features --features dynostore,libsql --root "$NISSHI_ROOT"
    installed || die "nisshi was built but $BIN does not report version $VERSION"
    log "installed $BIN"
}

running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    kill -0 "$pid" 2>/dev/null && ps -o args= -p "$pid" | grep -q nisshi && echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
    local port=9092
    while (($#)); do
        case "$1" in
            --port) port="$2"; shift 2 ;;
            *) die "unknown option $1" ;;
        esac
    done
    installed || install
    mkdir -p "$BROKER_DIR"
    if pid="$(running_pid)"; then
        log "broker already running (pid $pid)"
        cat "$ADDR_FILE"
        return
    fi
    port_open "$port" && die "port $port is already in use"
    local url="tcp://127.0.0.1:$port"
    "$BIN" broker --listener-url "$url" --advertised-listener-url "$url" --storage-engine "memory://raftconnect/" \
        >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    # Ready when the listener accepts connections (it starts in tens of milliseconds).
    local deadline=$((SECONDS + 30))
    until port_open "$port"; do
        kill -0 "$(cat "$PID_FILE")" 2>/dev/null || { tail -20 "$LOG_FILE" >&2; die "the broker exited"; }
        ((SECONDS < deadline)) || die "the broker did not listen on $port within 30 s"
        sleep 0.05
    done
    echo "127.0.0.1:$port" >"$ADDR_FILE"
    log "broker running (pid $(cat "$PID_FILE")), log $LOG_FILE"
    echo "127.0.0.1:$port"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        log "no broker running"
        return
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS < deadline)) || { kill -KILL "$pid"; break; }
        sleep 0.1
    done
    rm -f "$PID_FILE" "$ADDR_FILE"
    log "broker stopped"
}

status() {
    if pid="$(running_pid)"; then
        echo "running (pid $pid) at $(cat "$ADDR_FILE")"
    else
        echo "not running"
        return 1
    fi
}

case "${1:-}" in
    install) install ;;
    start) shift; start "$@" ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: scripts/broker.sh install | start [--port P] | stop | status" ;;
esac
