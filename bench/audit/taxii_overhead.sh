#!/usr/bin/env bash
# What the audit log costs TAXII reads (issue 13, "Overhead"; docs/PERFORMANCE.md): the same
# store served by two builds, BASELINE (before the audit log) and ACCORD (with it), measured in
# turns with wrk (in ABBA order), every request a different page of objects (next cursors),
# ROUNDS times; the ratio is the median of the per-round ratios. Each server's page cache is on, as deployed, but
# the cursors make every request a miss.
# RULES=full (environment): ACCORD's node has redaction profiles and a profile for the analyst
# role (rules-full/accord.toml), and its pages are read by an analyst (granted the
# collection) instead of the admin, so that every object is checked against the profile (the
# generated indicators pass it unchanged: the measure is of the checking).
# Usage: [RULES=full] bench/audit/taxii_overhead.sh ACCORD BASELINE [N=20000] [DURATION=5s] [ROUNDS=5] [CONN=8]
set -euo pipefail
ACCORD=$(realpath "$1"); BASELINE=$(realpath "$2")
N=${3:-20000}; DUR=${4:-5s}; ROUNDS=${5:-5}; CONN=${6:-8}
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/accord-audit-bench.XXXXXX)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 "$HERE/taxii/gen.py" "$N" "$WORK/ind.jsonl" 1
"$BASELINE" import --data "$WORK/base" -q "$WORK/ind.jsonl"
start() {  # BIN DATA -> "PID PORT KEY"
  "$1" serve --data "$2" --listen 127.0.0.1:0 --access-log "" >"$2.out" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q listening "$2.out" 2>/dev/null && break; sleep 0.1; done
  # admin.key: the key `serve` makes for a store with no users yet (with RULES=full the audited
  # node has one, the analyst, whose key is used instead).
  local key=""
  [ -f "$2/admin.key" ] && key=$(cat "$2/admin.key")
  echo "$pid $(grep -o '127.0.0.1:[0-9]*' "$2.out" | head -1 | cut -d: -f2) $key"
}
cp -a "$WORK/base" "$WORK/audit"
rm -f "$WORK/audit/audit.log" "$WORK/audit/audit.head"
AUSER=""
if [ "${RULES:-empty}" = full ]; then
  cp "$HERE/audit/rules-full/accord.toml" "$WORK/audit/accord.toml"
  "$ACCORD" user add ana --role analyst --data "$WORK/audit" >/dev/null
  AUSER=$("$ACCORD" key create ana --data "$WORK/audit" | head -1)
  "$ACCORD" collection grant default ana --read --data "$WORK/audit" >/dev/null
fi
read -r BPID BPORT BKEY < <(start "$BASELINE" "$WORK/base")
read -r APID APORT AKEY < <(start "$ACCORD" "$WORK/audit")
[ -n "$AUSER" ] && AKEY=$AUSER
echo "rules: ${RULES:-empty}"
PIDS+=("$BPID" "$APID")

H_ACCEPT="Accept: application/taxii+json;version=2.1"
# Cursors from the pages themselves (the same store: the same cursors on both servers).
python3 "$HERE/taxii/pages_lua.py" "http://127.0.0.1:$BPORT/api/collections/default/objects/?limit=100" \
  "Authorization: Bearer $BKEY" "$WORK/pages.lua" 190
run() {  # PORT KEY -> req/s
  wrk -t2 -c"$CONN" -d"$DUR" -s "$WORK/pages.lua" -H "$H_ACCEPT" -H "Authorization: Bearer $2" \
    "http://127.0.0.1:$1/api/collections/default/objects/?limit=100" |
    awk '/Requests\/sec/ {print $2}'
}
run "$BPORT" "$BKEY" >/dev/null; run "$APORT" "$AKEY" >/dev/null  # warm both
echo "round  baseline req/s  audit req/s  audit/baseline"
ratios=()
for r in $(seq "$ROUNDS"); do
  # ABBA: the two servers take turns at going first (the one measured second in a pair has
  # been measured slower on this VM whatever it was; docs/PERFORMANCE.md).
  if ((r % 2)); then
    b=$(run "$BPORT" "$BKEY"); a=$(run "$APORT" "$AKEY")
  else
    a=$(run "$APORT" "$AKEY"); b=$(run "$BPORT" "$BKEY")
  fi
  ratio=$(python3 -c "print('%.3f' % ($a / $b))")
  ratios+=("$ratio")
  echo "$r  $b  $a  $ratio"
done
python3 -c "import statistics,sys; print('median audit/baseline: %.3f' % statistics.median(map(float, sys.argv[1:])))" "${ratios[@]}"
"$ACCORD" audit verify --data "$WORK/audit"
echo "audit log: $(wc -c <"$WORK/audit/audit.log") bytes"
