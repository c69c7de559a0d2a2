#!/usr/bin/env bash
# Builds `accord` at COMMIT (default HEAD) with ungated.patch applied: `serve` with the
# allow-all gate and no audit log. It is the baseline that isolates what issue 13's gate and
# audit cost from every other change since an older build (docs/PERFORMANCE.md): pass it first
# to taxii_compare.sh. It is built in a scratch worktree and never installed; the patch is not
# part of the product (a node has no switch that turns its gate or its audit log off).
# Usage: bench/audit/ungated_build.sh OUT_BINARY [COMMIT]
set -euo pipefail
OUT=$1; COMMIT=${2:-HEAD}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TREE=$(mktemp -d /tmp/accord-ungated.XXXXXX)
trap 'git -C "$ROOT" worktree remove --force "$TREE" >/dev/null 2>&1 || rm -rf "$TREE"' EXIT
git -C "$ROOT" worktree add --detach "$TREE" "$COMMIT" >/dev/null
git -C "$TREE" apply "$ROOT/bench/audit/ungated.patch"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$TREE" CCACHE_NOHASHDIR=true  # one cache for every scratch tree
fi
ld=(); command -v ld.lld >/dev/null && ld=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld)
cmake -S "$TREE" -B "$TREE/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "${ld[@]}" >/dev/null
cmake --build "$TREE/build" --target accord >/dev/null
cp "$TREE/build/src/cli/accord" "$OUT"
echo "$OUT: accord at $(git -C "$TREE" rev-parse --short HEAD) with bench/audit/ungated.patch"
