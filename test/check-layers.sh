#!/usr/bin/env bash
# The layering of DESIGN.md, checked on the include graph: each top-level
# folder may include only the folders listed for it. Prints every offending
# include and exits 1 if there is one.
#   test/check-layers.sh SOURCE_DIR
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
declare -A allowed=(
  [utils]="utils"
  [ir]="ir utils"
  [format]="format ir utils"
  [frontends]="frontends format ir utils"
  # The interpreter is a backend the passes build on (constant folding);
  # the lowering layer builds on the passes (the exceptions below).
  [backends]="backends format ir utils"
  # Passes build on the IR and the format layer; constant folding alone runs
  # the interpreter (the exception below).
  [passes]="passes format ir utils"
  [driver]="driver frontends backends passes format ir utils"
  # The Python package runs the driver: it includes nothing else.
  [python]="driver"
)
bad=0
for layer in "${!allowed[@]}"; do
  while IFS= read -r line; do
    file=${line%%:*}
    target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"${line#*:}")
    top=${target%%/*}
    # Only the project's own folders are layers (absl/, onnx/, llvm/ are not).
    [[ -d "$top" && -n "${allowed[$top]+x}" ]] || continue
    ok=0
    for a in ${allowed[$layer]}; do
      [[ "$target" == "$a"/* ]] && ok=1
    done
    # constant-fold evaluates nodes with the reference interpreter.
    if [[ $file == passes/fold/ConstantFold.cpp && "$target" == backends/reference/* ]]; then
      ok=1
    fi
    # A backend may include its own folder only, not a sibling backend;
    # a target's folder may include the lowering layer too.
    if [[ $layer == backends && $ok == 1 ]]; then
      own=$(cut -d/ -f1-2 <<<"$file")
      [[ "$target" == "$own"/* || "$target" != backends/* ]] || ok=0
      if [[ "$target" == backends/lowering/* && $own != backends/reference &&
            $own != backends/onnx ]]; then
        ok=1
      fi
    fi
    # The lowering layer and the targets build on the passes: they are
    # pattern passes. The interpreter and the writer never include a pass.
    if [[ $layer == backends && "$target" == passes/* ]]; then
      own=$(cut -d/ -f1-2 <<<"$file")
      [[ $own == backends/reference || $own == backends/onnx ]] || ok=1
    fi
    if [[ $ok == 0 ]]; then
      echo "layering: $file includes $target ($layer may include: ${allowed[$layer]})"
      bad=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cpp' '^#include "' "$layer" | sed -E 's/^([^:]+):[0-9]+:/\1:/')
done
if [[ $bad == 0 ]]; then
  echo "layers: 1 passed, 0 failed"
fi
exit $bad
