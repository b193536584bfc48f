// Shape computations read syntactically (see ShapeGlue.h for each rule).
#include "passes/cleanup/ShapeGlue.h"

#include "passes/cleanup/CleanupUtils.h"

#include <algorithm>

namespace onnxopt {

namespace {

/// Some of X's dims, as a shape computation holds them.
struct DimsRef {
  Value *x = nullptr;
  std::vector<int64_t> dims; // indices into X's shape
  bool scalar = false;
};

int64_t clampIndex(int64_t i, int64_t n) {
  if (i < 0)
    i += n;
  return std::clamp<int64_t>(i, 0, n);
}

/// The dims `v` holds: v = Shape(X) (start/end included; X's rank known),
/// Gather(<dims>, constant indices), Slice(<dims>) with one unit-step range
/// on axis 0, or Unsqueeze(<scalar dim>, [0]).
std::optional<DimsRef> dimsRef(const Value *v) {
  const Node *n = v ? v->definingNode() : nullptr;
  if (!n || n->op().isOpaque() || n->numInputs() < 1 || !n->input(0))
    return std::nullopt;
  if (n->is("Shape")) {
    auto rank = rankOf(n->input(0));
    if (!rank)
      return std::nullopt;
    DimsRef out;
    out.x = n->input(0);
    int64_t start = clampIndex(intAttr(*n, "start", 0), *rank);
    int64_t end = clampIndex(intAttr(*n, "end", *rank), *rank);
    for (int64_t i = start; i < end; ++i)
      out.dims.push_back(i);
    return out;
  }
  if (n->is("Gather") && n->numInputs() == 2 && intAttr(*n, "axis", 0) == 0) {
    auto base = dimsRef(n->input(0));
    auto idx = constantInts(n->input(1));
    if (!base || base->scalar || !idx ||
        n->input(1)->tensor()->dims().size() > 1)
      return std::nullopt;
    DimsRef out;
    out.x = base->x;
    out.scalar = n->input(1)->tensor()->dims().empty();
    int64_t len = int64_t(base->dims.size());
    for (int64_t i : *idx) {
      if (i < 0)
        i += len;
      if (i < 0 || i >= len)
        return std::nullopt;
      out.dims.push_back(base->dims[size_t(i)]);
    }
    return out;
  }
  if (n->is("Slice")) {
    auto base = dimsRef(n->input(0));
    auto starts = intsOperand(*n, "starts", 1, 10);
    auto ends = intsOperand(*n, "ends", 2, 10);
    auto axes = intsOperand(*n, "axes", 3, 10);
    auto steps = intsOperand(*n, "steps", 4, 10);
    if (!base || base->scalar || !starts.values || !ends.values ||
        starts.values->size() != 1 || ends.values->size() != 1 ||
        !(axes.absent ||
          (axes.values && axes.values->size() == 1 &&
           (axes.values->front() == 0 || axes.values->front() == -1))) ||
        !(steps.absent ||
          (steps.values && *steps.values == std::vector<int64_t>{1})))
      return std::nullopt;
    int64_t len = int64_t(base->dims.size());
    int64_t start = clampIndex(starts.values->front(), len);
    int64_t end = clampIndex(ends.values->front(), len);
    DimsRef out;
    out.x = base->x;
    for (int64_t i = start; i < end; ++i)
      out.dims.push_back(base->dims[size_t(i)]);
    return out;
  }
  if (n->is("Unsqueeze")) {
    auto base = dimsRef(n->input(0));
    auto axes = intsOperand(*n, "axes", 1, 13);
    if (!base || !base->scalar || !axes.values ||
        !(*axes.values == std::vector<int64_t>{0} ||
          *axes.values == std::vector<int64_t>{-1}))
      return std::nullopt;
    base->scalar = false;
    return base;
  }
  return std::nullopt;
}

/// The static values of `ref`'s dims, or nullopt if one is dynamic.
std::optional<std::vector<int64_t>> staticDims(const DimsRef &ref) {
  std::vector<int64_t> out;
  for (int64_t i : ref.dims) {
    auto d = staticDim(ref.x, i);
    if (!d)
      return std::nullopt;
    out.push_back(*d);
  }
  return out;
}

/// Replaces a Gather or Slice of a Shape with constant dims, or from opset
/// 15 with one Shape <start, end> over a contiguous run.
class ShapeSubset final : public CleanupPattern {
public:
  ShapeSubset(std::string op, CleanupPass &pass)
      : CleanupPattern(std::move(op), pass) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numOutputs() != 1 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    auto ref = dimsRef(n.output(0));
    if (!ref)
      return r.notifyMatchFailure(n, "not a constant subset of a Shape");
    if (auto values = staticDims(*ref)) {
      if (n.output(0)->isGraphOutput())
        return r.notifyMatchFailure(n, "a graph output needs the node");
      Value *c = r.createInitializer(n.output(0)->name(),
                                     makeInt64Tensor(*values, ref->scalar));
      return forward(n, c, r);
    }
    if (ref->scalar || ref->dims.empty())
      return r.notifyMatchFailure(n, "a dynamic scalar dim");
    for (size_t k = 1; k < ref->dims.size(); ++k)
      if (ref->dims[k] != ref->dims[0] + int64_t(k))
        return r.notifyMatchFailure(n, "the dims are not a contiguous run");
    auto shape = r.resolve("Shape");
    if (!shape.ok() || shape->sinceVersion < 15)
      return r.notifyMatchFailure(n, "Shape has no start/end before opset 15");
    Node *s = r.create(*shape, {ref->x}, 1, &n);
    r.setAttr(*s, Attribute::makeInt("start", ref->dims.front()));
    r.setAttr(*s, Attribute::makeInt("end", ref->dims.back() + 1));
    r.takeNameAndType(s->output(0), *n.output(0));
    r.replaceNode(n, {s->output(0)});
    ++pass().counter();
    return true;
  }
};

/// One entry of a Reshape's shape being rebuilt.
struct Entry {
  enum Kind { Value, Copy, Unknown } kind;
  int64_t value = 0;
};

class ConcatIntoReshape final : public CleanupPattern {
public:
  explicit ConcatIntoReshape(CleanupPass &pass)
      : CleanupPattern("Reshape", pass) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() < 2 || !n.input(0) || !n.input(1))
      return r.notifyMatchFailure(n, "opaque or malformed");
    const Node *concat = n.input(1)->definingNode();
    if (!isOp(concat, "Concat") || !(intAttr(*concat, "axis", 0) == 0 ||
                                     intAttr(*concat, "axis", 0) == -1))
      return r.notifyMatchFailure(n, "the shape is not a Concat");
    Value *x = n.input(0);
    bool allowzero = intAttr(n, "allowzero", 0) != 0;
    std::vector<Entry> entries;
    auto known = [&](int64_t v) {
      // A static 0 with allowzero 0 would read as "copy": unknown instead.
      entries.push_back(v == 0 && !allowzero ? Entry{Entry::Unknown}
                                             : Entry{Entry::Value, v});
    };
    for (size_t p = 0; p < concat->numInputs(); ++p) {
      Value *part = concat->input(p);
      if (auto c = constantInts(part)) {
        for (int64_t v : *c)
          entries.push_back(v == 0 && !allowzero ? Entry{Entry::Copy}
                                                 : Entry{Entry::Value, v});
        continue;
      }
      if (auto ref = dimsRef(part); ref && !ref->scalar) {
        for (int64_t j : ref->dims) {
          if (ref->x == x && !allowzero && j == int64_t(entries.size()))
            entries.push_back({Entry::Copy});
          else if (auto d = staticDim(ref->x, j))
            known(*d);
          else
            entries.push_back({Entry::Unknown});
        }
        continue;
      }
      auto len = rankOf(part) == 1 ? staticDim(part, 0) : std::nullopt;
      if (!len)
        return r.notifyMatchFailure(n, "a part of unknown length");
      entries.insert(entries.end(), size_t(*len), Entry{Entry::Unknown});
    }
    size_t unknown = 0, inferred = 0;
    for (const Entry &e : entries) {
      unknown += e.kind == Entry::Unknown;
      inferred += e.kind == Entry::Value && e.value == -1;
    }
    if (unknown > 1 || (unknown && inferred))
      return r.notifyMatchFailure(n, "more than one entry to infer");
    std::vector<int64_t> values;
    for (size_t k = 0; k < entries.size(); ++k) {
      const Entry &e = entries[k];
      if (unknown && e.kind != Entry::Unknown) {
        // -1 is computed from the others: each must be known non-zero.
        auto d = staticDim(x, int64_t(k));
        bool nonzero = e.kind == Entry::Value ? e.value > 0 : d && *d > 0;
        if (!nonzero)
          return r.notifyMatchFailure(n, "-1 beside an entry that may be 0");
      }
      values.push_back(e.kind == Entry::Value  ? e.value
                       : e.kind == Entry::Copy ? 0
                                               : -1);
    }
    Value *c = r.createInitializer(n.input(1)->name(), makeInt64Tensor(values));
    r.setOperand(n, 1, c);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createEliminateShapeGatherPass() {
  return makeCleanupPass<ShapeSubset>(
      "eliminate-shape-gather",
      "Replace Gather of Shape with constant dims or a Shape slice",
      "num-replaced", "Gathers of Shape replaced", {"Gather"});
}
std::unique_ptr<Pass> createEliminateSliceAfterShapePass() {
  return makeCleanupPass<ShapeSubset>(
      "eliminate-slice-after-shape",
      "Replace Slice of Shape with constant dims or a Shape slice",
      "num-replaced", "Slices of Shape replaced", {"Slice"});
}
std::unique_ptr<Pass> createFuseConcatIntoReshapePass() {
  return makeCleanupPass<ConcatIntoReshape>(
      "fuse-concat-into-reshape",
      "Turn a Reshape's Concat of constants and its input's own dims into a "
      "constant shape",
      "num-fused", "Reshape shapes made constant");
}

} // namespace onnxopt
