// eliminate-nop-split
//   Y = Split (X)  ->  X   with a single output and no split sizes, or sizes
//   [d] with d X's static size on the axis.
//
// Exact: the result is the input, bit for bit. The input is forwarded to the
// node's users, except that a graph output which cannot take another value's
// place (a graph input, a constant, another output) keeps its node. The
// pattern is RemoveNop (passes/PatternUtils.h, makeNopPass); this file says
// when a node is a no-op.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

const char *splitIsNop(const Node &n) {
  if (n.numOutputs() != 1)
    return "more than one output";
  auto split = intsOperand(n, "split", 1, 13);
  if (split.absent)
    return nullptr;
  if (!split.values || split.values->size() != 1)
    return "the split sizes are not constant";
  int64_t axis = intAttr(n, "axis", 0);
  auto rank = rankOf(n.input(0));
  if (axis < 0 && rank)
    axis += *rank;
  auto d = staticDim(n.input(0), axis);
  if (!d || *d != split.values->front())
    return "the size may not be the whole axis";
  return nullptr;
}

} // namespace

std::unique_ptr<Pass> createEliminateNopSplitPass() {
  return makeNopPass("eliminate-nop-split",
                     "Remove Split into a single whole output", {"Split"},
                     splitIsNop);
}

} // namespace onnxopt
