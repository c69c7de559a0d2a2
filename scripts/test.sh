#!/usr/bin/env bash
# README command 2: install what is missing, build with ASan+UBSan, and run every test
# (unit, integration, conformance against ../shared/conformance, fuzz-corpus replay), then
# each libFuzzer target for a bounded time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
shared="$root/../shared"
if [ -d "$shared/conformance" ]; then
  echo "test: conformance vectors found in $shared/conformance: they run with the suite"
else
  echo "test: $shared/conformance is missing: the conformance tests will report it and fail"
fi
build="$root/build-asan"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DACCORD_SANITIZE=ON \
  -DACCORD_WERROR=ON -DACCORD_BUILD_BENCH=ON -DACCORD_SHARED_DIR="$shared" >/dev/null
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 1800)
# libFuzzer (clang), bounded time per target.
secs="${ACCORD_FUZZ_SECONDS:-60}"
for src in "$root"/fuzz/*/*_fuzz.cc; do
  [ -f "$src" ] || continue
  name=$(basename "$src" _fuzz.cc)
  echo "test: libFuzzer $name for ${secs}s"
  bash "$root/fuzz/run_libfuzzer.sh" "$name" "$secs"
done
echo "test: all passed"
