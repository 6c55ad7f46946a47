#!/usr/bin/env bash
# bench/run.sh: ignite-proxy against nginx and HAProxy set up as the same reverse proxy, on
# loopback.
#
#   bench/run.sh                      # builds, installs wrk/nginx if missing, runs, prints
#   BENCH_DURATION=5s bench/run.sh    # shorter runs
#
# What it measures, in this order, all against one fast fixed-answer backend:
#   1. idle connection memory: RSS before and after BENCH_IDLE_CONNECTIONS clients have
#      each made one request and then sit idle on a keep-alive connection;
#   2. throughput and latency: wrk POSTing a small JSON body, the targets taking turns
#      (proxy, nginx, haproxy, relay, proxy, ...) so drift in the machine's load hits all
#      alike. "relay" is relay_floor.cpp, the least a proxy can do (bytes copied between a
#      client connection and its own backend connection, nothing parsed or logged): the
#      floor, what any proxy could reach on this machine, printed for reference.
# This is the data-plane bench: cold starts (handoff, bursts) are bench/coldstart.sh's.
# Each gets BENCH_THREADS worker threads (processes for nginx) and writes an access log
# line per request (nginx to a file with a 64 KiB buffer, as the proxy batches its own
# writes per event-loop turn; HAProxy to stdout, a file here, a write per line).
#
# Knobs (environment):
#   BUILD_DIR               build tree to use/configure            (default: <repo>/build)
#   BENCH_DURATION          each wrk run                            (default: 10s)
#   BENCH_WARMUP            one unmeasured wrk run per target first (default: 2s)
#   BENCH_ROUNDS            measured runs per target                (default: 2)
#   BENCH_CONNECTIONS       wrk connections                         (default: 64)
#   BENCH_WRK_THREADS       wrk threads                             (default: 1)
#   BENCH_IDLE_CONNECTIONS  idle clients held open                  (default: 2000)
#   BENCH_NGINX_ACCESS_LOG  1: nginx logs like the proxy; 0: off    (default: 1)
#   BENCH_KEEP              1: keep the scratch dir with configs/logs (default: 0)
#   BENCH_THREADS           proxy threads = nginx workers = HAProxy threads (default: 1)
#   BENCH_BASELINE_REV      a git revision (e.g. main): its ignite-proxy is built (once, in
#                           $BUILD_DIR/baseline-<sha>) and run as a third target, "before",
#                           taking turns with this tree's proxy, to compare two builds on the
#                           same machine in the same run                  (default: none)
#   BENCH_BASELINE_BIN      an ignite-proxy binary already built, run as "before" in the same
#                           way, e.g. another build dir's (build-uring/ignite-proxy, the
#                           io_uring build)                                (default: none)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
rounds=${BENCH_ROUNDS:-2}
connections=${BENCH_CONNECTIONS:-64}
wrk_threads=${BENCH_WRK_THREADS:-1}
idle_connections=${BENCH_IDLE_CONNECTIONS:-2000}
nginx_access_log=${BENCH_NGINX_ACCESS_LOG:-1}
keep=${BENCH_KEEP:-0}
baseline_rev=${BENCH_BASELINE_REV:-}
baseline_given=${BENCH_BASELINE_BIN:-}
threads=${BENCH_THREADS:-1}

readonly app_host=bench-acme-corp.ignite.dodil.cloud
readonly body='{"name":"ada"}'

# ---------------------------------------------------------------- (a) tools and build

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  ((${#missing[@]})) || return 0
  say "installing: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_tools
build ignite-proxy bench_backend idle_clients relay_floor
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
proxy_bin=$build_dir/ignite-proxy

# The baseline: another revision's proxy, built from `git archive` apart from this tree.
baseline_bin=""
if [ -n "$baseline_given" ]; then
  [ -z "$baseline_rev" ] || die "BENCH_BASELINE_REV and BENCH_BASELINE_BIN: give one"
  [ -x "$baseline_given" ] || die "no ignite-proxy at $baseline_given"
  baseline_bin=$baseline_given
  baseline_what=$baseline_given
elif [ -n "$baseline_rev" ]; then
  baseline_sha=$(git -C "$root" rev-parse --short "$baseline_rev^{commit}") || die "no such revision: $baseline_rev"
  baseline_dir=$build_dir/baseline-$baseline_sha
  baseline_bin=$baseline_dir/build/ignite-proxy
  if [ ! -x "$baseline_bin" ]; then
    say "building the baseline ignite-proxy of $baseline_rev ($baseline_sha) in $baseline_dir"
    rm -rf "$baseline_dir" && mkdir -p "$baseline_dir/src"
    git -C "$root" archive "$baseline_sha" | tar -x -C "$baseline_dir/src"
    launcher=()
    if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
    cmake -S "$baseline_dir/src" -B "$baseline_dir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DIGNITE_BUILD_TESTS=OFF -DIGNITE_BUILD_BENCH=OFF "${launcher[@]}" >"$baseline_dir/build.log" 2>&1 &&
      cmake --build "$baseline_dir/build" -j"$(nproc)" --target ignite-proxy >>"$baseline_dir/build.log" 2>&1 ||
      { tail -n 30 "$baseline_dir/build.log"; die "the baseline did not build"; }
  fi
  baseline_what="ignite-proxy of $baseline_rev ($baseline_sha)"
fi
backend_bin=$build_dir/bench/bench_backend
relay_bin=$build_dir/bench/relay_floor
idle_bin=$build_dir/bench/idle_clients

# Every idle client costs a descriptor here and two in the proxy under test.
raise_nofile $((idle_connections * 2 + 100)) "$idle_connections idle connections"

# ---------------------------------------------------------------- processes and cleanup

scratch=$(mktemp -d /tmp/ignite-bench.XXXXXX)
proxy_log=$scratch/proxy.log
pids=() # stop_all stops them newest first: clients, then the proxy and nginx, then the backend
install_cleanup


# ---------------------------------------------------------------- (b) backend, proxy, nginx

"$backend_bin" 0 >"$scratch/backend.out" 2>&1 &
pids+=("$!")
wait_until 10 grep -qs 'listening on' "$scratch/backend.out" || die "bench_backend did not start"
backend_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$scratch/backend.out")

# max_connections as nginx's worker_connections (bench/lib.sh): with the default 10,000,
# 9,000 idle clients would put the proxy's overload manager to work, closing idle
# connections while their memory is measured.
cat >"$scratch/proxy.json" <<EOF
{
  "domain": "ignite.dodil.cloud",
  "listen": { "http": "127.0.0.1:0", "admin": "127.0.0.1:0" },
  "threads": $threads,
  "state_file": "$scratch/state.json",
  "limits": { "max_connections": 16384 },
  "apps": [
    { "org": "acme-corp", "name": "bench", "active_version": 1,
      "versions": [ { "version": 1, "endpoints": ["127.0.0.1:$backend_port"] } ] }
  ]
}
EOF
start_proxy

targets=(proxy nginx haproxy)
if [ -n "$baseline_bin" ]; then
  sed "s|$scratch/state.json|$scratch/baseline-state.json|" "$scratch/proxy.json" >"$scratch/baseline.json"
  baseline_log=$scratch/baseline.log
  "$baseline_bin" --config "$scratch/baseline.json" 2>"$baseline_log" &
  baseline_pid=$!
  pids+=("$baseline_pid")
  baseline_listening() { grep -s '"event":"listening"' "$baseline_log" | grep -qs '"listener":"http"'; }
  wait_until 10 baseline_listening || die "the baseline did not start: $(tail -n 5 "$baseline_log")"
  baseline_port=$(grep -s '"listener":"http"' "$baseline_log" | sed -n 's/.*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' | head -n 1)
  targets=(proxy before nginx haproxy)
fi

nginx_port=$(free_port)
nginx_dir=$scratch/nginx
write_nginx_conf "$nginx_dir" "$nginx_port" "$backend_port" "$app_host" "$nginx_access_log" "$threads"
"$nginx_bin" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e "$nginx_dir/error.log" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_until 10 port_open "$nginx_port" ||
  die "nginx did not start: $(tail -n 5 "$nginx_dir/error.log")"
nginx_has_worker() { [ -n "$(child_of "$nginx_pid")" ]; }
wait_until 10 nginx_has_worker || die "cannot find nginx's worker process"
nginx_worker=$(child_of "$nginx_pid")
nginx_has_all_workers() { (($(pgrep -c -P "$nginx_pid") == threads)); }
wait_until 10 nginx_has_all_workers || die "nginx did not start $threads workers"
nginx_workers=$(pgrep -P "$nginx_pid" | paste -sd' ')

haproxy_port=$(free_port)
write_haproxy_conf "$scratch/haproxy.cfg" "$haproxy_port" "$backend_port" "$app_host" "$nginx_access_log" "$threads"
haproxy -db -f "$scratch/haproxy.cfg" >"$scratch/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")
wait_until 10 port_open "$haproxy_port" || die "haproxy did not start: $(tail -n 5 "$scratch/haproxy.log")"

# The floor is one thread: it stands beside one-worker runs only.
relay_port="" relay_pid=""
if ((threads == 1)); then
  "$relay_bin" "$backend_port" >"$scratch/relay.out" 2>&1 &
  relay_pid=$!
  pids+=("$relay_pid")
  wait_until 10 grep -qs 'listening on' "$scratch/relay.out" || die "relay_floor did not start: $(cat "$scratch/relay.out")"
  relay_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$scratch/relay.out")
  targets+=(relay)
fi

# Both must answer the benchmark request with the backend's 200 and an execution id
# before any number is worth printing.
check_target() {
  local name=$1 port=$2 headers
  headers=$(curl -s -o /dev/null -D - -H "Host: $app_host" -H 'Content-Type: application/json' \
    --data "$body" "http://127.0.0.1:$port/") || die "$name: request failed"
  grep -qs '^HTTP/1.1 200' <<<"$headers" || die "$name: expected 200, got: $(head -n 1 <<<"$headers")"
  grep -qi '^x-ignite-execution-id:' <<<"$headers" || die "$name: no x-ignite-execution-id in the answer"
}
check_target proxy "$proxy_port"
check_target nginx "$nginx_port"
check_target haproxy "$haproxy_port"
if [ -n "$baseline_bin" ]; then check_target before "$baseline_port"; fi

say "ignite-proxy :$proxy_port (pid $proxy_pid), nginx :$nginx_port (worker pid $nginx_worker)," \
  "bench_backend :$backend_port; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$nginx_access_log" = 1 ]; then
  say "both log every request as a JSON line to a file (nginx: access_log buffer=64k)"
else
  say "note: the proxy logs every request as a JSON line; nginx's access_log is off (BENCH_NGINX_ACCESS_LOG=0)"
fi

# ---------------------------------------------------------------- (d) idle connection memory
# Measured first, on fresh processes: after a throughput run, freed buffers would be
# reused by the idle connections and hide what they cost.

declare -A idle_before idle_after idle_held
idle_memory() {
  local name=$1 port=$2 pid=$3 count=${4:-$idle_connections} fifo=$scratch/idle.$1 out=$scratch/idle.$1.out idle_pid
  idle_before[$name]=$(rss_kib $pid)
  mkfifo "$fifo"
  # stdin is a pipe we hold open: closing our end tells idle_clients to let go.
  "$idle_bin" 127.0.0.1 "$port" "$app_host" "$count" <"$fifo" >"$out" 2>&1 &
  idle_pid=$!
  pids+=("$idle_pid")
  exec 5>"$fifo"
  wait_until 120 grep -qs 'holding' "$out" || die "idle_clients against $name did not finish: $(cat "$out")"
  sleep 1 # let the server finish what the last answers started (log writes, pool returns)
  idle_after[$name]=$(rss_kib $pid)
  idle_held[$name]=$(sed -n 's/.*holding \([0-9]*\) of.*/\1/p' "$out")
  exec 5>&-
  wait "$idle_pid" || true
  grep -qs 'failed' "$out" && ! grep -qs '(0 failed)' "$out" && say "$name: $(grep -A5 holding "$out")"
  grep -qs ' 0 closed by the server' "$out" || say "$name: $(tail -n 1 "$out")"
}
idle_memory proxy "$proxy_port" "$proxy_pid"
idle_memory nginx "$nginx_port" "$nginx_workers"
# HAProxy holds at most its maxconn, which the descriptor limit bounds.
idle_memory haproxy "$haproxy_port" "$haproxy_pid" $((idle_connections < haproxy_maxconn - 10 ? idle_connections : haproxy_maxconn - 10))

say ""
say "Idle keep-alive connections ($idle_connections clients, one request each, then idle):"
printf '  %-8s %12s %12s %8s %14s\n' target "RSS before" "RSS after" held "KiB/idle conn"
for name in proxy nginx haproxy; do
  printf '  %-8s %9s KiB %9s KiB %8s %14s\n' "$name" "${idle_before[$name]}" "${idle_after[$name]}" \
    "${idle_held[$name]}" \
    "$(awk -v a="${idle_after[$name]}" -v b="${idle_before[$name]}" -v n="${idle_held[$name]}" \
      'BEGIN { if (n > 0) printf "%.2f", (a - b) / n; else print "n/a" }')"
done
say "  (nginx: its worker process; the master, $(rss_kib "$nginx_pid") KiB, does not grow with connections."
say "   nginx sets up all worker_connections slots, about 0.4 KiB each, at start: they sit in its"
say "   baseline, not in the per-connection figure, and add about 0.4 KiB to what a connection costs it)"

# ---------------------------------------------------------------- (c) throughput and latency

cat >"$scratch/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Host"] = "$app_host"
EOF

# Latency as wrk prints it ("622.00us", "1.23ms", "1.02s"), in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# CPU time processes have used so far (all their threads), in clock ticks: "user system".
cpu_ticks() { local pid; for pid; do cat "/proc/$pid/stat"; done | awk '{ u += $14; s += $15 } END { print u, s }'; }
clock_ticks=$(getconf CLK_TCK)
# TCP segments the machine has sent so far (all of them: on loopback each is also received).
tcp_segments() { awk '$1 == "Tcp:" && $11 ~ /^[0-9]+$/ { print $11 }' /proc/net/snmp; }

# Runs wrk and leaves "name rps p50_ms p99_ms requests_per_cpu_second user_us sys_us
# segments [errors]" in wrk_result (segments: TCP segments per request, machine-wide, so
# wrk's and the backend's too; a pure ACK is a segment that carries no request). Requests per CPU-second of the proxy under test is the figure
# that other load on the machine disturbs least; its split into user and system (kernel)
# microseconds per request shows where the time goes. wrk runs in the background and is waited for:
# bash defers a Ctrl-C trap until a foreground child exits, and wrk survives Ctrl-C (it
# prints its stats instead), so a foreground wrk would let the script carry on.
wrk_result=""
run_wrk() {
  local name=$1 port=$2 pid=$3 length=$4 out=$scratch/wrk.out user_before sys_before user sys ticks
  # shellcheck disable=SC2086 # pid: one or more (nginx's workers)
  read -r user_before sys_before <<<"$(cpu_ticks $pid)"
  local segments_before segments
  segments_before=$(tcp_segments)
  wrk -t"$wrk_threads" -c"$connections" -d"$length" --latency -s "$scratch/post.lua" \
    "http://127.0.0.1:$port/" >"$out" 2>&1 &
  pids+=("$!")
  wait "$!" || die "wrk against $name failed: $(cat "$out")"
  # shellcheck disable=SC2086
  read -r user sys <<<"$(cpu_ticks $pid)"
  segments=$(($(tcp_segments) - segments_before))
  user=$((user - user_before))
  sys=$((sys - sys_before))
  ticks=$((user + sys))
  local rps requests p50 p99 per_cpu user_us sys_us errors
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  [ -n "$rps" ] || die "wrk against $name printed no result: $(cat "$out")"
  requests=$(awk '/requests in/ { print $1 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  per_cpu=$(awk -v r="$requests" -v t="$ticks" -v hz="$clock_ticks" 'BEGIN { printf "%.0f", (t > 0 ? r * hz / t : 0) }')
  user_us=$(awk -v r="$requests" -v t="$user" -v hz="$clock_ticks" 'BEGIN { printf "%.2f", t * 1e6 / hz / r }')
  sys_us=$(awk -v r="$requests" -v t="$sys" -v hz="$clock_ticks" 'BEGIN { printf "%.2f", t * 1e6 / hz / r }')
  segments=$(awk -v r="$requests" -v s="$segments" 'BEGIN { printf "%.2f", s / r }')
  errors=$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | paste -sd';' || true)
  wrk_result="$name $rps $p50 $p99 $per_cpu $user_us $sys_us $segments ${errors:-}"
}

say ""
say "Throughput: wrk -t$wrk_threads -c$connections -d$duration, POST / with a ${#body}-byte JSON body, $rounds rounds each"
port_of() { case $1 in proxy) echo "$proxy_port" ;; before) echo "$baseline_port" ;; nginx) echo "$nginx_port" ;; haproxy) echo "$haproxy_port" ;; relay) echo "$relay_port" ;; esac; }
pid_of() { case $1 in proxy) echo "$proxy_pid" ;; before) echo "$baseline_pid" ;; nginx) echo "$nginx_workers" ;; haproxy) echo "$haproxy_pid" ;; relay) echo "$relay_pid" ;; esac; }
if [ -n "$baseline_bin" ]; then say "  before: $baseline_what, taking turns with this tree's (proxy)"; fi
for target in "${targets[@]}"; do run_wrk "$target" "$(port_of "$target")" "$(pid_of "$target")" "$warmup"; done
printf '  %-6s %-6s %12s %10s %10s %14s %10s %10s %10s\n' round target "requests/s" "p50 ms" "p99 ms" "req/CPU-sec" \
  "user µs" "sys µs" "segments"
results=()
for ((r = 1; r <= rounds; r++)); do
  for target in "${targets[@]}"; do
    run_wrk "$target" "$(port_of "$target")" "$(pid_of "$target")" "$duration"
    results+=("$wrk_result")
    read -r _ rps p50 p99 per_cpu user_us sys_us segments errors <<<"$wrk_result"
    printf '  %-6s %-6s %12.0f %10.3f %10.3f %14s %10s %10s %10s  %s\n' "$r" "$target" "$rps" "$p50" "$p99" "$per_cpu" \
      "$user_us" "$sys_us" "$segments" "${errors:-}"
  done
done

printf '%s\n' "${results[@]}" | awk '
  { n[$1]++; rps[$1] += $2; p50[$1] += $3; p99[$1] += $4; cpu[$1] += $5; usr[$1] += $6; sys[$1] += $7; seg[$1] += $8 }
  function mean(t, label) {
    printf "  %-13s %12.0f %10.3f %10.3f %14.0f %10.2f %10.2f %10.2f\n", label, rps[t], p50[t], p99[t], cpu[t], usr[t],
      sys[t], seg[t]
  }
  function ratio(t, label, note) {
    printf "  %-13s %12.3f %10.2f %10.2f %14.3f %10.2f %10.2f %10.2f%s\n", label, rps["proxy"] / rps[t],
      p50["proxy"] / p50[t], p99["proxy"] / p99[t], cpu["proxy"] / cpu[t], usr["proxy"] / usr[t], sys["proxy"] / sys[t],
      seg["proxy"] / seg[t], note
  }
  END {
    for (t in n) { rps[t] /= n[t]; p50[t] /= n[t]; p99[t] /= n[t]; cpu[t] /= n[t]; usr[t] /= n[t]; sys[t] /= n[t]; seg[t] /= n[t] }
    mean("proxy", "mean proxy")
    if (n["before"]) mean("before", "mean before")
    mean("nginx", "mean nginx")
    mean("haproxy", "mean haproxy")
    if (n["relay"]) mean("relay", "mean relay")
    if (n["before"]) ratio("before", "proxy/before", "   (this tree against the baseline)")
    ratio("nginx", "proxy/nginx", "   (higher is better for rps and req/CPU-sec, lower for the rest)")
    ratio("haproxy", "proxy/haproxy", "")
    if (!n["relay"]) exit
    ratio("relay", "proxy/relay", "   (against the floor: a relay that does nothing else)")
    # What the floor leaves to gain: the most any proxy doing more than copying bytes
    # could reach against nginx here, at zero cost of its own.
    printf "  %-13s %12.3f %10s %10s %14.3f %10.2f %10.2f\n", "relay/nginx", rps["relay"] / rps["nginx"], "", "",
      cpu["relay"] / cpu["nginx"], usr["relay"] / usr["nginx"], sys["relay"] / sys["nginx"]
  }'

stop_all
say ""
say "$(tail -n 1 "$scratch/backend.out")"
say "logs: proxy $(du -h "$proxy_log" | cut -f1), nginx access $(du -h "$nginx_dir/access.log" 2>/dev/null | cut -f1 || echo off)"
check_proxy_stopped
