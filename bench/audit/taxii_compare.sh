#!/usr/bin/env bash
# Several builds serving copies of one store, measured in turns with wrk (issue 13's overhead,
# docs/PERFORMANCE.md): for each server and round, requests/s, its ratio to the first server
# of the list in the same round, the server's CPU time per request (utime + stime) and the
# whole machine's busy time per request (wrk's own CPU and the kernel's writeback included).
# The order rotates each round (first to last, then last to first), so that no server is
# always measured after another. Every request is a different 100-object page (next cursors
# and a counter, so the page cache misses), as in taxii_overhead.sh.
# RULES=full (environment): every server but the first gets rules-full/accord.toml and is
# read by an analyst, under the `partners` profile; the first is read by its admin (it is
# meant to be the baseline, which may predate the profiles).
# DATA=real (environment): the store holds real content from ../shared/data instead of
# 20,000 synthetic indicators of ~350 bytes (the worst case for the audit's share): Unit 42's
# STIX 2.1 reports (6,216 objects: indicators, relationships, attack patterns, reports) and
# the DoGood honeypot feed (4,504 indicators of ~1.2 KB).
# LIMIT (environment): objects per page (100 unless set; each page is one audit entry).
# COLD (environment, with RULES=full): names of servers that remember no redaction results
# ([redaction] cache_mib = 0), so that every object's check costs what a first read costs;
# the others keep the default memory, and after the warm-up round serve remembered results.
# PLAIN (environment, with RULES=full): names of servers kept as the first is (no rules file,
# read by the admin): the rules' share of the overhead, measured in the same run.
# The store is imported by the first BINARY, so it must be the oldest build (older builds cannot
# read a newer schema). To isolate the gate's and the audit's cost from other changes, measure
# against the same commit built by ungated_build.sh (allow-all gate, no audit log), named in
# PLAIN and REF (docs/PERFORMANCE.md, "December 7, night").
# REF (environment): the name of the server each round's ratios are taken against (default:
# the first).
# Usage: [RULES=full] bench/audit/taxii_compare.sh ROUNDS DURATION NAME=BINARY...
#   e.g. bench/audit/taxii_compare.sh 6 5s base=/tmp/accord-probe new=build-rel/src/cli/accord
# A BINARY may be a wrapper script that sets an environment and execs a build.
set -euo pipefail
ROUNDS=$1; DUR=$2; shift 2
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/accord-audit-compare.XXXXXX)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
. "$HERE/audit/pages_lib.sh"
pages_store "$WORK" "${1#*=}" "${DATA:-synthetic}"
NAMES=(); PORTS=(); KEYS=()
for spec in "$@"; do
  name=${spec%%=*}; bin=${spec#*=}
  mode=admin
  if [ "${RULES:-empty}" = full ] && [ ${#NAMES[@]} -gt 0 ] && [[ ",${PLAIN:-}," != *",$name,"* ]]; then
    mode=analyst
    if [[ ",${COLD:-}," == *",$name,"* ]]; then mode=analyst-cold; fi
  fi
  pages_serve "$WORK" "$name" "$bin" "$mode"
  PIDS+=("$PAGES_PID")  # the servers' own (a wrapper BINARY execs: the same pid)
  NAMES+=("$name"); KEYS+=("$PAGES_KEY"); PORTS+=("$PAGES_PORT")
done
python3 "$HERE/taxii/pages_lua.py" "http://127.0.0.1:${PORTS[0]}/api/collections/default/objects/?limit=${LIMIT:-100}" \
  "Authorization: Bearer ${KEYS[0]}" "$WORK/pages.lua" 190
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
run() {  # PORT KEY -> "requests req/s"
  wrk -t2 -c8 -d"$DUR" -s "$WORK/pages.lua" -H "Accept: application/taxii+json;version=2.1" \
    -H "Authorization: Bearer $2" "http://127.0.0.1:$1/api/collections/default/objects/?limit=${LIMIT:-100}" |
    awk '/^Requests\/sec/ {r = $2} /requests in/ {n = $1} END {print n, r}'
}
n=${#NAMES[@]}
ref=0
for i in $(seq 0 $((n - 1))); do
  if [ "${NAMES[$i]}" = "${REF:-${NAMES[0]}}" ]; then ref=$i; fi
done
for i in $(seq 0 $((n - 1))); do run "${PORTS[$i]}" "${KEYS[$i]}" >/dev/null; done  # warm
tick=$(getconf CLK_TCK)
echo "rules: ${RULES:-empty}, data: ${DATA:-synthetic}, limit: ${LIMIT:-100}"
for r in $(seq "$ROUNDS"); do
  declare -A rps=() line=()
  for k in $(seq 0 $((n - 1))); do
    if ((r % 2)); then i=$k; else i=$((n - 1 - k)); fi
    c0=$(cpu "${PIDS[$i]}"); b0=$(busy)
    read -r reqs rate < <(run "${PORTS[$i]}" "${KEYS[$i]}")
    c1=$(cpu "${PIDS[$i]}"); b1=$(busy)
    rps[$i]=$rate
    line[$i]=$(python3 -c "print('%.1f us/req server, %.1f us/req machine' % (($c1 - $c0) * 1e6 / $tick / $reqs, ($b1 - $b0) * 1e6 / $tick / $reqs))")
  done
  for i in $(seq 0 $((n - 1))); do
    echo "round $r ${NAMES[$i]}: ${rps[$i]} req/s ($(python3 -c "print('%.3f' % (${rps[$i]} / ${rps[$ref]}))")), ${line[$i]}"
  done
done
