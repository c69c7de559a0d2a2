#!/usr/bin/env python3
"""Times OASIS stix2-matcher on the sample written by match_bench (issue 4, docs/PERFORMANCE.md).

    stix2_bench.py PATTERNS BUNDLE BUDGET_SECONDS OUT

PATTERNS: one STIX pattern a line; BUNDLE: one STIX 2.1 bundle holding the observed-data
objects and their SCOs. Each pattern in order goes through
`stix2matcher.matcher.match(pattern, [bundle], stix_version='2.1')` (which compiles the
pattern and checks it against every observed-data of the bundle) until BUDGET_SECONDS of
wall time have passed; only whole patterns are counted, nothing is extrapolated.
OUT gets "patterns events wall_seconds cpu_seconds" and then the indices of the patterns that
matched, one a line. Loading the JSON is not timed.
"""
import json
import sys
import time

from stix2matcher.matcher import match


def main():
    patterns_path, bundle_path, budget, out_path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    with open(patterns_path, encoding="utf-8") as f:
        patterns = [line.rstrip("\n") for line in f if line.strip()]
    with open(bundle_path, encoding="utf-8") as f:
        bundle = json.load(f)
    events = sum(1 for o in bundle["objects"] if o["type"] == "observed-data")
    matched = []
    done = 0
    w0, c0 = time.perf_counter(), time.process_time()
    for i, p in enumerate(patterns):
        if match(p, [bundle], stix_version="2.1"):
            matched.append(i)
        done += 1
        if time.perf_counter() - w0 >= budget:
            break
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("%d %d %.6f %.6f\n" % (done, events, wall, cpu))
        for i in matched:
            f.write("%d\n" % i)


if __name__ == "__main__":
    main()
