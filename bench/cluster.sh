#!/usr/bin/env bash
# bench/cluster.sh: several ingress nodes sharing etcd, on loopback.
#
#   bench/cluster.sh
#   BENCH_RUNS=50 bench/cluster.sh
#
# Starts a 3-member etcd cluster (127.0.0.1) and three ignite-proxy nodes (127.0.0.2, .3,
# .4, one worker thread each) with state.etcd, and a bench_backend as the pod. Then
# cluster_publish, BENCH_RUNS times: a new app created and published through node A, and
# the time from the publish's answer until nodes A, B and C serve it (each asked every
# 200 µs, one after the other). The publish's own time is mostly etcd's commit (raft
# across three members, an fsync on each). Then cluster_pods: a cold start requested on
# node A and, 20 ms later, on node B (A starts the pod, B waits for it to register), and
# warm requests through A (local pod) and through B (the same pod, A's).
#
# Knobs: BUILD_DIR, BENCH_RUNS (default 20), BENCH_REQUESTS (warm requests per node,
# default 5000), BENCH_KEEP=1 keeps the scratch dir.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
runs=${BENCH_RUNS:-20}
keep=${BENCH_KEEP:-0}
command -v etcd >/dev/null || die "needs etcd (apt-get install etcd-server)"

build ignite-proxy bench_backend cluster_publish cluster_pods greeter
proxy_bin=$build_dir/ignite-proxy

scratch=$(mktemp -d /tmp/ignite-cluster.XXXXXX)
pids=()
install_cleanup

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- etcd, 3 members
declare -a client_ports peer_ports
initial=""
for i in 0 1 2; do
  client_ports[i]=$(free_port)
  peer_ports[i]=$(free_port)
  initial+="${initial:+,}m$i=http://127.0.0.1:${peer_ports[i]}"
done
for i in 0 1 2; do
  etcd --name "m$i" --data-dir "$scratch/etcd-m$i" \
    --listen-client-urls "http://127.0.0.1:${client_ports[i]}" --advertise-client-urls "http://127.0.0.1:${client_ports[i]}" \
    --listen-peer-urls "http://127.0.0.1:${peer_ports[i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer_ports[i]}" \
    --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token "$(basename "$scratch")" \
    --logger zap --log-level error >"$scratch/etcd-m$i.log" 2>&1 &
  pids+=("$!")
done
etcd_healthy() { curl -fsS "http://127.0.0.1:${client_ports[$1]}/health" 2>/dev/null | grep -q '"true"'; }
for i in 0 1 2; do wait_until 20 etcd_healthy "$i" || die "etcd member $i did not come up: $(tail -3 "$scratch/etcd-m$i.log")"; done
endpoints=$(printf '"127.0.0.1:%s",' "${client_ports[@]}")
endpoints="[${endpoints%,}]"

# ---------------------------------------------------------------- the pod and the nodes
"$build_dir/bench/bench_backend" 0 >"$scratch/backend.out" 2>&1 &
pids+=("$!")
wait_until 10 grep -qs 'listening on' "$scratch/backend.out" || die "bench_backend did not start"
backend_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$scratch/backend.out")

export IGNITE_ADMIN_TOKEN="bench-$RANDOM$RANDOM"
declare -a http_ports admin_ports
listener_port() { # $1 log, $2 listener
  grep -s '"event":"listening"' "$1" | grep "\"listener\":\"$2\"" | sed -n 's/.*"address":"[0-9.]*:\([0-9]*\)".*/\1/p' | head -n 1
}
for i in 0 1 2; do
  addr=127.0.0.$((i + 2))
  cat >"$scratch/node$i.json" <<JSON
{
  "domain": "ignite.dodil.cloud",
  "listen": { "http": "$addr:0", "admin": "$addr:0" },
  "threads": 1,
  "state_file": "$scratch/node$i/state.db",
  "secrets_key_file": "$scratch/secrets.key",
  "state": { "etcd": { "endpoints": $endpoints, "prefix": "/bench", "node_name": "node-$i" } },
  "apps": []
}
JSON
  "$proxy_bin" --config "$scratch/node$i.json" 2>"$scratch/node$i.log" &
  pids+=("$!")
  wait_until 10 eval '[ -n "$(listener_port "$scratch/node$i.log" admin)" ]' || die "node $i did not start: $(tail -3 "$scratch/node$i.log")"
  http_ports[i]=$(listener_port "$scratch/node$i.log" http)
  admin_ports[i]=$(listener_port "$scratch/node$i.log" admin)
done

say "3 etcd members, 3 nodes (127.0.0.2-4), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); $runs publishes through node A"
"$build_dir/bench/cluster_publish" "$runs" "127.0.0.2:${admin_ports[0]}" "127.0.0.1:$backend_port" \
  "127.0.0.2:${http_ports[0]}" "127.0.0.3:${http_ports[1]}" "127.0.0.4:${http_ports[2]}" | tail -n 4

say "cold starts: $runs apps, requested on node A, then on node B 20 ms later"
"$build_dir/bench/cluster_pods" "$runs" "${BENCH_REQUESTS:-5000}" "127.0.0.2:${admin_ports[0]}" \
  "$build_dir/examples/greeter/greeter" "127.0.0.2:${http_ports[0]}" "127.0.0.3:${http_ports[1]}" | tail -n 4
