# Shared by the test server scripts in tests/servers/; sourced (after `set -euo pipefail`),
# never run. The sourcing script defines `fail` (print its arguments to stderr, exit 1).

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# lock FILE SECONDS: one start/stop at a time (parallel test processes share a server).
# FILE stays locked on descriptor 9 until the script exits; servers are started with 9>&-.
lock() {
  exec 9>"$1"
  flock -w "$2" 9 || fail "waited $2 s for $1"
}

# wait_gone TENTHS ALIVE PID: until `ALIVE PID` fails, checks every 0.1 s, at most TENTHS times.
wait_gone() {
  local tenths=$1 alive=$2 pid=$3 i
  for ((i = 0; i < tenths; i++)); do
    "$alive" "$pid" || break
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------------
# A Node.js emulator run as one process (azurite.sh, gcs_emulator.sh): `node_main "$@"` gives
# the commands install, start, stop and env. The script sets
#   VERSION, TOOLS (npm prefix), DIR (pid, port, log; DIR/DATA is wiped at each fresh start),
#   DATA, PORT, PORT_VAR (the variable that sets PORT), START_TIMEOUT_S, STOP_TIMEOUT_S,
#   SERVER ("azurite"), THE_SERVER ("the gcs emulator"), READY_WORD ("listen", "answer")
# and defines
#   install    install the emulator when it is missing (npm_install)
#   ready      true when the emulator serves on $PORT
#   launch     start it in the background (`setsid ... </dev/null >"$DIR/log" 2>&1 9>&- &`)
#   env_lines  print its KEY=VALUE lines

# The version of npm package $1 installed in $TOOLS (empty when there is none).
installed_version() {
  node -p "require('$TOOLS/node_modules/$1/package.json').version" 2>/dev/null || true
}

# npm_install PACKAGE NOTE CHECK...: installs PACKAGE@$VERSION into $TOOLS (never into
# package.json), then runs CHECK... (which fails when the install is not usable).
npm_install() {
  local pkg=$1 note=$2
  shift 2
  command -v npm >/dev/null || fail "npm not found: install Node.js 20 first"
  echo "installing $pkg@$VERSION into $TOOLS ($note)..." >&2
  mkdir -p "$TOOLS"
  local t0=$SECONDS
  # --ignore-scripts: re2's install script (firebase-tools) falls back to node-gyp, which needs
  # the internet for Node headers and hangs here; the storage emulator does not use re2.
  if ! timeout 900 npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    --prefix "$TOOLS" "$pkg@$VERSION" >"$DIR/install.log" 2>&1; then
    tail -n 20 "$DIR/install.log" >&2
    fail "npm install $pkg@$VERSION failed (log: $DIR/install.log)"
  fi
  "$@"
  echo "installed $pkg@$VERSION in $((SECONDS - t0)) s" >&2
}

pid_running() { kill -0 "$1" 2>/dev/null; }

running_pid() {
  local pid
  pid=$(cat "$DIR/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

node_start() {
  command -v node >/dev/null || fail "node not found: install Node.js 20 first"
  if pid=$(running_pid); then
    [ "$(cat "$DIR/port" 2>/dev/null)" = "$PORT" ] ||
      fail "already running (pid $pid) on port $(cat "$DIR/port" 2>/dev/null); stop it first"
    ready && return 0
  else
    rm -f "$DIR/pid" "$DIR/port"
    port_open "$PORT" &&
      fail "port $PORT on 127.0.0.1 is taken by another process (set $PORT_VAR)"
  fi
  install
  rm -rf "${DIR:?}/$DATA"
  mkdir -p "$DIR/$DATA"
  local t0=$SECONDS
  launch
  local pid=$!
  echo "$pid" >"$DIR/pid"
  echo "$PORT" >"$DIR/port"
  for ((i = 0; i < START_TIMEOUT_S * 5; i++)); do
    if ready; then
      echo "$SERVER listening on 127.0.0.1:$PORT (pid $pid, ready in $((SECONDS - t0)) s)" >&2
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || {
      tail -n 20 "$DIR/log" >&2
      rm -f "$DIR/pid" "$DIR/port"
      fail "$THE_SERVER exited during start (log: $DIR/log)"
    }
    sleep 0.2
  done
  tail -n 20 "$DIR/log" >&2
  kill_and_wait "$pid"
  fail "$THE_SERVER did not $READY_WORD on 127.0.0.1:$PORT within $START_TIMEOUT_S s (log: $DIR/log)"
}

# SIGTERM, up to STOP_TIMEOUT_S to end, then SIGKILL.
kill_and_wait() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  wait_gone $((STOP_TIMEOUT_S * 10)) pid_running "$pid"
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$DIR/pid" "$DIR/port"
}

node_stop() {
  if pid=$(running_pid); then kill_and_wait "$pid"; else rm -f "$DIR/pid" "$DIR/port"; fi
}

node_main() {
  case "${1:-}" in
    install) install ;;
    start) node_start ;;
    stop) node_stop ;;
    env) env_lines ;;
    *)
      echo "usage: $0 start|stop|env" >&2
      exit 2
      ;;
  esac
}
