#!/usr/bin/env bash
# A private registry on this machine for the seed's flow with a real image: Debian's
# docker-registry on 127.0.0.1:5000 (plain HTTP, htpasswd basic auth), with the greeter's
# image pushed as 127.0.0.1:5000/acme-corp/greeter:1.0.0.
#
# usage: scripts/local-registry.sh [start|stop]
#
# start (the default) installs what is missing, starts the registry in the background
# (state in var/registry/, its pid in var/registry/pid), creates the user "acme" with a
# random password in var/registry/password (mode 0600), builds the image and pushes it.
# Running it again keeps the registry and pushes again. config/ignite.json lists
# 127.0.0.1:5000 in containers.insecure_registries, so the proxy pulls from it over HTTP.
#
# Environment: REGISTRY_PORT (default 5000), BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

port=${REGISTRY_PORT:-5000}
host=127.0.0.1:$port
dir=$PWD/var/registry
die() { echo "local-registry.sh: $*" >&2; exit 1; }

running() { [ -s "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

if [ "${1:-start}" = stop ]; then
  if running; then kill "$(cat "$dir/pid")" && echo "stopped the registry on $host"; fi
  rm -f "$dir/pid"
  exit 0
fi
[ "${1:-start}" = start ] || die "usage: scripts/local-registry.sh [start|stop]"

scripts/install-deps.sh
mkdir -p "$dir/data"
chmod 700 "$dir"
if [ ! -s "$dir/password" ]; then
  (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password")
fi
# The password reaches htpasswd on stdin, never on a command line.
htpasswd -iBc "$dir/htpasswd" acme < "$dir/password" 2>/dev/null
cat > "$dir/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: $host
auth:
  htpasswd:
    realm: ignite-local
    path: $dir/htpasswd
YAML

if ! running; then
  # REGISTRY_* variables would override the config file.
  env $(env | sed -n 's/^\(REGISTRY_[A-Z_]*\)=.*/-u \1/p') \
    setsid docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$host/v2/" || true)
    [ "$code" = 401 ] && break
    running || { cat "$dir/registry.log" >&2; die "the registry did not start"; }
    sleep 0.1
  done
  [ "$code" = 401 ] || die "the registry on $host does not answer"
  echo "registry on $host (log: $dir/registry.log)"
fi

# An auth file for the push, 0600, removed at the end.
auth=$(mktemp)
trap 'rm -f "$auth"' EXIT
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$host" "$(printf 'acme:%s' "$(cat "$dir/password")" | base64 -w0)" > "$auth"
scripts/build-image.sh --push "$host/acme-corp/greeter:1.0.0" --creds-file "$auth"

cat <<MSG

Registry user: acme, password in var/registry/password. With scripts/run.sh running and
the CLI set up (README, "The seed's flow, by hand"):

  build/ignite secret create greeter-registry --org acme-corp --type registry --server $host \\
      --username acme --password-stdin < var/registry/password
  build/ignite draft save acme-corp:greeter --image-ref $host/acme-corp/greeter:1.0.0 \\
      --registry-secret-ref greeter-registry

Stop the registry with: scripts/local-registry.sh stop
MSG
