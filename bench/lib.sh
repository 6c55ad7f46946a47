# shellcheck shell=bash
# bench/lib.sh: the shell helpers bench/run.sh and bench/coldstart.sh share. Sourced, not run:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It only defines functions. The options (set -euo pipefail) and the knobs are the
# scripts'; the traps are set when a script calls install_cleanup.
#
# Variables a script sets before it calls the helpers that read them:
#   root       the repository                                    build
#   build_dir  build tree to use/configure                       build
#   scratch    the run's private scratch dir                     cleanup, start_proxy
#   keep       1: cleanup keeps $scratch (and says where)        cleanup
#   pids       array: background processes, in start order       stop_all, cleanup, start_proxy
#   proxy_log  file the proxy's stderr (JSON log lines) goes to  proxy_http_port, start_proxy,
#                                                                check_proxy_stopped
#   proxy_bin  the ignite-proxy binary                           start_proxy
# And start_proxy sets proxy_pid and proxy_port for the script.
#
# shellcheck disable=SC2154,SC2034 # it reads the variables above, and sets two

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Polls a command until it succeeds, for at most $1 seconds: every wait here has a cap.
wait_until() {
  local cap=$1; shift
  local deadline=$((SECONDS + cap))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# ---------------------------------------------------------------- build and limits

# Builds the targets given ("ignite-proxy bench_backend …") in $build_dir, configuring it
# RelWithDebInfo first if it is not yet. The compiler's chatter is kept out of the report,
# and shown whole if the build fails.
build() {
  local log
  log=$(mktemp /tmp/ignite-bench-build.XXXXXX)
  if [ -x "$root/scripts/install-deps.sh" ]; then "$root/scripts/install-deps.sh"; fi
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$log" 2>&1 ||
      { cat "$log"; rm -f "$log"; die "cmake configure failed"; }
  fi
  local type
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt")
  case "$type" in
    Release|RelWithDebInfo) ;;
    *) say "warning: $build_dir is a '$type' build; numbers from it say little" ;;
  esac
  cmake --build "$build_dir" -j"$(nproc)" --target "$@" >"$log" 2>&1 ||
    { cat "$log"; rm -f "$log"; die "build failed"; }
  rm -f "$log"
}

# Raises the soft descriptor limit to 65536 (or the hard limit, if lower and not root's to raise), and dies unless
# it is then above $1; $2 says what needs that many, for the message.
raise_nofile() {
  ulimit -Hn 131072 2>/dev/null || true # root may raise the hard limit too
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  (($(ulimit -n) > $1)) || die "ulimit -n is $(ulimit -n): too low for $2"
}

# ---------------------------------------------------------------- processes and cleanup

exited() { ! kill -0 "$1" 2>/dev/null; }

# One at a time, newest first, so the start order decides the stop order: clients before
# the proxies, the proxies before a backend, so a proxy's drain is never stuck waiting on
# a backend that is already gone. The proxy stops its pods itself.
stop_all() {
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    wait_until 10 exited "$pid" || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_all
  if [ "$keep" = 1 ]; then say "scratch dir kept: $scratch"; else rm -rf "$scratch"; fi
  exit "$status"
}

# Called once $scratch and pids are set: from then on every exit, Ctrl-C included, stops
# what was started and removes the scratch dir.
install_cleanup() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# The first child of a process, or nothing: nginx's master forks the worker that does the
# work (with worker_processes 1 it is the only child); the proxy's pods are its children.
child_of() {
  local kids
  read -ra kids < <(cat /proc/"$1"/task/*/children 2>/dev/null; echo)
  ((${#kids[@]})) || read -ra kids < <(pgrep -P "$1"; echo)
  echo "${kids[0]:-}"
}

# ---------------------------------------------------------------- the proxy

# Its {"event":"listening","listener":"http","address":"127.0.0.1:PORT"} line has the port.
proxy_http_port() {
  grep -s '"event":"listening"' "$proxy_log" | grep '"listener":"http"' |
    sed -n 's/.*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' | head -n 1
}
proxy_listening() { [ -n "$(proxy_http_port)" ]; }

# Starts the proxy on $scratch/proxy.json, its log to $proxy_log, and waits (capped) until
# it listens: sets proxy_pid and proxy_port.
start_proxy() {
  "$proxy_bin" --config "$scratch/proxy.json" 2>"$proxy_log" &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_until 10 proxy_listening || die "ignite-proxy did not start: $(tail -n 5 "$proxy_log")"
  proxy_port=$(proxy_http_port)
}

# After stop_all: a proxy that stopped cleanly on SIGTERM logged so.
check_proxy_stopped() {
  grep -qs '"event":"stopped"' "$proxy_log" || say "note: the proxy did not log \"stopped\" on SIGTERM"
}

# ---------------------------------------------------------------- ports and memory

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on, for nginx and HAProxy (which cannot report one they picked).
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 12000))
    if ! port_open "$port"; then echo "$port"; return; fi
  done
  die "no free port found"
}

# Resident memory of one or more processes, summed.
rss_kib() { local pid; for pid; do cat "/proc/$pid/status"; done | awk '/^VmRSS:/ { t += $2 } END { print t }'; }

# ---------------------------------------------------------------- the proxies compared

# The same job for every proxy under test, as far as each can express it: Host routing
# with 404 for other hosts and paths, POST only, the x-ignite-* request headers and the
# execution id on the answer, X-Forwarded-*, a kept-alive upstream pool, the proxy's
# limits and timeouts, and one JSON access-log line per request.

# write_nginx_conf DIR PORT BACKEND_PORT HOST ACCESS_LOG(1|0) [WORKERS] [EXTRA_MAIN]:
# DIR/nginx.conf, nginx as that reverse proxy. EXTRA_MAIN goes into the main context
# (e.g. "master_process off;" to run the worker itself under a profiler).
write_nginx_conf() {
  local dir=$1 port=$2 backend_port=$3 host=$4 access_log=$5 workers=${6:-1} extra=${7:-}
  local user="" log="access_log off;"
  mkdir -p "$dir"
  # As root, nginx would run its worker as nobody, who cannot enter a private scratch dir.
  if [ "$(id -u)" -eq 0 ]; then user="user root;"; fi
  if [ "$access_log" = 1 ]; then log="access_log $dir/access.log ignite buffer=64k flush=1s;"; fi
  cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
$extra
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile $(ulimit -n);
$user
events { worker_connections 16384; }
http {
  log_format ignite escape=json '{"time":"\$time_iso8601","event":"request","execution_id":"\$request_id",'
                                '"app":"acme-corp:bench","version":1,"status":\$status,'
                                '"duration_ms":\$request_time,"cold_start":false}';
  $log
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server_tokens off;
  keepalive_timeout 60s;            # client_idle_timeout_ms
  keepalive_requests 1000000;       # the proxy never closes a busy keep-alive connection
  client_header_timeout 10s;        # client_header_timeout_ms
  client_body_timeout 10s;
  client_max_body_size 6m;          # max_body_bytes
  large_client_header_buffers 4 16k;

  upstream bench_app {
    server 127.0.0.1:$backend_port;
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:$port default_server;
    return 404;                      # app_not_found
  }
  server {
    listen 127.0.0.1:$port;
    server_name $host;
    location = / {
      if (\$request_method != POST) { return 405; }
      proxy_pass http://bench_app;
      proxy_http_version 1.1;
      proxy_connect_timeout 2s;
      proxy_read_timeout 300s;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header x-ignite-execution-id \$request_id;
      proxy_set_header x-ignite-app-id acme-corp:bench;
      proxy_set_header x-ignite-org acme-corp;
      proxy_set_header x-ignite-app bench;
      proxy_set_header x-ignite-version 1;
      proxy_set_header x-ignite-cold-start false;
      proxy_set_header x-ignite-deadline-ms \$msec;   # nginx cannot add request_timeout without a script module
      proxy_set_header x-ignite-source public;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
      add_header x-ignite-execution-id \$request_id always;
      add_header x-ignite-cold-start false always;
    }
    location / { return 404; }       # path_not_found
  }
}
EOF
}

# write_haproxy_conf FILE PORT BACKEND_PORT HOST ACCESS_LOG(1|0) [THREADS]: HAProxy as
# that reverse proxy. Its access log goes to stdout, one write per line (HAProxy has no
# buffered file log); the caller sends stdout to a file. Its maxconn is what the
# descriptor limit allows; it is left in haproxy_maxconn.
write_haproxy_conf() {
  local file=$1 port=$2 backend_port=$3 host=$4 access_log=$5 threads=${6:-1} log=""
  # Two descriptors a connection, within this shell's limit (HAProxy refuses to start
  # with a maxconn it cannot open).
  local maxconn=$((($(ulimit -n) - 100) / 2))
  haproxy_maxconn=$maxconn
  if [ "$access_log" = 1 ]; then log="log stdout format raw local0"; fi
  cat >"$file" <<EOF
global
  nbthread $threads
  maxconn $maxconn
  $log
defaults
  mode http
  log global
  option http-keep-alive
  http-reuse always
  timeout connect 2s
  timeout client 60s
  timeout server 300s
  timeout http-request 10s
  timeout http-keep-alive 60s
  log-format '{"time":"%tr","event":"request","execution_id":"%ID","app":"acme-corp:bench","version":1,"status":%ST,"duration_ms":%Ta,"cold_start":false}'
frontend ignite
  bind 127.0.0.1:$port
  maxconn $maxconn
  unique-id-format %{+X}o%ci%cp%fp%Ts%rt%pid
  unique-id-header x-ignite-execution-id
  http-request return status 404 unless { hdr(host) -i $host }
  http-request return status 404 unless { path / }
  http-request return status 405 unless METH_POST
  http-request del-header x-forwarded-for
  http-request set-header x-ignite-app-id acme-corp:bench
  http-request set-header x-ignite-org acme-corp
  http-request set-header x-ignite-app bench
  http-request set-header x-ignite-version 1
  http-request set-header x-ignite-cold-start false
  http-request set-header x-ignite-deadline-ms %[date(0,ms)]
  http-request set-header x-ignite-source public
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  option forwardfor
  http-response set-header x-ignite-execution-id %[unique-id]
  http-response set-header x-ignite-cold-start false
  default_backend bench_app
backend bench_app
  server app 127.0.0.1:$backend_port
EOF
}
