#!/usr/bin/env bash
# `make bench`: release build, then the benchmark tool prints OmniPost's figures beside a baseline
# measured in the same run (inotifywait and wrk are installed from Debian if missing). BENCH_IDLE_SECONDS, BENCH_DROPS and BENCH_JUNK shorten it for a quick look;
# BENCH_ONLY=rejections measures only what a rejection costs; BENCH_ONLY=drops what a drop costs (BENCH_SIDECAR_CPU,
# BENCH_PASS_DROPS, BENCH_SIDECARS shorten it); BENCH_ONLY=convert the convert stage against bare ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in inotifywait:inotify-tools wrk:wrk xxh128sum:xxhash; do command -v "${tool%%:*}" >/dev/null || {
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get install -y -qq --no-install-recommends "${tool##*:}" >/dev/null
}; done
# The shared ledger's claims are measured against a private PostgreSQL server (where PostgreSQL is
# installed: Debian keeps its binaries under /usr/lib/postgresql/<major>/bin), started here in a temp
# folder on a free loopback port — as nobody when run as root, since initdb and postgres refuse root —
# with PostgreSQL's default durability, and stopped when this script ends.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$PGBIN" ] && [ -z "${BENCH_PG_URL:-}" ]; then
  PGDIR=$(mktemp -d /tmp/omnipost-bench-pg.XXXXXX)
  head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$PGDIR/password"
  RUNAS=()
  if [ "$(id -u)" = 0 ]; then chown -R nobody:nogroup "$PGDIR"; RUNAS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --); fi
  "${RUNAS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U omnipost --pwfile="$PGDIR/password" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
  PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/server.log" -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1" start >/dev/null
  trap '"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null; rm -rf "$PGDIR"' EXIT
  for db in bench_1 bench_2 bench_3 bench_takeover; do
    PGPASSWORD=$(cat "$PGDIR/password") psql -X -q -h 127.0.0.1 -p "$PGPORT" -U omnipost -d postgres -c "CREATE DATABASE $db"
  done
  export BENCH_PG_URL="postgres://omnipost@127.0.0.1:$PGPORT/bench" BENCH_PG_PASSWORD_FILE="$PGDIR/password"
fi
swift build -c release --product omnipost-bench
.build/release/omnipost-bench .build/release/omnipost
