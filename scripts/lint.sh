#!/usr/bin/env bash
# Lint: clang-format (.clang-format) must leave every C++ file of src/ include/ tests/ bench/
# fuzz/ unchanged, and clang-tidy (.clang-tidy) must report nothing on src/*.cc.
#   scripts/lint.sh [BUILD_DIR]   (BUILD_DIR has compile_commands.json; default build-asan)
# To reformat instead of checking:
#   git ls-files 'src/*.cc' 'src/*.h' 'include/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' \
#     'bench/*.h' 'fuzz/*.cc' 'fuzz/*.h' | xargs clang-format-14 -i
# clang-tidy costs about 8 s of CPU per file of src/ (~70 files: ~5 min on 2 cores), which the
# README's 15-minute test command cannot afford on a machine without a warm compiler cache: it
# runs when ACCORD_TIDY=1 (run it before committing: `ACCORD_TIDY=1 scripts/lint.sh build`).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build-asan}" && pwd)
cd "$root"
status=0

mapfile -t files < <(git ls-files 'src/*.cc' 'src/*.h' 'include/*.h' 'tests/*.cc' 'tests/*.h' \
  'bench/*.cc' 'bench/*.h' 'fuzz/*.cc' 'fuzz/*.h' 2>/dev/null || true)
if [ ${#files[@]} -eq 0 ]; then  # not a git checkout
  mapfile -t files < <(find src include tests bench fuzz -name '*.cc' -o -name '*.h' | sort)
fi
unformatted=()
for f in "${files[@]}"; do
  clang-format-14 --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "lint: clang-format: ${#unformatted[@]} file(s) differ from .clang-format, e.g.:"
  clang-format-14 --dry-run "${unformatted[0]}" 2>&1 | head -n 12
  printf 'lint:   %s\n' "${unformatted[@]:0:20}"
  echo "lint: reformat with: clang-format-14 -i <files> (see scripts/lint.sh)"
  status=1
else
  echo "lint: clang-format: ${#files[@]} files formatted"
fi

if [ "${ACCORD_TIDY:-0}" != 1 ]; then
  echo "lint: clang-tidy not run (ACCORD_TIDY=1 runs it)"
  exit $status
fi
if [ ! -f "$build/compile_commands.json" ]; then
  echo "lint: $build/compile_commands.json is missing: configure the build first" >&2
  exit 1
fi
mapfile -t tidy_files < <(printf '%s\n' "${files[@]}" | grep -E '^src/.*\.cc$' | grep -v '_test\.cc$')
# One clang-tidy per core; each file's findings are printed when it fails.
check() {
  local log
  log=$(mktemp)
  # --extra-arg: the build is g++'s, whose -Wno-maybe-uninitialized and --param=asan-globals=0
  # clang does not know.
  if ! clang-tidy-14 -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option \
      --extra-arg=-Wno-unused-command-line-argument "$1" >"$log" 2>&1; then
    grep -E 'error:|warning:' -A3 "$log" | head -n 40
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}
export -f check
export build
t0=$(date +%s)
if printf '%s\n' "${tidy_files[@]}" | xargs -P "$(nproc)" -I{} bash -c 'check "$@"' _ {}; then
  echo "lint: clang-tidy: ${#tidy_files[@]} files pass ($(( $(date +%s) - t0 )) s)"
else
  echo "lint: clang-tidy reported findings (above)"
  status=1
fi
exit $status
