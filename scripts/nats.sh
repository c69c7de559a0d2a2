#!/usr/bin/env bash
# A throwaway NATS server with JetStream for the tests (issue 17): `bash scripts/nats.sh start`
# starts Debian's nats-server (scripts/deps.sh installs it) on 127.0.0.1 with its JetStream
# store under $ACCORD_NATS_DIR (default /tmp/accord-nats), waits until it accepts connections,
# and prints the URL tests take in ACCORD_TEST_NATS; `stop` stops it and removes its store.
# Idempotent: a server already running from this directory is reused.
set -euo pipefail
dir="${ACCORD_NATS_DIR:-/tmp/accord-nats}"
port="${ACCORD_NATS_PORT:-54222}"
url="nats://127.0.0.1:$port"
running() { [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }
case "${1:-}" in
  start)
    if ! running; then
      rm -rf "$dir" && mkdir -p "$dir/js"
      nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/js" -P "$dir/pid" -l "$dir/server.log" </dev/null >/dev/null 2>&1 &
      for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
        sleep 0.1
      done
      running || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    fi
    echo "$url"
    ;;
  stop)
    if running; then
      pid=$(cat "$dir/pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
