#!/usr/bin/env bash
# bench/backlog.sh: bursts at pods with a small accept backlog, through ignite-proxy and
# through nginx, on loopback.
#
#   bench/backlog.sh                         # builds, runs, prints
#   BENCH_BURST=500 bench/backlog.sh
#
# Two serial pods (tests/support/serial_pod: one connection at a time, HTTP/1.0 answers
# that close, SERIAL_POD_WORK_US of work per request, like Python's http.server), one
# listening with a backlog of 5, one with 4096. Both proxies route an app to each. Then
# BENCH_BURST requests are sent in one instant (bench/burst) at each app through each
# proxy, BENCH_ROUNDS times, proxies taking turns. A serial pod needs BENCH_BURST x work
# for the whole burst, so the last answer cannot come sooner than that; what the bench
# prints is how much later it came. Target: within 100 ms of the pod's own work.
#
# Knobs (environment):
#   BUILD_DIR         build tree to use/configure                (default: <repo>/build)
#   BENCH_BURST       requests per burst                         (default: 200)
#   BENCH_WORK_US     the pod's work per request, microseconds   (default: 1000)
#   BENCH_ROUNDS      bursts per proxy and pod                   (default: 3)
#   BENCH_KEEP        1: keep the scratch dir                    (default: 0)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
burst=${BENCH_BURST:-200}
work_us=${BENCH_WORK_US:-1000}
rounds=${BENCH_ROUNDS:-3}
keep=${BENCH_KEEP:-0}
readonly domain=ignite.dodil.cloud

command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || {
  [ "$(id -u)" -eq 0 ] || die "needs nginx (apt-get install nginx)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
}
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
build ignite-proxy burst serial_pod
proxy_bin=$build_dir/ignite-proxy
burst_bin=$build_dir/bench/burst
pod_bin=$build_dir/tests/support/serial_pod
raise_nofile $((burst * 4)) "a burst of $burst"

scratch=$(mktemp -d /tmp/ignite-backlog.XXXXXX)
proxy_log=$scratch/proxy.log
pids=()
install_cleanup

# ---------------------------------------------------------------- the pods

start_pod() {  # backlog -> sets pod_port
  local out=$scratch/pod-$1.out
  SERIAL_POD_BACKLOG=$1 SERIAL_POD_WORK_US=$work_us "$pod_bin" 0 >"$out" 2>&1 &
  pids+=("$!")
  wait_until 10 grep -qs 'listening on' "$out" || die "serial_pod did not start"
  pod_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$out")
}
start_pod 5
small_port=$pod_port
start_pod 4096
large_port=$pod_port

# ---------------------------------------------------------------- the proxies

cat >"$scratch/proxy.json" <<EOF
{
  "domain": "$domain",
  "listen": { "http": "127.0.0.1:0" },
  "threads": 1,
  "limits": { "cold_start_timeout_ms": 10000, "max_held_requests": 100000 },
  "apps": [
    { "org": "bench", "name": "small", "versions": [ { "version": 1, "endpoints": ["127.0.0.1:$small_port"] } ] },
    { "org": "bench", "name": "large", "versions": [ { "version": 1, "endpoints": ["127.0.0.1:$large_port"] } ] }
  ]
}
EOF
start_proxy

nginx_port=$(free_port)
nginx_dir=$scratch/nginx
mkdir -p "$nginx_dir"
nginx_user=""
if [ "$(id -u)" -eq 0 ]; then nginx_user="user root;"; fi
# nginx as a plain reverse proxy in front of the same pods: no upstream keep-alive (the
# pods close every connection). Both give a request 10 s to reach its pod (the proxy's
# cold_start_timeout_ms, nginx's proxy_connect_timeout), then answer 504.
cat >"$nginx_dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/error.log warn;
worker_rlimit_nofile $(ulimit -n);
$nginx_user
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $nginx_dir/client_body;
  proxy_temp_path $nginx_dir/proxy;
  fastcgi_temp_path $nginx_dir/fastcgi;
  uwsgi_temp_path $nginx_dir/uwsgi;
  scgi_temp_path $nginx_dir/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    server_name small-bench.$domain;
    location = / { proxy_pass http://127.0.0.1:$small_port; proxy_connect_timeout 10s; proxy_read_timeout 10s; }
  }
  server {
    listen 127.0.0.1:$nginx_port;
    server_name large-bench.$domain;
    location = / { proxy_pass http://127.0.0.1:$large_port; proxy_connect_timeout 10s; proxy_read_timeout 10s; }
  }
}
EOF
"$nginx_bin" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" 2>"$nginx_dir/stderr" &
pids+=("$!")
wait_until 10 port_open "$nginx_port" || die "nginx did not start: $(cat "$nginx_dir/stderr")"

# ---------------------------------------------------------------- bursts

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
own_ms=$(awk -v n="$burst" -v w="$work_us" 'BEGIN { printf "%.0f", n * w / 1000 }')
say "ignite-proxy :$proxy_port, nginx :$nginx_port; serial pods: backlog 5 :$small_port, backlog 4096 :$large_port"
say "burst of $burst requests, ${work_us} us of work each: the pod's own work for a burst is ${own_ms} ms"
say ""
printf '  %-6s %-6s %-8s %9s %9s %10s %12s  %s\n' round target backlog served p50_ms last_ms "last-own ms" other
for ((r = 1; r <= rounds; r++)); do
  for target in proxy nginx; do
    port=$proxy_port
    [ "$target" = nginx ] && port=$nginx_port
    for app in small large; do
      out=$("$burst_bin" 127.0.0.1 "$port" "$app-bench.$domain" "$burst" || true)
      ok=$(field ok "$out"); p50=$(field p50_ms "$out"); last=$(field last_ms "$out")
      extra=$(tr ' ' '\n' <<<"$out" | grep -E '^(status_|error)' | tr '\n' ' ' || true)
      backlog=5; [ "$app" = large ] && backlog=4096
      late=$(awk -v l="$last" -v o="$own_ms" 'BEGIN { printf "%+.0f", l - o }')
      printf '  %-6s %-6s %-8s %9s %9s %10s %12s  %s\n' "$r" "$target" "$backlog" "$ok/$burst" "$p50" "$last" "$late" "$extra"
    done
  done
done
say ""
say "last-own: the last answer's time from the burst's send, minus the pod's own work for the burst"
