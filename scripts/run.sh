#!/usr/bin/env bash
# Installs what is missing, builds, and starts the proxy on config/ignite.json. The
# example greeter is a `command` version: the proxy starts it on the first request
# (a cold start) and stops it when idle or when the proxy stops. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target ignite-proxy greeter

config=config/ignite.json
http=$(sed -n 's/.*"http": *"\([^"]*\)".*/\1/p' "$config" | head -n 1)
port=${http##*:}

cat <<MSG

Ignite ingress on http://${http} (config: ${config}). Invoke the greeter through its FQDN:

  curl -s --resolve greeter-acme-corp.ignite.dodil.cloud:${port}:127.0.0.1 \\
       http://greeter-acme-corp.ignite.dodil.cloud:${port}/ -d '{"name":"ada"}'

The first call starts the greeter (x-ignite-cold-start: true, add -i to see it); later
calls reuse the warm pod. Ctrl-C drains in-flight requests, stops the pod, and exits.

MSG
exec build/ignite-proxy --config "$config"
