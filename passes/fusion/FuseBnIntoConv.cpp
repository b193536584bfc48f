// fuse-bn-into-conv: folds an inference BatchNormalization into the Conv or
// ConvTranspose that feeds it.
//
// Before:
//   c = Conv (X, W, B)
//   Y = BatchNormalization <epsilon = e> (c, scale, bias, mean, var)
// After:
//   Y = Conv (X, W', B')
//
// Algebra, per output channel m, with s[m] = scale[m] / sqrt(var[m] + e):
//   W'[m, ...] = W[m, ...] * s[m]
//   B'[m]      = (B[m] - mean[m]) * s[m] + bias[m]      (B = 0 when absent)
// ConvTranspose keeps its weights as [Cin, Cout/group, k...]: output channel
// m = g * (Cout/group) + j scales W[c, j, ...] for every input channel c of
// group g.
//
// Preconditions: BatchNormalization of opset 9 or later in inference (no
// training_mode, or 0; its optional outputs unused); the Conv result has no
// other user and is not a graph output; W, B and every BatchNormalization
// parameter are constants (not overridable graph inputs); float, double,
// float16 or bfloat16 weights; parameter lengths match the output channels.
//
// Numeric: W' and B' are computed in double and rounded once to the weight
// type, so outputs move by float rounding (within --verify's defaults on
// the corpus). Float16 weights are rounded to
// float16 after a double computation.
//
// The per-channel affine map is bnAffine (passes/PatternUtils.h), shared
// with fuse-bn-into-gemm.
#include "passes/PatternUtils.h"

#include <cmath>

namespace onnxopt {

namespace {

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
    if (!isFloatType(dt) || wt.dims().size() < 3 ||
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

} // namespace onnxopt
