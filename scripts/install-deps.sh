#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the example need.
# Idempotent: packages already present are left alone and apt is not touched at all.
set -euo pipefail

packages=(
  build-essential cmake pkg-config curl
  libboost1.81-dev          # Beast + Asio (1.81, not Debian's default 1.74)
  libssl-dev                # TLS for the https listener
  nlohmann-json3-dev        # config, state and JSON error bodies
  libcli11-dev              # the ignite CLI's argument parsing (subcommands, --help)
  libsqlite3-dev            # the embedded state store (routing/sqlite_store): WAL, synchronous=FULL
  prometheus-cpp-dev        # /metrics
  libgtest-dev libgmock-dev # tests
  libbenchmark-dev          # micro-benchmarks in bench/
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "installing: ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
