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

# Raises the soft descriptor limit to 65536 (or the hard limit, if lower), and dies unless
# it is then above $1; $2 says what needs that many, for the message.
raise_nofile() {
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
