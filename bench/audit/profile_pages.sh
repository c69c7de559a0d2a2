#!/usr/bin/env bash
# perf over TAXII page reads, one server at a time (issue 13's overhead, docs/PERFORMANCE.md):
# each NAME=BINARY[:ana] serves a copy of one store and is profiled with `perf record
# --call-graph dwarf` during 8 s of `wrk -t2 -c8` on pages of LIMIT objects (a different page each
# request, as in taxii_compare.sh); `:ana` gives it rules-full/accord.toml and reads it as an
# analyst, else its admin reads it. Writes OUTDIR/NAME.data, OUTDIR/NAME.script (perf script)
# and OUTDIR/NAME.wrk, then prints perf_buckets.py's microseconds of server CPU per request.
# LIMIT (environment): objects per page (100 unless set).
# DATA=synthetic (environment): 20,000 generated indicators instead of the real content
# (Unit 42's reports and the DoGood feed from ../shared/data). The store is imported by the
# first BINARY: name the oldest build first.
# Usage: bench/audit/profile_pages.sh OUTDIR NAME=BINARY[:ana]...
set -euo pipefail
OUT=$1; shift
mkdir -p "$OUT"
HERE=$(cd "$(dirname "$0")/.." && pwd)
FREQ=499
W=$(mktemp -d /tmp/accord-profile-pages.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"' EXIT
. "$HERE/audit/pages_lib.sh"
FIRST=${1#*=}
pages_store "$W" "${FIRST%%:*}" "${DATA:-real}"
load() {  # DURATION: wrk over this server's pages ($url, $key)
  wrk -t2 -c8 -d"$1" -s "$W/pages.lua" -H "Accept: application/taxii+json;version=2.1" \
    -H "Authorization: Bearer $key" "$url"
}
ARGS=()
for spec in "$@"; do
  name=${spec%%=*}; rest=${spec#*=}; bin=${rest%%:*}; mode=admin
  if [ "$rest" != "$bin" ] && [ "${rest#*:}" = ana ]; then mode=analyst; fi
  pages_serve "$W" "$name" "$bin" "$mode"
  PID=$PAGES_PID; key=$PAGES_KEY; port=$PAGES_PORT
  url="http://127.0.0.1:$port/api/collections/default/objects/?limit=${LIMIT:-100}"
  python3 "$HERE/taxii/pages_lua.py" "$url" "Authorization: Bearer $key" "$W/pages.lua" 190
  load 4s >/dev/null  # warm: every page read once, remembered results filled
  perf record -F "$FREQ" --call-graph dwarf,32768 -p "$PID" -o "$OUT/$name.data" -- sleep 8 \
    >/dev/null 2>&1 &
  perf_pid=$!
  load 8s >"$OUT/$name.wrk"
  wait "$perf_pid" || true
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=""
  perf script -i "$OUT/$name.data" >"$OUT/$name.script" 2>/dev/null
  ARGS+=("$name=$OUT/$name.script:$(awk '/requests in/ {print $1}' "$OUT/$name.wrk")")
done
python3 "$HERE/audit/perf_buckets.py" "$FREQ" "${ARGS[@]}"
