#!/usr/bin/env bash
# bench/attacks.sh: normal traffic through ignite-proxy while hostile clients run beside
# it, on loopback. Does an attack slow the others down?
#
#   bench/attacks.sh                        # builds, installs wrk if missing, runs, prints
#   BENCH_DURATION=5 bench/attacks.sh       # shorter runs
#
# One proxy (one worker thread, the default limits but max_connections) in front of
# bench_backend (the normal app) and attacker's big_backend (an app answering 4 MiB, the
# answer slow readers refuse to read). For each scenario wrk sends normal traffic
# (POST /, a small JSON body, keep-alive) for BENCH_DURATION seconds while `attacker`
# runs the attack; then it prints wrk's p50/p99, requests per second and errors, and what
# the proxy did to the attackers:
#   baseline      no attack
#   slowloris     BENCH_ATTACKERS connections trickling a head, one byte a second
#   body_trickle  BENCH_ATTACKERS connections trickling a body, one byte a second
#   slow_reader   BENCH_ATTACKERS/10 connections asking for 4 MiB, never reading
#   flood         max_connections + 20% connections that send nothing, reopened when closed
#   garbage       BENCH_ATTACKERS/10 connections sending a good request + garbage, again and again
#   recovered     no attack again, right after them all
#
# Knobs (environment):
#   BUILD_DIR              build tree to use/configure            (default: <repo>/build)
#   BENCH_DURATION         seconds per scenario                   (default: 10)
#   BENCH_CONNECTIONS      wrk connections (normal clients)       (default: 32)
#   BENCH_ATTACKERS        attacking connections                  (default: 500)
#   BENCH_MAX_CONNECTIONS  the proxy's limits.max_connections     (default: 2000)
#   BENCH_KEEP             1: keep the scratch dir with configs/logs (default: 0)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
duration=${BENCH_DURATION:-10}
connections=${BENCH_CONNECTIONS:-32}
attackers=${BENCH_ATTACKERS:-500}
max_connections=${BENCH_MAX_CONNECTIONS:-2000}
keep=${BENCH_KEEP:-0}

readonly app_host=bench-acme-corp.ignite.dodil.cloud
readonly big_host=big-acme-corp.ignite.dodil.cloud
readonly body='{"name":"ada"}'

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v wrk >/dev/null; then
  say "installing: wrk"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
build ignite-proxy bench_backend attacker
proxy_bin=$build_dir/ignite-proxy
backend_bin=$build_dir/bench/bench_backend
attacker_bin=$build_dir/bench/attacker

flood=$((max_connections * 12 / 10))
raise_nofile $((flood * 2 + connections * 2 + 200)) "a flood of $flood connections"

scratch=$(mktemp -d /tmp/ignite-attacks.XXXXXX)
proxy_log=$scratch/proxy.log
pids=()
install_cleanup

# ---------------------------------------------------------------- backends and the proxy

"$backend_bin" 0 >"$scratch/backend.out" 2>&1 &
pids+=("$!")
wait_until 10 grep -qs 'listening on' "$scratch/backend.out" || die "bench_backend did not start"
backend_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$scratch/backend.out")

"$attacker_bin" big_backend $((4 << 20)) >"$scratch/big.out" 2>&1 &
pids+=("$!")
wait_until 10 grep -qs 'listening on' "$scratch/big.out" || die "big_backend did not start"
big_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$scratch/big.out")

cat >"$scratch/proxy.json" <<EOF
{
  "domain": "ignite.dodil.cloud",
  "listen": { "http": "127.0.0.1:0", "admin": "127.0.0.1:0" },
  "threads": 1,
  "state_file": "$scratch/state.json",
  "limits": { "max_connections": $max_connections },
  "apps": [
    { "org": "acme-corp", "name": "bench", "active_version": 1,
      "versions": [ { "version": 1, "endpoints": ["127.0.0.1:$backend_port"] } ] },
    { "org": "acme-corp", "name": "big", "active_version": 1,
      "versions": [ { "version": 1, "endpoints": ["127.0.0.1:$big_port"] } ] }
  ]
}
EOF
start_proxy

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
    printf "%.2f", n }'
}

# ---------------------------------------------------------------- scenarios

# scenario NAME [ATTACK CONNECTIONS HOST]: the attack starts, gets a second to build up,
# then wrk measures for $duration seconds; the attack ends a second after wrk.
scenario() {
  local name=$1 mode=${2:-} count=${3:-0} host=${4:-$app_host} out=$scratch/wrk-$1.out attack_pid=""
  if [ -n "$mode" ]; then
    "$attacker_bin" "$mode" 127.0.0.1 "$proxy_port" "$host" "$count" $((duration + 2)) >"$scratch/attack-$name.out" 2>&1 &
    attack_pid=$!
    pids+=("$attack_pid")
    sleep 1 # lets the attack reach its size before the measurement starts
  fi
  wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$scratch/post.lua" "http://127.0.0.1:$proxy_port/" \
    >"$out" 2>&1 &
  pids+=("$!")
  wait "$!" || die "wrk failed in $name: $(cat "$out")"
  if [ -n "$attack_pid" ]; then wait "$attack_pid" || true; fi
  local rps p50 p99 errors attack
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  errors=$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd';' || true)
  attack=$( [ -n "$mode" ] && sed -n 's/^attacker [a-z_]*: //p' "$scratch/attack-$name.out" || echo "-")
  printf '%-13s %9s %9s %9s   %-28s %s\n' "$name" "$p50" "$p99" "$rps" "${errors:-none}" "$attack"
}

say "Normal traffic: wrk -t1 -c$connections -d${duration}s POST / (${#body}-byte body) through ignite-proxy"
say "(one worker thread, max_connections $max_connections), beside each attack. Load average: $(cut -d' ' -f1-3 /proc/loadavg)"
say ""
printf '%-13s %9s %9s %9s   %-28s %s\n' scenario p50_ms p99_ms req/s "wrk errors" "what the proxy did to the attackers"
scenario baseline
scenario slowloris slowloris "$attackers"
scenario body_trickle body_trickle "$attackers"
scenario slow_reader slow_reader $((attackers / 10)) "$big_host"
scenario flood flood "$flood"
scenario garbage garbage $((attackers / 10))
scenario recovered  # no attack: the proxy is back to its baseline
