#!/usr/bin/env python3
"""Writes N distinct STIX 2.1 indicators as JSON lines (deterministic; seed = argv[3])."""
import json, random, sys, uuid

n = int(sys.argv[1]); out = sys.argv[2]; seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
rng = random.Random(seed)
with open(out, "w") as f:
    for i in range(n):
        u = uuid.UUID(int=rng.getrandbits(128), version=4)
        ip = "%d.%d.%d.%d" % (10 + i % 200, (i >> 16) & 255, (i >> 8) & 255, i & 255)
        f.write(json.dumps({
            "type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % u,
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
            "name": "bench %d" % i, "indicator_types": ["malicious-activity"],
            "pattern": "[ipv4-addr:value = '%s']" % ip, "pattern_type": "stix",
            "valid_from": "2025-01-01T00:00:00Z", "labels": ["benchmark"],
        }, separators=(",", ":")) + "\n")
