#!/usr/bin/env bash
# Builds everything with sanitizers (gcc; -DIGNITE_SANITIZE, cmake/sanitizers.cmake) and
# runs the tests on that build. The integration tests start the build's own ignite-proxy,
# greeter and pods, so those run sanitized too.
#   scripts/sanitize.sh address   # build-asan/: ASan + UBSan, the whole suite
#   scripts/sanitize.sh thread    # build-tsan/: TSan, the threaded parts
# Every process writes its reports to <build>/sanitizer-logs/ (the proxy is a child of
# the tests, and a test that kills it would never see its stderr): any report there
# fails the script, as does any failing test.
#
# Not run sanitized: the container tests (container.*, registry_harness.*). Their images
# are built FROM scratch around fully static programs, and the sanitizer runtimes cannot
# be linked statically; the plain suite (scripts/test.sh) runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
case "$kind" in
  address) dir=build-asan sanitize=address,undefined ;;
  thread) dir=build-tsan sanitize=thread ;;
  *) echo "usage: scripts/sanitize.sh address|thread" >&2; exit 2 ;;
esac
scripts/install-deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIGNITE_SANITIZE="$sanitize" -DIGNITE_BUILD_BENCH=OFF \
  "${launcher[@]}" >/dev/null

logs=$PWD/$dir/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
supp=$PWD/tests/sanitizers
# halt_on_error: the first report ends the process (the proxy included), so the test
# that provoked it fails too; log_path: reports from child processes are kept.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1:log_path=$logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:log_path=$logs/tsan"

containers='^(container|registry_harness)\.'
status=0
if [ "$kind" = address ]; then
  cmake --build "$dir" -j"$(nproc)"
  (cd "$dir" && ctest --output-on-failure -j"$(nproc)" --timeout 300 -E "$containers") || status=$?
else
  # The threaded parts: what more than one thread touches.
  #  - the proxy with four workers (IGNITE_TEST_PROXY_THREADS) under the integration
  #    tests that drive shared state: cold starts (version pools and their hold queues,
  #    shared by the workers; pod starts and readiness probes on the supervisor), host
  #    routing and the lifecycle (route snapshots swapped on reload while workers read
  #    them; drain), and the control API (route rebuilds from the store's watch thread,
  #    invoke from the admin thread into the data plane), and the cluster (three nodes
  #    sharing pods: each node's etcd watches, lease and claim threads against its
  #    workers and pools);
  #  - the unit tests of coldstart (pool registry, version pools: the supervisor and the
  #    workers), proxy (workers, upstream pool, sessions), routing (the SQLite store and
  #    its watchers), app (events) and cluster (the etcd store: its watch threads and
  #    health probe against API threads, with a real etcd), each binary run whole.
  # The other integration suites check one connection's bytes on one worker: nothing
  # there is shared that the suites above do not already cross.
  units=(coldstart_test proxy_test routing_test app_test cluster_test)
  cmake --build "$dir" -j"$(nproc)" --target integration_test "${units[@]}"
  for t in "${units[@]}"; do
    echo "== $t"
    "$dir/tests/$t" --gtest_brief=1 || status=$?
  done
  (cd "$dir" && IGNITE_TEST_PROXY_THREADS=4 ctest --output-on-failure -j"$(nproc)" --timeout 300 \
    -R '^(cold_start|host_routing|lifecycle|control_api|cluster)\.') || status=$?
fi
if compgen -G "$logs/*" >/dev/null; then
  echo "== sanitizer reports ($logs):" >&2
  cat "$logs"/* >&2
  exit 1
fi
exit "$status"
