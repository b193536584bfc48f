// eliminate-consecutive-idempotent-ops (exact)
//   f(f(X)) -> f(X)  for f in Relu, Abs, Ceil, Floor, Round, Sign.
//
// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class IdempotentPair final : public SimplePattern {
public:
  IdempotentPair(std::string op, SimplePatternPass &pass)
      : SimplePattern(std::move(op), pass) {}

  bool matchAndRewrite(Node &outer, Rewriter &r) override {
    if (outer.op().isOpaque() || !outer.output(0) || outer.numInputs() != 1)
      return r.notifyMatchFailure(outer, "opaque or malformed");
    Node *inner = producer(outer, outer.op().type);
    if (!inner || !inner->output(0))
      return r.notifyMatchFailure(outer, "not fed by the same op");
    return forward(outer, inner->output(0), r);
  }
};

} // namespace

std::unique_ptr<Pass> createEliminateConsecutiveIdempotentOpsPass() {
  return makeSimplePatternPass<IdempotentPair>(
      "eliminate-consecutive-idempotent-ops",
      "Replace f(f(x)) by f(x) for Relu, Abs, Ceil, Floor, Round, Sign",
      "num-removed", "Repeated idempotent ops removed",
      {"Relu", "Abs", "Ceil", "Floor", "Round", "Sign"});
}

} // namespace onnxopt
