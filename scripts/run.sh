#!/usr/bin/env bash
# Installs what is missing, builds, and starts the proxy on config/ignite.json with the
# example greeter app behind it. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target ignite-proxy greeter

config=config/ignite.json
http=$(sed -n 's/.*"http": *"\([^"]*\)".*/\1/p' "$config" | head -n 1)
port=${http##*:}

PORT=9001 build/examples/greeter/greeter &
greeter=$!
trap 'kill "$greeter" 2>/dev/null || true' EXIT

cat <<MSG

Ignite ingress on http://${http} (config: ${config}). Invoke the greeter through its FQDN:

  curl -s --resolve greeter-acme-corp.ignite.dodil.cloud:${port}:127.0.0.1 \\
       http://greeter-acme-corp.ignite.dodil.cloud:${port}/ -d '{"name":"ada"}'

Ctrl-C stops the proxy (it drains in-flight requests first).

MSG
build/ignite-proxy --config "$config"
