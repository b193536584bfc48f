// eliminate-nop-dropout: removes Dropout in inference mode.
//
// Before:                         After:
//   t = Dropout (x)                 y = Relu (x)
//   y = Relu (t)
//
// Preconditions: inference mode — opset 6 and older need is_test=1; from opset
// 12 the training_mode input is absent or a constant false (an overridable
// graph input is not constant) — or a drop ratio that is a constant 0 (the
// ratio attribute before opset 12, the ratio input from 12), with which
// training mode drops nothing either (exporters leave Dropout(p=0.0,
// training=True) in Swin-T's attention); the mask result is absent or
// unused. Exact: such a Dropout is the identity (ONNX's reference returns
// its input unchanged).

#include "passes/PatternPass.h"
#include "passes/PatternRewriter.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

/// True if the drop ratio is a constant 0: the attribute before opset 12
/// (default 0.5), the input from 12 (absent: 0.5).
bool dropsNothing(const Node &n) {
  if (n.op().sinceVersion < 12) {
    const Attribute *ratio = n.attr("ratio");
    return ratio && ratio->kind == AttrKind::Float && ratio->f == 0.0f;
  }
  return scalarConstant(n.numInputs() > 1 ? n.input(1) : nullptr) == 0.0;
}

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
    bool zeroRatio = dropsNothing(n);
    if (n.op().sinceVersion <= 6 && !zeroRatio) {
      const Attribute *isTest = n.attr("is_test");
      if (!isTest || isTest->i == 0)
        return r.notifyMatchFailure(n, "training mode (is_test=0)");
    }
    if (n.op().sinceVersion >= 12 && n.numInputs() > 2 &&
        !isConstantFalse(n.input(2)) && !zeroRatio)
      return r.notifyMatchFailure(
          n, "training_mode is not a constant false and the ratio not 0");
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
