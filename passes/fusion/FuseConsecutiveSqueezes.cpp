// fuse-consecutive-squeezes
//   Squeeze(Squeeze(X, a1), a2)  ->  Squeeze(X, a1 + a2 mapped back to X's
//   axes). Axes absent: all size-1 dims, which needs a fully static shape.
//
// Exact.
//
// Axes are read opset-aware: attributes before Squeeze/Unsqueeze 13, inputs
// from 13 on; a rewritten axes operand keeps the node's own form. The first
// node stays when it has other users.
#include "passes/PatternUtils.h"

#include <algorithm>

namespace onnxopt {

namespace {

class SqueezeChain final : public SimplePattern {
public:
  explicit SqueezeChain(SimplePatternPass &pass)
      : SimplePattern("Squeeze", pass) {}

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

} // namespace

std::unique_ptr<Pass> createFuseConsecutiveSqueezesPass() {
  return makeSimplePatternPass<SqueezeChain>(
      "fuse-consecutive-squeezes", "Merge a Squeeze of a Squeeze into one",
      "num-fused", "Squeeze pairs merged");
}

} // namespace onnxopt
