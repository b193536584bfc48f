#!/usr/bin/env bash
# Builds onnx-opt and runs every test: unit, lit, bad input, the ONNX conformance
# round trip, the PyTorch-exported models through ONNX Runtime and the generative
# differential fuzzer; then the libFuzzer targets (clang-14) for a fixed time;
# then the fast suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Set ONNXOPT_SKIP_SANITIZERS=1 to skip the sanitizer build,
# ONNXOPT_LIBFUZZER_RUNS to change the libFuzzer executions per target (default
# 300000, from a fixed seed: the same inputs every run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
jobs=$(nproc)
# Tests on explicitly: quickstart.sh configures the same build/ with them off.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONNXOPT_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
# --no-tests=error: a build without tests fails instead of passing empty.
(cd build && ctest --output-on-failure --no-tests=error -j"$jobs")
test/fuzz/run_libfuzzer.sh --runs "${ONNXOPT_LIBFUZZER_RUNS:-300000}"
if [[ "${ONNXOPT_SKIP_SANITIZERS:-0}" != 1 ]]; then
  # libtorch is not built with the sanitizers: the TorchScript frontend is
  # tested in the normal build only.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DONNXOPT_SANITIZE=ON -DONNXOPT_TORCHSCRIPT=OFF \
    -DONNXOPT_BUILD_TESTS=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --no-tests=error -j"$jobs")
fi
