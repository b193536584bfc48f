// eliminate-nop-expand
//   Y = Expand (X, S)  ->  X   when S is constant, no longer than X's rank, and
//   each entry is 1 or X's static size there (broadcasting cannot enlarge X);
//   or S = Shape(X).
//
// Exact: the result is the input, bit for bit. The input is forwarded to the
// node's users, except that a graph output which cannot take another value's
// place (a graph input, a constant, another output) keeps its node. The
// pattern is RemoveNop (passes/PatternUtils.h, makeNopPass); this file says
// when a node is a no-op.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

const char *expandIsNop(const Node &n) {
  const Value *x = n.input(0);
  ShapeOperand op = shapeOperand(n);
  if (op.why || op.ownShape)
    return op.why;
  const std::vector<int64_t> *s = &*op.values;
  auto rank = rankOf(x);
  if (!rank || size_t(*rank) < s->size())
    return "the shape could add dims to X";
  int64_t off = *rank - int64_t(s->size());
  for (size_t i = 0; i < s->size(); ++i) {
    if ((*s)[i] == 1)
      continue;
    auto d = staticDim(x, off + int64_t(i));
    if (!d || *d != (*s)[i])
      return "the shape could enlarge X";
  }
  return nullptr;
}

} // namespace

std::unique_ptr<Pass> createEliminateNopExpandPass() {
  return makeNopPass("eliminate-nop-expand",
                     "Remove Expand that cannot enlarge its input", {"Expand"},
                     expandIsNop);
}

} // namespace onnxopt
