#!/usr/bin/env bash
# Lint: clang-format (.clang-format) must leave every C++ file of src/ include/ tests/ bench/
# fuzz/ unchanged, and clang-tidy (.clang-tidy) must report nothing on src/*.cc.
#   scripts/lint.sh [BUILD_DIR]   (BUILD_DIR has compile_commands.json; default build-asan)
# To reformat instead of checking:
#   git ls-files 'src/*.cc' 'src/*.h' 'include/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' \
#     'bench/*.h' 'fuzz/*.cc' 'fuzz/*.h' | xargs clang-format-14 -i
# clang-tidy keeps a cache (BUILD_DIR/clang-tidy-cache): a file whose preprocessed text and
# the .clang-tidy configuration are unchanged since it last passed is not checked again.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-asan}
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

if [ ! -f "$build/compile_commands.json" ]; then
  echo "lint: $build/compile_commands.json is missing: configure the build first" >&2
  exit 1
fi
cache="$build/clang-tidy-cache"
mkdir -p "$cache"
config_hash=$(sha256sum .clang-tidy | cut -c1-16)
mapfile -t tidy_files < <(printf '%s\n' "${files[@]}" | grep -E '^src/.*\.cc$' | grep -v '_test\.cc$')
# One job per core; each prints its findings and leaves a stamp when the file passes.
check() {
  local f=$1 key
  key=$( { echo "$config_hash"; clang++ -E -P -w $(flags "$f") "$f" 2>/dev/null; } | sha256sum | cut -c1-32)
  [ -f "$cache/$key" ] && return 0
  # --extra-arg: the build is g++'s, whose -Wno-maybe-uninitialized clang does not know.
  if clang-tidy-14 -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option "$f" \
      >"$cache/$key.log" 2>&1; then
    mv "$cache/$key.log" "$cache/$key"
  else
    grep -E 'error:|warning:' -A3 "$cache/$key.log" | head -n 40
    rm -f "$cache/$key.log"
    return 1
  fi
}
# The compile flags of a file, from compile_commands.json (for the cache key's preprocessing).
flags() {
  python3 - "$build/compile_commands.json" "$root/$1" <<'PY'
import json, shlex, sys
for e in json.load(open(sys.argv[1])):
    if e["file"] == sys.argv[2]:
        args = shlex.split(e["command"])[1:]
        keep = [a for a in args if a.startswith(("-I", "-D", "-isystem", "-std="))]
        # -isystem takes its path as the next argument.
        out, i = [], 0
        while i < len(args):
            if args[i] == "-isystem":
                out += args[i:i + 2]; i += 2; continue
            if args[i].startswith(("-I", "-D", "-std=")):
                out.append(args[i])
            i += 1
        print(" ".join(shlex.quote(a) for a in out))
        break
PY
}
export -f check flags
export build cache config_hash root
t0=$(date +%s)
if printf '%s\n' "${tidy_files[@]}" | xargs -P "$(nproc)" -I{} bash -c 'check "$@"' _ {}; then
  echo "lint: clang-tidy: ${#tidy_files[@]} files pass ($(( $(date +%s) - t0 )) s)"
else
  echo "lint: clang-tidy reported findings (above)"
  status=1
fi
exit $status
