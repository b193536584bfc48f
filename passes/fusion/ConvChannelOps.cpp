// fuse-add-bias-into-conv and fuse-mul-into-conv: per-channel Add and Mul
// after a Conv, folded into its bias and weights.
#include "passes/fusion/FuseAddBiasIntoConv.h"
#include "passes/fusion/FuseMulIntoConv.h"

#include "passes/fusion/FusionUtils.h"

namespace onnxopt {

namespace {

/// Matches `Add`/`Mul (Conv(...), constant)` in either operand order.
class ChannelOpIntoConv final : public OpRewritePattern {
public:
  ChannelOpIntoConv(std::string op, PatternPass &pass, Statistic &fused)
      : OpRewritePattern(op), isMul_(op == "Mul"), pass_(pass), fused_(fused) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() != 2 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    Node *conv = nullptr;
    Value *k = nullptr;
    for (size_t i = 0; i < 2 && !conv; ++i) {
      Value *v = n.input(i);
      if (v && isOp(v->definingNode(), "Conv") &&
          isConstantTensor(n.input(1 - i))) {
        conv = v->definingNode();
        k = n.input(1 - i);
      }
    }
    if (!conv)
      return r.notifyMatchFailure(n, "not Conv and a constant");
    Value *c = conv->output(0);
    if (!isPrivateResult(c))
      return r.notifyMatchFailure(
          n, "the Conv result has other users or is a graph output");
    Value *w = conv->numInputs() > 1 ? conv->input(1) : nullptr;
    Value *b = conv->numInputs() > 2 ? conv->input(2) : nullptr;
    if (!isConstantTensor(w) || (b && !isConstantTensor(b)))
      return r.notifyMatchFailure(n, "Conv weights are not constants");
    const Tensor &wt = *w->tensor();
    DataType dt = wt.dtype();
    if (!ref::isFloatType(dt) || k->tensor()->dtype() != dt ||
        (b && b->tensor()->dtype() != dt) || wt.dims().size() < 3)
      return r.notifyMatchFailure(n, "not one float type, or rank < 3");
    int64_t m = wt.dims()[0];
    auto per = channelValues(*k, wt.dims().size(), m);
    if (!per)
      return r.notifyMatchFailure(n, "the constant is not per channel");
    if (!canForwardResult(*n.output(0), *c, r.graph()))
      return r.notifyMatchFailure(n, "a graph output needs the node");

    std::vector<double> bv =
        b ? constantValues(*b) : std::vector<double>(size_t(m), 0.0);
    for (int64_t j = 0; j < m; ++j)
      bv[j] = isMul_ ? bv[j] * (*per)[j] : bv[j] + (*per)[j];
    if (isMul_) {
      int64_t each = wt.numElements() / m;
      r.setOperand(*conv, 1,
                   r.createInitializer(w->name() + "_mul",
                                       scaleBlocks(wt, *per, 1, each)));
    }
    // Without a bias, Mul leaves none: B' = 0 * S adds nothing.
    if (b || !isMul_) {
      Value *nb =
          r.createInitializer(n.name + "_bias", makeFloatTensor(dt, {m}, bv));
      if (conv->numInputs() > 2)
        r.setOperand(*conv, 2, nb);
      else
        r.appendOperand(*conv, nb);
    }
    r.replaceNode(n, {c});
    ++fused_;
    return true;
  }

private:
  bool isMul_;
  PatternPass &pass_;
  Statistic &fused_;
};

class FuseAddBiasIntoConvPass final : public PatternPass {
public:
  std::string_view argument() const override {
    return "fuse-add-bias-into-conv";
  }
  std::string_view description() const override {
    return "Fold an Add of a per-channel constant into the Conv before it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(
        std::make_unique<ChannelOpIntoConv>("Add", *this, numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Adds folded into Conv biases"};
};

class FuseMulIntoConvPass final : public PatternPass {
public:
  std::string_view argument() const override { return "fuse-mul-into-conv"; }
  std::string_view description() const override {
    return "Fold a Mul by a per-channel constant into the Conv before it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(
        std::make_unique<ChannelOpIntoConv>("Mul", *this, numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Muls folded into Conv weights"};
};

} // namespace

std::unique_ptr<Pass> createFuseAddBiasIntoConvPass() {
  return std::make_unique<FuseAddBiasIntoConvPass>();
}
std::unique_ptr<Pass> createFuseMulIntoConvPass() {
  return std::make_unique<FuseMulIntoConvPass>();
}

} // namespace onnxopt
