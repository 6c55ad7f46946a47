#!/usr/bin/env bash
# bench/containers.sh: cold starts of image versions (podman), on this machine.
#
#   bench/containers.sh
#   BENCH_RUNS=20 bench/containers.sh
#
# What it measures (the greeter's image, FROM scratch, 7 MB, from a registry on loopback):
#   1. podman's own start: `podman run` (attached, as the proxy runs it) until the app
#      accepts on its port, with the private network (its own namespace, the port
#      published on 127.0.0.1) and with the host's network;
#   2. the same through the proxy: a cold request's total time, split into the proxy's
#      part before `podman run` (its log), podman's part until the app listens, and the
#      handoff until the request reaches the app (both stamped by the greeter on its
#      answer). What the proxy adds is its two parts; the difference of the medians of
#      (1) and (2) is a cross-check;
#   3. a pre-created container (`podman create` ahead, `podman start` on demand) against
#      `podman run`;
#   4. the pull on a cold node: `podman pull` of the greeter (7 MB) and of a 256 MB image,
#      and a cold request through the proxy whose image is not on the machine;
#   5. the warm path, private against host network: wrk through the proxy.
#
# Knobs: BUILD_DIR, BENCH_RUNS (default 15), BENCH_DURATION (wrk, default 5s), BENCH_KEEP.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
runs=${BENCH_RUNS:-15}
duration=${BENCH_DURATION:-5s}
keep=${BENCH_KEEP:-0}
pids=()
scratch=$(mktemp -d /tmp/ignite-containers.XXXXXX)
proxy_log=$scratch/proxy.log
proxy_bin=$build_dir/ignite-proxy
tag=bench-$$
images=()
cleanup_images() {
  podman ps -aq --filter label=ignite.bench="$tag" | xargs -r podman rm -f -t 0 >/dev/null 2>&1 || true
  ((${#images[@]} == 0)) || podman rmi -f "${images[@]}" >/dev/null 2>&1 || true
}
install_cleanup
trap 'status=$?; cleanup_images; cleanup; exit $status' EXIT

command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || die "wrk is needed"; }
build ignite-proxy container_start greeter_static
probe=$build_dir/bench/container_start

# ---------------------------------------------------------------- registry and image

registry=127.0.0.1:$("$probe" port)
cat >"$scratch/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $scratch/registry
http:
  addr: $registry
YAML
env $(env | sed -n 's/^\(REGISTRY_[A-Z_]*\)=.*/-u \1/p') docker-registry serve "$scratch/registry.yml" \
  >"$scratch/registry.log" 2>&1 &
pids+=("$!")
registry_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$registry/v2/")" = 200 ]; }
wait_until 10 registry_up || die "docker-registry did not start: $(tail -n 5 "$scratch/registry.log")"

"$root/scripts/build-image.sh" --tag "localhost/ignite-bench/greeter:$tag" \
  --push "$registry/bench/greeter:1" >"$scratch/push.out" 2>&1 || die "build/push failed: $(cat "$scratch/push.out")"
images+=("localhost/ignite-bench/greeter:$tag")
digest=$(sed -n 's/^digest *//p' "$scratch/push.out")
image=$registry/bench/greeter@$digest
images+=("$image")
podman pull -q --tls-verify=false "$image" >/dev/null
podman network exists ignite || podman network create --disable-dns ignite >/dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m }'; }
spread() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f–%.1f", v[1], v[NR] }'; }

say "image: $image (greeter, $(($(podman image inspect --format '{{.Size}}' "$image") / 1024)) KiB); $runs runs each"
say ""

# ---------------------------------------------------------------- 1. podman's own start

common=(--rm --name '{NAME}' --label ignite.bench="$tag" --env 'PORT={PORT}' --log-driver none --pull missing)
private=(--network ignite --cap-drop NET_RAW --publish '127.0.0.1:{PORT}:{PORT}')
# 1 and 3 take turns, run by run, so that a drift of the machine touches all three alike.
for ((i = 0; i < runs; i++)); do
  "$probe" direct 1 podman run "${common[@]}" "${private[@]}" "$image" >>"$scratch/direct-private"
  "$probe" direct 1 podman run "${common[@]}" --network host "$image" >>"$scratch/direct-host"
  "$probe" precreated 1 podman create --name '{NAME}' --label ignite.bench="$tag" --env 'PORT={PORT}' \
    --log-driver none "${private[@]}" "$image" -- podman start --attach '{NAME}' >>"$scratch/precreated"
done
own_private=$(awk '{ print $4 }' "$scratch/direct-private" | median)
own_host=$(awk '{ print $4 }' "$scratch/direct-host" | median)
own_precreated=$(awk '{ print $4 }' "$scratch/precreated" | median)

# ---------------------------------------------------------------- 2. through the proxy

apps=""
for ((i = 0; i < runs; i++)); do
  for net in private host; do
    apps+="${apps:+,}{\"org\":\"bench\",\"name\":\"${net:0:1}$i\",\"versions\":[{\"version\":1,\"image_ref\":\"$registry/bench/greeter:1\",\"image_digest\":\"$digest\",\"network\":\"$net\"}],\"scaling\":{\"max_replicas\":1}}"
  done
done
# "fresh" is asked for only at the end, once its image is no longer on the machine.
apps+=",{\"org\":\"bench\",\"name\":\"fresh\",\"versions\":[{\"version\":1,\"image_ref\":\"$registry/bench/greeter:1\",\"image_digest\":\"$digest\"}]}"
cat >"$scratch/proxy.json" <<JSON
{ "listen": { "http": "127.0.0.1:0", "admin": "127.0.0.1:0" }, "state_file": "$scratch/state.db",
  "containers": { "insecure_registries": ["$registry"] },
  "apps": [ $apps ] }
JSON
start_proxy

for ((i = 0; i < runs; i++)); do
  for net in private host; do
    app=${net:0:1}$i
    out=$("$probe" request "$proxy_port" "$app-bench.ignite.dodil.cloud") || die "request to $app failed: $out"
    read -r _ sent _ answered _ total _ _ _ listen _ received <<<"$out"
    # The greeter stamps its listen time and the request's arrival (its clock is ours);
    # the proxy's pod_starting line has when it ran podman (ms).
    spawned=$(grep "\"app\":\"bench:$app\"" "$proxy_log" | grep '"event":"pod_starting"' | head -n 1 |
      sed -n 's/.*"time":"\([^"]*\)".*/\1/p')
    spawned_us=$(($(date -d "$spawned" +%s%N) / 1000))
    # total, handoff (listening → request at the pod), before (request → podman run), podman's own (run → listening)
    echo "$total $((received - listen)) $((spawned_us - sent)) $((listen - spawned_us))" >>"$scratch/proxy-$net"
  done
done
proxy_private=$(awk '{ print $1 }' "$scratch/proxy-private" | median)
proxy_host=$(awk '{ print $1 }' "$scratch/proxy-host" | median)
handoff_private=$(awk '{ print $2 / 1000 }' "$scratch/proxy-private" | median)
handoff_host=$(awk '{ print $2 / 1000 }' "$scratch/proxy-host" | median)
before_private=$(awk '{ print $3 / 1000 }' "$scratch/proxy-private" | median)
before_host=$(awk '{ print $3 / 1000 }' "$scratch/proxy-host" | median)
inside_private=$(awk '{ print $4 / 1000 }' "$scratch/proxy-private" | median)
inside_host=$(awk '{ print $4 / 1000 }' "$scratch/proxy-host" | median)

say "Cold start, image on the machine (median of $runs; min–max)"
printf '  %-42s %10s %14s\n' "" private host
printf '  %-42s %10s %14s\n' "podman run → listening" "$own_private ms" "$own_host ms"
printf '  %-42s %10s %14s\n' "  min–max" "$(awk '{ print $4 }' "$scratch/direct-private" | spread)" \
  "$(awk '{ print $4 }' "$scratch/direct-host" | spread)"
printf '  %-42s %10s %14s\n' "through the proxy: request → answer" "$proxy_private ms" "$proxy_host ms"
printf '  %-42s %10s %14s\n' "  min–max" "$(awk '{ print $1 }' "$scratch/proxy-private" | spread)" \
  "$(awk '{ print $1 }' "$scratch/proxy-host" | spread)"
printf '  %-42s %10s %14s   (the log stamps ms: ±1 ms)\n' "  request → podman run (proxy)" "$before_private ms" "$before_host ms"
printf '  %-42s %10s %14s\n' "  podman run → listening (podman)" "$inside_private ms" "$inside_host ms"
printf '  %-42s %10s %14s\n' "  listening → request at the app (proxy)" "$handoff_private ms" "$handoff_host ms"
printf '  %-42s %10s %14s\n' "the proxy adds: the two (proxy) steps" \
  "$(awk -v a="$before_private" -v b="$handoff_private" 'BEGIN { printf "%.1f ms", a + b }')" \
  "$(awk -v a="$before_host" -v b="$handoff_host" 'BEGIN { printf "%.1f ms", a + b }')"
printf '  %-42s %10s %14s\n' "  cross-check: difference of medians" \
  "$(awk -v a="$proxy_private" -v b="$own_private" 'BEGIN { printf "%.1f ms", a - b }')" \
  "$(awk -v a="$proxy_host" -v b="$own_host" 'BEGIN { printf "%.1f ms", a - b }')"
printf '  %-42s %10s\n' "pre-created: podman start → listening" "$own_precreated ms"
printf '  %-42s %10s\n' "  saves against podman run" \
  "$(awk -v a="$own_precreated" -v b="$own_private" 'BEGIN { printf "%.0f%%", (b - a) * 100 / b }')"

# ---------------------------------------------------------------- 5. warm, private against host

cat >"$scratch/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"name":"bench"}'
wrk.headers["Content-Type"] = "application/json"
LUA
warm() {
  wrk -t1 -c16 -d"$duration" --latency -H "Host: $1-bench.ignite.dodil.cloud" -s "$scratch/post.lua" \
    "http://127.0.0.1:$proxy_port/" >"$scratch/wrk.out" 2>&1
  awk '/^Requests\/sec:/ { rps = $2 } $1 == "99%" { p99 = $2 } END { printf "%8.0f req/s  p99 %s", rps, p99 }' "$scratch/wrk.out"
}
say ""
say "Warm, through the proxy to one container (wrk -t1 -c16 -d$duration)"
say "  private network: $(warm p0)"
say "  host network:    $(warm h0)"

# ---------------------------------------------------------------- 4. pulls

say ""
say "Pull on a cold node (from the registry on loopback)"
podman rmi -f "$image" >/dev/null
t0=$(date +%s%N)
podman pull -q --tls-verify=false "$image" >/dev/null
say "  podman pull, greeter (7 MB):   $((($(date +%s%N) - t0) / 1000000)) ms"

mkdir -p "$scratch/big"
head -c $((256 << 20)) /dev/urandom >"$scratch/big/blob"
printf 'FROM %s\nCOPY blob /blob\n' "localhost/ignite-bench/greeter:$tag" >"$scratch/big/Containerfile"
podman build -q --layers=false -t "localhost/ignite-bench/big:$tag" "$scratch/big" >/dev/null
images+=("localhost/ignite-bench/big:$tag")
podman push -q --tls-verify=false --digestfile "$scratch/big.digest" "localhost/ignite-bench/big:$tag" \
  "docker://$registry/bench/big:1" >/dev/null
big=$registry/bench/big@$(cat "$scratch/big.digest")
images+=("$big")
podman rmi -f "localhost/ignite-bench/big:$tag" >/dev/null
t0=$(date +%s%N)
podman pull -q --tls-verify=false "$big" >/dev/null
say "  podman pull, 256 MB image:     $((($(date +%s%N) - t0) / 1000000)) ms"

# A cold request whose image is not on the machine: the pull happens inside podman run.
podman rmi -f "$image" >/dev/null
out=$("$probe" request "$proxy_port" "fresh-bench.ignite.dodil.cloud") || die "request to fresh failed: $out"
read -r _ _ _ _ _ total _ <<<"$out"
say "  through the proxy, greeter not on the machine: $total ms (pull + start + handoff)"

stop_all
pids=()
check_proxy_stopped
