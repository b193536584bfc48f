// eliminate-nop-slice
//   Y = Slice (X, starts, ends, axes, steps)  ->  X   when every sliced axis
//   has step 1, start 0 and an end at or past the dim (INT64_MAX, or >= a
//   static dim). Opsets 1-9 read the attributes.
//
// Exact: the result is the input, bit for bit. The input is forwarded to the
// node's users, except that a graph output which cannot take another value's
// place (a graph input, a constant, another output) keeps its node. The
// pattern is RemoveNop (passes/PatternUtils.h, makeNopPass); this file says
// when a node is a no-op.
#include "passes/PatternUtils.h"

#include <limits>

namespace onnxopt {

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

const char *sliceIsNop(const Node &n) {
  auto starts = intsOperand(n, "starts", 1, 10);
  auto ends = intsOperand(n, "ends", 2, 10);
  auto axes = intsOperand(n, "axes", 3, 10);
  auto steps = intsOperand(n, "steps", 4, 10);
  if (!starts.values || !ends.values || (!axes.absent && !axes.values) ||
      (!steps.absent && !steps.values))
    return "an operand is not constant";
  size_t k = starts.values->size();
  if (ends.values->size() != k || (axes.values && axes.values->size() != k) ||
      (steps.values && steps.values->size() != k))
    return "operand lengths differ";
  const Value *x = n.input(0);
  auto rank = rankOf(x);
  for (size_t i = 0; i < k; ++i) {
    int64_t axis = axes.values ? (*axes.values)[i] : int64_t(i);
    if (axis < 0 && rank)
      axis += *rank;
    if (steps.values && (*steps.values)[i] != 1)
      return "a step is not 1";
    auto d = staticDim(x, axis);
    int64_t start = (*starts.values)[i], end = (*ends.values)[i];
    if (!(start == 0 || start == kInt64Min || (d && start <= -*d)))
      return "a start is not 0";
    if (!(end == kInt64Max || (d && end >= *d)))
      return "an end may cut the dim short";
  }
  return nullptr;
}

} // namespace

std::unique_ptr<Pass> createEliminateNopSlicePass() {
  return makeNopPass("eliminate-nop-slice",
                     "Remove Slice that keeps every element", {"Slice"},
                     sliceIsNop);
}

} // namespace onnxopt
