#!/usr/bin/env bash
# Builds onnx-opt and runs it on the bundled sample model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONNXOPT_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target onnx-opt
echo "== onnx-opt examples/models/sample.onnxtxt -o build/sample.onnx --summary"
build/onnx-opt examples/models/sample.onnxtxt -o build/sample.onnx --summary
echo "== onnx-opt build/sample.onnx   (back to text)"
build/onnx-opt build/sample.onnx
echo "== onnx-opt build/sample.onnx -O1 --pass-statistics   (the Identity goes)"
build/onnx-opt build/sample.onnx -O1 --pass-statistics
echo "== onnx-opt build/sample.onnx -O2 --verify --verify-shape N=2 -o build/sample.O2.onnx   (outputs checked against the original)"
build/onnx-opt build/sample.onnx -O2 --verify --verify-shape N=2 -o build/sample.O2.onnx
echo "== onnx-opt build/sample.O2.onnx --evaluate --verify-shape N=2   (run with the reference interpreter)"
build/onnx-opt build/sample.O2.onnx --evaluate --verify-shape N=2
