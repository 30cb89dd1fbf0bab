#!/usr/bin/env bash
# Azurite (Microsoft's Azure Blob emulator) for the tests, on 127.0.0.1.
#   tests/servers/azurite.sh start   install azurite once (tests/.work/tools/azurite), start it, wait until it listens
#   tests/servers/azurite.sh stop    stop it (waits for the process to end)
#   tests/servers/azurite.sh env     print AZURITE_ENDPOINT, AZURITE_ACCOUNT, AZURITE_PORT (KEY=VALUE lines)
# Idempotent: start does nothing when it is already running, stop when it is not.
# Port: $AZURITE_PORT (default 10000). Data and log: tests/.work/azurite/ (wiped at each fresh start).
# Needs node and npm (Node 20); the package is installed with --no-save, never into package.json.
set -euo pipefail

VERSION=3.37.0
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK="$ROOT/tests/.work"
TOOLS="$WORK/tools/azurite"
DIR="$WORK/azurite"
PORT=${AZURITE_PORT:-10000}
ACCOUNT=devstoreaccount1
BIN="$TOOLS/node_modules/.bin/azurite-blob"
START_TIMEOUT_S=60
STOP_TIMEOUT_S=15

fail() {
  echo "tests/servers/azurite.sh: $*" >&2
  exit 1
}

mkdir -p "$DIR"
# One start/stop at a time (parallel test processes share this server).
exec 9>"$DIR/.lock"
flock -w 300 9 || fail "waited 300 s for $DIR/.lock"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  local pid
  pid=$(cat "$DIR/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install() {
  local have
  have=$(node -p "require('$TOOLS/node_modules/azurite/package.json').version" 2>/dev/null || true)
  [ "$have" = "$VERSION" ] && [ -x "$BIN" ] && return 0
  command -v npm >/dev/null || fail "npm not found: install Node.js 20 first"
  echo "installing azurite@$VERSION into $TOOLS (once)..." >&2
  mkdir -p "$TOOLS"
  local t0=$SECONDS
  if ! timeout 900 npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    --prefix "$TOOLS" "azurite@$VERSION" >"$DIR/install.log" 2>&1; then
    tail -n 20 "$DIR/install.log" >&2
    fail "npm install azurite@$VERSION failed (log: $DIR/install.log)"
  fi
  [ -x "$BIN" ] || fail "azurite-blob missing after npm install ($BIN)"
  echo "installed azurite@$VERSION in $((SECONDS - t0)) s" >&2
}

start() {
  command -v node >/dev/null || fail "node not found: install Node.js 20 first"
  if pid=$(running_pid); then
    [ "$(cat "$DIR/port" 2>/dev/null)" = "$PORT" ] ||
      fail "already running (pid $pid) on port $(cat "$DIR/port" 2>/dev/null); stop it first"
    port_open "$PORT" && return 0
  else
    rm -f "$DIR/pid" "$DIR/port"
    port_open "$PORT" && fail "port $PORT on 127.0.0.1 is taken by another process (set AZURITE_PORT)"
  fi
  install
  rm -rf "$DIR/data"
  mkdir -p "$DIR/data"
  local t0=$SECONDS
  setsid node "$BIN" --blobHost 127.0.0.1 --blobPort "$PORT" --location "$DIR/data" \
    --disableTelemetry --skipApiVersionCheck --silent \
    </dev/null >"$DIR/log" 2>&1 9>&- &
  local pid=$!
  echo "$pid" >"$DIR/pid"
  echo "$PORT" >"$DIR/port"
  for ((i = 0; i < START_TIMEOUT_S * 5; i++)); do
    if port_open "$PORT"; then
      echo "azurite listening on 127.0.0.1:$PORT (pid $pid, ready in $((SECONDS - t0)) s)" >&2
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || {
      tail -n 20 "$DIR/log" >&2
      rm -f "$DIR/pid"
      fail "azurite exited during start (log: $DIR/log)"
    }
    sleep 0.2
  done
  tail -n 20 "$DIR/log" >&2
  stop_pid "$pid"
  fail "azurite did not listen on 127.0.0.1:$PORT within $START_TIMEOUT_S s (log: $DIR/log)"
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
  echo "AZURITE_PORT=$port"
  echo "AZURITE_ACCOUNT=$ACCOUNT"
  echo "AZURITE_ENDPOINT=http://127.0.0.1:$port/$ACCOUNT"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
