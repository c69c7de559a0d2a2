#!/usr/bin/env bash
# Scale-out benchmark (issue 17, docs/PERFORMANCE.md "Scale-out"):
#   1. ingest: the same N indicators imported into SQLite and into PostgreSQL, ROUNDS times in
#      turns -> objects/s each and their ratio (medians);
#   2. TAXII GET objects/?limit=100 (wrk, keep-alive, authenticated) on a PostgreSQL store with
#      1, 2 and 3 `accord serve` frontends, one wrk per frontend at once -> total req/s; and
#      the same on a SQLite store with one frontend. Twice: the same page again and again (the
#      frontends' page cache answers), and every request a distinct page (bench/taxii/
#      pages_lua.py walks the `next` tokens: the store does the work).
# PostgreSQL: the throwaway server of scripts/pg.sh (started here if needed), or PG_URL (a
# postgresql:// URL without a database, whose user may create databases).
# Usage: bench/scale/run.sh [BUILD_DIR=build-rel] [N=100000] [DURATION=10s] [CONNECTIONS=8]
set -euo pipefail
BUILD=${1:-build-rel}; N=${2:-100000}; DUR=${3:-10s}; CONN=${4:-8}
ROUNDS=${ROUNDS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ACCORD=$(realpath "$BUILD/src/cli/accord")
PG=${PG_URL:-$(bash "$ROOT/scripts/pg.sh" start)}
WORK=$(mktemp -d /tmp/accord-scale-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS accord_scale_bench WITH (FORCE)" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
newdb() {
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS accord_scale_bench WITH (FORCE)" \
    -c "CREATE DATABASE accord_scale_bench" 2>&1 | grep -v NOTICE || true
}
secs() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$@"; }

python3 "$ROOT/bench/taxii/gen.py" "$N" "$WORK/ind.jsonl" 1
echo "== ingest: $N indicators (bench/taxii/gen.py), accord import, SQLite and PostgreSQL in turns"
: >"$WORK/ingest.txt"
for r in $(seq "$ROUNDS"); do
  rm -rf "$WORK/sqlite" "$WORK/pgdata"
  t0=$(date +%s.%N); "$ACCORD" --data "$WORK/sqlite" import -q "$WORK/ind.jsonl" 2>/dev/null; t1=$(date +%s.%N)
  newdb
  t2=$(date +%s.%N)
  "$ACCORD" --data "$WORK/pgdata" --store "$PG/accord_scale_bench" import -q "$WORK/ind.jsonl" 2>/dev/null
  t3=$(date +%s.%N)
  s=$(secs "$t0" "$t1"); p=$(secs "$t2" "$t3")
  echo "round $r: sqlite $s s, postgresql $p s" | tee -a "$WORK/ingest.txt"
done
python3 - "$WORK/ingest.txt" "$N" <<'PY'
import re, statistics, sys
rows = [tuple(map(float, re.findall(r"([0-9.]+) s", l))) for l in open(sys.argv[1])]
n = int(sys.argv[2])
s = statistics.median(r[0] for r in rows); p = statistics.median(r[1] for r in rows)
print("ingest medians: sqlite %.2f s (%.0f objects/s), postgresql %.2f s (%.0f objects/s), "
      "postgresql/sqlite %.2f" % (s, n / s, p, n / p, (n / p) / (n / s)))
PY

# Frontends: `accord serve` on the PostgreSQL database just loaded (the last round's), each with
# a data directory of its own; the first start writes the admin key.
start_frontend() {  # DATA_DIR [--store URL] -> prints the port
  local dir=$1; shift
  "$ACCORD" serve --data "$dir" --listen 127.0.0.1:0 --access-log "" "$@" >"$dir.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$dir.out" 2>/dev/null && break; sleep 0.1; done
  grep -o '127.0.0.1:[0-9]*' "$dir.out" | head -1 | cut -d: -f2
}
summ() {  # wrk output -> "req/s p50 p99" (ms)
  awk '/Requests\/sec/ {r=$2}
       function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
       $1=="50%" {p50=ms($2)} $1=="99%" {p99=ms($2)}
       END {printf "%.1f %.2f %.2f\n", r, p50, p99}'
}
H_ACCEPT="Accept: application/taxii+json;version=2.1"
PORTS=()
for i in 1 2 3; do
  PORTS+=("$(start_frontend "$WORK/front$i" --store "$PG/accord_scale_bench")")
done
KEY=$(cat "$WORK/front1/admin.key")
PATH_Q="/api/collections/default/objects/?limit=100"
curl -sf -H "$H_ACCEPT" -H "Authorization: Bearer $KEY" "http://127.0.0.1:${PORTS[0]}$PATH_Q" \
  -o "$WORK/page.json"
echo "page bytes: $(wc -c <"$WORK/page.json")"
python3 "$ROOT/bench/taxii/pages_lua.py" "http://127.0.0.1:${PORTS[0]}$PATH_Q" \
  "Authorization: Bearer $KEY" "$WORK/pages.lua"
get_rounds() {  # LABEL K WRK_EXTRA... : K frontends at once, ROUNDS times -> $WORK/LABEL.txt
  local label=$1 k=$2; shift 2
  : >"$WORK/$label.txt"
  for r in $(seq "$ROUNDS"); do
    WRKS=()
    for i in $(seq 0 $((k - 1))); do
      wrk -t1 -c"$CONN" -d"$DUR" --latency "$@" -H "$H_ACCEPT" -H "Authorization: Bearer $KEY" \
        "http://127.0.0.1:${PORTS[$i]}$PATH_Q" >"$WORK/wrk-$label-$i.txt" &
      WRKS+=($!)
    done
    wait "${WRKS[@]}"
    total=0
    for i in $(seq 0 $((k - 1))); do
      read -r rq _ _ < <(summ <"$WORK/wrk-$label-$i.txt")
      total=$(awk -v a="$total" -v b="$rq" 'BEGIN { printf "%.1f", a + b }')
    done
    read -r _ p50 p99 < <(summ <"$WORK/wrk-$label-0.txt")
    echo "$label round $r: $total req/s (frontend 1: p50 $p50 ms, p99 $p99 ms)" | tee -a "$WORK/$label.txt"
  done
}
echo "== TAXII GET $PATH_Q, PostgreSQL store, 1/2/3 frontends (one wrk -t1 -c$CONN per frontend, at once)"
for k in 1 2 3; do get_rounds "pg-same-$k" "$k"; done
for k in 1 2 3; do get_rounds "pg-distinct-$k" "$k" -s "$WORK/pages.lua"; done
SPORT=$(start_frontend "$WORK/sqlite")
KEY=$(cat "$WORK/sqlite/admin.key")  # its first start (the store had no user) wrote it
PORTS=("$SPORT")
echo "== TAXII GET, SQLite store, 1 frontend"
get_rounds "sqlite-same-1" 1
python3 "$ROOT/bench/taxii/pages_lua.py" "http://127.0.0.1:$SPORT$PATH_Q" \
  "Authorization: Bearer $KEY" "$WORK/pages-sqlite.lua"
get_rounds "sqlite-distinct-1" 1 -s "$WORK/pages-sqlite.lua"
python3 - "$WORK" <<'PY'
import re, statistics, sys
w = sys.argv[1]
def med(label):
    return statistics.median(float(re.search(r": ([0-9.]+) req/s", l).group(1))
                             for l in open("%s/%s.txt" % (w, label)))
for kind in ("same", "distinct"):
    one = med("pg-%s-1" % kind)
    print("GET medians (%s page%s): postgresql 1 frontend %.0f req/s, 2 frontends %.0f (x%.2f), "
          "3 frontends %.0f (x%.2f); sqlite 1 frontend %.0f req/s"
          % (kind, "" if kind == "same" else "s", one, med("pg-%s-2" % kind),
             med("pg-%s-2" % kind) / one, med("pg-%s-3" % kind), med("pg-%s-3" % kind) / one,
             med("sqlite-%s-1" % kind)))
PY
