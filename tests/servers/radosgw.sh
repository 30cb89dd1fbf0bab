#!/usr/bin/env bash
# A throwaway Ceph cluster for the S3 tests: one monitor, one memstore OSD and
# radosgw (beast) on 127.0.0.1, auth off, data under tests/.work/radosgw.
# See /work/shared/notes/test-servers.md for the facts this rests on.
#
#   tests/servers/radosgw.sh install    install Ceph (ceph-mon ceph-osd radosgw) if missing
#   tests/servers/radosgw.sh start      install Ceph if missing, start, wait until ready,
#                                       print RGW_ENDPOINT=... (idempotent: a running
#                                       cluster is reused)
#   tests/servers/radosgw.sh stop       stop every daemon and wait for it (idempotent)
#   tests/servers/radosgw.sh env        print RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY
#   tests/servers/radosgw.sh rgw-stop   stop radosgw only (the data stays in the OSD)
#   tests/servers/radosgw.sh rgw-kill   SIGKILL radosgw (a crash: open connections break)
#   tests/servers/radosgw.sh rgw-start  start radosgw again and wait until it answers
#
# RGW_PORT picks the S3 port (default: 7480, or the next free one); RGW_DIR
# the data folder. Needs root for the install only. Measured here (2 cores):
# a cold start (nothing running) takes ~13 s, stop ~1-6 s, rgw-start ~0.5 s;
# the install ~25-70 s. radosgw runs with `tcp_nodelay=1`: without it every
# request on a kept-alive connection waits ~40 ms (Nagle + delayed ACK).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/servers/lib.sh
source tests/servers/lib.sh

log() { echo "radosgw.sh: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

DIR="${RGW_DIR:-$PWD/tests/.work/radosgw}"
mkdir -p "$(dirname "$DIR")"
lock "$DIR.lock" 600
CONF="$DIR/ceph.conf"
ACCESS_KEY="stitchertestaccesskey"
SECRET_KEY="stitcher-test-secret-key-0123456789"
USER_ID="stitcher-test"
READY_TIMEOUT_S="${RGW_READY_TIMEOUT:-120}"

free_port() {
  local p="$1"
  for _ in $(seq 1 200); do
    if ! port_open "$p"; then
      echo "$p"
      return 0
    fi
    p=$((p + 1))
  done
  fail "no free port from $1 on"
}

# A zombie (no init reaping in some containers) counts as gone.
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
    ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

pid_of() { cat "$DIR/$1.pid" 2>/dev/null || true; }

install_ceph() {
  if command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null &&
    command -v radosgw >/dev/null && command -v radosgw-admin >/dev/null; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || fail "Ceph is not installed and installing it needs root: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw"
  export DEBIAN_FRONTEND=noninteractive
  log "installing ceph-mon ceph-osd radosgw"
  if ! apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw >"$DIR.apt.log" 2>&1; then
    apt-get update -q >>"$DIR.apt.log" 2>&1 || fail "apt-get update failed; see $DIR.apt.log"
    apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw >>"$DIR.apt.log" 2>&1 ||
      fail "apt-get install ceph-mon ceph-osd radosgw failed; see $DIR.apt.log"
  fi
}

# True when radosgw answers an HTTP request on its port.
rgw_answers() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
    IFS= read -r -t 5 line <&3 || exit 1
    [[ "$line" == HTTP/1.1\ 200* ]]
  ) 2>/dev/null
}

wait_for() {
  local what="$1" deadline=$((SECONDS + READY_TIMEOUT_S))
  shift
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      fail "$what not ready after ${READY_TIMEOUT_S} s; logs in $DIR/log"
    fi
    sleep 0.2
  done
}

ceph_cli() { timeout 60 ceph -c "$CONF" --connect-timeout 30 "$@"; }

print_env() {
  local port
  port="$(cat "$DIR/rgw.port")"
  echo "RGW_ENDPOINT=http://127.0.0.1:$port"
  echo "RGW_ACCESS_KEY=$ACCESS_KEY"
  echo "RGW_SECRET_KEY=$SECRET_KEY"
}

running() {
  [ -f "$DIR/rgw.port" ] && pid_alive "$(pid_of mon)" && pid_alive "$(pid_of osd)" &&
    pid_alive "$(pid_of rgw)" && rgw_answers "$(cat "$DIR/rgw.port")"
}

# Starts a daemon in the foreground mode (-f) as a background job; records its pid.
spawn() {
  local name="$1"
  shift
  setsid "$@" -f -c "$CONF" >>"$DIR/log/$name.out" 2>&1 </dev/null 9>&- &
  echo $! >"$DIR/$name.pid"
}

start_rgw() {
  local port
  port="$(cat "$DIR/rgw.port")"
  if pid_alive "$(pid_of rgw)"; then
    wait_for "radosgw on 127.0.0.1:$port" rgw_answers "$port"
    return 0
  fi
  port_open "$port" && fail "port $port is taken by another program; set RGW_PORT"
  spawn rgw radosgw -n client.rgw
  wait_for "radosgw on 127.0.0.1:$port" rgw_answers "$port"
}

stop_pid() {
  local name="$1" pid
  pid="$(pid_of "$name")"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    # The OSD takes > 4 s after SIGTERM; give each daemon 30 s, then SIGKILL.
    wait_gone 300 pid_alive "$pid"
    pid_alive "$pid" && kill_pid "$pid"
  fi
  rm -f "$DIR/$name.pid"
}

# SIGKILL, then up to 5 s for the process to end.
kill_pid() {
  kill -KILL "$1" 2>/dev/null || true
  wait_gone 50 pid_alive "$1"
}

stop_all() {
  stop_pid rgw
  stop_pid osd
  stop_pid mon
}

start() {
  local t0=$SECONDS
  if running; then
    print_env
    return 0
  fi
  install_ceph
  stop_all
  rm -rf "$DIR"
  mkdir -p "$DIR/log" "$DIR/run" "$DIR/mon" "$DIR/osd" "$DIR/rgw"
  local rgw_port mon_port fsid
  rgw_port="${RGW_PORT:-$(free_port 7480)}"
  port_open "$rgw_port" && fail "port $rgw_port (RGW_PORT) is taken"
  mon_port="$(free_port 13300)"
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  echo "$rgw_port" >"$DIR/rgw.port"
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = 4294967296
osd crush chooseleaf type = 0
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
mon data = $DIR/mon/\$id
osd data = $DIR/osd/\$id
keyring = $DIR/keyring
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $DIR/rgw
rgw dns name = 127.0.0.1
EOF
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" \
    >"$DIR/log/mon-mkfs.out" 2>&1 || fail "ceph-mon --mkfs failed; see $DIR/log/mon-mkfs.out"
  spawn mon ceph-mon -i a
  local osd_id
  osd_id="$(ceph_cli osd create)" || fail "ceph osd create failed; see $DIR/log"
  [ "$osd_id" = 0 ] || fail "ceph osd create gave id $osd_id, expected 0"
  mkdir -p "$DIR/osd/0"
  ceph-osd -c "$CONF" -i 0 --mkfs >"$DIR/log/osd-mkfs.out" 2>&1 ||
    fail "ceph-osd --mkfs failed; see $DIR/log/osd-mkfs.out"
  spawn osd ceph-osd -i 0
  osd_up() { ceph_cli osd stat 2>/dev/null | grep -q '1 up'; }
  wait_for "the OSD" osd_up
  start_rgw
  radosgw-admin -c "$CONF" -n client.admin user create --uid="$USER_ID" --display-name="$USER_ID" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$DIR/log/user.out" 2>&1 ||
    fail "radosgw-admin user create failed; see $DIR/log/user.out"
  log "ready in $((SECONDS - t0)) s"
  print_env
}

case "${1:-}" in
  install) install_ceph ;;
  start) start ;;
  stop) stop_all ;;
  env)
    [ -f "$DIR/rgw.port" ] || fail "not started (run: $0 start)"
    print_env
    ;;
  rgw-stop) stop_pid rgw ;;
  rgw-kill)
    pid="$(pid_of rgw)"
    if pid_alive "$pid"; then kill_pid "$pid"; fi
    rm -f "$DIR/rgw.pid"
    ;;
  rgw-start) start_rgw ;;
  *)
    echo "usage: $0 install|start|stop|env|rgw-stop|rgw-kill|rgw-start" >&2
    exit 2
    ;;
esac
