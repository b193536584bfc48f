// eliminate-nop-dropout: removes Dropout in inference mode.
//
// Before:                         After:
//   t = Dropout (x)                 y = Relu (x)
//   y = Relu (t)
//
// Preconditions: inference mode — opset 6 and older need is_test=1; from opset
// 12 the training_mode input is absent or a constant false (an overridable
// graph input is not constant); the mask result is absent or unused. Exact:
// Dropout in inference is the identity.

#include "passes/PatternPass.h"
#include "passes/PatternRewriter.h"

namespace onnxopt {

namespace {

/// True if `v` is absent or a constant scalar false.
bool isConstantFalse(const Value *v) {
  if (!v)
    return true;
  if (!v->isConstant() || !v->tensor() ||
      v->tensor()->dtype() != DataType::Bool || v->tensor()->numElements() != 1)
    return false;
  return v->tensor()->bytes()[0] == 0;
}

class RemoveInferenceDropout final : public OpRewritePattern {
public:
  RemoveInferenceDropout(Statistic &removed, Statistic &maskUsed)
      : OpRewritePattern("Dropout"), removed_(removed), maskUsed_(maskUsed) {}
  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || !n.input(0) || !n.output(0))
      return r.notifyMatchFailure(n, "opaque, or no operand or result");
    if (n.numOutputs() > 1 && n.output(1) && !n.output(1)->useEmpty()) {
      ++maskUsed_;
      return r.notifyMatchFailure(n, "the mask is used");
    }
    if (n.op().sinceVersion <= 6) {
      const Attribute *isTest = n.attr("is_test");
      if (!isTest || isTest->i == 0)
        return r.notifyMatchFailure(n, "training mode (is_test=0)");
    }
    if (n.op().sinceVersion >= 12 && n.numInputs() > 2 &&
        !isConstantFalse(n.input(2)))
      return r.notifyMatchFailure(n, "training_mode is not a constant false");
    if (!canForwardResult(*n.output(0), *n.input(0), r.graph()))
      return r.notifyMatchFailure(n,
                                  "a graph output needs the node for its name");
    r.replaceNode(n, {n.input(0)});
    ++removed_;
    return true;
  }

private:
  Statistic &removed_, &maskUsed_;
};

class EliminateNopDropoutPass final : public PatternPass {
public:
  std::string_view argument() const override { return "eliminate-nop-dropout"; }
  std::string_view description() const override {
    return "Remove Dropout in inference mode when its mask is unused";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(
        std::make_unique<RemoveInferenceDropout>(numRemoved, numMaskUsed));
  }

private:
  Statistic numRemoved{this, "num-removed", "Dropout nodes removed"};
  Statistic numMaskUsed{this, "num-mask-used", "Dropouts kept: mask used"};
};

} // namespace

std::unique_ptr<Pass> createEliminateNopDropoutPass() {
  return std::make_unique<EliminateNopDropoutPass>();
}

} // namespace onnxopt
