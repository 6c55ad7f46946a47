#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/ and runs each
# for FUZZ_SECONDS (default 60) on a scratch copy of its committed seed corpus, so the
# corpus in the tree only changes when a new case is added on purpose. A crash leaves
# its input in build-fuzz/artifacts/ and fails the script (after the other targets have
# run): copy it into tests/fuzz/corpus/<target>/, where the normal test suite replays it
# (<target>_replay), fix the code, and add a unit test that names the bug.
#   scripts/fuzz.sh                               # every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh request_head # one target (request_head_fuzz also works)
# Targets: request_framing request_head host_routing config admin_api.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v clang++-14 >/dev/null || { echo "needs clang++-14 (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
seconds=${FUZZ_SECONDS:-60}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CXX=clang++-14 cmake -S . -B build-fuzz -DIGNITE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
names=()
for t in "$@"; do names+=("${t%_fuzz}"); done
((${#names[@]})) || names=(request_framing request_head host_routing config admin_api)
cmake --build build-fuzz -j"$(nproc)" --target "${names[@]/%/_fuzz}"
mkdir -p build-fuzz/artifacts
failed=()
for name in "${names[@]}"; do
  work=build-fuzz/corpus/$name
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  echo "== ${name}_fuzz: ${seconds}s on $(ls "$work" | wc -l) inputs"
  # -rss_limit_mb: ASan's shadow memory counts; 2 GB is libFuzzer's default, kept explicit.
  build-fuzz/tests/fuzz/"${name}_fuzz" -max_total_time="$seconds" -max_len=131072 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/artifacts/"$name"- -print_final_stats=1 "$work" 2>&1 | grep -v '^#[0-9]' ||
    failed+=("$name")
done
if ((${#failed[@]})); then
  echo "fuzz: crashes in ${failed[*]}; inputs in build-fuzz/artifacts/" >&2
  exit 1
fi
