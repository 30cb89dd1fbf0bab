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
# The start/stop logic is in lib.sh.
set -euo pipefail

VERSION=15.34.2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK="$ROOT/tests/.work"
TOOLS="$WORK/tools/firebase"
DIR="$WORK/gcs"
DATA=tmp
PORT=${GCS_EMULATOR_PORT:-9199}
PORT_VAR=GCS_EMULATOR_PORT
LAUNCHER="$ROOT/tests/servers/gcs_emulator.mjs"
START_TIMEOUT_S=60
STOP_TIMEOUT_S=15
SERVER="gcs emulator"
THE_SERVER="the gcs emulator"
READY_WORD=answer
# shellcheck source=tests/servers/lib.sh
source "$ROOT/tests/servers/lib.sh"

fail() {
  echo "tests/servers/gcs_emulator.sh: $*" >&2
  exit 1
}

mkdir -p "$DIR"
lock "$DIR/.lock" 600

install() {
  [ "$(installed_version firebase-tools)" = "$VERSION" ] && return 0
  npm_install firebase-tools "once, ~2 min" check_server
}

check_server() {
  [ -f "$TOOLS/node_modules/firebase-tools/lib/emulator/storage/server.js" ] ||
    fail "firebase-tools@$VERSION has no lib/emulator/storage/server.js"
}

# Ready when the JSON API answers (the port opens only after the app is built).
ready() {
  port_open "$PORT" || return 1
  node -e "fetch('http://127.0.0.1:$PORT/b').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" \
    2>/dev/null
}

launch() {
  TMPDIR="$DIR/tmp" setsid node "$LAUNCHER" "$TOOLS" 127.0.0.1 "$PORT" \
    </dev/null >"$DIR/log" 2>&1 9>&- &
}

env_lines() {
  local port
  port=$(cat "$DIR/port" 2>/dev/null || echo "$PORT")
  echo "GCS_EMULATOR_PORT=$port"
  echo "GCS_EMULATOR_ENDPOINT=http://127.0.0.1:$port"
}

node_main "$@"
