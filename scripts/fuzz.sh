#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/ and runs each
# for FUZZ_SECONDS (default 60) on a scratch copy of its committed seed corpus, so the
# corpus in the tree only changes when a new case is added on purpose. A crash leaves
# its input in build-fuzz/artifacts/ and fails the script: add it to the seeds and to a
# regression test.
#   scripts/fuzz.sh                 # every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh request_framing_fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v clang++-14 >/dev/null || { echo "needs clang++-14 (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
seconds=${FUZZ_SECONDS:-60}
CXX=clang++-14 cmake -S . -B build-fuzz -DIGNITE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=("$@")
((${#targets[@]})) || targets=(request_framing_fuzz)
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"
mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  seeds=tests/fuzz/corpus/${t%_fuzz}
  work=build-fuzz/corpus/${t%_fuzz}
  mkdir -p "$work"
  cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  echo "== $t: ${seconds}s on $(ls "$work" | wc -l) inputs"
  build-fuzz/tests/fuzz/"$t" -max_total_time="$seconds" -max_len=131072 -timeout=10 \
    -artifact_prefix=build-fuzz/artifacts/"$t"- -print_final_stats=1 "$work"
done
