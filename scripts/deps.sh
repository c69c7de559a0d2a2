#!/usr/bin/env bash
# Installs, from Debian 12's archive, every package Accord builds, tests and benchmarks with.
# Idempotent: installs only what is missing.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config ninja-build git ca-certificates
  libsimdjson-dev nlohmann-json3-dev libsqlite3-dev sqlite3 zlib1g-dev libarchive-dev
  libabsl-dev libcli11-dev libspdlog-dev libfmt-dev
  libsodium-dev libxxhash-dev libssl-dev libboost-dev libboost-system-dev libcurl4-openssl-dev
  libvectorscan-dev libpcre2-dev libtomlplusplus-dev libpsl-dev publicsuffix
  libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev postgresql-15 libnats-dev nats-server libgoogle-perftools-dev
  clang-14 libclang-rt-14-dev python3 curl openssl
)
if [ "${ACCORD_BENCH_DEPS:-0}" = 1 ]; then PKGS+=(wrk nginx ripgrep time); fi
# The web UI is built with node and npm (scripts/ui.sh); Debian's, unless a node is already
# installed (e.g. from NodeSource, whose nodejs package bundles npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then PKGS+=(nodejs npm); fi
# The browser tests (tests/ui) drive Debian's Chromium (playwright-core never downloads one).
# scripts/test.sh links its two trees with lld (LLVM's linker): 7x faster than GNU ld on the
# ASan binaries (docs/PERFORMANCE.md, "The README's test command"). ccache: scripts/test.sh
# compiles through it when it is installed, so a second clean checkout on the same machine
# reuses the first one's objects (the ASan build was ~60% of the test command's time).
if [ "${ACCORD_TEST_DEPS:-0}" = 1 ]; then PKGS+=(chromium chromium-driver fonts-dejavu-core lld ccache); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
