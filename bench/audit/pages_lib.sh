# Shared by taxii_compare.sh and profile_pages.sh (source it; bash, set -euo pipefail): the
# store their servers read, and one server over a copy of it, as issue 13's overhead benches
# set them up (docs/PERFORMANCE.md).

# pages_store WORK BINARY KIND: WORK/src, imported by BINARY (name the oldest build: older
# builds cannot read a newer store schema). KIND real: Unit 42's STIX 2.1 reports and the
# DoGood honeypot feed from ../shared/data (~10,700 objects); synthetic: 20,000 generated
# indicators of ~350 bytes.
pages_store() {
  local work=$1 bin=$2 kind=$3 here t
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ "$kind" = real ]; then
    local shared=${ACCORD_SHARED_DIR:-$here/../../shared}
    mkdir -p "$work/real"
    for t in unit42-stix2-reports dogood-honeypot-stix21-daily; do
      tar -xzf "$shared/data/stix/$t.tar.gz" -C "$work/real"
    done
    # Real content has conflicting versions (refused and quarantined) and non-STIX files: the
    # import reports them and exits non-zero; what it accepted is the store.
    "$bin" import --data "$work/src" -q "$work/real" 2>"$work/import.err" || true
  else
    python3 "$here/taxii/gen.py" 20000 "$work/ind.jsonl" 1 >/dev/null
    "$bin" import --data "$work/src" -q "$work/ind.jsonl"
  fi
}

# pages_serve WORK NAME BINARY MODE: `accord serve` over WORK/NAME, a copy of WORK/src without
# its audit log, on a free port. MODE admin: read by its admin, no rules file; analyst: the
# full rules (rules-full/accord.toml), read by an analyst under the `partners` profile;
# analyst-cold: the same, remembering no redaction results ([redaction] cache_mib = 0).
# Sets PAGES_PID (the server's; BINARY may be a wrapper that execs it), PAGES_PORT, PAGES_KEY.
pages_serve() {
  local work=$1 name=$2 bin=$3 mode=$4 rules key=""
  rules="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rules-full/accord.toml"
  cp -a "$work/src" "$work/$name"
  rm -f "$work/$name/audit.log" "$work/$name/audit.head"
  if [ "$mode" != admin ]; then
    if [ "$mode" = analyst-cold ]; then
      { printf '[redaction]\ncache_mib = 0\n\n'; cat "$rules"; } >"$work/$name/accord.toml"
    else
      cp "$rules" "$work/$name/accord.toml"
    fi
    "$bin" user add ana --role analyst --data "$work/$name" >/dev/null 2>&1
    key=$("$bin" key create ana --data "$work/$name" | head -1)
    "$bin" collection grant default ana --read --data "$work/$name" >/dev/null
  fi
  "$bin" serve --data "$work/$name" --listen 127.0.0.1:0 --access-log "" >"$work/$name.out" 2>&1 &
  PAGES_PID=$!
  for _ in $(seq 100); do
    if grep -q listening "$work/$name.out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -z "$key" ] && [ -f "$work/$name/admin.key" ]; then key=$(cat "$work/$name/admin.key"); fi
  PAGES_KEY=$key
  PAGES_PORT=$(grep -o '127.0.0.1:[0-9]*' "$work/$name.out" | head -1 | cut -d: -f2)
}
