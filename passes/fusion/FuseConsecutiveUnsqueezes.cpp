// fuse-consecutive-unsqueezes
//   Unsqueeze(Unsqueeze(X, a1), a2)  ->  Unsqueeze(X, a2 + a1 mapped forward
//   past a2's new axes).
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

class UnsqueezeChain final : public SimplePattern {
public:
  explicit UnsqueezeChain(SimplePatternPass &pass)
      : SimplePattern("Unsqueeze", pass) {}

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

} // namespace

std::unique_ptr<Pass> createFuseConsecutiveUnsqueezesPass() {
  return makeSimplePatternPass<UnsqueezeChain>(
      "fuse-consecutive-unsqueezes",
      "Merge an Unsqueeze of an Unsqueeze into one", "num-fused",
      "Unsqueeze pairs merged");
}

} // namespace onnxopt
