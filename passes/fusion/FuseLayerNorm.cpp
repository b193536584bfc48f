// fuse-layer-norm: the layer normalization that exports before opset 17 and
// TF/Keras graphs spell out op by op becomes one LayerNormalization (opset
// 17).
//
// Before:
//   m = ReduceMean <axes = A> (X);  d = Sub (X, m)
//   q = Pow (d, 2)       (or Mul (d, d))
//   v = ReduceMean <axes = A> (q);  e = Add (v, eps);  s = Sqrt (e)
//   n = Div (d, s);  [y = Mul (n, gamma)];  [Y = Add (y, beta)]
// After:
//   Y = LayerNormalization <axis = k - rank, epsilon = eps> (X, gamma, beta)
//
// Preconditions: the model imports opset >= 17 (an older model is converted
// first only when --target-opset asks for it); X float, of known rank; A
// (both ReduceMeans, keepdims 1) the axes k..rank-1; eps a one-element
// constant; gamma and beta constants of the normalized shape (their leading
// 1s dropped), gamma all ones when there is no Mul (static normalized dims
// needed then); every intermediate private (d read only by the chain).
//
// Numeric: ONNX Runtime's kernel sums the mean and variance in another order
// than the two ReduceMeans (within float rounding).

#include "passes/NormMatch.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class LayerNormChain final : public SimplePattern {
public:
  explicit LayerNormChain(SimplePatternPass &pass)
      : SimplePattern("Div", pass) {}

  bool matchAndRewrite(Node &div, Rewriter &r) override {
    if (div.op().isOpaque() || div.numInputs() != 2 || !div.output(0))
      return r.notifyMatchFailure(div, "opaque or malformed");
    Value *d = div.input(0), *s = div.input(1);
    Node *sub = d ? d->definingNode() : nullptr;
    if (!isOp(sub, "Sub") || sub->numInputs() != 2 || d->isGraphOutput())
      return r.notifyMatchFailure(div, "not (X - mean) / ...");
    Value *x = sub->input(0), *m = sub->input(1);
    std::vector<int64_t> meanAxes, varAxes;
    Node *mean = reduceMeanOf(m, meanAxes);
    if (!mean || mean->input(0) != x || !isPrivateResult(m))
      return r.notifyMatchFailure(div, "the subtrahend is not a private "
                                       "ReduceMean of X");
    if (x->type().elemType() != DataType::Float)
      return r.notifyMatchFailure(div, "X is not float");
    auto rank = rankOf(x);
    auto axes = normalizeAxes(meanAxes, rank);
    auto start = lastAxesStart(meanAxes, rank);
    if (!start)
      return r.notifyMatchFailure(div, "the axes are not the last ones");
    std::sort(axes->begin(), axes->end());
    int64_t k = *start;
    // s = Sqrt (ReduceMean (d^2) + eps).
    Node *sqrt = s ? s->definingNode() : nullptr;
    if (!isOp(sqrt, "Sqrt") || !isPrivateResult(s))
      return r.notifyMatchFailure(div, "the divisor is not a private Sqrt");
    Value *e = sqrt->input(0);
    Node *add = e ? e->definingNode() : nullptr;
    if (!isOp(add, "Add") || !isPrivateResult(e))
      return r.notifyMatchFailure(div, "no private Add of epsilon");
    Value *var = nullptr;
    std::optional<double> eps;
    for (unsigned i = 0; i < 2 && !eps; ++i)
      if ((eps = scalarConstant(add->input(1 - i))))
        var = add->input(i);
    Node *varMean = eps ? reduceMeanOf(var, varAxes) : nullptr;
    if (!varMean || !isPrivateResult(var))
      return r.notifyMatchFailure(div, "no private ReduceMean + epsilon");
    auto va = normalizeAxes(varAxes, rank);
    if (!va)
      return r.notifyMatchFailure(div, "variance axes differ");
    std::sort(va->begin(), va->end());
    if (*va != *axes)
      return r.notifyMatchFailure(div, "variance axes differ");
    Value *q = varMean->input(0);
    Node *square = q ? q->definingNode() : nullptr;
    bool isSquare = isPrivateResult(q) &&
                    ((isOp(square, "Pow") && square->input(0) == d &&
                      scalarConstant(square->input(1)) == 2.0) ||
                     (isOp(square, "Mul") && square->numInputs() == 2 &&
                      square->input(0) == d && square->input(1) == d));
    if (!isSquare)
      return r.notifyMatchFailure(div, "the variance is not of (X - mean)^2");
    for (const Use *u : d->uses())
      if (u->user() != &div && u->user() != square)
        return r.notifyMatchFailure(div, "X - mean has other users");
    // The normalized dims, then gamma and beta.
    std::vector<std::optional<int64_t>> norm;
    for (int64_t a = k; a < *rank; ++a)
      norm.push_back(staticDim(x, a));
    Node *last = &div;
    Value *gamma = nullptr, *beta = nullptr;
    if (Node *mul = soleUser(div.output(0), "Mul"))
      if ((gamma =
               normalizedConstant(otherOperand(*mul, div.output(0)), norm, r)))
        last = mul;
    if (gamma)
      if (Node *bias = soleUser(last->output(0), "Add"))
        if ((beta = normalizedConstant(otherOperand(*bias, last->output(0)),
                                       norm, r)))
          last = bias;
    if (!gamma && !(gamma = onesScale(norm, r, "layer_norm_scale")))
      return r.notifyMatchFailure(div, "no scale and dynamic normalized dims");
    auto op = r.resolve("LayerNormalization");
    if (!op.ok())
      return r.notifyMatchFailure(div, "the model's opset has no "
                                       "LayerNormalization (< 17)");
    std::vector<Value *> in{x, gamma};
    if (beta)
      in.push_back(beta);
    Node *ln = r.create(*op, in, 1, last);
    r.setAttr(*ln, Attribute::makeInt("axis", k - *rank));
    r.setAttr(*ln, Attribute::makeFloat("epsilon", float(*eps)));
    r.replaceChain(*last, *ln);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseLayerNormPass() {
  auto p = makeSimplePatternPass<LayerNormChain>(
      "fuse-layer-norm",
      "Fuse the ReduceMean/Sub/Pow/Sqrt/Div(/Mul/Add) chain of a layer "
      "normalization into LayerNormalization (opset >= 17)",
      "num-fused", "Layer normalizations fused");
  p->numeric();
  return p;
}

} // namespace onnxopt
