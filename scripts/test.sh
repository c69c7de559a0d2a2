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
ctest_log="$build/ctest.log"
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 1800) 2>&1 | tee "$ctest_log"
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
ctests=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$ctest_log" | tail -1)
# libFuzzer (clang), bounded time per target.
secs="${ACCORD_FUZZ_SECONDS:-60}"
fuzzed=0
mkdir -p "$root/build-fuzz"
for src in "$root"/fuzz/*/*_fuzz.cc; do
  [ -f "$src" ] || continue
  name=$(basename "$src" _fuzz.cc)
  log="$root/build-fuzz/$name.log"
  echo "test: libFuzzer $name for ${secs}s (log: $log)"
  if ! bash "$root/fuzz/run_libfuzzer.sh" "$name" "$secs" >"$log" 2>&1; then
    tail -n 80 "$log"
    echo "test: libFuzzer $name FAILED"
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$log" || true
  fuzzed=$((fuzzed + 1))
done
echo "test: ${ctests:-0} ctest tests and $fuzzed libFuzzer targets"
echo "tests: $(( ${ctests:-0} + fuzzed )) passed, 0 failed"
