#!/usr/bin/env bash
# bench/curves.sh: how the cost grows, as CSV files and PNG plots, on loopback.
#
#   bench/curves.sh                                   # every curve, ~15 minutes
#   BENCH_CURVES=connections BENCH_DURATION=2s bench/curves.sh
#   BENCH_PLOT_ONLY=1 bench/curves.sh                 # redraw the PNGs from the CSVs
#
# The curves, each written to $BENCH_RESULTS/<curve>.csv and drawn to <curve>.png:
#   connections  wrk -t1 -c<N> against ignite-proxy, nginx and HAProxy set up as the same
#                reverse proxy (bench/lib.sh) in front of bench_backend, one worker each:
#                requests/s and p99 per connection count. At each point the targets take
#                turns (proxy, nginx, haproxy, proxy, ...), so drift in the machine's load
#                hits all alike; the CSV holds the mean of the rounds, -runs.csv every run.
#   held         bench/burst sends <N> requests in one instant at an app with no pod (the
#                greeter as a `command` app, max_replicas 1, booting BENCH_HELD_START_MS
#                before it listens, long enough for the proxy to read the whole burst): every
#                request is held while the pod starts, and the curve is the time from the
#                instant the pod listened (its own stamp) to the last answer: how long the
#                proxy takes to drain its hold queue into the pod. The median of
#                BENCH_HELD_ROUNDS bursts.
#   apps         <N> apps in the config file, each an endpoints version on bench_backend,
#                and a fresh proxy per point: its start-up time (exec to every endpoint
#                probed ready), RSS
#                (and bytes per app over the smallest table's), the reload time (SIGHUP to
#                the "reloaded" log line, the median of BENCH_APPS_RELOADS) and wrk
#                requests/s at BENCH_APPS_HOSTS of the apps, spread over the table, in turn.
#
# Knobs (environment):
#   BUILD_DIR                 build tree to use/configure           (default: <repo>/build)
#   BENCH_CURVES              which curves, in order                (default: connections held apps)
#   BENCH_DURATION            one measured wrk run                  (default: 5s)
#   BENCH_WARMUP              one unmeasured wrk run per target and point (default: 1s)
#   BENCH_ROUNDS              measured runs per target and point    (default: 2)
#   BENCH_CONNECTION_POINTS   wrk connection counts (default: 16 32 64 128 256 512 1024 2048 4096)
#   BENCH_HELD_POINTS         requests per burst   (default: 10 30 100 300 1000 3000 10000)
#   BENCH_HELD_ROUNDS         bursts per point                       (default: 3)
#   BENCH_HELD_START_MS       the pod's boot before it listens      (default: 2000)
#   BENCH_HELD_CONCURRENCY    container_concurrency of the held app (default: 0, no limit)
#   BENCH_APPS_POINTS         apps in the route table  (default: 1 10 100 1000 10000 100000)
#   BENCH_APPS_HOSTS          apps the traffic goes to, in turn     (default: 16)
#   BENCH_APPS_CONNECTIONS    wrk connections for the apps curve    (default: 64)
#   BENCH_APPS_RELOADS        SIGHUP reloads per point (the median is kept) (default: 3)
#   BENCH_RESULTS             where the CSV and PNG files go         (default: bench/results)
#   BENCH_PLOT_ONLY           1: only redraw the PNGs from the CSVs  (default: 0)
#   BENCH_KEEP                1: keep the scratch dir with configs/logs (default: 0)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
curves=${BENCH_CURVES:-connections held apps}
duration=${BENCH_DURATION:-5s}
warmup=${BENCH_WARMUP:-1s}
rounds=${BENCH_ROUNDS:-2}
connection_points=${BENCH_CONNECTION_POINTS:-16 32 64 128 256 512 1024 2048 4096}
held_points=${BENCH_HELD_POINTS:-10 30 100 300 1000 3000 10000}
held_rounds=${BENCH_HELD_ROUNDS:-3}
held_concurrency=${BENCH_HELD_CONCURRENCY:-0}
held_start_ms=${BENCH_HELD_START_MS:-2000}
apps_points=${BENCH_APPS_POINTS:-1 10 100 1000 10000 100000}
apps_hosts=${BENCH_APPS_HOSTS:-16}
apps_connections=${BENCH_APPS_CONNECTIONS:-64}
apps_reloads=${BENCH_APPS_RELOADS:-3}
results=${BENCH_RESULTS:-$root/bench/results}
plot_only=${BENCH_PLOT_ONLY:-0}
keep=${BENCH_KEEP:-0}

readonly domain=ignite.dodil.cloud
readonly app_host=bench-acme-corp.$domain
readonly body='{"name":"ada"}'

for curve in $curves; do
  case $curve in connections | held | apps) ;; *) die "unknown curve '$curve' (connections, held, apps)" ;; esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be at least 1, got '$rounds'"
[[ $held_rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_HELD_ROUNDS must be at least 1, got '$held_rounds'"
[[ $held_concurrency =~ ^[0-9]+$ ]] || die "BENCH_HELD_CONCURRENCY must be a whole number, got '$held_concurrency'"
[[ $held_start_ms =~ ^[0-9]+$ ]] || die "BENCH_HELD_START_MS must be a whole number, got '$held_start_ms'"
for knob in apps_hosts apps_connections apps_reloads; do
  [[ ${!knob} =~ ^[1-9][0-9]*$ ]] || die "$knob must be at least 1, got '${!knob}'"
done
for n in $connection_points $held_points $apps_points; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "not a count: '$n'"; done

mkdir -p "$results"

# What the plots say they came from: the OS, the cores and the CPU model, and the date.
machine() {
  local os cpu
  os=$(awk -F= '{ gsub(/"/, "", $2) } $1 == "NAME" { split($2, w, " ") } $1 == "VERSION_ID" { v = $2 }
    END { print w[1] " " v }' /etc/os-release)
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  echo "$os, $(nproc) cores ($cpu), $(date -u +%Y-%m-%d)"
}

# plot CURVE: $results/CURVE.csv to $results/CURVE.png, with bench/plot.gnuplot. The CSV's
# first line ("# <machine>; <settings>") becomes the plot's subtitle, on two lines.
plot() {
  local csv=$results/$1.csv note per_app
  [ -f "$csv" ] || die "no $csv to plot"
  note=$(head -n 1 "$csv" | sed 's/^# //; s/"/\\"/g; s/; /\\n/')
  # gnuplot fails on a series with no point: the apps CSV has bytes per app only for big tables.
  per_app=$(awk -F, 'NR > 2 && $4 != "" { f = 1 } END { print f + 0 }' "$csv")
  gnuplot -e "curve='$1'; csv='$csv'; png='$results/$1.png'; note=\"$note\"; has_per_app=$per_app" \
    "$root/bench/plot.gnuplot" ||
    die "gnuplot failed on $csv"
  say "  plot: $results/$1.png"
}

if [ "$plot_only" = 1 ]; then
  command -v gnuplot >/dev/null || die "needs gnuplot (apt-get install gnuplot-nox)"
  for curve in $curves; do plot "$curve"; done
  exit 0
fi

# ---------------------------------------------------------------- tools and build

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
  ((${#missing[@]})) || return 0
  say "installing: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_tools
build ignite-proxy bench_backend greeter burst
proxy_bin=$build_dir/ignite-proxy
backend_bin=$build_dir/bench/bench_backend
greeter_bin=$build_dir/examples/greeter/greeter
burst_bin=$build_dir/bench/burst
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)

# The largest connections point costs wrk a descriptor per connection and each proxy two;
# the largest burst costs burst one per request, and the proxy one per request and one per
# connection to the pod (the proxy raises its own soft limit to the hard one, the pod
# inherits it).
max_connections=0 max_burst=0
for n in $connection_points; do ((n > max_connections)) && max_connections=$n; done
for n in $held_points; do ((n > max_burst)) && max_burst=$n; done
raise_nofile $((max_connections * 2 > max_burst ? max_connections * 2 + 100 : max_burst + 100)) \
  "$max_connections connections and bursts of $max_burst"

# ---------------------------------------------------------------- processes and cleanup

scratch=$(mktemp -d /tmp/ignite-curves.XXXXXX)
proxy_log=$scratch/proxy.log
pids=() # stop_all stops them newest first: clients, then the proxies, then the backend
install_cleanup

say "$(machine); load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Stops the newest process started (as stop_all does) and forgets it.
stop_newest() {
  local pid=${pids[-1]}
  kill -TERM "$pid" 2>/dev/null || true
  wait_until 30 exited "$pid" || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'pids[-1]'
}

start_backend() {
  # Emptied here, not only by the redirection in the background: a previous backend's
  # "listening on" line must not be read before the new one truncates the file.
  : >"$scratch/backend.out"
  "$backend_bin" 0 >"$scratch/backend.out" 2>&1 &
  pids+=("$!")
  wait_until 10 grep -qs 'listening on' "$scratch/backend.out" || die "bench_backend did not start"
  backend_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$scratch/backend.out")
}

# A target must answer the benchmark request with the backend's 200 and an execution id
# before any number is worth recording.
check_target() {
  local name=$1 port=$2 host=${3:-$app_host} headers
  headers=$(curl -s --max-time 10 -o /dev/null -D - -H "Host: $host" -H 'Content-Type: application/json' \
    --data "$body" "http://127.0.0.1:$port/") || die "$name: request failed"
  grep -qs '^HTTP/1.1 200' <<<"$headers" || die "$name: expected 200, got: $(head -n 1 <<<"$headers")"
  grep -qi '^x-ignite-execution-id:' <<<"$headers" || die "$name: no x-ignite-execution-id in the answer"
}

# Latency as wrk prints it ("622.00us", "1.23ms", "1.02s"), in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# run_wrk NAME PORT CONNECTIONS LENGTH SCRIPT: leaves "rps p50_ms p99_ms errors" in
# wrk_result (errors: non-2xx answers plus socket errors). wrk runs in the background and
# is waited for, so a Ctrl-C is not deferred until it ends (it survives Ctrl-C itself).
wrk_result=""
run_wrk() {
  local name=$1 port=$2 conns=$3 length=$4 script=$5 out=$scratch/wrk.out
  wrk -t1 -c"$conns" -d"$length" --timeout 10s --latency -s "$script" "http://127.0.0.1:$port/" >"$out" 2>&1 &
  pids+=("$!")
  wait "$!" || die "wrk against $name failed: $(cat "$out")"
  unset 'pids[${#pids[@]}-1]'
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  [ -n "$rps" ] || die "wrk against $name printed no result: $(cat "$out")"
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  errors=$(awk '/Non-2xx/ { e += $NF } /Socket errors/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 } END { print e + 0 }' "$out")
  wrk_result="$rps $p50 $p99 $errors"
}

write_post_lua() { # FILE HOST
  cat >"$1" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Host"] = "$2"
EOF
}

# ---------------------------------------------------------------- connections

curve_connections() {
  say ""
  say "connections: wrk -t1 -c<N>, $rounds x $duration per target and point (after $warmup unmeasured)," \
    "ignite-proxy, nginx and HAProxy with 1 worker each"
  start_backend

  cat >"$scratch/proxy.json" <<EOF
{
  "domain": "$domain",
  "listen": { "http": "127.0.0.1:0", "admin": "127.0.0.1:0" },
  "threads": 1,
  "state_file": "$scratch/state.json",
  "limits": { "max_connections": $((max_connections * 2 > 10000 ? max_connections * 2 : 10000)) },
  "apps": [
    { "org": "acme-corp", "name": "bench", "active_version": 1,
      "versions": [ { "version": 1, "endpoints": ["127.0.0.1:$backend_port"] } ] }
  ]
}
EOF
  start_proxy

  local nginx_port nginx_pid haproxy_port
  nginx_port=$(free_port)
  write_nginx_conf "$scratch/nginx" "$nginx_port" "$backend_port" "$app_host" 1 1
  "$nginx_bin" -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf" -e "$scratch/nginx/error.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  wait_until 10 port_open "$nginx_port" || die "nginx did not start: $(tail -n 5 "$scratch/nginx/error.log")"

  haproxy_port=$(free_port)
  write_haproxy_conf "$scratch/haproxy.cfg" "$haproxy_port" "$backend_port" "$app_host" 1 1
  "$haproxy_bin" -db -f "$scratch/haproxy.cfg" >"$scratch/haproxy.log" 2>&1 &
  pids+=("$!")
  wait_until 10 port_open "$haproxy_port" || die "haproxy did not start: $(tail -n 5 "$scratch/haproxy.log")"

  check_target proxy "$proxy_port"
  check_target nginx "$nginx_port"
  check_target haproxy "$haproxy_port"
  write_post_lua "$scratch/post.lua" "$app_host"

  local -A port=([proxy]=$proxy_port [nginx]=$nginx_port [haproxy]=$haproxy_port)
  local targets=(proxy nginx haproxy) runs=$results/connections-runs.csv csv=$results/connections.csv
  local n r target rps p50 p99 errors
  {
    echo "# $(machine); wrk -t1, $rounds x $duration per point, targets alternating; 1 worker each"
    echo "connections,round,target,rps,p50_ms,p99_ms,errors"
  } >"$runs"
  printf '  %6s %-8s %10s %9s %9s %7s\n' conns target "req/s" "p50 ms" "p99 ms" errors
  for n in $connection_points; do
    for target in "${targets[@]}"; do run_wrk "$target" "${port[$target]}" "$n" "$warmup" "$scratch/post.lua"; done
    for ((r = 1; r <= rounds; r++)); do
      for target in "${targets[@]}"; do
        run_wrk "$target" "${port[$target]}" "$n" "$duration" "$scratch/post.lua"
        read -r rps p50 p99 errors <<<"$wrk_result"
        echo "$n,$r,$target,$rps,$p50,$p99,$errors" >>"$runs"
        printf '  %6s %-8s %10s %9s %9s %7s\n' "$n" "$target" "$rps" "$p50" "$p99" "$errors"
      done
    done
  done

  # One row per point: each target's mean requests/s and mean p99 over the rounds.
  {
    head -n 1 "$runs"
    echo "connections,proxy_rps,nginx_rps,haproxy_rps,proxy_p99_ms,nginx_p99_ms,haproxy_p99_ms,errors"
    tail -n +3 "$runs" | awk -F, '
      { k = $1; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        c[k, $3]++; rps[k, $3] += $4; p99[k, $3] += $6; err[k] += $7 }
      END {
        for (i = 1; i <= n; i++) { k = order[i]; printf "%s", k
          split("proxy nginx haproxy", t, " ")
          for (j = 1; j <= 3; j++) printf ",%.0f", rps[k, t[j]] / c[k, t[j]]
          for (j = 1; j <= 3; j++) printf ",%.3f", p99[k, t[j]] / c[k, t[j]]
          printf ",%d\n", err[k] } }'
  } >"$csv"
  say "  csv: $csv (means), $runs (every run)"
  plot connections
  stop_all
  check_proxy_stopped
}

# ---------------------------------------------------------------- held

# Lines of the proxy's log for event $1 (any app).
log_count() { grep -c "\"event\":\"$1\"" "$proxy_log" || true; }
# No pod left: the proxy has no child process and has logged an exit for every start.
no_pod() { [ -z "$(child_of "$proxy_pid")" ] && (($(log_count pod_exited) >= $(log_count pod_starting))); }

# column_median CSV KEY COLUMN: the median of COLUMN over the rows whose first column is KEY.
column_median() {
  awk -F, -v k="$2" -v c="$3" '$1 == k { print $c }' "$1" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# A value from burst's `key=value …` line, kept in $line.
kv() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' <<<"$line"; }

curve_held() {
  say ""
  say "held: <N> requests sent in one instant at an app with no pod (bench/burst; the greeter as a" \
    "command app booting ${held_start_ms} ms, one pod serving them all), $held_rounds bursts per point:" \
    "the last answer minus the instant the pod listened"
  local max_held=0 n
  for n in $held_points; do ((n > max_held)) && max_held=$n; done

  cat >"$scratch/proxy.json" <<EOF
{
  "domain": "$domain",
  "listen": { "http": "127.0.0.1:0", "admin": "127.0.0.1:0" },
  "threads": 1,
  "state_file": "$scratch/held-state.json",
  "limits": { "max_held_requests": $((max_held > 1000 ? max_held : 1000)),
              "max_connections": $((max_held * 2 > 10000 ? max_held * 2 : 10000)) },
  "apps": [
    { "org": "acme-corp", "name": "held", "active_version": 1,
      "versions": [ { "version": 1, "command": ["env", "GREETER_START_DELAY_MS=$held_start_ms", "$greeter_bin"] } ],
      "scaling": { "max_replicas": 1, "container_concurrency": $held_concurrency, "idle_timeout_ms": 200 } }
  ]
}
EOF
  : >"$proxy_log"
  start_proxy

  local runs=$results/held-runs.csv csv=$results/held.csv r out ok cold listening last drain
  {
    echo "# $(machine); bench/burst at a cold app, one pod (greeter booting $held_start_ms ms; container_concurrency $held_concurrency), median of $held_rounds bursts; 1 worker"
    echo "requests,round,ok,cold,listening_ms,last_ms,drain_ms"
  } >"$runs"
  printf '  %8s %5s %8s %8s %12s %9s %9s\n' requests round ok cold "listening ms" "last ms" "drain ms"
  for n in $held_points; do
    for ((r = 1; r <= held_rounds; r++)); do
      wait_until 20 no_pod || die "the pod did not stop within 20 s of going idle; cannot start a cold burst"
      out=$scratch/burst.out
      # In the background and waited for, so Ctrl-C is not deferred until it ends; it exits
      # non-zero when not every request got a 200, which its line says.
      timeout 120 "$burst_bin" 127.0.0.1 "$proxy_port" "held-acme-corp.$domain" "$n" >"$out" 2>&1 &
      pids+=("$!")
      wait "$!" || true
      unset 'pids[${#pids[@]}-1]'
      line=$(tail -n 1 "$out")
      ok=$(kv ok) cold=$(kv cold) listening=$(kv listening_ms) last=$(kv last_ms)
      if [ -z "$ok" ] || [ -z "$listening" ]; then die "burst of $n printed no result: $(cat "$out")"; fi
      drain=$(awk -v l="$last" -v p="$listening" 'BEGIN { printf "%.1f", l - p }')
      echo "$n,$r,$ok,$cold,$listening,$last,$drain" >>"$runs"
      printf '  %8s %5s %8s %8s %12s %9s %9s\n' "$n" "$r" "$ok" "$cold" "$listening" "$last" "$drain"
      ((ok == n)) || say "     not served: $(tr ' ' '\n' <<<"${line#*last_ms=}" | tail -n +2 | paste -sd' ')"
      ((cold == ok)) || say "     $((ok - cold)) answers were not held: the pod listened before the proxy had read them"
    done
  done

  # One row per point: the medians over the bursts.
  {
    head -n 1 "$runs"
    echo "requests,ok,cold,listening_ms,last_ms,drain_ms,drain_us_per_request"
    for n in $held_points; do
      local row=$n col
      for col in 3 4 5 6 7; do row+=,$(column_median "$runs" "$n" "$col"); done
      echo "$row,$(awk -v d="${row##*,}" -v n="$n" 'BEGIN { printf "%.1f", d * 1000 / n }')"
    done
  } >"$csv"
  say "  csv: $csv (medians), $runs (every burst)"
  plot held
  stop_all
  check_proxy_stopped
  if (($(log_count pod_exited) < $(log_count pod_starting))); then
    say "  note: $(log_count pod_starting) pods started but only $(log_count pod_exited) logged an exit"
  fi
}

# ---------------------------------------------------------------- apps

# write_apps_config N: $scratch/proxy.json with N apps (app1-bench … appN-bench), each an
# endpoints version on the one bench_backend; request lines go to a file of their own so
# the log holds only the lifecycle lines this curve reads.
write_apps_config() {
  python3 - "$1" "$scratch" "$backend_port" "$domain" >"$scratch/proxy.json" <<'PY'
import json, sys
n, scratch, port, domain = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
json.dump({
    "domain": domain,
    "listen": {"http": "127.0.0.1:0", "admin": "127.0.0.1:0"},
    "threads": 1,
    "state_file": f"{scratch}/apps-state.json",
    "log": {"access_file": f"{scratch}/access.log", "access_stderr": False},
    "apps": [{"org": "bench", "name": f"app{i}", "active_version": 1,
              "versions": [{"version": 1, "endpoints": [f"127.0.0.1:{port}"]}]}
             for i in range(1, n + 1)],
}, sys.stdout)
PY
}

# write_hosts_lua FILE HOST…: a wrk script that sends POST / to the hosts in turn; the
# requests are formatted once, in init.
write_hosts_lua() {
  local file=$1 host
  shift
  {
    echo "local hosts = {"
    for host; do echo "  \"$host\","; done
    cat <<EOF
}
local requests, i = {}, 0
function init(args)
  for k, h in ipairs(hosts) do
    requests[k] = wrk.format("POST", "/", { ["Host"] = h, ["Content-Type"] = "application/json" }, '$body')
  end
end
function request()
  i = i % #requests + 1
  return requests[i]
end
EOF
  } >"$file"
}

# "2026-11-27T07:12:33.123Z" (the log's time) in Unix milliseconds.
log_time_ms() { sed -n 's/^{"time":"\([^"]*\)".*/\1/p' <<<"$1" | xargs -r -I{} date -u -d {} +%s%3N; }
# Every app's endpoint probed ready (wc -l first: cheaper than grep on a big log, and
# every app writes a pod_starting and a pod_ready line).
all_apps_ready() {
  ! exited "$proxy_pid" || die "ignite-proxy exited: $(tail -n 2 "$proxy_log")"
  proxy_listening && (($(wc -l <"$proxy_log") >= 2 * apps_now)) && (($(log_count pod_ready) >= apps_now))
}
reloads_logged() { (($(log_count reloaded) + $(log_count reload_failed) > reloads_before)); }

curve_apps() {
  say ""
  say "apps: <N> apps in the route table (config file, each an endpoints version on bench_backend):" \
    "the proxy's start-up and RSS, SIGHUP reloads ($apps_reloads), and wrk -t1 -c$apps_connections" \
    "at $apps_hosts of the apps in turn, $rounds x $duration"
  start_backend
  local runs=$results/apps-runs.csv csv=$results/apps.csv n r t0 ms rss rss_after started listening apps_now
  local reload_ms rps p50 p99 errors hosts i
  {
    echo "# $(machine); apps in the config file; wrk -t1 -c$apps_connections at up to $apps_hosts apps, $rounds x $duration per point; 1 worker"
    echo "apps,startup_ms,rss_kib,reload_ms,rss_after_kib,rps,p99_ms,errors"
  } >"$runs"
  printf '  %7s %11s %10s %10s %12s %9s %9s %7s\n' apps "ready ms" "RSS KiB" "reload ms" "RSS after" "req/s" "p99 ms" errors
  for n in $apps_points; do
    write_apps_config "$n"
    : >"$proxy_log"
    rm -f "$scratch/apps-state.json" "$scratch/access.log"
    # The proxy listens at once and then probes every endpoints version (a "pod" that is
    # ready when it accepts a connection): start-up is exec to the last pod_ready line.
    # start_proxy's 10 s cap is for a small table; a big one gets longer.
    started=$EPOCHREALTIME
    "$proxy_bin" --config "$scratch/proxy.json" 2>"$proxy_log" &
    proxy_pid=$!
    pids+=("$proxy_pid")
    apps_now=$n
    wait_until 300 all_apps_ready ||
      die "ignite-proxy did not have $n apps ready within 300 s: $(log_count pod_ready) ready; $(tail -n 2 "$proxy_log")"
    listening=$(log_time_ms "$(grep '"event":"pod_ready"' "$proxy_log" | tail -n 1)")
    proxy_port=$(proxy_http_port)
    check_target "proxy with $n apps" "$proxy_port" "app$n-bench.$domain"
    rss=$(rss_kib "$proxy_pid")

    # Reload: from the signal to the "reloaded" line (the log's time, 1 ms resolution).
    local reload_list=()
    for ((r = 1; r <= apps_reloads; r++)); do
      reloads_before=$(($(log_count reloaded) + $(log_count reload_failed)))
      t0=$EPOCHREALTIME
      kill -HUP "$proxy_pid"
      wait_until 300 reloads_logged || die "no reload line within 300 s with $n apps"
      ((reloads_before < $(log_count reloaded))) ||
        die "reload with $n apps failed: $(grep '"event":"reload_failed"' "$proxy_log" | tail -n 1)"
      ms=$(log_time_ms "$(grep '"event":"reloaded"' "$proxy_log" | tail -n 1)")
      reload_list+=("$(awk -v l="$ms" -v t="$t0" 'BEGIN { printf "%d", l - int(t * 1000) }')")
    done
    reload_ms=$(printf '%s\n' "${reload_list[@]}" | sort -g |
      awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')

    # Traffic: up to $apps_hosts apps spread over the table, in turn.
    hosts=()
    for ((i = 1; i <= apps_hosts && i <= n; i++)); do hosts+=("app$(((i - 1) * n / (apps_hosts < n ? apps_hosts : n) + 1))-bench.$domain"); done
    write_hosts_lua "$scratch/hosts.lua" "${hosts[@]}"
    run_wrk "proxy with $n apps" "$proxy_port" "$apps_connections" "$warmup" "$scratch/hosts.lua"
    local rps_sum=0 p99_sum=0 err_sum=0
    for ((r = 1; r <= rounds; r++)); do
      run_wrk "proxy with $n apps" "$proxy_port" "$apps_connections" "$duration" "$scratch/hosts.lua"
      read -r rps p50 p99 errors <<<"$wrk_result"
      rps_sum=$((rps_sum + rps)) err_sum=$((err_sum + errors))
      p99_sum=$(awk -v a="$p99_sum" -v b="$p99" 'BEGIN { print a + b }')
    done
    rps=$((rps_sum / rounds))
    p99=$(awk -v s="$p99_sum" -v r="$rounds" 'BEGIN { printf "%.3f", s / r }')
    rss_after=$(rss_kib "$proxy_pid")
    stop_newest # the proxy; the backend serves the next point
    check_proxy_stopped
    ms=$(awk -v a="$started" -v b="$listening" 'BEGIN { printf "%.0f", b - a * 1000 }')
    echo "$n,$ms,$rss,$reload_ms,$rss_after,$rps,$p99,$err_sum" >>"$runs"
    printf '  %7s %11s %10s %10s %12s %9s %9s %7s\n' "$n" "$ms" "$rss" "$reload_ms" "$rss_after" "$rps" "$p99" "$err_sum"
  done
  stop_all

  # Memory per app: the RSS above the smallest table's, over the apps added; left out where
  # the table added under 4 MiB, within what the RSS of a fresh proxy varies by.
  {
    head -n 1 "$runs"
    echo "apps,startup_ms,rss_kib,bytes_per_app,reload_ms,rss_after_kib,rps,p99_ms,errors"
    tail -n +3 "$runs" | sort -t, -k1,1n | awk -F, '
      NR == 1 { base_n = $1; base_rss = $3 }
      { per = $1 > base_n && $3 - base_rss >= 4096 ? ($3 - base_rss) * 1024 / ($1 - base_n) : ""
        printf "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", $1, $2, $3, (per == "" ? "" : sprintf("%.0f", per)), $4, $5, $6, $7, $8 }'
  } >"$csv"
  say "  csv: $csv"
  plot apps
}

for curve in $curves; do "curve_$curve"; done
