// ort-fuse-activation: a Conv or Gemm followed by an activation becomes ONNX
// Runtime's com.microsoft.FusedConv or FusedGemm, which applies it to each
// output block while it is still in cache.
//
// Before:
//   c = Conv <...> (X, W, B)            # or Gemm <alpha, beta, transA, transB>
//   Y = Relu (c)                        # LeakyRelu, Sigmoid, Tanh, Clip,
//                                       # HardSigmoid
// After:
//   Y = com.microsoft.FusedConv <..., activation = "Relu",
//                                activation_params = [...]> (X, W, B)
//   (FusedGemm: activation_alpha / activation_beta / activation_gamma)
//
// Preconditions: float32 (the CPU kernels' only type); the Conv/Gemm result
// has no other user and is not a graph output; Clip's bounds constant
// (FusedConv only: FusedGemm has no Clip); a 2-D (or 1-D, 3-D) Conv, not a
// ConvTranspose.
//
// Exact in ONNX Runtime's arithmetic (the activation is applied to the same
// sums); numeric only because its kernels may block the sums otherwise than
// the unfused Conv. ONNX Runtime's own ConvActivationFusion does this at
// load at level `extended`: lowered ahead, a model loaded with
// optimizations `disabled` gets it too.
#include "backends/ort/OrtPasses.h"

#include "passes/PatternUtils.h"

#include <limits>

namespace onnxopt {

std::optional<OrtActivation> ortActivationOf(const Node &n, const char *&why) {
  auto floatAttr = [&](std::string_view a, float dflt) {
    const Attribute *at = n.attr(a);
    return at && at->kind == AttrKind::Float ? at->f : dflt;
  };
  if (n.is("Relu") || n.is("Sigmoid") || n.is("Tanh"))
    return OrtActivation{n.op().type, {}};
  if (n.is("LeakyRelu"))
    return OrtActivation{"LeakyRelu", {floatAttr("alpha", 0.01f)}};
  if (n.is("HardSigmoid"))
    return OrtActivation{"HardSigmoid",
                         {floatAttr("alpha", 0.2f), floatAttr("beta", 0.5f)}};
  if (n.is("Clip")) {
    float lo = std::numeric_limits<float>::lowest(),
          hi = std::numeric_limits<float>::max();
    if (n.op().sinceVersion < 11) {
      lo = floatAttr("min", lo);
      hi = floatAttr("max", hi);
    } else {
      for (size_t i = 1; i < 3 && i < n.numInputs(); ++i) {
        const Value *b = n.input(i);
        if (!b)
          continue;
        if (!isConstantTensor(b) || b->tensor()->numElements() != 1) {
          why = "Clip's bounds are not constants";
          return std::nullopt;
        }
        (i == 1 ? lo : hi) = static_cast<float>(constantValues(*b)[0]);
      }
    }
    return OrtActivation{"Clip", {lo, hi}};
  }
  why = "not an activation FusedConv/FusedGemm take";
  return std::nullopt;
}

namespace {

class ActivationToOrt final : public OpRewritePattern {
public:
  ActivationToOrt(const char *root, Statistic &fused)
      : OpRewritePattern(root), fused_(fused) {}

  bool matchAndRewrite(Node &producer, Rewriter &r) override {
    bool conv = producer.is("Conv");
    if (producer.op().isOpaque() || !producer.output(0))
      return r.notifyMatchFailure(producer, "opaque or malformed");
    Value *c = producer.output(0);
    if (!isPrivateResult(c))
      return r.notifyMatchFailure(
          producer, "the result has other users or is a graph output");
    Node &act = *c->firstUse()->user();
    if (act.op().isOpaque())
      return r.notifyMatchFailure(producer, "followed by an opaque op");
    const char *why = nullptr;
    auto a = ortActivationOf(act, why);
    if (!a)
      return r.notifyMatchFailure(producer, why);
    if (!conv && a->name == "Clip")
      return r.notifyMatchFailure(producer, "FusedGemm has no Clip");
    if (!c->type().isTensor() || c->type().elemType() != DataType::Float)
      return r.notifyMatchFailure(producer, "not float32");
    auto op = r.resolve(conv ? "FusedConv" : "FusedGemm", "com.microsoft");
    if (!op.ok())
      return r.notifyMatchFailure(producer, "no com.microsoft domain");
    std::vector<Value *> operands;
    for (size_t i = 0; i < producer.numInputs(); ++i)
      operands.push_back(producer.input(i));
    Node *f = r.create(*op, operands, 1, &act);
    f->name = producer.name;
    for (const Attribute &at : producer.attrs())
      r.setAttr(*f, at.copyWithoutGraphs());
    r.setAttr(*f, Attribute::makeString("activation", a->name));
    if (conv) {
      if (!a->params.empty())
        r.setAttr(*f, Attribute::makeFloats("activation_params", a->params));
    } else {
      static const char *const names[] = {"activation_alpha",
                                          "activation_beta"};
      for (size_t i = 0; i < a->params.size(); ++i)
        r.setAttr(*f, Attribute::makeFloat(names[i], a->params[i]));
    }
    r.takeNameAndType(f->output(0), *act.output(0));
    r.replaceNode(act, {f->output(0)});
    r.eraseNode(producer);
    ++fused_;
    return true;
  }

private:
  Statistic &fused_;
};

class OrtFuseActivationPass final : public OrtLoweringPass {
public:
  std::string_view argument() const override { return "ort-fuse-activation"; }
  std::string_view description() const override {
    return "Lower Conv/Gemm + Relu, LeakyRelu, Sigmoid, Tanh, Clip or "
           "HardSigmoid to ONNX Runtime's com.microsoft.FusedConv/FusedGemm";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<ActivationToOrt>("Conv", numConv));
    patterns.push_back(std::make_unique<ActivationToOrt>("Gemm", numGemm));
  }

private:
  Statistic numConv{this, "num-fused-conv", "Conv + activation to FusedConv"};
  Statistic numGemm{this, "num-fused-gemm", "Gemm + activation to FusedGemm"};
};

} // namespace

std::unique_ptr<Pass> createOrtFuseActivationPass() {
  return std::make_unique<OrtFuseActivationPass>();
}

} // namespace onnxopt
