// fuse-bn-into-conv: BatchNormalization folded into Conv / ConvTranspose.
#include "passes/fusion/FuseBnIntoConv.h"

#include "passes/fusion/FusionUtils.h"

#include <cmath>

namespace onnxopt {

namespace {

class BnIntoConv final : public OpRewritePattern {
public:
  BnIntoConv(FusionPass &pass, Statistic &fused)
      : OpRewritePattern("BatchNormalization"), pass_(pass), fused_(fused) {}

  bool matchAndRewrite(Node &bn, Rewriter &r) override {
    if (bn.op().isOpaque() || bn.op().sinceVersion < 9 || bn.numInputs() < 5)
      return r.notifyMatchFailure(bn, "opaque, before opset 9, or short");
    if (const Attribute *t = bn.attr("training_mode"); t && t->i != 0)
      return r.notifyMatchFailure(bn, "training mode");
    for (size_t i = 1; i < bn.numOutputs(); ++i)
      if (bn.output(i) && !bn.output(i)->useEmpty())
        return r.notifyMatchFailure(bn, "a running statistic is used");
    Value *c = bn.input(0);
    Node *conv = c ? c->definingNode() : nullptr;
    bool transpose = isOp(conv, "ConvTranspose");
    if (!isOp(conv, "Conv") && !transpose)
      return r.notifyMatchFailure(bn, "not fed by Conv or ConvTranspose");
    if (!isPrivateResult(c))
      return r.notifyMatchFailure(bn, "the Conv result has other users");
    Value *w = conv->numInputs() > 1 ? conv->input(1) : nullptr;
    Value *b = conv->numInputs() > 2 ? conv->input(2) : nullptr;
    if (!isConstantTensor(w) || (b && !isConstantTensor(b)))
      return r.notifyMatchFailure(bn, "Conv weights are not constants");
    for (size_t i = 1; i < 5; ++i)
      if (!isConstantTensor(bn.input(i)))
        return r.notifyMatchFailure(bn, "a BatchNormalization parameter is "
                                        "not a constant");
    const Tensor &wt = *w->tensor();
    DataType dt = wt.dtype();
    if (!ref::isFloatType(dt) || wt.dims().size() < 3 ||
        (b && b->tensor()->dtype() != dt))
      return r.notifyMatchFailure(bn, "weights are not float, or rank < 3");
    int64_t group = 1;
    if (const Attribute *g = conv->attr("group"))
      group = g->i;
    if (group <= 0 || (transpose && wt.dims()[0] % group))
      return r.notifyMatchFailure(bn, "bad group");
    int64_t m = transpose ? wt.dims()[1] * group : wt.dims()[0];
    std::vector<double> scale = constantValues(*bn.input(1)),
                        bias = constantValues(*bn.input(2)),
                        mean = constantValues(*bn.input(3)),
                        var = constantValues(*bn.input(4));
    if (int64_t(scale.size()) != m || int64_t(bias.size()) != m ||
        int64_t(mean.size()) != m || int64_t(var.size()) != m ||
        (b && b->tensor()->numElements() != m))
      return r.notifyMatchFailure(bn, "parameter lengths differ from the "
                                      "output channels");
    if (!canForwardResult(*bn.output(0), *c, r.graph()))
      return r.notifyMatchFailure(bn, "a graph output needs the node");

    double eps = 1e-5;
    if (const Attribute *e = bn.attr("epsilon"))
      eps = e->f;
    std::vector<double> s(static_cast<size_t>(m));
    for (int64_t k = 0; k < m; ++k)
      s[k] = scale[k] / std::sqrt(var[k] + eps);
    int64_t per = wt.numElements() / wt.dims()[0];
    std::shared_ptr<const Tensor> scaled;
    if (!transpose) {
      scaled = scaleByChannel(wt, s, [&](int64_t i) { return i / per; });
    } else {
      // [Cin, Cout/group, k...]: channel g * (Cout/group) + j.
      int64_t cinPerGroup = wt.dims()[0] / group, coutPerGroup = wt.dims()[1];
      int64_t kernel = per / coutPerGroup;
      scaled = scaleByChannel(wt, s, [&](int64_t i) {
        int64_t cin = i / per, j = (i % per) / kernel;
        return (cin / cinPerGroup) * coutPerGroup + j;
      });
    }
    std::vector<double> bv =
        b ? constantValues(*b) : std::vector<double>(size_t(m), 0.0);
    for (int64_t k = 0; k < m; ++k)
      bv[k] = (bv[k] - mean[k]) * s[k] + bias[k];

    Graph &g = r.graph();
    Value *nw =
        g.addInitializer(pass_.freshName(w->name() + "_bn"), std::move(scaled));
    Value *nb = g.addInitializer(pass_.freshName(bn.name + "_bias"),
                                 makeFloatTensor(dt, {m}, bv));
    conv->setInput(1, nw);
    if (conv->numInputs() > 2)
      conv->setInput(2, nb);
    else
      conv->addInput(nb);
    r.replaceNode(bn, {c});
    ++fused_;
    return true;
  }

private:
  FusionPass &pass_;
  Statistic &fused_;
};

class FuseBnIntoConvPass final : public FusionPass {
public:
  std::string_view argument() const override { return "fuse-bn-into-conv"; }
  std::string_view description() const override {
    return "Fold an inference BatchNormalization into the Conv or "
           "ConvTranspose before it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<BnIntoConv>(*this, numFused));
  }

private:
  Statistic numFused{this, "num-fused", "BatchNormalizations folded"};
};

} // namespace

std::unique_ptr<Pass> createFuseBnIntoConvPass() {
  return std::make_unique<FuseBnIntoConvPass>();
}

} // namespace onnxopt
