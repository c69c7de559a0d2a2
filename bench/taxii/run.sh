#!/usr/bin/env bash
# TAXII server benchmark (docs/PERFORMANCE.md, "TAXII server"):
#   1. POST N indicators in envelopes of 100 (accord taxii push, CONNECTIONS at once) -> objects/s
#   2. GET .../objects/?limit=100 with wrk (keep-alive, authenticated)          -> req/s, p50/p99
#   3. nginx serving the same response bytes as a static file, same wrk load     -> the ceiling
#   4. medallion, when MEDALLION_DIR points at a checkout (optional)
# Usage: bench/taxii/run.sh [BUILD_DIR] [N=100000] [DURATION=10s] [CONNECTIONS=16]
set -euo pipefail
BUILD=${1:-build-taxii}; N=${2:-100000}; DUR=${3:-10s}; CONN=${4:-16}
ACCORD=$(realpath "$BUILD/src/cli/accord")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/accord-taxii-bench.XXXXXX)
trap 'kill $SERVER_PID $NGINX_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
SERVER_PID=""; NGINX_PID=""

python3 "$HERE/gen.py" "$N" "$WORK/ind.jsonl" 1
"$ACCORD" serve --data "$WORK/data" --listen 127.0.0.1:0 --access-log "" >"$WORK/serve.out" &
SERVER_PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
KEY=$(sed -n 2p "$WORK/serve.out")
PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/serve.out" | cut -d: -f2)
ROOT="http://127.0.0.1:$PORT/api/"

echo "== POST $N indicators, envelopes of 100, accord taxii push --parallel $CONN"
START=$(date +%s.%N)
"$ACCORD" taxii push "$ROOT" default "$WORK/ind.jsonl" --batch 100 --parallel "$CONN" --key "$KEY" 2>&1 | tail -1
END=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('post: %.2f s, %.0f objects/s' % (s, int(sys.argv[3])/s))" "$START" "$END" "$N"

URL="${ROOT}collections/default/objects/?limit=100"
H_ACCEPT="Accept: application/taxii+json;version=2.1"
H_AUTH="Authorization: Bearer $KEY"
curl -s -H "$H_ACCEPT" -H "$H_AUTH" "$URL" >"$WORK/page.json"
echo "page bytes: $(wc -c <"$WORK/page.json")"

# wrk summary as "req/s p50 p99" (latencies in ms).
summ() {
  awk '/Requests\/sec/ {r=$2}
       function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
       $1=="50%" {p50=ms($2)} $1=="99%" {p99=ms($2)}
       END {printf "%.0f %.2f %.2f\n", r, p50, p99}'
}
echo "== GET objects/?limit=100 on $N objects: accord"
wrk -t2 -c"$CONN" -d"$DUR" --latency -H "$H_ACCEPT" -H "$H_AUTH" "$URL" >"$WORK/wrk-accord.txt"
grep -E "Requests/sec|  50%|  99%|Latency  " "$WORK/wrk-accord.txt"
echo "== GET, every request a different page (next cursors, cold for the page cache): accord"
# A wrk script walks `next` tokens taken from the pages themselves, so each request is a
# distinct page and the store does the work.
python3 - "$URL" "$H_AUTH" "$WORK/pages.lua" <<'PY'
import json, subprocess, sys
url, auth, out = sys.argv[1:4]
toks, nxt = [], None
for _ in range(200):
    u = url + ("&next=" + nxt if nxt else "")
    page = json.loads(subprocess.run(["curl", "-s", "-H", "Accept: application/taxii+json;version=2.1", "-H", auth, u], capture_output=True, text=True).stdout)
    nxt = page.get("next")
    if not nxt: break
    toks.append(nxt)
with open(out, "w") as f:
    f.write("local toks = {%s}\nlocal i = 0\n" % ",".join('"%s"' % t for t in toks))
    f.write("request = function()\n  i = i + 1\n  local t = toks[(i % #toks) + 1]\n")
    f.write("  return wrk.format(nil, wrk.path .. '&next=' .. t .. '&r=' .. i)\nend\n")
PY
wrk -t2 -c"$CONN" -d"$DUR" --latency -s "$WORK/pages.lua" -H "$H_ACCEPT" -H "$H_AUTH" "$URL" >"$WORK/wrk-cold.txt"
grep -E "Requests/sec|  50%|  99%" "$WORK/wrk-cold.txt"
echo "== GET with added_after (late page) : accord"
LATE=$(curl -s -H "$H_ACCEPT" -H "$H_AUTH" "${ROOT}collections/default/manifest/?limit=1&added_after=1970-01-01T00:00:00Z" -D - -o /dev/null | grep -i x-taxii-date-added-last | tr -d '\r' | cut -d' ' -f2)
wrk -t2 -c"$CONN" -d"$DUR" --latency -H "$H_ACCEPT" -H "$H_AUTH" "${URL}&added_after=$LATE" | grep -E "Requests/sec|  50%|  99%"

echo "== nginx serving the same bytes"
mkdir -p "$WORK/nginx/www" && cp "$WORK/page.json" "$WORK/nginx/www/page.json"
NPORT=$((PORT + 1))
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  types { application/taxii+json json; }
  server { listen 127.0.0.1:$NPORT; root $WORK/nginx/www; keepalive_requests 100000; }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
sleep 0.5
wrk -t2 -c"$CONN" -d"$DUR" --latency "http://127.0.0.1:$NPORT/page.json" >"$WORK/wrk-nginx.txt"
grep -E "Requests/sec|  50%|  99%|Latency  " "$WORK/wrk-nginx.txt"
read -r AR AP50 AP99 < <(summ <"$WORK/wrk-accord.txt")
read -r CR CP50 CP99 < <(summ <"$WORK/wrk-cold.txt")
read -r NR NP50 NP99 < <(summ <"$WORK/wrk-nginx.txt")
echo "== summary N=$N: accord $AR req/s p50 $AP50 ms p99 $AP99 ms; distinct pages $CR req/s p50 $CP50 ms p99 $CP99 ms; nginx $NR req/s p50 $NP50 ms p99 $NP99 ms; ratio $(python3 -c "print('%.2f' % ($AR/$NR))")"

if [ -n "${MEDALLION_DIR:-}" ]; then
  echo "== medallion (MEDALLION_DIR=$MEDALLION_DIR)"
  missing=$(for m in flask flask_httpauth environ jsonmerge pytz six appdirs packaging; do
    python3 -c "import $m" 2>/dev/null || printf '%s ' "$m"; done)
  if [ -z "$missing" ]; then
    echo "medallion's dependencies are present, but this script does not drive it yet"
  else
    echo "medallion cannot run here: missing Python modules: $missing(environ-config and jsonmerge are not packaged by Debian 12)"
  fi
fi
