#!/usr/bin/env bash
# Builds the web UI (ui/: Preact, bundled by esbuild) into ui/dist, which `accord serve` serves
# at /ui/ and `cmake --install` copies to PREFIX/share/accord/ui. Packages come from the npm
# registry at the versions ui/package-lock.json pins (`npm ci`), installed again only when the
# lockfile changed. Idempotent. Needs node and npm (scripts/deps.sh installs them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/ui"
stamp=node_modules/.accord-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "ui: installing the npm packages pinned by ui/package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
npm run --silent build
