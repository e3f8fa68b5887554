#!/usr/bin/env bash
# Install whatever a fresh machine lacks, then build and run every test of the workspace.
#
#   scripts/test.sh [extra args passed to `cargo test --workspace`]
#
# Needs the Rust toolchain (cargo) already installed. System packages are installed with apt
# only when something is missing (needs root or sudo then).
#
# Environment:
#   CARGO_TARGET_DIR  cargo's target directory (default $HOME/.cache/raftconnect-target)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- Rust toolchain -----------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 ||
    die "cargo not found: install the Rust toolchain first, then re-run"

# --- system packages (apt, only when something is missing) ----------------------------------
missing=()
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
# rdkafka's `ssl` feature builds librdkafka against OpenSSL; the TLS tests make their
# certificates with the openssl CLI.
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The partition test puts each node in a network namespace (ip netns, veth, bridge; as root).
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
if ((${#missing[@]} > 0)); then
    log "missing system packages: ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not available; install ${missing[*]} by hand"
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "not root and sudo not available; cannot install ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- build and test -----------------------------------------------------------------------
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/raftconnect-target}"
log "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

# Formatting (rustfmt.toml). rustfmt ships with the toolchain; a machine without it cannot
# download it, so the check is reported as not run rather than failing the build.
if cargo fmt --version >/dev/null 2>&1; then
    log "cargo fmt --all -- --check"
    cargo fmt --all -- --check
else
    log "rustfmt is not installed: formatting not checked"
fi

log "cargo build --workspace --all-targets"
cargo build --workspace --all-targets

# The Kafka-protocol broker (nisshi, kafka-broker.md): the data-plane tests start one per test
# on a free port from this binary. Built once per machine (~16 min on 2 cores), then cached.
"$REPO_ROOT/scripts/broker.sh" install
export NISSHI_BIN="${NISSHI_ROOT:-$HOME/.local/nisshi}/bin/nisshi"

log "cargo test --workspace $*"
cargo test --workspace "$@"
log "all tests passed"
