#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine that has
# only Node.js/npm: the npm dependencies (deno, bun, ...) and the Debian
# oracles tcpdump, tshark and tcpflow, and openssl (libcrypto). Idempotent: does nothing when all is
# there. Quiet on success; on failure says what failed and shows the log tail.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

fail() {
  echo "tests/setup.sh: $*" >&2
  if [ -s "$LOG" ]; then
    echo "--- last lines of the log:" >&2
    tail -n 30 "$LOG" >&2
  fi
  exit 1
}

# ---- npm dependencies (again when package-lock.json is newer than what npm installed)
if [ ! -d "$ROOT/node_modules" ] || [ ! -x "$ROOT/node_modules/.bin/deno" ] ||
  [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null || fail "npm not found: install Node.js 20 first"
  (cd "$ROOT" && npm ci --no-audit --no-fund) >"$LOG" 2>&1 || fail "npm ci failed"
fi

# ---- Debian packages (tool name == package name); openssl brings libssl3,
# whose libcrypto.so.3 the default cipher backend loads (plugins/crypto/openssl.ts)
missing=()
for tool in tcpdump tshark tcpflow openssl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || fail "missing ${missing[*]} and no apt-get to install them"
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || fail "missing ${missing[*]}: run as root or install sudo"
    SUDO=(sudo)
  fi
  APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y)
  # tshark's postinst asks whether non-root users may capture: answer no.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' |
    "${SUDO[@]}" debconf-set-selections >>"$LOG" 2>&1 ||
    fail "debconf-set-selections failed"
  # apt-get update only when the package lists do not know the packages.
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    "${APT[@]}" update >>"$LOG" 2>&1 || fail "apt-get update failed"
  fi
  if ! "${APT[@]}" install --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1; then
    # stale lists (404 on a superseded .deb): refresh once and retry
    "${APT[@]}" update >>"$LOG" 2>&1 || fail "apt-get update failed"
    "${APT[@]}" install --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 ||
      fail "apt-get install ${missing[*]} failed"
  fi
  for tool in "${missing[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool still missing after apt-get install"
  done
fi
# ---- storage servers for the storage tests (the tests start and stop them):
# Ceph radosgw from Debian, Azurite and the Firebase storage emulator from npm
# into tests/.work/tools (never into package.json). Installed in parallel.
pids=()
for server in radosgw azurite gcs_emulator; do
  bash "$ROOT/tests/servers/$server.sh" install >"$LOG.$server" 2>&1 &
  pids+=("$!")
done
i=0
for server in radosgw azurite gcs_emulator; do
  if ! wait "${pids[$i]}"; then
    cat "$LOG.$server" >>"$LOG"
    fail "installing $server failed"
  fi
  rm -f "$LOG.$server"
  i=$((i + 1))
done
exit 0
