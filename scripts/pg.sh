#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (issue 17): `bash scripts/pg.sh start` initialises
# a cluster under $ACCORD_PG_DIR (default /tmp/accord-pg) if there is none, starts it on a Unix
# socket only (no TCP port), and prints the URL tests take in ACCORD_TEST_PG; `stop` stops it.
# Debian's PostgreSQL 15 (scripts/deps.sh installs it). The server refuses to run as root: as
# root, the cluster belongs to the `postgres` user the package created. Idempotent.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
dir="${ACCORD_PG_DIR:-/tmp/accord-pg}"
port="${ACCORD_PG_PORT:-55432}"
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      rm -rf "$dir" && mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      # fsync stays on: the tests check durability claims. Connections: ctest -j runs several
      # test binaries at once, each with a small pool.
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses='' -c max_connections=200" start >/dev/null ||
        { tail -n 20 "$dir/server.log" >&2; exit 1; }
    fi
    echo "postgresql://postgres@$(printf '%s' "$dir" | sed 's|/|%2F|g'):$port"
    ;;
  stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
