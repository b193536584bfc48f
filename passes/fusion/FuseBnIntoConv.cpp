// fuse-bn-into-conv: BatchNormalization folded into Conv / ConvTranspose.
#include "passes/fusion/FuseBnIntoConv.h"

#include "passes/cleanup/CleanupUtils.h"

#include <cmath>

namespace onnxopt {

namespace {

/// An inference BatchNormalization with constant parameters as the
/// per-channel affine map y = (x - mean) * scale + bias, scale already divided
/// by sqrt(var + epsilon). Returns why not, or nullptr.
struct BnAffine {
  std::vector<double> scale, mean, bias;
};
const char *bnAffine(const Node &bn, int64_t channels, BnAffine &out) {
  if (bn.op().isOpaque() || bn.op().sinceVersion < 9 || bn.numInputs() < 5)
    return "opaque, before opset 9, or short";
  if (const Attribute *t = bn.attr("training_mode"); t && t->i != 0)
    return "training mode";
  for (size_t i = 1; i < bn.numOutputs(); ++i)
    if (bn.output(i) && !bn.output(i)->useEmpty())
      return "a running statistic is used";
  for (size_t i = 1; i < 5; ++i)
    if (!isConstantTensor(bn.input(i)))
      return "a BatchNormalization parameter is not a constant";
  std::vector<double> gamma = constantValues(*bn.input(1)),
                      var = constantValues(*bn.input(4));
  out.bias = constantValues(*bn.input(2));
  out.mean = constantValues(*bn.input(3));
  if (int64_t(gamma.size()) != channels ||
      int64_t(out.bias.size()) != channels ||
      int64_t(out.mean.size()) != channels || int64_t(var.size()) != channels)
    return "parameter lengths differ from the output channels";
  double eps = 1e-5;
  if (const Attribute *e = bn.attr("epsilon"))
    eps = e->f;
  out.scale.resize(size_t(channels));
  for (int64_t k = 0; k < channels; ++k)
    out.scale[k] = gamma[k] / std::sqrt(var[k] + eps);
  return nullptr;
}

class BnIntoConv final : public OpRewritePattern {
public:
  BnIntoConv(PatternPass &pass, Statistic &fused)
      : OpRewritePattern("BatchNormalization"), pass_(pass), fused_(fused) {}

  bool matchAndRewrite(Node &bn, Rewriter &r) override {
    if (bn.op().isOpaque() || bn.numInputs() < 5)
      return r.notifyMatchFailure(bn, "opaque or short");
    Value *c = bn.input(0);
    Node *conv = c ? c->definingNode() : nullptr;
    bool transpose = isOp(conv, "ConvTranspose");
    if (!isOp(conv, "Conv") && !transpose)
      return r.notifyMatchFailure(bn, "not fed by Conv or ConvTranspose");
    if (!isPrivateResult(c))
      return r.notifyMatchFailure(
          bn, "the Conv result has other users or is a graph output");
    Value *w = conv->numInputs() > 1 ? conv->input(1) : nullptr;
    Value *b = conv->numInputs() > 2 ? conv->input(2) : nullptr;
    if (!isConstantTensor(w) || (b && !isConstantTensor(b)))
      return r.notifyMatchFailure(bn, "Conv weights are not constants");
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
    BnAffine bnp;
    if (const char *why = bnAffine(bn, m, bnp))
      return r.notifyMatchFailure(bn, why);
    if (b && b->tensor()->numElements() != m)
      return r.notifyMatchFailure(bn, "the Conv bias length differs");
    if (!canForwardResult(*bn.output(0), *c, r.graph()))
      return r.notifyMatchFailure(bn, "a graph output needs the node");
    const std::vector<double> &s = bnp.scale;
    int64_t per = wt.numElements() / wt.dims()[0];
    std::shared_ptr<const Tensor> scaled;
    if (!transpose) {
      scaled = scaleBlocks(wt, s, 1, per);
    } else {
      // [Cin, Cout/group, k...]: channel g * (Cout/group) + j. Each input
      // channel row is [Cout/group, k...] scaled by its group's slice of s.
      int64_t cinPerGroup = wt.dims()[0] / group, coutPerGroup = wt.dims()[1];
      int64_t kernel = per / coutPerGroup;
      std::vector<double> rowScale;
      rowScale.reserve(size_t(wt.dims()[0] * coutPerGroup));
      for (int64_t cin = 0; cin < wt.dims()[0]; ++cin)
        for (int64_t j = 0; j < coutPerGroup; ++j)
          rowScale.push_back(s[size_t((cin / cinPerGroup) * coutPerGroup + j)]);
      scaled = scaleBlocks(wt, rowScale, 1, kernel);
    }
    std::vector<double> bv =
        b ? constantValues(*b) : std::vector<double>(size_t(m), 0.0);
    for (int64_t k = 0; k < m; ++k)
      bv[k] = (bv[k] - bnp.mean[k]) * s[k] + bnp.bias[k];

    Value *nw = r.createInitializer(w->name() + "_bn", std::move(scaled));
    Value *nb =
        r.createInitializer(bn.name + "_bias", makeFloatTensor(dt, {m}, bv));
    r.setOperand(*conv, 1, nw);
    if (conv->numInputs() > 2)
      r.setOperand(*conv, 2, nb);
    else
      r.appendOperand(*conv, nb);
    r.replaceNode(bn, {c});
    releaseIfDead(w);
    releaseIfDead(b);
    ++fused_;
    return true;
  }

private:
  PatternPass &pass_;
  Statistic &fused_;
};

class BnIntoGemm final : public OpRewritePattern {
public:
  BnIntoGemm(PatternPass &pass, Statistic &fused)
      : OpRewritePattern("BatchNormalization"), pass_(pass), fused_(fused) {}

  bool matchAndRewrite(Node &bn, Rewriter &r) override {
    if (bn.op().isOpaque() || bn.numInputs() < 5)
      return r.notifyMatchFailure(bn, "opaque or short");
    Value *y = bn.input(0);
    Node *gemm = y ? y->definingNode() : nullptr;
    if (!isOp(gemm, "Gemm") || gemm->numInputs() < 2)
      return r.notifyMatchFailure(bn, "not fed by Gemm");
    if (!isPrivateResult(y))
      return r.notifyMatchFailure(
          bn, "the Gemm result has other users or is a graph output");
    Value *w = gemm->input(1);
    Value *c = gemm->numInputs() > 2 ? gemm->input(2) : nullptr;
    if (!isConstantTensor(w) || (c && !isConstantTensor(c)))
      return r.notifyMatchFailure(bn, "B or C is not a constant");
    const Tensor &wt = *w->tensor();
    DataType dt = wt.dtype();
    bool transB = intAttr(*gemm, "transB", 0) != 0;
    if (!ref::isFloatType(dt) || wt.dims().size() != 2 ||
        (c && c->tensor()->dtype() != dt))
      return r.notifyMatchFailure(bn, "B is not a 2-D float constant");
    int64_t n = transB ? wt.dims()[0] : wt.dims()[1];
    int64_t k = transB ? wt.dims()[1] : wt.dims()[0];
    BnAffine bnp;
    if (const char *why = bnAffine(bn, n, bnp))
      return r.notifyMatchFailure(bn, why);
    // C must not vary along rows: a scalar, [N] or [1, N].
    std::vector<double> cv(size_t(n), 0.0);
    if (c) {
      const auto &cd = c->tensor()->dims();
      std::vector<double> vals = constantValues(*c);
      bool row = (cd.size() == 1 && cd[0] == n) ||
                 (cd.size() == 2 && cd[0] == 1 && cd[1] == n);
      bool scalar = vals.size() == 1 && cd.size() <= 2;
      if (!row && !scalar)
        return r.notifyMatchFailure(bn, "C varies along the rows");
      for (int64_t j = 0; j < n; ++j)
        cv[size_t(j)] = vals[scalar ? 0 : size_t(j)];
    }
    if (!canForwardResult(*bn.output(0), *y, r.graph()))
      return r.notifyMatchFailure(bn, "a graph output needs the node");
    // y' = ((alpha A B + beta C) - mean) * s + bias
    //    = alpha A (B s) + ((beta C - mean) * s + bias)
    const std::vector<double> &s = bnp.scale;
    auto scaled = transB ? scaleBlocks(wt, s, 1, k) : scaleBlocks(wt, s, k, 1);
    double beta = 1.0;
    if (const Attribute *a = gemm->attr("beta"))
      beta = a->f;
    for (int64_t j = 0; j < n; ++j)
      cv[size_t(j)] =
          (beta * cv[size_t(j)] - bnp.mean[size_t(j)]) * s[size_t(j)] +
          bnp.bias[size_t(j)];
    Value *nw = r.createInitializer(w->name() + "_bn", std::move(scaled));
    Value *nc =
        r.createInitializer(bn.name + "_bias", makeFloatTensor(dt, {n}, cv));
    r.setOperand(*gemm, 1, nw);
    if (gemm->numInputs() > 2)
      r.setOperand(*gemm, 2, nc);
    else
      r.appendOperand(*gemm, nc);
    r.setAttr(*gemm, Attribute::makeFloat("beta", 1.0f));
    r.replaceNode(bn, {y});
    releaseIfDead(w);
    releaseIfDead(c);
    ++fused_;
    return true;
  }

private:
  PatternPass &pass_;
  Statistic &fused_;
};

class FuseBnIntoGemmPass final : public PatternPass {
public:
  std::string_view argument() const override { return "fuse-bn-into-gemm"; }
  std::string_view description() const override {
    return "Fold an inference BatchNormalization into the Gemm before it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<BnIntoGemm>(*this, numFused));
  }

private:
  Statistic numFused{this, "num-fused", "BatchNormalizations folded"};
};

class FuseBnIntoConvPass final : public PatternPass {
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
std::unique_ptr<Pass> createFuseBnIntoGemmPass() {
  return std::make_unique<FuseBnIntoGemmPass>();
}

} // namespace onnxopt
