#!/usr/bin/env bash
# Where each pass lives, checked: every Passes.def entry ONNXOPT_PASS(arg, alias,
# createXPass) has its source file passes/<folder>/X.cpp, in the folder its name
# implies (fuse-*, replace-*: fusion; *fold*: fold; shape-inference: analysis;
# convert-*: convert;
# the rest: cleanup), defining createXPass, and its lit test
# test/lit/passes/<arg>.onnxtxt; every .cpp in those folders is such a file.
# Pattern code (files with matchAndRewrite, and PatternUtils.cpp) changes the
# graph only through the Rewriter: no direct Node/Graph/Value mutator calls;
# the same holds for the targets' lowering patterns under backends/.
#   test/check-passes.sh SOURCE_DIR
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
bad=0
fail() { echo "passes: $*"; bad=1; }
declare -A seen=()
entries=$(tr '\n' ' ' < passes/Passes.def | grep -oE 'ONNXOPT_PASS\("[^"]+", *"[^"]*", *create[A-Za-z]+Pass\)' || true)
count=0
while IFS= read -r e; do
  [[ -n "$e" ]] || continue
  arg=$(sed -E 's/ONNXOPT_PASS\("([^"]+)".*/\1/' <<<"$e")
  name=$(sed -E 's/.*create([A-Za-z]+)Pass\)/\1/' <<<"$e")
  case "$arg" in
    fuse-* | replace-*) folder=fusion ;;
    *fold*) folder=fold ;;
    shape-inference) folder=analysis ;;
    convert-*) folder=convert ;;
    *) folder=cleanup ;;
  esac
  file="passes/$folder/$name.cpp"
  count=$((count + 1))
  seen[$file]=1
  if [[ ! -f "$file" ]]; then
    fail "$arg: no $file"
  elif ! grep -q "std::unique_ptr<Pass> create${name}Pass()" "$file"; then
    fail "$arg: $file does not define create${name}Pass()"
  fi
  [[ -f "test/lit/passes/$arg.onnxtxt" ]] || fail "$arg: no test/lit/passes/$arg.onnxtxt"
done <<<"$(sed 's/) *ONNXOPT_PASS/)\nONNXOPT_PASS/g' <<<"$entries")"
[[ $count -gt 0 ]] || fail "no ONNXOPT_PASS entry read from passes/Passes.def"
for f in passes/{analysis,cleanup,convert,fold,fusion}/*.cpp; do
  [[ -n "${seen[$f]+x}" ]] || fail "$f is not the file of a Passes.def entry"
done
# The targets' lowering passes (backends/<target>/, registered with
# registerPass in the target's file): each has its lit test
# test/lit/targets/<arg>.onnxtxt.
for f in backends/*/*Target.cpp; do
  for arg in $(grep -oE 'registerPass\(\{"[^"]+"' "$f" | sed -E 's/.*"([^"]+)"/\1/'); do
    count=$((count + 1))
    [[ -f "test/lit/targets/$arg.onnxtxt" ]] || fail "$arg: no test/lit/targets/$arg.onnxtxt"
  done
done
mutators='setInput|addInput|truncateInputs|setAttr|removeAttr|setOp|erase|replaceAllUsesWith|replaceUsesWithIf|moveBefore|addInitializer|addSparseInitializer|createNode|setType|setName|mutableAttrs'
for f in passes/PatternUtils.cpp $(grep -l 'matchAndRewrite' passes/*/*.cpp backends/*/*.cpp); do
  while IFS= read -r hit; do
    [[ -n "$hit" ]] && fail "$f:${hit%%:*}: mutates outside the Rewriter:${hit#*:}"
  done < <(grep -nP "(->($mutators)\()|((?<!\br)(?<!\brewriter)\.($mutators)\()" "$f" || true)
done
if [[ $bad == 0 ]]; then
  echo "passes: $count pass files and lit tests, patterns mutate through the Rewriter"
fi
exit $bad
