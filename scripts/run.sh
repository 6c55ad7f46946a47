#!/usr/bin/env bash
# Installs what is missing, builds, and starts the proxy on config/ignite.json. The
# example greeter is a `command` version: the proxy starts it on the first request
# (a cold start) and stops it when idle or when the proxy stops. Ctrl-C stops all.
# The control API listens on listen.admin; its operator token is $IGNITE_ADMIN_TOKEN,
# or one generated into var/admin-token (mode 0600) on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target ignite-proxy greeter ignite

mkdir -p var
if [ -z "${IGNITE_ADMIN_TOKEN:-}" ]; then
  if [ ! -s var/admin-token ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > var/admin-token)
  fi
  IGNITE_ADMIN_TOKEN=$(cat var/admin-token)
fi
export IGNITE_ADMIN_TOKEN

config=config/ignite.json
http=$(sed -n 's/.*"http": *"\([^"]*\)".*/\1/p' "$config" | head -n 1)
port=${http##*:}
admin=$(sed -n 's/.*"admin": *"\([^"]*\)".*/\1/p' "$config" | head -n 1)

cat <<MSG

Ignite ingress on http://${http} (config: ${config}). Invoke the greeter through its FQDN:

  curl -s --resolve greeter-demo.ignite.dodil.cloud:${port}:127.0.0.1 \\
       http://greeter-demo.ignite.dodil.cloud:${port}/ -d '{"name":"ada"}'

The first call starts the greeter (x-ignite-cold-start: true, add -i to see it); later
calls reuse the warm pod. Ctrl-C drains in-flight requests, stops the pod, and exits.

The control API is on http://${admin}; drive it with the CLI (README, "The seed's flow"):

  build/ignite config set api_endpoint http://${admin}
  build/ignite config set token "\$(cat var/admin-token)"     # or \$IGNITE_ADMIN_TOKEN
  build/ignite app list

MSG
exec build/ignite-proxy --config "$config"
