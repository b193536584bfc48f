// Glue chains collapsed (see ShapeChains.h for each rule).
#include "passes/cleanup/ShapeChains.h"

#include "passes/cleanup/CleanupUtils.h"

#include <algorithm>

namespace onnxopt {

namespace {

// --- fuse-cast-chains -------------------------------------------------------

class CastChain final : public CleanupPattern {
public:
  explicit CastChain(CleanupPass &pass) : CleanupPattern("Cast", pass) {}

  bool matchAndRewrite(Node &second, Rewriter &r) override {
    if (second.op().isOpaque() || !second.input(0) || !second.output(0))
      return r.notifyMatchFailure(second, "opaque or malformed");
    Node *first = second.input(0)->definingNode();
    if (!isOp(first, "Cast") || !first->input(0))
      return r.notifyMatchFailure(second, "not fed by a Cast");
    Value *x = first->input(0);
    const Attribute *mid = first->attr("to"), *to = second.attr("to");
    if (!mid || !to || !x->type().isTensor() ||
        x->type().elemType() == DataType::Undefined)
      return r.notifyMatchFailure(second, "a type is unknown");
    DataType t0 = x->type().elemType(), t1 = DataType(mid->i);
    if (!isLossless(t0, t1))
      return r.notifyMatchFailure(second, "the first Cast may round or wrap");
    if (DataType(to->i) == t0) {
      if (!forward(second, x, r))
        return false;
    } else {
      r.setOperand(second, 0, x);
      ++pass().counter();
    }
    if (!first->hasUses())
      r.eraseNode(*first);
    return true;
  }
};

// --- Squeeze and Unsqueeze chains --------------------------------------------

/// The normalized axes of a Squeeze (its input's rank from the type, or
/// `inputRank`); absent axes mean the size-1 dims, which needs a fully static
/// shape.
std::optional<std::vector<int64_t>>
squeezeAxes(const Node &n, std::optional<int64_t> inputRank = std::nullopt) {
  const Value *x = n.input(0);
  auto rank = rankOf(x);
  if (!rank)
    rank = inputRank;
  auto axes = intsOperand(n, "axes", 1, 13);
  if (!axes.absent)
    return axes.values ? normalizeAxes(*axes.values, rank) : std::nullopt;
  if (!rank || !rankOf(x))
    return std::nullopt;
  std::vector<int64_t> ones;
  for (int64_t i = 0; i < *rank; ++i) {
    auto d = staticDim(x, i);
    if (!d)
      return std::nullopt;
    if (*d == 1)
      ones.push_back(i);
  }
  return ones;
}

/// The normalized axes of an Unsqueeze (against its output rank; its input's
/// rank from the type, or `inputRank`).
std::optional<std::vector<int64_t>>
unsqueezeAxes(const Node &n, std::optional<int64_t> inputRank = std::nullopt) {
  auto axes = intsOperand(n, "axes", 1, 13);
  if (axes.absent || !axes.values)
    return std::nullopt;
  std::optional<int64_t> outRank;
  auto r = rankOf(n.input(0));
  if (!r)
    r = inputRank;
  if (r)
    outRank = *r + int64_t(axes.values->size());
  return normalizeAxes(*axes.values, outRank);
}

/// The `count` smallest non-negative integers not in sorted `taken`.
std::vector<int64_t> complement(const std::vector<int64_t> &taken,
                                size_t count) {
  std::vector<int64_t> out;
  for (int64_t i = 0; out.size() < count; ++i)
    if (!std::binary_search(taken.begin(), taken.end(), i))
      out.push_back(i);
  return out;
}

int64_t maxOr(const std::vector<int64_t> &v, int64_t dflt) {
  return v.empty() ? dflt : *std::max_element(v.begin(), v.end());
}

/// Shared tail of the two chain fusions: `second` now reads `x` with
/// `axes`; `first` goes when nothing else uses it.
bool rewireChain(Node &second, Node &first, Value *x, std::vector<int64_t> axes,
                 CleanupPass &pass, Rewriter &r) {
  std::sort(axes.begin(), axes.end());
  r.setOperand(second, 0, x);
  setIntsOperand(second, "axes", 1, 13, axes, r);
  if (!first.hasUses())
    r.eraseNode(first);
  ++pass.counter();
  return true;
}

class SqueezeChain final : public CleanupPattern {
public:
  explicit SqueezeChain(CleanupPass &pass) : CleanupPattern("Squeeze", pass) {}

  bool matchAndRewrite(Node &second, Rewriter &r) override {
    if (second.op().isOpaque() || !second.input(0) || !second.output(0))
      return r.notifyMatchFailure(second, "opaque or malformed");
    Node *first = second.input(0)->definingNode();
    if (!isOp(first, "Squeeze") || !first->input(0))
      return r.notifyMatchFailure(second, "not fed by a Squeeze");
    auto a1 = squeezeAxes(*first);
    if (!a1)
      return r.notifyMatchFailure(second, "axes unknown");
    std::optional<int64_t> midRank;
    if (auto rx = rankOf(first->input(0)))
      midRank = *rx - int64_t(a1->size());
    auto a2 = squeezeAxes(second, midRank);
    if (!a2)
      return r.notifyMatchFailure(second, "axes unknown");
    // Position j of the intermediate is the j-th axis of X not in a1.
    auto kept = complement(*a1, size_t(maxOr(*a2, -1) + 1));
    std::vector<int64_t> axes = *a1;
    for (int64_t j : *a2)
      axes.push_back(kept[size_t(j)]);
    return rewireChain(second, *first, first->input(0), axes, pass(), r);
  }
};

class UnsqueezeChain final : public CleanupPattern {
public:
  explicit UnsqueezeChain(CleanupPass &pass)
      : CleanupPattern("Unsqueeze", pass) {}

  bool matchAndRewrite(Node &second, Rewriter &r) override {
    if (second.op().isOpaque() || !second.input(0) || !second.output(0))
      return r.notifyMatchFailure(second, "opaque or malformed");
    Node *first = second.input(0)->definingNode();
    if (!isOp(first, "Unsqueeze") || !first->input(0))
      return r.notifyMatchFailure(second, "not fed by an Unsqueeze");
    auto a1 = unsqueezeAxes(*first);
    if (!a1)
      return r.notifyMatchFailure(second, "axes unknown");
    std::optional<int64_t> midRank;
    if (auto rx = rankOf(first->input(0)))
      midRank = *rx + int64_t(a1->size());
    auto a2 = unsqueezeAxes(second, midRank);
    if (!a2)
      return r.notifyMatchFailure(second, "axes unknown");
    // Position p of the intermediate lands on the p-th result axis not in a2.
    auto moved = complement(*a2, size_t(maxOr(*a1, -1) + 1));
    std::vector<int64_t> axes = *a2;
    for (int64_t p : *a1)
      axes.push_back(moved[size_t(p)]);
    return rewireChain(second, *first, first->input(0), axes, pass(), r);
  }
};

/// Unsqueeze(Squeeze(X, a), a) and Squeeze(Unsqueeze(X, a), a): X.
class SqueezeUnsqueeze final : public CleanupPattern {
public:
  SqueezeUnsqueeze(std::string root, CleanupPass &pass)
      : CleanupPattern(std::move(root), pass) {}

  bool matchAndRewrite(Node &second, Rewriter &r) override {
    if (second.op().isOpaque() || !second.input(0) || !second.output(0))
      return r.notifyMatchFailure(second, "opaque or malformed");
    bool unsqueezeLast = second.is("Unsqueeze");
    Node *first = second.input(0)->definingNode();
    if (!isOp(first, unsqueezeLast ? "Squeeze" : "Unsqueeze") ||
        !first->input(0))
      return r.notifyMatchFailure(second, "not fed by the inverse op");
    std::optional<std::vector<int64_t>> a, b;
    auto rx = rankOf(first->input(0));
    if (unsqueezeLast) {
      a = squeezeAxes(*first);
      if (a && rx)
        b = unsqueezeAxes(second, *rx - int64_t(a->size()));
      else if (a)
        b = unsqueezeAxes(second);
    } else {
      a = unsqueezeAxes(*first);
      auto axes = intsOperand(second, "axes", 1, 13);
      auto mid = rankOf(second.input(0));
      if (!mid && rx && a)
        mid = *rx + int64_t(a->size());
      // Without axes the Squeeze would also drop X's own 1-sized dims.
      if (!axes.absent && axes.values)
        b = normalizeAxes(*axes.values, mid);
    }
    if (!a || !b)
      return r.notifyMatchFailure(second, "axes unknown");
    if (*a != *b)
      return r.notifyMatchFailure(second, "the axes differ");
    return forward(second, first->input(0), r);
  }
};

// --- fuse-consecutive-reshapes -----------------------------------------------

class ReshapeChain final : public CleanupPattern {
public:
  explicit ReshapeChain(CleanupPass &pass) : CleanupPattern("Reshape", pass) {}

  bool matchAndRewrite(Node &second, Rewriter &r) override {
    if (second.op().isOpaque() || second.numInputs() < 2 || !second.input(0) ||
        !second.input(1) || !second.output(0))
      return r.notifyMatchFailure(second, "opaque or malformed");
    Node *first = second.input(0)->definingNode();
    if (!(isOp(first, "Reshape") || isOp(first, "Flatten") ||
          isOp(first, "Squeeze") || isOp(first, "Unsqueeze")) ||
        !first->input(0))
      return r.notifyMatchFailure(second, "not fed by a reshaping op");
    if (intAttr(second, "allowzero", 0) == 0) {
      auto s = constantInts(second.input(1));
      if (!s)
        return r.notifyMatchFailure(second, "the shape is not constant");
      if (std::find(s->begin(), s->end(), 0) != s->end())
        return r.notifyMatchFailure(second, "a 0 entry copies the first's dim");
    }
    r.setOperand(second, 0, first->input(0));
    if (!first->hasUses())
      r.eraseNode(*first);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseCastChainsPass() {
  return makeCleanupPass<CastChain>(
      "fuse-cast-chains", "Skip a lossless widening Cast in a chain of Casts",
      "num-fused", "Casts skipped");
}
std::unique_ptr<Pass> createFuseConsecutiveSqueezesPass() {
  return makeCleanupPass<SqueezeChain>("fuse-consecutive-squeezes",
                                       "Merge a Squeeze of a Squeeze into one",
                                       "num-fused", "Squeeze pairs merged");
}
std::unique_ptr<Pass> createFuseConsecutiveUnsqueezesPass() {
  return makeCleanupPass<UnsqueezeChain>(
      "fuse-consecutive-unsqueezes",
      "Merge an Unsqueeze of an Unsqueeze into one", "num-fused",
      "Unsqueeze pairs merged");
}
std::unique_ptr<Pass> createFuseSqueezeUnsqueezePass() {
  return makeCleanupPass<SqueezeUnsqueeze>(
      "fuse-squeeze-unsqueeze",
      "Remove a Squeeze/Unsqueeze pair that restores the same axes",
      "num-removed", "Pairs removed", {"Squeeze", "Unsqueeze"});
}
std::unique_ptr<Pass> createFuseConsecutiveReshapesPass() {
  return makeCleanupPass<ReshapeChain>(
      "fuse-consecutive-reshapes",
      "Reshape straight from the input of a Reshape, Flatten, Squeeze or "
      "Unsqueeze",
      "num-fused", "Reshapes rewired past a reshaping op");
}

} // namespace onnxopt
