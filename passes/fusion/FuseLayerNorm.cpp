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
//
// fuse-rms-norm, in the same file (the same helpers): the root-mean-square
// normalization of T5/LLaMA-style models becomes RMSNormalization (opset
// 23).
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
// Preconditions: as fuse-layer-norm's, at opset >= 23: X float of known
// rank, A (keepdims 1) the axes k..rank-1, eps a one-element constant, gamma
// a constant of the normalized shape (all ones when absent: static
// normalized dims then), every intermediate private.
//
// Numeric: the mean square is summed in another order (within float
// rounding).

#include "passes/PatternUtils.h"

#include <numeric>

namespace onnxopt {

namespace {

/// The producer of `v` when it is a ReduceMean with keepdims 1 and constant
/// axes, else nullptr; its axes in `axes`.
Node *reduceMeanOf(const Value *v, std::vector<int64_t> &axes) {
  Node *n = v ? v->definingNode() : nullptr;
  if (!isOp(n, "ReduceMean") || intAttr(*n, "keepdims", 1) != 1)
    return nullptr;
  IntsOperand a = intsOperand(*n, "axes", 1, 18);
  if (a.absent || !a.values)
    return nullptr;
  axes = *a.values;
  return n;
}

/// The other operand of a two-input node, given one.
Value *otherOperand(const Node &n, const Value *x) {
  if (n.numInputs() != 2)
    return nullptr;
  if (n.input(0) == x)
    return n.input(1);
  return n.input(1) == x ? n.input(0) : nullptr;
}

/// The single user of `v` when it is an op of `type` and `v` is private.
Node *soleUser(const Value *v, std::string_view type) {
  if (!isPrivateResult(v))
    return nullptr;
  Node *u = v->firstUse()->user();
  return isOp(u, type) ? u : nullptr;
}

/// A constant for gamma or beta: `c` if its dims, leading 1s dropped, are
/// the normalized dims `norm` (a reshaped copy when they had leading 1s), or
/// nullptr. With unknown normalized dims, a 1-D `c` of one normalized axis.
Value *normalizedConstant(Value *c,
                          const std::vector<std::optional<int64_t>> &norm,
                          Rewriter &r) {
  if (!isConstantTensor(c) || c->tensor()->dtype() != DataType::Float)
    return nullptr;
  std::vector<int64_t> dims = c->tensor()->dims();
  size_t lead = 0;
  while (lead < dims.size() && dims.size() - lead > norm.size() &&
         dims[lead] == 1)
    ++lead;
  dims = std::vector<int64_t>(dims.begin() + int64_t(lead), dims.end());
  if (dims.size() != norm.size())
    return nullptr;
  for (size_t i = 0; i < dims.size(); ++i)
    if (norm[i] ? *norm[i] != dims[i] : norm.size() != 1)
      return nullptr;
  if (lead == 0)
    return c;
  const Tensor &t = *c->tensor();
  return r.createInitializer(c->name(),
                             std::make_shared<Tensor>(Tensor::fromBytes(
                                 t.dtype(), dims, std::string(t.bytes()))));
}

/// The last-axes check both normalizations make: `axes` of X (rank `rank`)
/// sorted are k..rank-1; returns k.
std::optional<int64_t> lastAxesStart(std::vector<int64_t> axes,
                                     std::optional<int64_t> rank) {
  auto norm = normalizeAxes(std::move(axes), rank);
  if (!rank || !norm || norm->empty())
    return std::nullopt;
  std::sort(norm->begin(), norm->end());
  int64_t k = (*norm)[0];
  for (size_t i = 0; i < norm->size(); ++i)
    if ((*norm)[i] != k + int64_t(i))
      return std::nullopt;
  if (norm->back() != *rank - 1)
    return std::nullopt;
  return k;
}

/// Ones of the static normalized dims `norm`, or nullptr when one is dynamic.
Value *onesScale(const std::vector<std::optional<int64_t>> &norm, Rewriter &r,
                 const char *name) {
  std::vector<int64_t> dims;
  for (const auto &n : norm) {
    if (!n)
      return nullptr;
    dims.push_back(*n);
  }
  int64_t count = std::accumulate(dims.begin(), dims.end(), int64_t(1),
                                  std::multiplies<int64_t>());
  return r.createInitializer(
      name, makeFloatTensor(DataType::Float, dims,
                            std::vector<double>(size_t(count), 1.0)));
}

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
    ln->name = last->name;
    r.takeNameAndType(ln->output(0), *last->output(0));
    r.replaceAllUsesWith(last->output(0), ln->output(0));
    r.eraseDeadFrom(*last);
    ++pass().counter();
    return true;
  }
};

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
    rms->name = last->name;
    r.takeNameAndType(rms->output(0), *last->output(0));
    r.replaceAllUsesWith(last->output(0), rms->output(0));
    r.eraseDeadFrom(*last);
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
