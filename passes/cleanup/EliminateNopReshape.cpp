// eliminate-nop-reshape
//   Y = Reshape (X, S)  ->  X   when S is constant and names X's own shape
//   entry by entry: a copy (0, allowzero 0), the same static size, or one -1
//   when every other dim of X is static and non-zero (a 0-sized dim would
//   make -1 ambiguous); or S = Shape(X).
//
// Exact: the result is the input, bit for bit. The input is forwarded to the
// node's users, except that a graph output which cannot take another value's
// place (a graph input, a constant, another output) keeps its node. The
// pattern is RemoveNop (passes/PatternUtils.h, makeNopPass); this file says
// when a node is a no-op.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

const char *reshapeIsNop(const Node &n) {
  const Value *x = n.input(0);
  ShapeOperand op = shapeOperand(n);
  if (op.why || op.ownShape)
    return op.why;
  const std::vector<int64_t> *s = &*op.values;
  auto rank = rankOf(x);
  if (!rank || size_t(*rank) != s->size())
    return "X's rank is unknown or differs";
  bool allowzero = intAttr(n, "allowzero", 0) != 0;
  int64_t inferAt = -1;
  for (size_t i = 0; i < s->size(); ++i) {
    int64_t v = (*s)[i];
    if (v == 0 && !allowzero)
      continue; // copies X's dim
    if (v == -1) {
      if (inferAt >= 0)
        return "more than one -1";
      inferAt = int64_t(i);
      continue;
    }
    auto d = staticDim(x, int64_t(i));
    if (!d || *d != v)
      return "a size is not X's static size";
  }
  if (inferAt >= 0)
    for (int64_t j = 0; j < *rank; ++j) {
      auto d = staticDim(x, j);
      if (j != inferAt && (!d || *d == 0))
        return "-1 beside a dim that is not static and non-zero";
    }
  return nullptr;
}

} // namespace

std::unique_ptr<Pass> createEliminateNopReshapePass() {
  return makeNopPass("eliminate-nop-reshape",
                     "Remove Reshape to the input's own shape", {"Reshape"},
                     reshapeIsNop);
}

} // namespace onnxopt
