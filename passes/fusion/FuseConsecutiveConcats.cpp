// fuse-consecutive-concats (exact)
//   Concat(a, Concat(b, c), d) -> Concat(a, b, c, d) on the same axis.
//
// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
#include "passes/PatternUtils.h"

#include <algorithm>

namespace onnxopt {

namespace {

class ConcatOfConcat final : public SimplePattern {
public:
  explicit ConcatOfConcat(SimplePatternPass &pass)
      : SimplePattern("Concat", pass) {}

  bool matchAndRewrite(Node &outer, Rewriter &r) override {
    if (outer.op().isOpaque() || !outer.output(0))
      return r.notifyMatchFailure(outer, "opaque or malformed");
    auto axis = axisOf(outer, 0, concatRank(outer));
    std::vector<Value *> inputs;
    std::vector<Node *> merged;
    for (size_t i = 0; i < outer.numInputs(); ++i) {
      Value *v = outer.input(i);
      Node *inner = v ? v->definingNode() : nullptr;
      std::optional<int64_t> innerAxis;
      if (isOp(inner, "Concat") && isPrivateResult(v))
        innerAxis = axisOf(*inner, 0, concatRank(*inner));
      if (axis && innerAxis && *innerAxis == *axis &&
          std::find(merged.begin(), merged.end(), inner) == merged.end()) {
        for (size_t j = 0; j < inner->numInputs(); ++j)
          inputs.push_back(inner->input(j));
        merged.push_back(inner);
      } else {
        inputs.push_back(v);
      }
    }
    if (merged.empty())
      return r.notifyMatchFailure(outer, "no private Concat on the same axis");
    r.setOperands(outer, inputs);
    for (Node *inner : merged)
      if (!inner->hasUses())
        r.eraseNode(*inner);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseConsecutiveConcatsPass() {
  return makeSimplePatternPass<ConcatOfConcat>(
      "fuse-consecutive-concats",
      "Splice a private Concat on the same axis into "
      "its user",
      "num-fused", "Concats spliced");
}

} // namespace onnxopt
