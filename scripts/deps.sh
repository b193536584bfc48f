#!/usr/bin/env bash
# Installs what onnx-opt needs on Debian 12 (as root), only what is missing.
# Usage: scripts/deps.sh [--test]   (--test adds the test oracles)
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(cmake g++ make libprotobuf-dev protobuf-compiler libonnx-dev libabsl-dev
            llvm-14-dev libgtest-dev libgmock-dev libbenchmark-dev clang-format
            libtorch-dev pybind11-dev python3-dev)
test_pkgs=(libonnx-testdata python3-onnx python3-numpy python3-torch python3-torchvision
           llvm-14-tools nodejs npm clang-14 libclang-rt-14-dev ninja-build graphviz chromium
           python3-sklearn)
pkgs=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from outside Debian's packages; accept any working node/npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" && ! -d tools/ort/node_modules/onnxruntime-node ]]; then
  echo "deps: installing onnxruntime-node (npm, --ignore-scripts)"
  (cd tools/ort && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi
