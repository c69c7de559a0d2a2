#!/usr/bin/env bash
# README command 1: install what is missing, build (release), install `accord` on the PATH
# (cmake --install to $ACCORD_PREFIX, default /usr/local, so /usr/local/bin/accord), and start a
# node on the embedded default store in ./accord-data: create it, import the sample intel,
# print its stats, and, where the TAXII server is built, serve it on loopback.
# Idempotent: re-running re-imports nothing new (object versions are stored once).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
bash "$root/scripts/ui.sh"  # the web UI, served at /ui/ and installed beside the binary
cmake -S "$root" -B "$root/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DACCORD_BUILD_TESTS=OFF -DACCORD_BUILD_BENCH=OFF >/dev/null
cmake --build "$root/build-release" --target accord -j"$(nproc)"
prefix="${ACCORD_PREFIX:-/usr/local}"
cmake --install "$root/build-release" --prefix "$prefix" >/dev/null
accord="$prefix/bin/accord"
echo "run: installed $accord ($("$accord" --version))"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "run: $prefix/bin is not on your PATH; add it to run 'accord' by name" ;;
esac
data="${ACCORD_DATA:-$PWD/accord-data}"
"$accord" init --data "$data"
"$accord" import --data "$data" "$root"/samples/*.json
shared="$root/../shared/data/stix"
if [ -d "$shared" ]; then
  # Real public intel, when the shared data folder is beside the checkout.
  "$accord" import --data "$data" --collection attack-ics "$shared/attack-stix-data/ics-attack-18.1.json.gz" || true
fi
"$accord" stats --data "$data"
if "$accord" serve --help >/dev/null 2>&1; then
  exec "$accord" serve --data "$data" --listen "${ACCORD_LISTEN:-127.0.0.1:9443}"
fi
