#!/usr/bin/env bash
# bench/control_plane.sh: the control plane's costs, on loopback.
#
#   bench/control_plane.sh
#   BENCH_APPS=100000 bench/control_plane.sh
#
# What it measures:
#   1. a store with BENCH_APPS published apps (filled through the control plane by
#      bench/state_fill): its size on disk, the proxy's start-up time on it (exec to the
#      admin listener's listening line) and its memory;
#   2. publish-to-first-answer: a new app's draft is published through the API, then its
#      host is called until it answers; the publish's own latency (a durable commit plus
#      a route rebuild over every app) and the total, for an endpoints app (no cold start)
#      and for the greeter as a command app (a cold start);
#   3. the data plane's latency while a writer publishes and rolls back in a loop
#      (through the API, each change rebuilding the routes), beside the same run without
#      the writer: wrk -t1 -c32 against one app, BENCH_DURATION each.
#
# Knobs: BUILD_DIR, BENCH_APPS (default 10000), BENCH_DURATION (default 10s), BENCH_KEEP.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
apps=${BENCH_APPS:-10000}
duration=${BENCH_DURATION:-10s}
keep=${BENCH_KEEP:-0}
readonly domain=ignite.dodil.cloud token=bench-operator-token

command -v wrk >/dev/null || {
  [ "$(id -u)" -eq 0 ] || die "needs wrk (apt-get install wrk)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
}
build ignite-proxy greeter bench_backend state_fill
proxy_bin=$build_dir/ignite-proxy

scratch=$(mktemp -d /tmp/ignite-control.XXXXXX)
proxy_log=$scratch/proxy.log
pids=()
install_cleanup
now_ms() { date +%s%3N; }

"$build_dir/bench/bench_backend" 0 >"$scratch/backend.out" 2>&1 &
pids+=("$!")
wait_until 10 grep -qs 'listening on' "$scratch/backend.out" || die "bench_backend did not start"
backend_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$scratch/backend.out")

# ---------------------------------------------------------------- 1. a big store
fill=$("$build_dir/bench/state_fill" "$scratch/state.db" "$scratch/secrets.key" "$apps" "127.0.0.1:$backend_port")
cat >"$scratch/proxy.json" <<EOF
{ "domain": "$domain", "listen": { "http": "127.0.0.1:0", "admin": "127.0.0.1:0" }, "threads": 1,
  "state_file": "$scratch/state.db", "secrets_key_file": "$scratch/secrets.key", "apps": [] }
EOF
admin_port() {
  grep -s '"event":"listening"' "$proxy_log" | grep '"listener":"admin"' |
    sed -n 's/.*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' | head -n 1
}
admin_listening() { [ -n "$(admin_port)" ]; }
t0=$(now_ms)
IGNITE_ADMIN_TOKEN=$token "$proxy_bin" --config "$scratch/proxy.json" 2>"$proxy_log" &
proxy_pid=$!
pids+=("$proxy_pid")
wait_until 120 admin_listening || die "the proxy did not start: $(tail -n 3 "$proxy_log")"
startup_ms=$(($(now_ms) - t0))
proxy_port=$(proxy_http_port)
api_port=$(admin_port)
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$proxy_pid/status")
size=$(du -k "$scratch/state.db" | cut -f1)

say "store with $apps published apps ($fill)"
say "  state file: ${size} KiB ($((size * 1024 / apps)) bytes per app)"
say "  start-up on it: ${startup_ms} ms to the admin listener; RSS ${rss} KiB"

# ---------------------------------------------------------------- 2. publish to first answer
api() {  # method path [body]
  curl -s -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$api_port$2" ${3:+-d "$3"}
}
answers() {  # host -> 0 if it answers 200
  [ "$(curl -s -o /dev/null -w '%{http_code}' --resolve "$1:$proxy_port:127.0.0.1" "http://$1:$proxy_port/" -d '{}')" = 200 ]
}
publish_case() {  # name source-json
  local name=$1 source=$2 t0 t1 t2
  [ "$(api POST /v1/apps "{\"org\":\"bench\",\"name\":\"$name\"}")" = 201 ] || die "cannot create $name"
  [ "$(api PUT "/v1/apps/bench:$name/draft" "$source")" = 200 ] || die "cannot save a draft of $name"
  t0=$(date +%s%N)
  [ "$(api POST "/v1/apps/bench:$name/draft/publish")" = 201 ] || die "cannot publish $name"
  t1=$(date +%s%N)
  wait_until 30 answers "$name-bench.$domain" || die "$name never answered"
  t2=$(date +%s%N)
  printf '  %-9s publish %6.1f ms   first answer %6.1f ms after the publish began\n' "$3" \
    "$(echo "($t1 - $t0) / 1000000" | bc -l)" "$(echo "($t2 - $t0) / 1000000" | bc -l)"
}
say ""
say "publish to first answer (curl for both steps; each adds about 1-3 ms of its own):"
publish_case pub-endpoints "{\"endpoints\":[\"127.0.0.1:$backend_port\"]}" endpoints
publish_case pub-command "{\"command\":[\"$build_dir/examples/greeter/greeter\"]}" command

# ---------------------------------------------------------------- 3. p99 beside a writer
cat >"$scratch/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"name":"ada"}'
wrk.headers["Content-Type"] = "application/json"
LUA
load() {
  wrk -t1 -c32 -d"$duration" --latency -s "$scratch/post.lua" -H "Host: app0-org0.$domain" \
    "http://127.0.0.1:$proxy_port/" 2>&1
}
field() { awk -v k="$1" '$1 == k { print $2 }'; }
writer() {
  local i=0
  while :; do
    i=$((i + 1))
    # A new draft each time (its endpoint alternates between two spellings), then back.
    local ep="127.0.0.1:$backend_port"
    ((i % 2)) && ep="localhost:$backend_port"
    api PUT /v1/apps/org0:app1/draft "{\"endpoints\":[\"$ep\"]}" >/dev/null
    api POST /v1/apps/org0:app1/draft/publish >/dev/null
    api POST /v1/apps/org0:app1/versions/1/rollback >/dev/null
    echo "$i" >"$scratch/writer.count"
  done
}
say ""
say "data plane beside a writer (wrk -t1 -c32 -d$duration on one app; the writer publishes and rolls back another):"
quiet=$(load)
writer &
writer_pid=$!
pids+=("$writer_pid")
busy=$(load)
kill "$writer_pid" 2>/dev/null || true
cycles=$(cat "$scratch/writer.count" 2>/dev/null || echo 0)
printf '  %-14s %10s %10s %10s\n' "" "req/s" "p50" "p99"
printf '  %-14s %10s %10s %10s\n' "no writer" "$(awk '/Requests\/sec/ {print $2}' <<<"$quiet")" \
  "$(field 50% <<<"$quiet")" "$(field 99% <<<"$quiet")"
printf '  %-14s %10s %10s %10s\n' "with writer" "$(awk '/Requests\/sec/ {print $2}' <<<"$busy")" \
  "$(field 50% <<<"$busy")" "$(field 99% <<<"$busy")"
say "  the writer made $cycles publish+rollback cycles ($((cycles * 3)) API writes, $((cycles * 2)) route rebuilds over $apps apps)"
