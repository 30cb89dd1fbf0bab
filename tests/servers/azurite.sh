#!/usr/bin/env bash
# Azurite (Microsoft's Azure Blob emulator) for the tests, on 127.0.0.1.
#   tests/servers/azurite.sh start   install azurite once (tests/.work/tools/azurite), start it, wait until it listens
#   tests/servers/azurite.sh stop    stop it (waits for the process to end)
#   tests/servers/azurite.sh env     print AZURITE_ENDPOINT, AZURITE_ACCOUNT, AZURITE_PORT (KEY=VALUE lines)
# Idempotent: start does nothing when it is already running, stop when it is not.
# Port: $AZURITE_PORT (default 10000). Data and log: tests/.work/azurite/ (wiped at each fresh start).
# Needs node and npm (Node 20); the package is installed with --no-save, never into package.json.
# The start/stop logic is in lib.sh.
set -euo pipefail

VERSION=3.37.0
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK="$ROOT/tests/.work"
TOOLS="$WORK/tools/azurite"
DIR="$WORK/azurite"
DATA=data
PORT=${AZURITE_PORT:-10000}
PORT_VAR=AZURITE_PORT
ACCOUNT=devstoreaccount1
BIN="$TOOLS/node_modules/.bin/azurite-blob"
START_TIMEOUT_S=60
STOP_TIMEOUT_S=15
SERVER=azurite
THE_SERVER=azurite
READY_WORD=listen
# shellcheck source=tests/servers/lib.sh
source "$ROOT/tests/servers/lib.sh"

fail() {
  echo "tests/servers/azurite.sh: $*" >&2
  exit 1
}

mkdir -p "$DIR"
lock "$DIR/.lock" 300

install() {
  [ "$(installed_version azurite)" = "$VERSION" ] && [ -x "$BIN" ] && return 0
  npm_install azurite once check_bin
}

check_bin() { [ -x "$BIN" ] || fail "azurite-blob missing after npm install ($BIN)"; }

ready() { port_open "$PORT"; }

launch() {
  setsid node "$BIN" --blobHost 127.0.0.1 --blobPort "$PORT" --location "$DIR/data" \
    --disableTelemetry --skipApiVersionCheck --silent \
    </dev/null >"$DIR/log" 2>&1 9>&- &
}

env_lines() {
  local port
  port=$(cat "$DIR/port" 2>/dev/null || echo "$PORT")
  echo "AZURITE_PORT=$port"
  echo "AZURITE_ACCOUNT=$ACCOUNT"
  echo "AZURITE_ENDPOINT=http://127.0.0.1:$port/$ACCOUNT"
}

node_main "$@"
