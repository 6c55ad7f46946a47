#!/usr/bin/env bash
# bench/tls_prewarm.sh: what starting a cold app's pod at the TLS ClientHello saves
# (tls.prewarm_on_sni), against starting it when the request arrives.
#
#   bench/tls_prewarm.sh
#   BENCH_RUNS=15 BENCH_START_MS=280 BENCH_DELAYS="0 25 50 100" bench/tls_prewarm.sh
#
# Each run is a cold start over TLS at an app no run has touched (one app per run), timed
# by bench/tls_cold_start from the TCP connect to the answer's last byte. The pod is the
# example greeter as a `command` version, booting BENCH_START_MS before it listens
# (default 280: what `podman run` of the greeter's image takes on the private network
# here, bench/containers.sh). On loopback the handshake is nearly free, so the client
# waits BENCH_DELAYS ms after its handshake before the request arrives: what a client
# spends on the internet (its round trip to send the request, and the upload). The proxy
# runs twice, prewarm on and off, one after the other for each delay.
#
# Knobs: BUILD_DIR, BENCH_RUNS (per delay and mode, default 9), BENCH_START_MS,
# BENCH_DELAYS, BENCH_KEEP=1 keeps the scratch dir.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
runs=${BENCH_RUNS:-9}
start_ms=${BENCH_START_MS:-280}
read -ra delays <<<"${BENCH_DELAYS:-0 25 50 100}"
keep=${BENCH_KEEP:-0}
readonly domain=ignite.dodil.cloud

build ignite-proxy greeter tls_cold_start
proxy_bin=$build_dir/ignite-proxy
greeter_bin=$build_dir/examples/greeter/greeter
client_bin=$build_dir/bench/tls_cold_start

scratch=$(mktemp -d /tmp/ignite-tls-prewarm.XXXXXX)
proxy_log=$scratch/proxy.log
pids=()
install_cleanup

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$scratch/key.pem" -out "$scratch/cert.pem" -subj "/CN=*.$domain" \
  -addext "subjectAltName=DNS:*.$domain" 2>/dev/null

proxy_https_port() {
  grep -s '"event":"listening"' "$proxy_log" | grep '"listener":"https"' |
    sed -n 's/.*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' | head -n 1
}

# The config: one cold app per run, app-1 … app-N.
write_config() { # $1: prewarm_on_sni (true|false)
  local apps="" i n=$((runs * ${#delays[@]}))
  for ((i = 1; i <= n; i++)); do
    apps+="${apps:+,}
    { \"org\": \"acme-corp\", \"name\": \"app-$i\", \"active_version\": 1,
      \"versions\": [ { \"version\": 1, \"command\": [\"/usr/bin/env\", \"GREETER_START_DELAY_MS=$start_ms\", \"$greeter_bin\"] } ] }"
  done
  cat >"$scratch/proxy.json" <<JSON
{
  "domain": "$domain",
  "listen": { "http": "127.0.0.1:0", "https": "127.0.0.1:0", "admin": "127.0.0.1:0" },
  "threads": 1,
  "state_file": "$scratch/state-$1.db",
  "tls": { "certificates": [ { "cert_file": "$scratch/cert.pem", "key_file": "$scratch/key.pem" } ],
           "prewarm_on_sni": $1 },
  "apps": [ $apps ]
}
JSON
}

declare -A median
for mode in true false; do
  write_config "$mode"
  : >"$proxy_log"
  start_proxy
  port=$(proxy_https_port)
  first=1
  for d in "${delays[@]}"; do
    out=$("$client_bin" "$port" "app-%d-acme-corp.$domain" "$first" $((first + runs - 1)) "$d")
    grep -q ' false$' <<<"$out" && say "note: a run was not a cold start (prewarm=$mode, delay $d)"
    median[$mode,$d]=$(sed -n 's/^median //p' <<<"$out")
    first=$((first + runs))
  done
  stop_all
done

say "TLS cold start, connect → last byte of the answer; pod boots in ${start_ms} ms; medians of $runs;" \
  "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-28s %14s %14s %10s\n' "client delay after handshake" "prewarm off" "prewarm on" "saved"
for d in "${delays[@]}"; do
  off=${median[false,$d]} on=${median[true,$d]}
  printf '%-28s %11s ms %11s ms %7.1f ms\n' "$d ms" "$off" "$on" "$(awk -v a="$off" -v b="$on" 'BEGIN { print a - b }')"
done
