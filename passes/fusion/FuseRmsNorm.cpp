// fuse-rms-norm: the root-mean-square normalization of T5/LLaMA-style models
// becomes RMSNormalization (opset 23).
//
// Before:
//   q = Pow (X, 2)       (or Mul (X, X))
//   v = ReduceMean <axes = A> (q);  e = Add (v, eps);  s = Sqrt (e)
//   n = Div (X, s)       (or Mul (X, Reciprocal (s)) or Mul (X, Div (1, s)),
//                         either order)
//   [Y = Mul (n, gamma)] (either order)
// After:
//   Y = RMSNormalization <axis = k - rank, epsilon = eps> (X, gamma)
//
// Preconditions (as fuse-layer-norm's), at opset >= 23: X float of known
// rank, A (keepdims 1) the axes k..rank-1, eps a one-element constant, gamma
// a constant of the normalized shape (all ones when absent: static
// normalized dims then), every intermediate private.
//
// Numeric: the mean square is summed in another order (within float
// rounding).

#include "passes/NormMatch.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class RmsNormChain final : public SimplePattern {
public:
  explicit RmsNormChain(SimplePatternPass &pass)
      : SimplePattern("Sqrt", pass) {}

  bool matchAndRewrite(Node &sqrt, Rewriter &r) override {
    if (sqrt.op().isOpaque() || !sqrt.output(0) || !sqrt.input(0))
      return r.notifyMatchFailure(sqrt, "opaque or malformed");
    // s = Sqrt (ReduceMean (X^2) + eps).
    Value *s = sqrt.output(0), *e = sqrt.input(0);
    Node *add = e->definingNode();
    if (!isOp(add, "Add") || !isPrivateResult(e) || !isPrivateResult(s))
      return r.notifyMatchFailure(sqrt, "not a private Sqrt of a private Add");
    Value *var = nullptr;
    std::optional<double> eps;
    for (unsigned i = 0; i < 2 && !eps; ++i)
      if ((eps = scalarConstant(add->input(1 - i))))
        var = add->input(i);
    std::vector<int64_t> axes;
    Node *mean = eps ? reduceMeanOf(var, axes) : nullptr;
    if (!mean || !isPrivateResult(var))
      return r.notifyMatchFailure(sqrt, "no private ReduceMean + epsilon");
    Value *q = mean->input(0);
    Node *square = q ? q->definingNode() : nullptr;
    Value *x = square && square->numInputs() == 2 ? square->input(0) : nullptr;
    bool isSquare =
        isPrivateResult(q) && x &&
        ((isOp(square, "Pow") && scalarConstant(square->input(1)) == 2.0) ||
         (isOp(square, "Mul") && square->input(1) == x));
    if (!isSquare)
      return r.notifyMatchFailure(sqrt, "the mean is not of X^2");
    if (x->type().elemType() != DataType::Float)
      return r.notifyMatchFailure(sqrt, "X is not float");
    auto rank = rankOf(x);
    auto k = lastAxesStart(axes, rank);
    if (!k)
      return r.notifyMatchFailure(sqrt, "the axes are not the last ones");
    // X / s, or X * Reciprocal (s), or X * (1 / s) (torch.rsqrt's export).
    Node *use = s->firstUse()->user();
    Node *norm = nullptr;
    bool inverse =
        isOp(use, "Reciprocal") || (isOp(use, "Div") && use->input(1) == s &&
                                    scalarConstant(use->input(0)) == 1.0);
    if (isOp(use, "Div") && use->input(0) == x && use->input(1) == s) {
      norm = use;
    } else if (inverse && isPrivateResult(use->output(0))) {
      Node *mul = use->output(0)->firstUse()->user();
      if (isOp(mul, "Mul") && otherOperand(*mul, use->output(0)) == x)
        norm = mul;
    }
    if (!norm)
      return r.notifyMatchFailure(sqrt, "X is not divided by the root");
    std::vector<std::optional<int64_t>> dims;
    for (int64_t a = *k; a < *rank; ++a)
      dims.push_back(staticDim(x, a));
    Node *last = norm;
    Value *gamma = nullptr;
    if (Node *mul = soleUser(norm->output(0), "Mul"))
      if ((gamma = normalizedConstant(otherOperand(*mul, norm->output(0)), dims,
                                      r)))
        last = mul;
    if (!gamma && !(gamma = onesScale(dims, r, "rms_norm_scale")))
      return r.notifyMatchFailure(sqrt, "no scale and dynamic normalized "
                                        "dims");
    auto op = r.resolve("RMSNormalization");
    if (!op.ok())
      return r.notifyMatchFailure(sqrt, "the model's opset has no "
                                        "RMSNormalization (< 23)");
    Node *rms = r.create(*op, {x, gamma}, 1, last);
    r.setAttr(*rms, Attribute::makeInt("axis", *k - *rank));
    r.setAttr(*rms, Attribute::makeFloat("epsilon", float(*eps)));
    r.replaceChain(*last, *rms);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseRmsNormPass() {
  auto p = makeSimplePatternPass<RmsNormChain>(
      "fuse-rms-norm",
      "Fuse the Pow/ReduceMean/Add/Sqrt/Div(/Mul) chain of a root-mean-square "
      "normalization into RMSNormalization (opset >= 23)",
      "num-fused", "RMS normalizations fused");
  p->numeric();
  return p;
}

} // namespace onnxopt
