// eliminate-nop-concat
//   Y = Concat (X)  ->  X; inputs statically empty along the axis are dropped
//   while another input remains (they add no elements).
//
// Exact: dropping an input that adds no elements changes no value.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

/// Concat: drops inputs statically empty along the axis while another input
/// remains; a single input is the result.
class SimplifyConcat final : public SimplePattern {
public:
  explicit SimplifyConcat(SimplePatternPass &pass)
      : SimplePattern("Concat", pass) {}

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

} // namespace

std::unique_ptr<Pass> createEliminateNopConcatPass() {
  return makeSimplePatternPass<SimplifyConcat>(
      "eliminate-nop-concat",
      "Remove Concat of one input; drop inputs empty along the axis",
      "num-removed", "Concats removed or inputs dropped");
}

} // namespace onnxopt
