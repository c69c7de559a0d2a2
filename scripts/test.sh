#!/usr/bin/env bash
# README command 2: install what is missing, build with ASan+UBSan, lint (scripts/lint.sh),
# run every test (unit, integration, conformance against ../shared/conformance, fuzz-corpus
# replay), then each libFuzzer target for a bounded time ($ACCORD_FUZZ_SECONDS, default 10).
# The PostgreSQL store's tests run against a server this script starts and stops.
#
# The last line counts real results: "tests: N passed, N failed, N skipped". A unit is a CTest
# test (one GoogleTest binary or corpus replay), the lint, or a libFuzzer run. A GoogleTest
# binary in which some tests called GTEST_SKIP exits 77 (tests/common/gtest_main.cc) and is
# counted as skipped, never as passed; the line above it counts the GoogleTest cases, read from
# each binary's JSON report. Under CI=true a skipped test fails the run (and tests that need
# ../shared fail by themselves: ACCORD_REQUIRE_SHARED in tests/common/test_util.h).
# Exit status: 0 only when nothing failed (and, under CI=true, nothing was skipped).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
say() { printf 'test [%s]: %s\n' "$(date -u -d @$(( $(date +%s) - start )) +%M:%S)" "$*"; }
set -e
ACCORD_TEST_DEPS=1 bash "$root/scripts/deps.sh"
say "building the web UI (scripts/ui.sh)"
bash "$root/scripts/ui.sh"
shared="$root/../shared"
if [ -d "$shared/conformance" ]; then
  say "conformance vectors found in $shared/conformance: they run with the suite"
else
  say "$shared/conformance is missing: the tests that need it skip (and fail under CI=true)"
fi
# ccache, when installed, for every build below (CMake reads these variables from the
# environment): the ASan tree, and the clang tree fuzz/run_libfuzzer.sh configures.
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  # Test files use a precompiled header (cmake/AccordHelpers.cmake): ccache caches those only
  # with this sloppiness.
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  # A clean checkout anywhere on the machine reuses what another checkout compiled: paths
  # under the root are hashed relative to it, and the working directory is not hashed.
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
fi
build="$root/build-asan"
say "building (ASan+UBSan) in $build"
# PERF: -g1 (line tables: what ASan's and UBSan's reports need) instead of -g: a third less
# compile time on the header-heavy files (CLI11, Beast), which dominate a cold build.
# PERF: executables linked without PIE (-no-pie): the ASan `accord` binary (250 MB) spent half
# of every start-up in the dynamic loader's relative relocations and the page faults they cause
# (0.66 s -> 0.30 s for `accord --version`), and the tests start it thousands of times.
# PERF: ACCORD_UNITY: each layer library compiled as unity files of eight sources
# (cmake/AccordHelpers.cmake; docs/PERFORMANCE.md, "The README's test command").
# PERF: the layers the tests spend their CPU in (parsing, the store, matching, conversion, the
# egress gate, the audit log) at -O1, the rest at -O0: CTest took 337 s of CPU instead of 462,
# for ~70 s more compile CPU on those layers (ACCORD_OPTIMIZE_LAYERS, cmake/AccordHelpers.cmake).
# PERF: linked by lld (scripts/deps.sh), when it is installed: 3.5 s -> 0.5 s for `accord`.
ld_flags=-no-pie
command -v ld.lld >/dev/null && ld_flags="$ld_flags -fuse-ld=lld"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
  -DCMAKE_EXE_LINKER_FLAGS="$ld_flags" -DCMAKE_C_FLAGS_DEBUG=-g1 -DACCORD_UNITY=ON \
  "-DACCORD_OPTIMIZE_LAYERS=common;stix;pattern;store;match;formats;policy;audit;ingest;correlate;stream" \
  -DACCORD_SANITIZE=ON -DACCORD_WERROR=ON -DACCORD_BUILD_BENCH=ON -DACCORD_SHARED_DIR="$shared" >/dev/null
cmake --build "$build" -j"$(nproc)"
set +e

passed=0 failed=0 skipped=0
failures=()

# PERF: lint (clang-format; clang-tidy, ~8 s of CPU per file, with ACCORD_TIDY=1) and the
# clang build of the fuzz targets run niced in the background while CTest runs: many tests wait
# on processes and sockets, and the longest ones run alone at the end, so a core is often idle.
# Their logs are printed when they finish.
lint_log="$build/lint.log"
say "lint (clang-format; clang-tidy with ACCORD_TIDY=1) and the libFuzzer build start in the background (niced)"
nice -n 15 bash "$root/scripts/lint.sh" "$build" >"$lint_log" 2>&1 &
lint_pid=$!
# The clang tree of the fuzz targets (fuzz/run_libfuzzer.sh): every target in one ninja run, at
# -O0 (docs/PERFORMANCE.md, "The README's test command"). Not started beside the ASan build:
# four compilers on two vCPUs (hyperthreads of one core here) took 12:44 for what takes 7:50
# and then 3 minutes one after the other; and not in a session of its own (setsid), where the
# kernel's autogroup scheduling would give it half the CPU whatever its nice value.
mkdir -p "$root/build-fuzz"
fuzz_build_log="$root/build-fuzz/build.log"
FUZZ_BUILD_ONLY=1 nice -n 15 bash "$root/fuzz/run_libfuzzer.sh" all 0 >"$fuzz_build_log" 2>&1 &
fuzz_build_pid=$!

# The PostgreSQL store's tests (issue 17) need a server: a throwaway one on a Unix socket,
# stopped when this script ends (scripts/pg.sh).
say "starting a throwaway PostgreSQL server for the PostgreSQL store's tests (scripts/pg.sh)"
if ACCORD_TEST_PG=$(bash "$root/scripts/pg.sh" start); then
  export ACCORD_TEST_PG
else
  say "PostgreSQL did not start: the PostgreSQL store's tests skip (and fail under CI=true)"
fi
# The stream workers' tests (issue 17) need NATS with JetStream: a throwaway nats-server on
# 127.0.0.1, stopped and removed when this script ends (scripts/nats.sh).
say "starting a throwaway NATS JetStream server for the stream workers' tests (scripts/nats.sh)"
if ACCORD_TEST_NATS=$(bash "$root/scripts/nats.sh" start); then
  export ACCORD_TEST_NATS
else
  say "nats-server did not start: the stream workers' tests skip (and fail under CI=true)"
fi
trap 'bash "$root/scripts/pg.sh" stop; bash "$root/scripts/nats.sh" stop' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Every GoogleTest binary writes its results to $gtest_dir/<binary>.json.
gtest_dir="$build/gtest-results"
rm -rf "$gtest_dir" && mkdir -p "$gtest_dir"
export GTEST_OUTPUT="json:$gtest_dir/"
ctest_log="$build/ctest.log"
say "running CTest (-j$(nproc)); a line per finished test, and every 60 s the tests still running"
(cd "$build" && exec ctest --output-on-failure -j"$(nproc)" --timeout 1800) >"$ctest_log" 2>&1 &
ctest_pid=$!
tail -n +1 -f "$ctest_log" --pid="$ctest_pid" &
tail_pid=$!
while kill -0 "$ctest_pid" 2>/dev/null; do
  for _ in $(seq 60); do
    kill -0 "$ctest_pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$ctest_pid" 2>/dev/null; then
    running=$(ps -o args= --ppid "$ctest_pid" 2>/dev/null | awk '{n=split($1,p,"/"); printf "%s ", p[n]}')
    say "still running: ${running:-(starting)}"
  fi
done
wait "$ctest_pid"
wait "$tail_pid" 2>/dev/null
# CTest's verdict per test: "Passed", "***Skipped" (exit 77), anything else is a failure
# ("***Failed", "***Exception", "***Timeout", "Not Run").
while IFS= read -r line; do
  name=$(sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' <<<"$line")
  case "$line" in
    *" Passed "*) passed=$((passed + 1)) ;;
    *"***Skipped"*) skipped=$((skipped + 1)); say "skipped: $name" ;;
    *) failed=$((failed + 1)); failures+=("$name") ;;
  esac
done < <(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$ctest_log")
# GoogleTest cases, from the JSON reports.
python3 - "$gtest_dir" <<'PY'
import json, pathlib, sys
p = f = s = 0
skipped_in = []
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    doc = json.loads(path.read_text())
    ns = 0
    for suite in doc.get("testsuites", []):
        for case in suite.get("testsuite", []):
            if case.get("failures"):
                f += 1
            elif case.get("result") == "SKIPPED":
                s += 1; ns += 1
            elif case.get("status", "RUN") == "RUN":
                p += 1
    if ns:
        skipped_in.append(f"{path.stem} ({ns})")
print(f"test: GoogleTest cases: {p} passed, {f} failed, {s} skipped"
      + (f" (skipped in: {', '.join(skipped_in)})" if skipped_in else ""))
PY

say "waiting for lint"
if wait "$lint_pid"; then
  grep '^lint:' "$lint_log"
  passed=$((passed + 1))
else
  cat "$lint_log"
  failed=$((failed + 1)); failures+=("lint")
fi
if ! wait "$fuzz_build_pid"; then
  tail -n 40 "$fuzz_build_log"
  say "the libFuzzer targets failed to build (log: $fuzz_build_log)"
fi

# libFuzzer (clang), bounded time per target; a target that fails to build or finds a crash
# fails the run. PERF: the targets were built above, so they run $(nproc) at a time.
secs="${ACCORD_FUZZ_SECONDS:-10}"
fuzz_names=()
for src in "$root"/fuzz/*/*_fuzz.cc; do
  [ -f "$src" ] && fuzz_names+=("$(basename "$src" _fuzz.cc)")
done
declare -A fuzz_pid=()
run_fuzz_batch() {
  for name in "$@"; do
    say "libFuzzer $name for ${secs}s (log: $root/build-fuzz/$name.log)"
    FUZZ_SKIP_BUILD=1 bash "$root/fuzz/run_libfuzzer.sh" "$name" "$secs" \
      >"$root/build-fuzz/$name.log" 2>&1 &
    fuzz_pid[$name]=$!
  done
  for name in "$@"; do
    log="$root/build-fuzz/$name.log"
    if wait "${fuzz_pid[$name]}"; then
      grep -E '^Done [0-9]+ runs' "$log" | sed "s/^/$name: /" || true
      passed=$((passed + 1))
    else
      tail -n 80 "$log"
      say "libFuzzer $name FAILED"
      failed=$((failed + 1)); failures+=("fuzz:$name")
    fi
  done
}
jobs_n=$(nproc)
for ((i = 0; i < ${#fuzz_names[@]}; i += jobs_n)); do
  run_fuzz_batch "${fuzz_names[@]:i:jobs_n}"
done

# CPU time of every process this script waited for (builds, tests, fuzzers): on a shared
# machine the wall time depends on the load, this does not.
# (`times` in a pipeline would run in a subshell, which has no children: read it from a file.)
times >"$build/times.txt"
cpu=$(tail -1 "$build/times.txt" | awk '{t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%.0f", t}')
say "finished in $(( $(date +%s) - start )) s wall, ${cpu} s CPU (user+system of all children)"
[ ${#failures[@]} -eq 0 ] || say "failed: ${failures[*]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ]; then exit 1; fi
if [ "$skipped" -gt 0 ] && [ "${CI:-}" = "true" ]; then
  echo "test: CI=true and $skipped test(s) skipped: every test must run in CI" >&2
  exit 1
fi
exit 0
