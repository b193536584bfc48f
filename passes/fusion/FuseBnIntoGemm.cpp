// fuse-bn-into-gemm: the same for a Gemm whose 2-D result feeds the
// BatchNormalization (channel = output column j):
//   y = Gemm <alpha, beta, transB> (A, B, C);  Y = BatchNormalization (y, ...)
// becomes
//   Y = Gemm <alpha, beta = 1, transB> (A, B', C')
//   B'[:, j] = B[:, j] * s[j]   (rows of B when transB = 1)
//   C'[j]    = (beta * C[j] - mean[j]) * s[j] + bias[j]
// Preconditions as above; B is a 2-D constant, C absent or a constant that
// does not vary along the rows (a scalar, [N] or [1, N]).
//
// The per-channel affine map is bnAffine (passes/PatternUtils.h), shared
// with fuse-bn-into-conv (whose file says the rest).
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

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
    if (!isFloatType(dt) || wt.dims().size() != 2 ||
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

} // namespace

std::unique_ptr<Pass> createFuseBnIntoGemmPass() {
  return std::make_unique<FuseBnIntoGemmPass>();
}

} // namespace onnxopt
