#!/usr/bin/env bash
# TAXII server benchmark (docs/PERFORMANCE.md, "TAXII server"):
#   1. POST N indicators in envelopes of 100 (accord taxii push, CONNECTIONS at once) -> objects/s
#   2. GET ./objects/?limit=100 with wrk (keep-alive, authenticated), in turns with 3. -> req/s, p50/p99
#   3. nginx serving the same response bytes as a static file, same wrk load     -> the ceiling
#   4. medallion, when MEDALLION_DIR points at a checkout (optional)
# Usage: bench/taxii/run.sh [BUILD_DIR] [N=100000] [DURATION=10s] [CONNECTIONS=16]
set -euo pipefail
BUILD=${1:-build-taxii}; N=${2:-100000}; DUR=${3:-10s}; CONN=${4:-16}
ACCORD=$(realpath "$BUILD/src/cli/accord")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/accord-taxii-bench.XXXXXX)
trap 'kill $SERVER_PID $NGINX_PID $MED_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
SERVER_PID=""; NGINX_PID=""; MED_PID=""

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
sync  # the push's writeback must not run during the GET measurements

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
       END {printf "%.2f %.2f %.2f\n", r, p50, p99}'
}
echo "== GET, every request a different page (next cursors, cold for the page cache): accord"
# A wrk script walks `next` tokens taken from the pages themselves, so each request is a
# distinct page and the store does the work.
python3 "$HERE/pages_lua.py" "$URL" "$H_AUTH" "$WORK/pages.lua"
wrk -t2 -c"$CONN" -d"$DUR" --latency -s "$WORK/pages.lua" -H "$H_ACCEPT" -H "$H_AUTH" "$URL" >"$WORK/wrk-cold.txt"
grep -E "Requests/sec|  50%|  99%" "$WORK/wrk-cold.txt"
echo "== GET with added_after (late page) : accord"
LATE=$(curl -s -H "$H_ACCEPT" -H "$H_AUTH" "${ROOT}collections/default/manifest/?limit=1&added_after=1970-01-01T00:00:00Z" -D - -o /dev/null | grep -i x-taxii-date-added-last | tr -d '\r' | cut -d' ' -f2)
wrk -t2 -c"$CONN" -d"$DUR" --latency -H "$H_ACCEPT" -H "$H_AUTH" "${URL}&added_after=$LATE" | grep -E "Requests/sec|  50%|  99%"

echo "== GET objects/?limit=100 on $N objects: accord and nginx (same bytes, static file), alternating"
# The machine's speed drifts by tens of percent within a minute (shared host), so the two are
# measured in turns, ROUNDS times, and the ratio is the median of the per-round ratios.
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
ROUNDS=${ROUNDS:-3}
: >"$WORK/rounds.txt"
for r in $(seq "$ROUNDS"); do
  wrk -t2 -c"$CONN" -d"$DUR" --latency -H "$H_ACCEPT" -H "$H_AUTH" "$URL" >"$WORK/wrk-accord.txt"
  wrk -t2 -c"$CONN" -d"$DUR" --latency "http://127.0.0.1:$NPORT/page.json" >"$WORK/wrk-nginx.txt"
  read -r AR AP50 AP99 < <(summ <"$WORK/wrk-accord.txt")
  read -r NR NP50 NP99 < <(summ <"$WORK/wrk-nginx.txt")
  echo "round $r: accord $AR req/s p50 $AP50 ms p99 $AP99 ms; nginx $NR req/s p50 $NP50 ms p99 $NP99 ms" | tee -a "$WORK/rounds.txt"
done
# Medians over the rounds: accord req/s, p50, p99; nginx req/s, p50, p99; ratio.
read -r AR AP50 AP99 NR NP50 NP99 RATIO < <(python3 - "$WORK/rounds.txt" <<'PY'
import re, statistics, sys
rows = [list(map(float, re.findall(r"([0-9.]+) (?:req/s|ms)", l))) for l in open(sys.argv[1])]
med = lambda i: statistics.median(r[i] for r in rows)
print(" ".join("%.2f" % med(i) for i in range(6)), "%.2f" % statistics.median(r[0] / r[3] for r in rows))
PY
)
read -r CR CP50 CP99 < <(summ <"$WORK/wrk-cold.txt")
echo "== summary N=$N: accord $AR req/s p50 $AP50 ms p99 $AP99 ms; distinct pages $CR req/s p50 $CP50 ms p99 $CP99 ms; nginx $NR req/s p50 $NP50 ms p99 $NP99 ms; ratio $RATIO (medians of $ROUNDS rounds)"

if [ -n "${MEDALLION_DIR:-}" ]; then
  # medallion (OASIS cti-taxii-server, memory backend) with the same wrk load, on MEDALLION_N
  # of the same objects (default 1,000: it is a floor, not a target). environ-config and
  # jsonmerge are not packaged by Debian 12: MEDALLION_PYDEPS names a directory holding their
  # sources (outside this repository); the rest comes from Debian (see docs/PERFORMANCE.md).
  MN=${MEDALLION_N:-1000}
  PYP="/usr/lib/python3/dist-packages:${MEDALLION_PYDEPS:+$MEDALLION_PYDEPS:}$MEDALLION_DIR"
  echo "== medallion (MEDALLION_DIR=$MEDALLION_DIR), $MN objects, memory backend"
  missing=$(for m in flask flask_httpauth environ jsonmerge pytz six appdirs packaging medallion; do
    PYTHONPATH="$PYP" /usr/bin/python3 -c "import $m" 2>/dev/null || printf '%s ' "$m"; done)
  if [ -n "$missing" ]; then
    echo "medallion cannot run here: missing Python modules: $missing"
  else
    MPORT=$((PORT + 2))
    mkdir -p "$WORK/med"
    /usr/bin/python3 - "$WORK/ind.jsonl" "$MN" "$MPORT" "$WORK/med" <<'PY'
import json, sys
src, n, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
objs = []
with open(src) as f:
    for line in f:
        if len(objs) == n: break
        objs.append(json.loads(line))
manifest = [{"date_added": "2026-01-01T00:00:%02d.%06dZ" % (i // 1000000 % 60, i % 1000000), "id": o["id"],
             "media_type": "application/stix+json;version=2.1", "version": o["modified"]} for i, o in enumerate(objs)]
col = lambda cid, title, o, m: {"id": cid, "title": title, "can_read": True, "can_write": True,
                                "media_types": ["application/stix+json;version=2.1"], "objects": o, "manifest": m}
data = {"/discovery": {"title": "bench", "default": "http://127.0.0.1:%s/api1/" % port,
                       "api_roots": ["http://127.0.0.1:%s/api1/" % port]},
        "api1": {"information": {"title": "bench", "versions": ["application/taxii+json;version=2.1"],
                                 "max_content_length": 104857600},
                 "status": [],
                 "collections": [col("91a7b528-80eb-42ed-a74d-c6fbd5a26116", "read", objs, manifest),
                                 col("365fed99-08fa-fdcd-a1b3-fb247eb41d01", "write", [], [])]}}
json.dump(data, open(out + "/data.json", "w"))
json.dump({"backend": {"module_class": "MemoryBackend", "filename": out + "/data.json"},
           "users": {"admin": "Password0"}, "taxii": {"max_page_size": 100}}, open(out + "/config.json", "w"))
PY
    head -n "$MN" "$WORK/ind.jsonl" >"$WORK/med/post.jsonl"
    (cd "$MEDALLION_DIR" && PYTHONPATH="$PYP" exec /usr/bin/python3 -c 'import sys
from medallion.scripts.run import main
sys.argv = ["medallion", "--host", "127.0.0.1", "--port", sys.argv[1], "--conf-file", sys.argv[2]]
main()' "$MPORT" "$WORK/med/config.json") >"$WORK/med/log" 2>&1 &
    MED_PID=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$MPORT/taxii2/" && break; sleep 0.2; done
    MAUTH="Authorization: Basic $(printf admin:Password0 | base64)"
    MURL="http://127.0.0.1:$MPORT/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/?limit=100"
    echo "page bytes: $(curl -s -H "$H_ACCEPT" -H "$MAUTH" "$MURL" | wc -c)"
    # Each of its pages takes seconds: 2 connections for 30 s, so that requests complete.
    wrk -t2 -c2 -d"${MEDALLION_DUR:-30s}" --timeout 120s --latency -H "$H_ACCEPT" -H "$MAUTH" "$MURL" >"$WORK/wrk-med.txt"
    grep -E "Requests/sec|  50%|  99%|Latency  |requests in|Socket errors" "$WORK/wrk-med.txt"
    START=$(date +%s.%N)
    "$ACCORD" taxii push "http://127.0.0.1:$MPORT/api1/" 365fed99-08fa-fdcd-a1b3-fb247eb41d01 \
      "$WORK/med/post.jsonl" --batch 100 --parallel "$CONN" --user admin --key Password0 2>&1 | tail -1
    END=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('medallion post: %.2f s, %.0f objects/s' % (s, int(sys.argv[3])/s))" "$START" "$END" "$MN"
    read -r MR MP50 MP99 < <(summ <"$WORK/wrk-med.txt")
    echo "== medallion summary N=$MN: $MR req/s p50 $MP50 ms p99 $MP99 ms; accord/medallion $(python3 -c "print('%.0f' % ($AR/max($MR,0.001)))")x"
    kill "$MED_PID" 2>/dev/null || true
  fi
fi
