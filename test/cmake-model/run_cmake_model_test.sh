#!/usr/bin/env bash
# Installs onnx-opt from BUILD_DIR and builds examples/cmake-model with Ninja
# against the installed package, on a model whose weights are an external-data
# file: the first build writes the optimized model and its depfile, a second
# build runs nothing, touching the external-data file (or the model) rebuilds
# it. Then --depfile's own contract: the rule names every input, and it needs
# -o FILE.
# Usage: run_cmake_model_test.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work"; mkdir -p "$work/model"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
opt="$work/prefix/bin/onnx-opt"
fail() { echo "FAIL: $*"; exit 1; }

# The model, its weights in model.weights (every initializer external).
"$opt" "$src/examples/models/sample.onnxtxt" -o "$work/model/model.onnx" \
    --external-data=model.weights --external-data-threshold=0
[[ -s "$work/model/model.weights" ]] || fail "no external data written"

cmake -S "$src/examples/cmake-model" -B "$work/b" -G Ninja \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DMODEL="$work/model/model.onnx" >/dev/null
built() { cmake --build "$work/b" 2>&1 | tee "$work/log" >/dev/null; grep -q "onnx-opt " "$work/log"; }

built || fail "the first build did not run onnx-opt: $(cat "$work/log")"
[[ -s "$work/b/model.opt.onnx" ]] || fail "no optimized model"
grep -q "model.weights" "$work/b/model.opt.onnx.d" || fail "the depfile lacks the weights: $(cat "$work/b/model.opt.onnx.d")"
"$opt" "$work/b/model.opt.onnx" --evaluate >/dev/null || fail "the output does not evaluate"

built && fail "a second build with nothing changed ran onnx-opt: $(cat "$work/log")"
grep -q "no work to do" "$work/log" || fail "ninja did work: $(cat "$work/log")"

sleep 1; touch "$work/model/model.weights"
built || fail "touching the external-data file did not rebuild: $(cat "$work/log")"
built && fail "the rebuild did not settle"
sleep 1; touch "$work/model/model.onnx"
built || fail "touching the model did not rebuild: $(cat "$work/log")"

# The depfile names the model, its external data and a plugin, escaped.
mkdir -p "$work/with space"
cp "$work/model/model.onnx" "$work/model/model.weights" "$work/with space/"
"$opt" "$work/with space/model.onnx" -O1 -o "$work/out.onnx" --depfile="$work/out.d"
expected="$work/out.onnx: \\
  ${work// /\\ }/with\\ space/model.onnx \\
  ${work// /\\ }/with\\ space/model.weights"
[[ "$(cat "$work/out.d")" == "$expected" ]] || fail "depfile: $(cat "$work/out.d") != $expected"
set +e; "$opt" "$work/model/model.onnx" --depfile="$work/x.d" >/dev/null 2>"$work/err"; rc=$?; set -e
[[ $rc -eq 2 ]] && grep -q "needs -o FILE" "$work/err" || fail "--depfile without -o: exit $rc: $(cat "$work/err")"
[[ ! -e "$work/x.d" ]] || fail "a depfile was written on a usage error"
echo "cmake-model: first build ran onnx-opt, the second nothing, touching the weights or the model rebuilt; depfile escaped"
