#!/usr/bin/env bash
# Installs what is missing, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# A container that died without podman's cleanup can leave a rule that takes over a
# loopback port: a test listening there would be refused by its own listener.
scripts/stale-port-rules.sh >&2 || echo "warning: the rules above take over those loopback ports; tests that" \
  "happen to listen on them will fail (remove them with iptables -t nat, or restart the machine)" >&2
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 300
