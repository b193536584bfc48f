// ort-fuse-quick-gelu: SiLU / Swish, x * sigmoid(alpha * x), becomes ONNX
// Runtime's com.microsoft.QuickGelu, one pass over x instead of two
// (EfficientNet has 49, a LLaMA MLP one per layer).
//
// Before:
//   s = Sigmoid (x)                 # or Sigmoid (Mul (x, alpha))
//   y = Mul (x, s)                  # either operand order
// After:
//   y = com.microsoft.QuickGelu <alpha = 1.0> (x)
//
// Preconditions: float32; alpha a scalar constant; the Sigmoid's result
// (and alpha's Mul) read only by this chain.
//
// Numeric: ONNX Runtime computes the sigmoid with its own approximation
// (MLAS). What its QuickGeluFusion does at load at level `extended`;
// lowered ahead, a model loaded with optimizations `disabled` runs it too.
#include "backends/ort/OrtPasses.h"

#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class SwishToOrt final : public OpRewritePattern {
public:
  explicit SwishToOrt(Statistic &fused)
      : OpRewritePattern("Sigmoid"), fused_(fused) {}

  bool matchAndRewrite(Node &sig, Rewriter &r) override {
    if (sig.op().isOpaque() || !sig.input(0) || !sig.output(0))
      return r.notifyMatchFailure(sig, "opaque or malformed");
    Value *s = sig.output(0);
    if (!isPrivateResult(s))
      return r.notifyMatchFailure(
          sig, "the result has other users or is a graph output");
    Node &mul = *s->firstUse()->user();
    if (!isOp(&mul, "Mul") || mul.numInputs() != 2)
      return r.notifyMatchFailure(sig, "not multiplied by its input");
    Value *x = mul.input(mul.input(0) == s ? 1 : 0);
    // The Sigmoid reads x itself, or x scaled by a scalar constant.
    Value *a = sig.input(0);
    float alpha = 1.0f;
    if (a != x) {
      Node *scale = a->definingNode();
      if (!isOp(scale, "Mul") || !isPrivateResult(a))
        return r.notifyMatchFailure(sig, "not multiplied by its input");
      Value *c = scale->input(scale->input(0) == x ? 1 : 0);
      auto v = scalarConstant(c);
      if ((scale->input(0) != x && scale->input(1) != x) || !v)
        return r.notifyMatchFailure(sig, "the input's scale is not a scalar "
                                         "constant");
      alpha = static_cast<float>(*v);
    }
    if (!x->type().isTensor() || x->type().elemType() != DataType::Float ||
        !mul.output(0)->type().isTensor() ||
        mul.output(0)->type().elemType() != DataType::Float)
      return r.notifyMatchFailure(sig, "not float32");
    auto op = r.resolve("QuickGelu", "com.microsoft");
    if (!op.ok())
      return r.notifyMatchFailure(sig, "no com.microsoft domain");
    Node *q = r.create(*op, {x}, 1, &mul);
    r.setAttr(*q, Attribute::makeFloat("alpha", alpha));
    r.replaceChain(mul, *q);
    ++fused_;
    return true;
  }

private:
  Statistic &fused_;
};

class OrtFuseQuickGeluPass final : public OrtLoweringPass {
public:
  std::string_view argument() const override { return "ort-fuse-quick-gelu"; }
  std::string_view description() const override {
    return "Lower x * sigmoid(alpha * x) (SiLU, Swish) to ONNX Runtime's "
           "com.microsoft.QuickGelu";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<SwishToOrt>(numFused));
  }

private:
  Statistic numFused{this, "num-fused", "SiLUs lowered to QuickGelu"};
};

} // namespace

std::unique_ptr<Pass> createOrtFuseQuickGeluPass() {
  return std::make_unique<OrtFuseQuickGeluPass>();
}

} // namespace onnxopt
