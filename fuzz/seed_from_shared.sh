#!/usr/bin/env bash
# Adds seed inputs for a fuzz target from ../shared (read at run time: shared data is never
# copied into the repository). Usage: seed_from_shared.sh TARGET CORPUS_DIR
set -euo pipefail
target=$1
dir=$2
root=$(cd "$(dirname "$0")/.." && pwd)
shared="$root/../shared"
[ -d "$shared" ] || exit 0
case "$target" in
  pattern)
    # Every pattern of the OASIS conformance vectors, one file each.
    python3 - "$shared/conformance" "$dir" <<'PY'
import hashlib, json, os, sys
src, out = sys.argv[1], sys.argv[2]
pats = set()
for f in ("patterns-2.1.json", "patterns-2.0.json"):
    p = os.path.join(src, f)
    if os.path.exists(p):
        d = json.load(open(p))
        pats |= set(d["valid"]) | set(d["invalid"])
for f in ("matcher-cases.jsonl", "matcher-error-cases.jsonl", "patterns-detail.jsonl"):
    p = os.path.join(src, f)
    if os.path.exists(p):
        for line in open(p):
            if line.strip():
                pats.add(json.loads(line)["pattern"])
for pat in pats:
    name = "shared-" + hashlib.sha1(pat.encode()).hexdigest()[:16]
    with open(os.path.join(out, name), "w") as fh:
        fh.write(pat)
PY
    ;;
  match_input | stream_framing)
    # The first lines (headers included) of real Zeek TSV logs.
    z="$shared/data/telemetry/zed-sample-data-wrccdc2018/zeek-default"
    for log in dns ssl x509 notice; do
      [ -f "$z/$log.log.gz" ] && { zcat "$z/$log.log.gz" | head -n 14 > "$dir/shared-zeek-$log" || true; }
    done
    zj="$shared/data/telemetry/zed-sample-data-wrccdc2018/zeek-json"
    for log in dns ssl; do
      [ -f "$zj/$log.log.gz" ] && { zcat "$zj/$log.log.gz" | head -n 5 > "$dir/shared-zeekjson-$log" || true; }
    done
    ;;
  stix | redaction)
    tmp=$(mktemp -d)
    tar -xzf "$shared/data/stix/oasis-cti-documentation-examples.tar.gz" -C "$tmp" 2>/dev/null || true
    find "$tmp" -name '*.json' -size -64k -exec cp {} "$dir/" \; 2>/dev/null || true
    rm -rf "$tmp"
    ;;
  signature)
    # The RFC 8785 vectors: objects whose numbers and names are the canonical form's hard cases.
    for f in "$shared"/conformance/jcs/input/*.json; do
      [ -f "$f" ] && cp "$f" "$dir/jcs-$(basename "$f")"
    done
    ;;
esac
exit 0
