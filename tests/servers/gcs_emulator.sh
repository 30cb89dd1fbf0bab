#!/usr/bin/env bash
# The Firebase storage emulator's GCS JSON API (Google's code, npm firebase-tools)
# for the tests, on 127.0.0.1, started without Java by tests/servers/gcs_emulator.mjs.
#   tests/servers/gcs_emulator.sh start   install firebase-tools once (tests/.work/tools/firebase), start, wait until it answers
#   tests/servers/gcs_emulator.sh stop    stop it (waits for the process to end)
#   tests/servers/gcs_emulator.sh env     print GCS_EMULATOR_ENDPOINT, GCS_EMULATOR_PORT (KEY=VALUE lines)
# Idempotent: start does nothing when it is already running, stop when it is not.
# Port: $GCS_EMULATOR_PORT (default 9199). Blobs (TMPDIR) and log: tests/.work/gcs/ (wiped at each fresh start).
# No authentication; buckets appear on the first request that names them.
# Needs node and npm (Node 20); the package is installed with --no-save, never into package.json.
set -euo pipefail

VERSION=15.34.2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK="$ROOT/tests/.work"
TOOLS="$WORK/tools/firebase"
DIR="$WORK/gcs"
PORT=${GCS_EMULATOR_PORT:-9199}
LAUNCHER="$ROOT/tests/servers/gcs_emulator.mjs"
START_TIMEOUT_S=60
STOP_TIMEOUT_S=15

fail() {
  echo "tests/servers/gcs_emulator.sh: $*" >&2
  exit 1
}

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock -w 600 9 || fail "waited 600 s for $DIR/.lock"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  local pid
  pid=$(cat "$DIR/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install() {
  local have
  have=$(node -p "require('$TOOLS/node_modules/firebase-tools/package.json').version" 2>/dev/null ||
    true)
  [ "$have" = "$VERSION" ] && return 0
  command -v npm >/dev/null || fail "npm not found: install Node.js 20 first"
  echo "installing firebase-tools@$VERSION into $TOOLS (once, ~2 min)..." >&2
  mkdir -p "$TOOLS"
  local t0=$SECONDS
  # --ignore-scripts: re2's install script falls back to node-gyp, which needs the
  # internet for Node headers and hangs here; the storage emulator does not use re2.
  if ! timeout 900 npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    --prefix "$TOOLS" "firebase-tools@$VERSION" >"$DIR/install.log" 2>&1; then
    tail -n 20 "$DIR/install.log" >&2
    fail "npm install firebase-tools@$VERSION failed (log: $DIR/install.log)"
  fi
  [ -f "$TOOLS/node_modules/firebase-tools/lib/emulator/storage/server.js" ] ||
    fail "firebase-tools@$VERSION has no lib/emulator/storage/server.js"
  echo "installed firebase-tools@$VERSION in $((SECONDS - t0)) s" >&2
}

# Ready when the JSON API answers (the port opens only after the app is built).
ready() {
  port_open "$PORT" || return 1
  node -e "fetch('http://127.0.0.1:$PORT/b').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" \
    2>/dev/null
}

start() {
  command -v node >/dev/null || fail "node not found: install Node.js 20 first"
  if pid=$(running_pid); then
    [ "$(cat "$DIR/port" 2>/dev/null)" = "$PORT" ] ||
      fail "already running (pid $pid) on port $(cat "$DIR/port" 2>/dev/null); stop it first"
    ready && return 0
  else
    rm -f "$DIR/pid" "$DIR/port"
    port_open "$PORT" &&
      fail "port $PORT on 127.0.0.1 is taken by another process (set GCS_EMULATOR_PORT)"
  fi
  install
  rm -rf "$DIR/tmp"
  mkdir -p "$DIR/tmp"
  local t0=$SECONDS
  TMPDIR="$DIR/tmp" setsid node "$LAUNCHER" "$TOOLS" 127.0.0.1 "$PORT" \
    </dev/null >"$DIR/log" 2>&1 9>&- &
  local pid=$!
  echo "$pid" >"$DIR/pid"
  echo "$PORT" >"$DIR/port"
  for ((i = 0; i < START_TIMEOUT_S * 5; i++)); do
    if ready; then
      echo "gcs emulator listening on 127.0.0.1:$PORT (pid $pid, ready in $((SECONDS - t0)) s)" >&2
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || {
      tail -n 20 "$DIR/log" >&2
      rm -f "$DIR/pid" "$DIR/port"
      fail "the gcs emulator exited during start (log: $DIR/log)"
    }
    sleep 0.2
  done
  tail -n 20 "$DIR/log" >&2
  stop_pid "$pid"
  fail "the gcs emulator did not answer on 127.0.0.1:$PORT within $START_TIMEOUT_S s (log: $DIR/log)"
}

stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$DIR/pid" "$DIR/port"
}

stop() {
  if pid=$(running_pid); then stop_pid "$pid"; else rm -f "$DIR/pid" "$DIR/port"; fi
}

env_lines() {
  local port
  port=$(cat "$DIR/port" 2>/dev/null || echo "$PORT")
  echo "GCS_EMULATOR_PORT=$port"
  echo "GCS_EMULATOR_ENDPOINT=http://127.0.0.1:$port"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
