// eliminate-nop-transpose
//   Y = Transpose <perm = [0..r-1]> (X)  ->  X  (no perm: only rank <= 1)
//
// Exact: the result is the input, bit for bit. The input is forwarded to the
// node's users, except that a graph output which cannot take another value's
// place (a graph input, a constant, another output) keeps its node. The
// pattern is RemoveNop (passes/PatternUtils.h, makeNopPass); this file says
// when a node is a no-op.
#include "passes/PatternUtils.h"

namespace onnxopt {

std::unique_ptr<Pass> createEliminateNopTransposePass() {
  return makeNopPass("eliminate-nop-transpose",
                     "Remove Transpose with the identity permutation",
                     {"Transpose"}, foldsToInput);
}

} // namespace onnxopt
