#!/usr/bin/env python3
"""Microseconds of a server's CPU per request spent under each of a few functions (inclusive),
from `perf script` output of a profile taken at FREQ samples a second while the server answered
REQUESTS requests (bench/audit/profile_pages.sh). A sample counts for a function when the
function is anywhere on its stack.

Usage: perf_buckets.py FREQ NAME=SCRIPT:REQUESTS...
"""
import collections
import sys

BUCKETS = [
    ("all samples", None),
    ("SqliteStore::List", "SqliteStore::List"),
    ("EgressReader::AdmitAll (the gate)", "EgressReader::AdmitAll"),
    ("Redactor::Redact", "Redactor::Redact"),
    ("audit: EgressEntry (version list)", "policy::EgressEntry"),
    ("audit: AppendLine (line, SHA-256)", "audit::(anonymous namespace)::AppendLine"),
    ("audit: WriteLocked (write, head)", "audit::Log::WriteLocked"),
    ("Session::Send (the response)", "PlainSession>::Send("),
]


def main():
    freq = float(sys.argv[1])
    table = {}
    for spec in sys.argv[2:]:
        name, rest = spec.split("=", 1)
        path, requests = rest.rsplit(":", 1)
        counts = collections.Counter()
        stack = []

        def flush():
            if not stack:
                return
            counts[None] += 1
            joined = "\n".join(stack)
            for _, needle in BUCKETS[1:]:
                if needle in joined:
                    counts[needle] += 1

        with open(path, errors="replace") as f:
            for line in f:
                if not line.strip():
                    flush()
                    stack = []
                elif line[0] in " \t":
                    stack.append(line.strip())
                else:
                    flush()
                    stack = []
        flush()
        per = 1e6 / freq / float(requests)
        table[name] = {needle: counts[needle] * per for _, needle in BUCKETS}
    names = list(table)
    print("%-38s" % "us of server CPU per request" + "".join("%12s" % n for n in names))
    for label, needle in BUCKETS:
        print("%-38s" % label + "".join("%12.1f" % table[n][needle] for n in names))


if __name__ == "__main__":
    main()
