// eliminate-nop-pad
//   Y = Pad (X, pads)  ->  X   when every pad is 0 (any mode).
//
// Exact: the result is the input, bit for bit. The input is forwarded to the
// node's users, except that a graph output which cannot take another value's
// place (a graph input, a constant, another output) keeps its node. The
// pattern is RemoveNop (passes/PatternUtils.h, makeNopPass); this file says
// when a node is a no-op.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

const char *padIsNop(const Node &n) {
  auto pads =
      intsOperand(n, n.op().sinceVersion < 2 ? "paddings" : "pads", 1, 11);
  if (!pads.values)
    return "the pads are not constant";
  for (int64_t p : *pads.values)
    if (p != 0)
      return "a pad is not 0";
  return nullptr;
}

} // namespace

std::unique_ptr<Pass> createEliminateNopPadPass() {
  return makeNopPass("eliminate-nop-pad", "Remove Pad with all pads 0", {"Pad"},
                     padIsNop);
}

} // namespace onnxopt
