#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (build-fuzz/) and runs each,
# seeded with ONNX's node test suite (protobuf loader) and the lit tests' text
# models (text parser).
#   test/fuzz/run_libfuzzer.sh SECONDS     explore for that long per target
#   test/fuzz/run_libfuzzer.sh --runs N    N executions per target from a fixed
#                                          seed (reproducible: what CI runs)
# A crash, sanitizer report, leak, timeout or out-of-memory fails the run; the
# input that caused it is left in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
budget=(-max_total_time="${1:-60}")
if [[ "${1:-}" == --runs ]]; then
  budget=(-runs="$2" -seed=1)
fi
jobs=$(nproc)
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DONNXOPT_LIBFUZZER=ON -DONNXOPT_BUILD_TESTS=OFF -DONNXOPT_TORCHSCRIPT=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz-onnx-loader fuzz-onnx-text
work=build-fuzz/work
rm -rf "$work" && mkdir -p "$work/loader-seeds" "$work/text-seeds" build-fuzz/artifacts
# Seeds: every model of the node suite, and every text model of the lit tests.
i=0
for f in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
  cp "$f" "$work/loader-seeds/$((i++)).onnx"
done
i=0
for f in $(find test/lit examples -name '*.onnxtxt' | sort); do
  cp "$f" "$work/text-seeds/$((i++)).onnxtxt"
done
status=0
for target in loader text; do
  echo "== fuzz-onnx-$target: ${budget[*]}"
  mkdir -p "$work/$target-corpus"
  # -rss_limit_mb: an allocation the size checks should have refused fails.
  if ! build-fuzz/fuzz-onnx-$target "$work/$target-corpus" "$work/$target-seeds" \
      "${budget[@]}" -rss_limit_mb=2048 -timeout=20 -max_len=65536 \
      -artifact_prefix=build-fuzz/artifacts/$target- -print_final_stats=1 \
      > "$work/$target.log" 2>&1; then
    status=1
    tail -40 "$work/$target.log"
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|Done [0-9]+ runs" "$work/$target.log" || true
done
if [[ $status -eq 0 ]]; then
  echo "libfuzzer: 2 passed, 0 failed"
else
  echo "libfuzzer: failed (see above; inputs in build-fuzz/artifacts/)"
fi
exit $status
