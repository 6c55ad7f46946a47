#!/usr/bin/env bash
# bench/instructions.sh: instructions and syscalls per proxied request, for ignite-proxy,
# nginx and HAProxy doing the same job (bench/lib.sh's configs) in front of one backend.
#
#   bench/instructions.sh                        # builds, runs, prints
#   BENCH_REQUESTS=50000 bench/instructions.sh
#
# Instructions are the figure a shared machine disturbs least: each target runs under
# callgrind twice, "idle" (start, a warm-up of BENCH_WARMUP_REQUESTS requests, stop) and
# "loaded" (the same, then BENCH_REQUESTS more), and (loaded - idle) / BENCH_REQUESTS is
# what one more request costs it, without start-up and warm-up. Each run's top functions
# by their own cost are printed with BENCH_TOP=N.
# Syscalls: the same warm-up, then BENCH_REQUESTS requests with `strace -c -f` attached,
# counted per request by name.
# The load is h2load over HTTP/1.1: BENCH_CONNECTIONS keep-alive connections, POST / with
# a small JSON body. Every target runs one worker (nginx with master_process off, so the
# worker is the process measured; HAProxy one thread).
#
# Knobs (environment):
#   BUILD_DIR               build tree to use/configure                 (default: <repo>/build)
#   BENCH_REQUESTS          measured requests per target                (default: 20000)
#   BENCH_WARMUP_REQUESTS   requests in both runs, before the measured  (default: 2000)
#   BENCH_CONNECTIONS       h2load connections                          (default: 16)
#   BENCH_TARGETS           which to measure                            (default: "proxy nginx haproxy")
#   BENCH_TOP               functions listed per target, 0 for none     (default: 10)
#   BENCH_SYSCALLS          1: count syscalls too                       (default: 1)
#   BENCH_INSTRUCTIONS      0: syscalls only (e.g. for a build callgrind cannot run:
#                           valgrind does not follow io_uring)          (default: 1)
#   BENCH_PROXY_BIN         the ignite-proxy binary to measure, e.g. another build's
#                                                                        (default: $BUILD_DIR/ignite-proxy)
#   BENCH_KEEP              1: keep the scratch dir (callgrind files)   (default: 0)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
requests=${BENCH_REQUESTS:-20000}
warmup=${BENCH_WARMUP_REQUESTS:-2000}
connections=${BENCH_CONNECTIONS:-16}
read -ra targets <<<"${BENCH_TARGETS:-proxy nginx haproxy}"
targets_measured=("${targets[@]}") # under callgrind
top=${BENCH_TOP:-10}
count_syscalls=${BENCH_SYSCALLS:-1}
count_instructions=${BENCH_INSTRUCTIONS:-1}
keep=${BENCH_KEEP:-0}

readonly app_host=bench-acme-corp.ignite.dodil.cloud
readonly body='{"name":"ada"}'

for knob in requests warmup connections top; do
  [[ ${!knob} =~ ^[0-9]+$ ]] || die "$knob must be a whole number, got '${!knob}'"
done
((requests > 0)) || die "BENCH_REQUESTS must be at least 1"

missing=()
for tool in valgrind:valgrind h2load:nghttp2-client nginx:nginx haproxy:haproxy strace:strace; do
  command -v "${tool%%:*}" >/dev/null || [ -x "/usr/sbin/${tool%%:*}" ] || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
  say "installing: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
build ignite-proxy bench_backend
proxy_bin=${BENCH_PROXY_BIN:-$build_dir/ignite-proxy}
[ -x "$proxy_bin" ] || die "no ignite-proxy at $proxy_bin"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)
raise_nofile 1000 "the connections"

scratch=$(mktemp -d /tmp/ignite-instructions.XXXXXX)
proxy_log=$scratch/proxy.log
pids=()
install_cleanup
printf '%s' "$body" >"$scratch/body.json"

"$build_dir/bench/bench_backend" 0 >"$scratch/backend.out" 2>&1 &
pids+=("$!")
wait_until 10 grep -qs 'listening on' "$scratch/backend.out" || die "bench_backend did not start"
backend_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$scratch/backend.out")

# Fixed ports, so that each run of a target is set up alike.
proxy_port=$(free_port)
cat >"$scratch/proxy.json" <<EOF
{
  "domain": "ignite.dodil.cloud",
  "listen": { "http": "127.0.0.1:$proxy_port", "admin": "127.0.0.1:0" },
  "threads": 1,
  "state_file": "$scratch/state.json",
  "log": { "access_file": "$scratch/proxy-access.log", "access_stderr": false },
  "apps": [
    { "org": "acme-corp", "name": "bench", "active_version": 1,
      "versions": [ { "version": 1, "endpoints": ["127.0.0.1:$backend_port"] } ] }
  ]
}
EOF
nginx_port=$(free_port)
write_nginx_conf "$scratch/nginx" "$nginx_port" "$backend_port" "$app_host" 1 1 "master_process off;"
haproxy_port=$(free_port)
write_haproxy_conf "$scratch/haproxy.cfg" "$haproxy_port" "$backend_port" "$app_host" 1 1

port_of() { case $1 in proxy) echo "$proxy_port" ;; nginx) echo "$nginx_port" ;; haproxy) echo "$haproxy_port" ;; esac; }
# The command line of a target, its output to $2.
command_of() {
  case $1 in
    proxy) echo "$proxy_bin --config $scratch/proxy.json" ;;
    nginx) echo "$nginx_bin -p $scratch/nginx -c $scratch/nginx/nginx.conf -e $scratch/nginx/error.log" ;;
    haproxy) echo "$haproxy_bin -db -f $scratch/haproxy.cfg" ;;
    *) die "unknown target: $1" ;;
  esac
}
# The signal each stops cleanly on: the proxy drains on SIGTERM, nginx quits gracefully
# on SIGQUIT, HAProxy stops softly on SIGUSR1.
stop_signal_of() { case $1 in proxy) echo TERM ;; nginx) echo QUIT ;; haproxy) echo USR1 ;; esac; }

# load PORT N: N requests; prints how many succeeded (2xx).
load() {
  local out
  out=$(h2load --h1 -n "$2" -c "$connections" -t 1 -d "$scratch/body.json" \
    -H ":authority: $app_host" -H 'content-type: application/json' "http://127.0.0.1:$1/" 2>&1) ||
    die "h2load failed: $out"
  local ok
  ok=$(awk '/^status codes:/ { gsub(",", ""); print $3 }' <<<"$out")
  [ "$ok" = "$2" ] || die "h2load: $ok of $2 answered 2xx: $(grep -E '^(requests|status codes):' <<<"$out")"
  echo "$ok"
}

# run_target TARGET MEASURED [WRAPPER...]: starts the target (under the wrapper), the
# warm-up, then MEASURED requests (0 for none), with $during_load (if set) watching them:
# it is run with the target's pid before and killed with SIGINT after. Then the target is
# stopped cleanly and waited for.
during_load=()
run_target() {
  local target=$1 measured=$2; shift 2
  local port pid watcher=""
  port=$(port_of "$target")
  # shellcheck disable=SC2046 # the command line is words
  "$@" $(command_of "$target") >"$scratch/$target.out" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_until 120 port_open "$port" || die "$target did not start: $(tail -n 5 "$scratch/$target.out")"
  load "$port" "$warmup" >/dev/null
  if ((${#during_load[@]})); then
    "${during_load[@]}" "$pid" 2>"$scratch/watcher.err" &
    watcher=$!
    pids+=("$watcher")
    watching() { grep -qs 'attached' "$scratch/watcher.err"; }
    wait_until 10 watching || die "could not watch $target: $(cat "$scratch/watcher.err")"
  fi
  if ((measured > 0)); then load "$port" "$measured" >/dev/null; fi
  if [ -n "$watcher" ]; then
    kill -INT "$watcher"
    wait_until 30 exited "$watcher" || die "the watcher did not stop"
    wait "$watcher" 2>/dev/null || true
    unset 'pids[${#pids[@]}-1]'
  fi
  kill -"$(stop_signal_of "$target")" "$pid"
  wait_until 120 exited "$pid" || die "$target did not stop on SIG$(stop_signal_of "$target")"
  wait "$pid" 2>/dev/null || true
  unset 'pids[${#pids[@]}-1]'
}

# Total instructions (Ir) in a callgrind output file.
instructions_in() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }

say "backend :$backend_port; $requests measured requests after $warmup warm-up ones, $connections connections;" \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A per_request=()
((count_instructions)) || targets_measured=()
for target in "${targets_measured[@]}"; do
  for mode in idle loaded; do
    measured=0
    if [ "$mode" = loaded ]; then measured=$requests; fi
    run_target "$target" "$measured" valgrind --tool=callgrind --trace-children=no \
      --callgrind-out-file="$scratch/callgrind.$target.$mode"
  done
  idle=$(instructions_in "$scratch/callgrind.$target.idle")
  loaded=$(instructions_in "$scratch/callgrind.$target.loaded")
  [ -n "$idle" ] && [ -n "$loaded" ] || die "$target: no callgrind totals"
  per_request[$target]=$(awk -v l="$loaded" -v i="$idle" -v n="$requests" 'BEGIN { printf "%.0f", (l - i) / n }')
  say "  $target: idle run $idle, loaded run $loaded instructions: ${per_request[$target]} per request"
  if ((top > 0)); then
    say "    top $top functions by own cost, loaded run (share of its instructions):"
    callgrind_annotate --inclusive=no "$scratch/callgrind.$target.loaded" 2>/dev/null |
      awk -v top="$top" '
        /PROGRAM TOTALS/ { totals = 1; next }
        totals && /^ *[0-9,]+ \( *[0-9.]+%\)/ && n < top {
          share = $2 $3; gsub(/[()]/, "", share)
          sub(/^ *[0-9,]+ \( *[0-9.]+%\) +/, ""); sub(/^[^:]*:/, ""); sub(/ \[[^]]*\]$/, "")
          printf "      %6s  %s\n", share, substr($0, 1, 120); n++ }'
  fi
done

if ((count_syscalls)); then
  say ""
  say "Syscalls per request (strace -c -f attached for $requests requests after the warm-up; the"
  say "timers and other work of those seconds are counted in):"
  declare -A syscalls
  for target in "${targets[@]}"; do
    during_load=(strace -c -f -o "$scratch/strace.$target" -p)
    run_target "$target" "$requests"
    during_load=()
    syscalls[$target]=$(awk -v n="$requests" '
      $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { d = $4 / n; total += d; if (d >= 0.01) out = out sprintf("%s %.2f, ", $NF, d) }
      END { printf "%.2f  (%s)", total, substr(out, 1, length(out) - 2) }' "$scratch/strace.$target")
    say "  $target: ${syscalls[$target]}"
  done
fi

((${#per_request[@]})) && say "" && say "Instructions per proxied request:"
for target in "${targets_measured[@]}"; do
  line="  $(printf '%-8s %8s' "$target" "${per_request[$target]}")"
  if [ "$target" != proxy ] && [ -n "${per_request[proxy]:-}" ]; then
    line+=$(awk -v p="${per_request[proxy]}" -v t="${per_request[$target]}" 'BEGIN { printf "   proxy/%s: %.2f", "'"$target"'", p / t }')
  fi
  say "$line"
done
stop_all
