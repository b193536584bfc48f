// eliminate-nop-cast
//   Y = Cast <to = T> (X: T)          ->  X     (CastLike to X's own type too)
//
// Exact: the result is the input, bit for bit. The input is forwarded to the
// node's users, except that a graph output which cannot take another value's
// place (a graph input, a constant, another output) keeps its node. The
// pattern is RemoveNop (passes/PatternUtils.h, makeNopPass); this file says
// when a node is a no-op.
#include "passes/PatternUtils.h"

namespace onnxopt {

std::unique_ptr<Pass> createEliminateNopCastPass() {
  return makeNopPass("eliminate-nop-cast",
                     "Remove Cast and CastLike to the input's own type",
                     {"Cast", "CastLike"}, foldsToInput);
}

} // namespace onnxopt
