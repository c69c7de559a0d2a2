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
  clang-14 libclang-rt-14-dev python3 curl openssl
)
if [ "${ACCORD_BENCH_DEPS:-0}" = 1 ]; then PKGS+=(wrk nginx ripgrep time); fi
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
