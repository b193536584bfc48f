// fuse-squeeze-unsqueeze
//   Unsqueeze(Squeeze(X, a), a)  ->  X   (the squeezed dims were 1 and come
//   back at the same places); Squeeze(Unsqueeze(X, a), a)  ->  X.
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

/// Unsqueeze(Squeeze(X, a), a) and Squeeze(Unsqueeze(X, a), a): X.
class SqueezeUnsqueeze final : public SimplePattern {
public:
  SqueezeUnsqueeze(std::string root, SimplePatternPass &pass)
      : SimplePattern(std::move(root), pass) {}

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

} // namespace

std::unique_ptr<Pass> createFuseSqueezeUnsqueezePass() {
  return makeSimplePatternPass<SqueezeUnsqueeze>(
      "fuse-squeeze-unsqueeze",
      "Remove a Squeeze/Unsqueeze pair that restores the same axes",
      "num-removed", "Pairs removed", {"Squeeze", "Unsqueeze"});
}

} // namespace onnxopt
