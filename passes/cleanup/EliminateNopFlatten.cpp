// eliminate-nop-flatten
//   Y = Flatten <axis> (X: rank 2)  ->  X   when the result shape is X's:
//   axis 1, or axis 0 with a static leading 1, or axis 2 with a static
//   trailing 1.
//
// Exact: the result is the input, bit for bit. The input is forwarded to the
// node's users, except that a graph output which cannot take another value's
// place (a graph input, a constant, another output) keeps its node. The
// pattern is RemoveNop (passes/PatternUtils.h, makeNopPass); this file says
// when a node is a no-op.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

const char *flattenIsNop(const Node &n) {
  const Value *x = n.input(0);
  if (rankOf(x) != 2)
    return "X is not known to be 2-D";
  int64_t axis = intAttr(n, "axis", 1);
  if (axis < 0)
    axis += 2;
  if (axis == 1 || (axis == 0 && staticDim(x, 0) == 1) ||
      (axis == 2 && staticDim(x, 1) == 1))
    return nullptr;
  return "the result shape differs from X's";
}

} // namespace

std::unique_ptr<Pass> createEliminateNopFlattenPass() {
  return makeNopPass("eliminate-nop-flatten",
                     "Remove Flatten of a 2-D input that keeps its shape",
                     {"Flatten"}, flattenIsNop);
}

} // namespace onnxopt
