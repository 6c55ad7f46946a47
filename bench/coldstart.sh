#!/usr/bin/env bash
# bench/coldstart.sh: ignite-proxy's cold starts, with the example greeter run as a
# `command` app (a local process per pod), on loopback.
#
#   bench/coldstart.sh                                  # builds, runs, prints
#   BENCH_COLD_STARTS=5 BENCH_BURST=200 bench/coldstart.sh
#
# What it measures, in this order:
#   1. handoff: BENCH_COLD_STARTS requests, each at an app with no pod (idle_timeout_ms
#      200, and each waits until the previous pod has exited). The greeter stamps on its
#      answer when it started listening and when the request's headers reached it
#      (x-greeter-listening-at-us, x-greeter-received-at-us): the difference is how long
#      the held request took to reach the pod once it listened. Target: under 5 ms.
#      Also the client's total time and the pod's start time (start_ms of pod_ready:
#      process start to listening, as the proxy saw it).
#   2. burst: BENCH_BURST requests sent in one instant at a cold app, each on its own
#      connection, for two scalings: container_concurrency 0 (one pod serves any burst)
#      and container_concurrency BENCH_BURST_CONCURRENCY (ceil(burst / c) pods wanted,
#      at most max_replicas). All served? Cold starts? How many pods? And the last answer
#      minus the pod start, twice: from the client's send instant (the first held request
#      starts the pod) and from the proxy's log (first pod_starting to last request line).
# The proxy gets one worker thread and writes its JSON log lines to a file.
#
# Knobs (environment):
#   BUILD_DIR                build tree to use/configure              (default: <repo>/build)
#   BENCH_COLD_STARTS        handoff cold starts; 0 skips              (default: 20)
#   BENCH_BURST              requests per burst; 0 skips the bursts    (default: 1000)
#   BENCH_BURST_CONCURRENCY  container_concurrency of the scaled burst (default: 10)
#   BENCH_BURST_REPLICAS     max_replicas of both burst apps           (default: 8)
#   BENCH_KEEP               1: keep the scratch dir with config/log   (default: 0)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
cold_starts=${BENCH_COLD_STARTS:-20}
burst=${BENCH_BURST:-1000}
burst_concurrency=${BENCH_BURST_CONCURRENCY:-10}
burst_replicas=${BENCH_BURST_REPLICAS:-8}
keep=${BENCH_KEEP:-0}

readonly domain=ignite.dodil.cloud
readonly body='{"name":"ada"}'

for knob in cold_starts burst burst_concurrency burst_replicas; do
  [[ ${!knob} =~ ^[0-9]+$ ]] || die "$knob must be a whole number, got '${!knob}'"
done
((burst_concurrency > 0)) || die "BENCH_BURST_CONCURRENCY must be at least 1 (0 is the other burst)"
((burst_replicas > 0)) || die "BENCH_BURST_REPLICAS must be at least 1"

# ---------------------------------------------------------------- build

build ignite-proxy greeter burst
proxy_bin=$build_dir/ignite-proxy
greeter_bin=$build_dir/examples/greeter/greeter
burst_bin=$build_dir/bench/burst

# A burst costs the client one descriptor per request, the proxy two (client and pod
# side), and a pod serving them all one each. The proxy and burst raise their own soft
# limit to the hard one; the pods inherit the proxy's.
raise_nofile $((burst * 2 + 100)) "a burst of $burst"

# Every request of a burst is held at once, and each is a client connection.
max_held=$((burst > 1000 ? burst : 1000))
max_connections=$((burst * 2 > 10000 ? burst * 2 : 10000))

# ---------------------------------------------------------------- processes and cleanup

scratch=$(mktemp -d /tmp/ignite-coldstart.XXXXXX)
proxy_log=$scratch/proxy.log
pids=() # stop_all stops them newest first: a client before the proxy, which stops its pods itself
install_cleanup

# ---------------------------------------------------------------- the proxy

host_of() { echo "$1-acme-corp.$domain"; }
readonly handoff_app=handoff single_app=burst-single scaled_app=burst-scaled

cat >"$scratch/proxy.json" <<EOF
{
  "domain": "$domain",
  "listen": { "http": "127.0.0.1:0", "admin": "127.0.0.1:0" },
  "threads": 1,
  "state_file": "$scratch/state.json",
  "limits": { "max_held_requests": $max_held, "max_connections": $max_connections },
  "apps": [
    { "org": "acme-corp", "name": "$handoff_app", "active_version": 1,
      "versions": [ { "version": 1, "command": ["$greeter_bin"] } ],
      "scaling": { "max_replicas": 1, "idle_timeout_ms": 200 } },
    { "org": "acme-corp", "name": "$single_app", "active_version": 1,
      "versions": [ { "version": 1, "command": ["$greeter_bin"] } ],
      "scaling": { "max_replicas": $burst_replicas, "container_concurrency": 0, "idle_timeout_ms": 200 } },
    { "org": "acme-corp", "name": "$scaled_app", "active_version": 1,
      "versions": [ { "version": 1, "command": ["$greeter_bin"] } ],
      "scaling": { "max_replicas": $burst_replicas, "container_concurrency": $burst_concurrency,
                   "idle_timeout_ms": 200 } }
  ]
}
EOF
start_proxy

say "ignite-proxy :$proxy_port (pid $proxy_pid, 1 worker thread), pods: $greeter_bin;" \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- reading the proxy's log

# Lines of the log from line $1 on (1: all of it) for event $2 of app $3 (any app if empty).
# Lifecycle lines are {"time":…,"event":E,"app":A,…}; request lines carry an execution id
# between the event and the app.
log_lines() {
  tail -n +"$1" "$proxy_log" | grep "\"event\":\"$2\"" | { if [ -n "${3:-}" ]; then grep "\"app\":\"acme-corp:$3\""; else cat; fi; } || true
}
log_count() { log_lines "$@" | wc -l; }
# "2026-11-27T07:12:33.123Z" (the log's time) in Unix milliseconds.
log_time_ms() { sed -n 's/^{"time":"\([^"]*\)".*/\1/p' <<<"$1" | xargs -r -I{} date -u -d {} +%s%3N; }
start_ms_of() { sed -n 's/.*"start_ms":\([0-9]*\).*/\1/p'; }

# No pod left: the proxy has no child process and has logged an exit for every start.
no_pod() {
  [ -z "$(child_of "$proxy_pid")" ] && (($(log_count 1 pod_exited) >= $(log_count 1 pod_starting)))
}

# "median max" of the numbers on stdin, one a line; nothing for no numbers.
median_max() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR] }'
}

# ---------------------------------------------------------------- 1. handoff

if ((cold_starts > 0)); then
  say ""
  say "Handoff: $cold_starts cold starts of the greeter (idle_timeout_ms 200; each request waits" \
    "until the previous pod has exited, so it finds none)"
  printf '  %-4s %12s %14s %12s\n' "#" "client ms" "pod start ms" "handoff ms"
  handoffs=() starts=() totals=()
  host=$(host_of "$handoff_app")
  header() { awk -F': ' -v h="$1" 'tolower($1) == h { print $2 }' <<<"$headers"; }
  ready_now() { (($(log_count 1 pod_ready "$handoff_app") > ready_before)); }
  for ((i = 1; i <= cold_starts; i++)); do
    if ! wait_until 10 no_pod; then
      say "  the previous pod did not stop within 10 s of going idle; skipping the rest"
      break
    fi
    ready_before=$(log_count 1 pod_ready "$handoff_app")
    if ! out=$(curl -s --max-time 60 -D - -o /dev/null -w 'total %{time_total}\n' -H "Host: $host" \
      -H 'Content-Type: application/json' --data "$body" "http://127.0.0.1:$proxy_port/"); then
      say "  $i: request failed"
      continue
    fi
    headers=$(tr -d '\r' <<<"$out")
    cold=$(header x-ignite-cold-start)
    listening=$(header x-greeter-listening-at-us)
    received=$(header x-greeter-received-at-us)
    total=$(awk '/^total/ { printf "%.1f", $2 * 1000 }' <<<"$headers")
    if [ -z "$listening" ] || [ -z "$received" ]; then
      say "  $i: no greeter timestamps in the answer: $(head -n 1 <<<"$headers")"
      continue
    fi
    # The pod_ready line is written before the request is handed over; the cap is a guard.
    start_ms=""
    if wait_until 2 ready_now; then start_ms=$(log_lines 1 pod_ready "$handoff_app" | tail -n 1 | start_ms_of); fi
    handoff_us=$((received - listening))
    handoffs+=("$handoff_us") totals+=("$total")
    [ -z "$start_ms" ] || starts+=("$start_ms")
    printf '  %-4s %12s %14s %12s%s\n' "$i" "$total" "${start_ms:-?}" \
      "$(awk -v us="$handoff_us" 'BEGIN { printf "%.3f", us / 1000 }')" \
      "$([ "$cold" = true ] || echo "   (not a cold start: x-ignite-cold-start ${cold:-missing})")"
  done
  if ((${#handoffs[@]})); then
    read -r h_median h_max < <(printf '%s\n' "${handoffs[@]}" | median_max)
    read -r t_median t_max < <(printf '%s\n' "${totals[@]}" | median_max)
    printf '  handoff (pod listening -> held request at the pod): median %.3f ms, max %.3f ms over %d (target: under 5 ms)\n' \
      "$(awk -v v="$h_median" 'BEGIN { print v / 1000 }')" "$(awk -v v="$h_max" 'BEGIN { print v / 1000 }')" \
      "${#handoffs[@]}"
    if ((${#starts[@]})); then
      read -r s_median s_max < <(printf '%s\n' "${starts[@]}" | median_max)
      say "  pod start (pod_ready start_ms: process start -> listening): median $s_median ms, max $s_max ms"
    fi
    say "  client total: median $t_median ms, max $t_max ms"
  fi
fi

# ---------------------------------------------------------------- 2. burst

# A value from burst's `key=value …` line, kept in $line.
kv() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' <<<"$line"; }
# Every request of the burst at app $2 has its log line, from log line $1 on.
all_logged() { (($(log_count "$1" request "$2") >= burst)); }

# One burst at a cold app; prints its row, and the burst's complaints under it.
burst_row() {
  local label=$1 app=$2 from out
  wait_until 10 no_pod || die "pods still running 10 s after going idle; cannot start a cold burst"
  from=$(($(wc -l <"$proxy_log") + 1))
  out=$scratch/burst.$app.out
  # In the background and waited for, so Ctrl-C is not deferred until it ends; it exits
  # non-zero when not every request got a 200, which its line says.
  timeout 300 "$burst_bin" 127.0.0.1 "$proxy_port" "$(host_of "$app")" "$burst" >"$out" 2>&1 &
  pids+=("$!")
  wait "$!" || true
  line=$(tail -n 1 "$out")
  [ -n "$(kv requests)" ] || { say "  $label: burst printed no result: $(cat "$out")"; return; }
  # Request lines are written once per event-loop turn: wait (capped) for the last ones.
  wait_until 5 all_logged "$from" "$app" || true
  local started ready_ms first_start last_request log_ms
  started=$(log_count "$from" pod_starting "$app")
  ready_ms=$(log_lines "$from" pod_ready "$app" | start_ms_of | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 1) print v[1]; else if (NR) print v[1] "-" v[NR] }')
  first_start=$(log_time_ms "$(log_lines "$from" pod_starting "$app" | head -n 1)")
  last_request=$(log_time_ms "$(log_lines "$from" request "$app" | tail -n 1)")
  log_ms="?"
  if [ -n "$first_start" ] && [ -n "$last_request" ]; then log_ms=$((last_request - first_start)); fi
  printf '  %-26s %10s %6s %11s %9s %8s %8s %8s %9s %10s\n' "$label" "$(kv ok)/$(kv requests)" "$(kv cold)" \
    "$(kv pods)/$started" "${ready_ms:-?}" "$(kv first_ms)" "$(kv p50_ms)" "$(kv last_ms)" "$log_ms" \
    "$(log_count "$from" request "$app")"
  local extra
  extra=$(tr ' ' '\n' <<<"${line#*last_ms=}" | tail -n +2 | paste -sd' ' || true)
  [ -z "$extra" ] || say "     not served: $extra"
}

if ((burst > 0)); then
  say ""
  say "Burst: $burst requests sent in one instant at a cold app (one connection each, greeter answers at once)"
  printf '  %-26s %10s %6s %11s %9s %8s %8s %8s %9s %10s\n' scaling "ok/total" cold "pods a/s" "start ms" \
    "first ms" "p50 ms" "last ms" "log ms" "log lines"
  burst_row "concurrency 0, max $burst_replicas" "$single_app"
  burst_row "concurrency $burst_concurrency, max $burst_replicas" "$scaled_app"
  say "  cold: answers with x-ignite-cold-start: true, the requests held while a pod started; the"
  say "    proxy is still reading the burst when the first pod listens, and a request read after"
  say "    that finds a pod ready, or waits only for a busy pod's slot, which is not a cold start"
  say "  pods a/s: pods that answered (distinct x-greeter-listening-at-us) / pod_starting lines logged"
  say "  start ms: pod_ready start_ms (process start -> listening), first-last pod"
  say "  first/p50/last ms: answers, from the instant the client sent every request (the first"
  say "    held request starts the pod): last ms is the last answer minus the pod start"
  say "  log ms: the same from the proxy's log: first pod_starting -> last request line (ms resolution)"
fi

# ---------------------------------------------------------------- stop

stop_all
say ""
check_proxy_stopped
if (($(log_count 1 pod_exited) < $(log_count 1 pod_starting))); then
  say "note: $(log_count 1 pod_starting) pods started but only $(log_count 1 pod_exited) logged an exit"
else
  say "all $(log_count 1 pod_starting) pods the proxy started have exited; log: $(du -h "$proxy_log" | cut -f1)"
fi
