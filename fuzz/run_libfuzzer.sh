#!/usr/bin/env bash
# Builds fuzz/<TARGET>/<TARGET>_fuzz.cc with clang-14 -fsanitize=fuzzer,address,undefined and
# runs it for SECONDS on a scratch copy of fuzz/corpus/<TARGET> (new inputs stay out of git).
#   fuzz/run_libfuzzer.sh pattern 60
#   FUZZ_BUILD_ONLY=1 fuzz/run_libfuzzer.sh all 0    (builds every target, runs none)
# Exit status is libFuzzer's: non-zero on a crash, leak, timeout or failed property.
set -euo pipefail
target=${1:?usage: run_libfuzzer.sh TARGET SECONDS}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
# One clang build tree for every target (CI builds them one after the other).
out=${FUZZ_OUT:-$root/build-fuzz}
corpus="$out/corpus-$target"
mkdir -p "$corpus"
CC=${CC:-clang-14}
CXX=${CXX:-clang++-14}
# PERF: -O0 with line tables only: the whole tree is compiled a second time (with clang) for
# the fuzzers, and that build is what the README's test command waits for last. -O1 cost 2.2x
# the CPU of -O0 (src/formats/misp.cc: 24.7 s against 11.0 s, ASan+UBSan+coverage), and -O2 -g
# twice -O1, for fuzzing that is faster per input but runs a bounded time either way
# (docs/PERFORMANCE.md, "The README's test command"). FUZZ_OPT=-O1 builds as before.
# ACCORD_UNITY: each layer's files compiled eight at a time (cmake/AccordHelpers.cmake).
# FUZZ_SKIP_BUILD=1: the tree is built already (scripts/test.sh builds every target first and
# then runs several at once, which must not configure the same tree concurrently).
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  cmake -S "$root" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS_DEBUG="${FUZZ_OPT:--O0} -gline-tables-only" \
    -DCMAKE_CXX_FLAGS_DEBUG="${FUZZ_OPT:--O0} -gline-tables-only" \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DACCORD_LIBFUZZER=ON -DACCORD_BUILD_TESTS=OFF -DACCORD_BUILD_BENCH=OFF -DACCORD_UNITY=ON \
    -DCMAKE_C_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -fsanitize=fuzzer-no-link" \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -fsanitize=fuzzer-no-link" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined $(command -v ld.lld >/dev/null && echo -fuse-ld=lld)" >/dev/null
  if [ "$target" = all ]; then
    # Every target in one build (scripts/test.sh): one configure, and ninja keeps both cores busy.
    mapfile -t all < <(for src in "$root"/fuzz/*/*_fuzz.cc; do basename "$src" .cc; done)
    cmake --build "$out/build" --target "${all[@]}" -j "${JOBS:-2}"
  else
    cmake --build "$out/build" --target "${target}_fuzz" -j "${JOBS:-2}"
  fi
fi
# FUZZ_BUILD_ONLY=1: build the target and stop (scripts/test.sh builds ahead of running).
if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then exit 0; fi
bash "$root/fuzz/seed_from_shared.sh" "$target" "$corpus" || echo "run_libfuzzer: seeding from ../shared failed; using the repo corpus only"
if [ -d "$root/fuzz/corpus/$target" ]; then
  cp -n "$root/fuzz/corpus/$target"/* "$corpus/" 2>/dev/null || true
fi
bin=$(find "$out/build" -name "${target}_fuzz" -type f -perm -u+x | head -1)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$out"
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 "$corpus"
