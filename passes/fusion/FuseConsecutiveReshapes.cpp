// fuse-consecutive-reshapes
//   Reshape(R(X), S)  ->  Reshape(X, S)  for R any of Reshape, Flatten,
//   Squeeze, Unsqueeze (all keep row-major element order), when S's result
//   does not depend on R's dims: S constant without 0 entries, or
//   allowzero = 1. A 0 entry copies R's dim, which X may not have there
//   (TRAPS.md 12).
//
// Axes are read opset-aware: attributes before Squeeze/Unsqueeze 13, inputs
// from 13 on; a rewritten axes operand keeps the node's own form. The first
// node stays when it has other users.
//
// Exact.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class ReshapeChain final : public SimplePattern {
public:
  explicit ReshapeChain(SimplePatternPass &pass)
      : SimplePattern("Reshape", pass) {}

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

std::unique_ptr<Pass> createFuseConsecutiveReshapesPass() {
  return makeSimplePatternPass<ReshapeChain>(
      "fuse-consecutive-reshapes",
      "Reshape straight from the input of a Reshape, Flatten, Squeeze or "
      "Unsqueeze",
      "num-fused", "Reshapes rewired past a reshaping op");
}

} // namespace onnxopt
