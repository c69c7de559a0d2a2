#!/usr/bin/env bash
# Stream workers (issue 17, docs/PERFORMANCE.md "Matching workers on JetStream"): match events/s
# reading a Zeek log directly against going through NATS JetStream, with 1 and 2 workers.
#   - the log: WRCCDC 2018 dns.log (../shared/data, 53,615 events) repeated REPEAT times;
#   - indicators: N generated IPv4 indicators (bench/taxii/gen.py) plus 30 domains of the log
#     of middling frequency (so a few percent of events match, each match written to the ledger);
#   - direct: `accord match FILE` on the PostgreSQL store (--threads 1 and 2): its own events/s
#     (from its first event; what the workers' figure measures too) and the whole process's;
#   - ingest: `accord ingest --to nats://...` of the log (messages/s);
#   - workers: 1 and 2 `accord match --from nats://...` of one consumer group on that store; a
#     group's rate is its events over the span from its first event to its last (each worker
#     prints its span), so start-up and the idle wait at the end are not counted.
# Each configuration ROUNDS times, medians. PostgreSQL and NATS: the throwaway servers of
# scripts/pg.sh and scripts/nats.sh (started here if needed), or PG_URL / NATS_URL.
# Usage: bench/scale/match.sh [BUILD_DIR=build-rel] [REPEAT=10] [N=100000]
set -euo pipefail
BUILD=${1:-build-rel}; REPEAT=${2:-10}; N=${3:-100000}
ROUNDS=${ROUNDS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ACCORD=$(realpath "$BUILD/src/cli/accord")
PG=${PG_URL:-$(bash "$ROOT/scripts/pg.sh" start)}
NATS=${NATS_URL:-$(bash "$ROOT/scripts/nats.sh" start)}
LOG_GZ="$ROOT/../shared/data/telemetry/zed-sample-data-wrccdc2018/zeek-default/dns.log.gz"
WORK=$(mktemp -d /tmp/accord-match-bench.XXXXXX)
DB=accord_match_bench
STORE="$PG/$DB"
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  wait 2>/dev/null || true
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" 2>&1 |
  grep -v NOTICE || true

gzip -dc "$LOG_GZ" >"$WORK/one.log"
for _ in $(seq "$REPEAT"); do cat "$WORK/one.log"; done >"$WORK/dns.log"
EVENTS=$(grep -vc '^#' "$WORK/dns.log")
python3 "$ROOT/bench/taxii/gen.py" "$N" "$WORK/ind.jsonl" 1
python3 - "$WORK/one.log" >>"$WORK/ind.jsonl" <<'PY'
import collections, json, sys, uuid
fields, freq = [], collections.Counter()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("#fields"):
        fields = line.split("\t")[1:]
    elif not line.startswith("#"):
        q = line.split("\t")[fields.index("query")]
        if q != "-" and q.islower() and "'" not in q and "\\" not in q:
            freq[q] += 1
for i, (q, _) in enumerate(freq.most_common()[40:70]):
    print(json.dumps({"type": "indicator", "spec_version": "2.1",
                      "id": "indicator--%s" % uuid.UUID(int=i + 1, version=4),
                      "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
                      "pattern": "[domain-name:value = '%s']" % q, "pattern_type": "stix",
                      "valid_from": "2025-01-01T00:00:00Z"}))
PY
"$ACCORD" --data "$WORK/cli" --store "$STORE" import -q "$WORK/ind.jsonl" 2>/dev/null
echo "== $EVENTS events (dns.log x $REPEAT), $(wc -l <"$WORK/ind.jsonl") indicators, PostgreSQL store"

now() { date +%s.%N; }
: >"$WORK/results.txt"
for r in $(seq "$ROUNDS"); do
  for t in 1 2; do
    t0=$(now)
    "$ACCORD" --data "$WORK/cli" --store "$STORE" match --no-cache --threads "$t" "$WORK/dns.log" \
      >"$WORK/direct.out" 2>"$WORK/direct.err"
    t1=$(now)
    # Two figures: the whole process (loading 100k indicators from PostgreSQL included), and
    # the matching alone (accord's own events/s, from its first event), which is what the
    # workers' figure measures.
    python3 - "$t" "$EVENTS" "$t0" "$t1" "$WORK/direct.err" <<'PY' | tee -a "$WORK/results.txt"
import re, sys
t, events, t0, t1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rate = re.search(r"matches\), (\d+) events/s", open(sys.argv[5]).read()).group(1)
print("direct%s_process %.1f" % (t, events / (t1 - t0)))
print("direct%s %s" % (t, rate))
PY
  done
  MATCHES=$(wc -l <"$WORK/direct.out")
  STREAM="BENCH$r"
  t0=$(now)
  "$ACCORD" ingest --to "$NATS" --stream "$STREAM" --subject "bench.$r.dns" "$WORK/dns.log" 2>"$WORK/ingest.err"
  t1=$(now)
  python3 -c "import sys; print('ingest %.1f' % (int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" \
    "$EVENTS" "$t0" "$t1" | tee -a "$WORK/results.txt"
  for w in 1 2; do
    psql -q "$STORE" -c "TRUNCATE match_records" >/dev/null
    for k in $(seq "$w"); do
      "$ACCORD" --data "$WORK/w$k" --store "$STORE" match --from "$NATS" --stream "$STREAM" \
        --subject "bench.$r.dns" --durable "group$w" --idle-exit 2 --no-cache \
        >/dev/null 2>"$WORK/w$k.err" &
    done
    wait
    recorded=$(psql -tA "$STORE" -c "SELECT count(*) FROM match_records")
    python3 - "$w" "$EVENTS" "$recorded" "$MATCHES" "$WORK" <<'PY' | tee -a "$WORK/results.txt"
import re, sys
w, events, recorded, matches, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
spans, seen = [], 0
for k in range(1, w + 1):
    err = open("%s/w%d.err" % (work, k)).read()
    m = re.search(r"events from ([0-9.]+) to ([0-9.]+)", err)
    if m:
        spans.append((float(m.group(1)), float(m.group(2))))
    seen += int(re.search(r"messages \(\d+ redelivered, \d+ empty\), (\d+) events", err).group(1))
assert seen == events, "workers saw %d events of %d" % (seen, events)
assert recorded == matches, "ledger %d records, direct match %d lines" % (recorded, matches)
span = max(b for a, b in spans) - min(a for a, b in spans)
print("workers%d %.1f" % (w, events / span))
PY
  done
done
python3 - "$WORK/results.txt" "$EVENTS" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, v = line.split()
    rows[k].append(float(v))
med = {k: statistics.median(v) for k, v in rows.items()}
print("medians (events/s): direct, 1 thread %.0f (whole process %.0f); direct, 2 threads %.0f "
      "(whole process %.0f); ingest (messages/s) %.0f; 1 worker %.0f; 2 workers %.0f"
      % (med["direct1"], med["direct1_process"], med["direct2"], med["direct2_process"],
         med["ingest"], med["workers1"], med["workers2"]))
print("1 worker / direct (1 thread) %.2f; 2 workers / 1 worker %.2f; 2 workers / direct (2 threads) %.2f"
      % (med["workers1"] / med["direct1"], med["workers2"] / med["workers1"],
         med["workers2"] / med["direct2"]))
PY
