// The eliminate-nop-* passes (see NopElimination.h for each rule).
#include "passes/cleanup/NopElimination.h"

#include "passes/Folding.h"
#include "passes/cleanup/CleanupUtils.h"

#include <limits>

namespace onnxopt {

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

/// Why `n` is not a no-op, or nullptr when its result equals input 0.
using NopCheck = const char *(*)(const Node &n);

/// True if `s` is Shape(x), whole (no start/end).
bool isShapeOf(const Value *s, const Value *x) {
  const Node *d = s ? s->definingNode() : nullptr;
  return isOp(d, "Shape") && d->numInputs() == 1 && d->input(0) == x &&
         intAttr(*d, "start", 0) == 0 && !d->attr("end");
}

const char *foldsToInput(const Node &n) {
  return foldNode(n) == n.input(0) ? nullptr : "not a no-op";
}

/// The shape operand of Reshape/Expand: constant values, or Shape(X) itself
/// (a no-op either way), or why neither.
struct ShapeOperand {
  const char *why = nullptr;
  bool ownShape = false;
  std::optional<std::vector<int64_t>> values;
};
ShapeOperand shapeOperand(const Node &n) {
  ShapeOperand out;
  if (n.numInputs() < 2 || !n.input(1))
    out.why = "no shape operand";
  else if (isShapeOf(n.input(1), n.input(0)))
    out.ownShape = true;
  else if (!(out.values = constantInts(n.input(1))))
    out.why = "the shape is not constant";
  return out;
}

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

class RemoveNop final : public CleanupPattern {
public:
  RemoveNop(std::string op, CleanupPass &pass, NopCheck check)
      : CleanupPattern(std::move(op), pass), check_(check) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() < 1 || !n.input(0) ||
        n.numOutputs() < 1 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    if (const char *why = check_(n))
      return r.notifyMatchFailure(n, why);
    return forward(n, n.input(0), r);
  }

private:
  NopCheck check_;
};

/// Concat: drops inputs statically empty along the axis while another input
/// remains; a single input is the result.
class SimplifyConcat final : public CleanupPattern {
public:
  explicit SimplifyConcat(CleanupPass &pass) : CleanupPattern("Concat", pass) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() < 1 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    std::vector<Value *> kept;
    for (size_t i = 0; i < n.numInputs(); ++i) {
      Value *v = n.input(i);
      if (!v)
        return r.notifyMatchFailure(n, "an input is missing");
      int64_t axis = intAttr(n, "axis", 0);
      auto rank = rankOf(v);
      if (axis < 0 && rank)
        axis += *rank;
      if (staticDim(v, axis) != 0)
        kept.push_back(v);
    }
    if (kept.empty())
      kept.push_back(n.input(0));
    if (kept.size() == 1)
      return forward(n, kept[0], r);
    if (kept.size() == n.numInputs())
      return r.notifyMatchFailure(n, "no input is statically empty");
    r.setOperands(n, kept);
    ++pass().counter();
    return true;
  }
};

std::unique_ptr<Pass> nopPass(const char *argument, const char *description,
                              std::vector<std::string> ops, NopCheck check) {
  return std::make_unique<CleanupPass>(
      argument, description, "num-removed", "No-op nodes removed",
      [ops, check](CleanupPass &pass,
                   std::vector<std::unique_ptr<OpRewritePattern>> &patterns) {
        for (const std::string &op : ops)
          patterns.push_back(std::make_unique<RemoveNop>(op, pass, check));
      });
}

} // namespace

std::unique_ptr<Pass> createEliminateNopCastPass() {
  return nopPass("eliminate-nop-cast",
                 "Remove Cast and CastLike to the input's own type",
                 {"Cast", "CastLike"}, foldsToInput);
}
std::unique_ptr<Pass> createEliminateNopTransposePass() {
  return nopPass("eliminate-nop-transpose",
                 "Remove Transpose with the identity permutation",
                 {"Transpose"}, foldsToInput);
}
std::unique_ptr<Pass> createEliminateNopReshapePass() {
  return nopPass("eliminate-nop-reshape",
                 "Remove Reshape to the input's own shape", {"Reshape"},
                 reshapeIsNop);
}
std::unique_ptr<Pass> createEliminateNopExpandPass() {
  return nopPass("eliminate-nop-expand",
                 "Remove Expand that cannot enlarge its input", {"Expand"},
                 expandIsNop);
}
std::unique_ptr<Pass> createEliminateNopSlicePass() {
  return nopPass("eliminate-nop-slice", "Remove Slice that keeps every element",
                 {"Slice"}, sliceIsNop);
}
std::unique_ptr<Pass> createEliminateNopFlattenPass() {
  return nopPass("eliminate-nop-flatten",
                 "Remove Flatten of a 2-D input that keeps its shape",
                 {"Flatten"}, flattenIsNop);
}
std::unique_ptr<Pass> createEliminateNopPadPass() {
  return nopPass("eliminate-nop-pad", "Remove Pad with all pads 0", {"Pad"},
                 padIsNop);
}
std::unique_ptr<Pass> createEliminateNopSplitPass() {
  return nopPass("eliminate-nop-split",
                 "Remove Split into a single whole output", {"Split"},
                 splitIsNop);
}
std::unique_ptr<Pass> createEliminateNopConcatPass() {
  return makeCleanupPass<SimplifyConcat>(
      "eliminate-nop-concat",
      "Remove Concat of one input; drop inputs empty along the axis",
      "num-removed", "Concats removed or inputs dropped");
}

} // namespace onnxopt
