#!/usr/bin/env bash
# The MISP import rate end to end (issue 15: at least 100,000 attributes/s; docs/PERFORMANCE.md):
# `accord import` of formats_bench's MISP event (150,000 to_ids attributes from real values:
# read, convert, validate, pattern-check, sign, index and store in one transaction, in a new
# process and a new store each time), timed with /usr/bin/time.
#
# With a BASELINE build, both run ROUNDS times in ABBA order (A B B A ...), so that each is
# first and second of a back-to-back pair equally often: on this VM the second of two imports
# in a row ran ~7% slower whatever the binary (the same binary twice: 1.52 / 1.62 s). Before
# each import the page cache is written back (sync) and the machine rests 1 s. Prints each
# build's median wall time, attributes/s at that median, median CPU and peak RSS, the ratio of
# the two builds in each round (A's two imports against B's two) with its median, and the ratio
# of the medians.
# Usage: bench/formats/misp_import.sh ACCORD [BASELINE] [ROUNDS=5] [EVENT=/tmp/accord-misp-bench.json]
#   (the event is made with `formats_bench misp` when EVENT does not exist; FORMATS_BENCH
#   names that binary, default build-rel/bench/formats/formats_bench)
set -euo pipefail
ACCORD=$(realpath "$1")
BASELINE=${2:-}
[ -n "$BASELINE" ] && BASELINE=$(realpath "$BASELINE")
ROUNDS=${3:-5}
EVENT=${4:-/tmp/accord-misp-bench.json}
ATTRIBUTES=150000
if [ ! -f "$EVENT" ]; then
  "${FORMATS_BENCH:-build-rel/bench/formats/formats_bench}" misp "$ATTRIBUTES" "$EVENT" >/dev/null
fi
WORK=$(mktemp -d /tmp/accord-misp-import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

run() {  # TAG BIN: one import into a new store, appended to $WORK/times
  rm -rf "$WORK/data-$1"
  sync
  sleep 1
  /usr/bin/time -o "$WORK/t" -f "%e %U %S %M" "$2" import --data "$WORK/data-$1" -q "$EVENT" \
    >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  echo "$1 $(cat "$WORK/t")" >>"$WORK/times"
}

for _ in $(seq "$ROUNDS"); do
  if [ -n "$BASELINE" ]; then
    run accord "$ACCORD"; run baseline "$BASELINE"; run baseline "$BASELINE"; run accord "$ACCORD"
  else
    run accord "$ACCORD"
  fi
done

python3 - "$WORK/times" "$ATTRIBUTES" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
med = {}
for tag in ("accord", "baseline"):
    r = [x for x in rows if x[0] == tag]
    if not r:
        continue
    wall = [float(x[1]) for x in r]
    cpu = [float(x[2]) + float(x[3]) for x in r]
    rss = max(int(x[4]) for x in r)
    med[tag] = statistics.median(wall)
    print(f"{tag:8s} wall median {med[tag]:.2f} s ({n / med[tag]:,.0f} attributes/s), "
          f"CPU median {statistics.median(cpu):.2f} s, peak RSS {rss / 1024:.0f} MiB, "
          f"runs {' '.join(f'{w:.2f}' for w in wall)}")
if "baseline" in med:
    # Per ABBA round (four imports in a row, A B B A): the ratio of A's two to B's two. This
    # VM's speed moves by up to 40% within minutes; a round's four imports share its speed,
    # the medians of all runs need not.
    a = [float(x[1]) for x in rows if x[0] == "accord"]
    b = [float(x[1]) for x in rows if x[0] == "baseline"]
    ratios = [(a[2 * i] + a[2 * i + 1]) / (b[2 * i] + b[2 * i + 1]) for i in range(len(a) // 2)]
    print("ratio accord/baseline per round: " + " ".join(f"{r:.3f}" for r in ratios) +
          f"; median {statistics.median(ratios):.3f}")
    print(f"ratio of the wall medians: {med['accord'] / med['baseline']:.3f}")
PY
