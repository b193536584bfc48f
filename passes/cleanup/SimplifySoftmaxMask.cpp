// simplify-softmax-mask: an additive attention mask that exporters build
// with arithmetic, for a Softmax, becomes one Where on the scores.
//
// Before (either Add operand order):
//   s' = Add (s, Where (c, F, Z))                      # masked_fill of zeros
//   s' = Add (s, Mul (Sub (1, Cast <to = float> (k)), F))   # BERT's (1 - m) F
//   y  = Softmax (s')
// After:
//   s' = Where (c, F, s)          or   s' = Where (k, s, F)
//   y  = Softmax (s')
// which drops the mask tensor the size of the scores' broadcast (and the
// Add over the scores); the zero fill (ConstantOfShape of c's shape) and the
// arithmetic go with it when nothing else reads them.
//
// Preconditions: s' is read only by Softmax ops; F is a one-element float
// constant that is -inf or at most -1e4 (a weight exp(F - max) that
// underflows to 0); Z is zeros: a ConstantOfShape of Shape (c) (of 0, or
// without a value), a one-element 0, or a constant of zeros of c's static
// shape, so that the Where's broadcast shape is the Add's; c (or k, the
// Cast's input) is bool; the scores are float.
//
// Numeric: s + 0 is s (but for -0, which Softmax does not tell from +0), and
// a masked score is F instead of s + F: both give a weight of exactly 0 once
// exp underflows (s - max + F < -104 in float32), so the Softmax output is
// bit-identical unless a score is infinite (s + -inf = NaN for s = +inf) or
// within -F of the row's max - F. Marked numeric for those.
#include "passes/PatternUtils.h"

#include <algorithm>
#include <cmath>

namespace onnxopt {

namespace {

/// `v`'s producer when it is a private default-domain `type`.
Node *privateOp(const Value *v, std::string_view type) {
  Node *n = v ? v->definingNode() : nullptr;
  return isOp(n, type) && isPrivateResult(v) ? n : nullptr;
}

bool isBool(const Value *v) {
  return v && v->type().isTensor() && v->type().elemType() == DataType::Bool;
}

/// A masking fill: a one-element float constant, -inf or at most -1e4.
bool isFill(const Value *v) {
  auto f = scalarConstant(v);
  return f && *f <= -1e4;
}

/// Zeros the shape of `c` (or broadcasting to it without enlarging it).
bool zerosLike(const Value *z, const Value *c) {
  if (!z)
    return false;
  if (auto f = scalarConstant(z))
    return *f == 0;
  Node *n = z->definingNode();
  if (isOp(n, "ConstantOfShape")) {
    const Attribute *value = n->attr("value");
    bool zero = !value || (value->tensors.size() == 1 &&
                           value->tensors[0]->numElements() == 1 &&
                           toDoubles(*value->tensors[0])[0] == 0);
    return zero && isShapeOf(n->input(0), c);
  }
  if (!isConstantTensor(z) || !c->type().isTensor() || !c->type().shape())
    return false;
  std::vector<int64_t> cd;
  for (const Dim &d : *c->type().shape()) {
    if (!d.isConstant())
      return false;
    cd.push_back(d.value());
  }
  if (z->tensor()->dims() != cd)
    return false;
  auto v = constantValues(*z);
  return std::all_of(v.begin(), v.end(), [](double x) { return x == 0; });
}

class SoftmaxMask final : public SimplePattern {
public:
  explicit SoftmaxMask(SimplePatternPass &pass) : SimplePattern("Add", pass) {}

  bool matchAndRewrite(Node &add, Rewriter &r) override {
    if (add.op().isOpaque() || add.numInputs() != 2 || !add.output(0))
      return r.notifyMatchFailure(add, "opaque or malformed");
    Value *out = add.output(0);
    if (out->isGraphOutput() || out->useEmpty())
      return r.notifyMatchFailure(add, "a graph output or unused");
    for (const Use *u = out->firstUse(); u; u = u->nextUse())
      if (!isOp(u->user(), "Softmax"))
        return r.notifyMatchFailure(add, "read by an op other than Softmax");
    for (unsigned i = 0; i < 2; ++i) {
      Value *s = add.input(i), *m = add.input(1 - i);
      if (!s || !s->type().isTensor() || !isFloatType(s->type().elemType()))
        continue;
      // Where (c, F, Z).
      if (Node *w = privateOp(m, "Where"))
        if (isBool(w->input(0)) && isFill(w->input(1)) &&
            zerosLike(w->input(2), w->input(0)))
          return replace(add, {w->input(0), w->input(1), s}, r);
      // Mul (Sub (1, Cast (k)), F).
      if (Node *mul = privateOp(m, "Mul"))
        for (unsigned j = 0; j < 2; ++j) {
          Node *sub = privateOp(mul->input(j), "Sub");
          if (!sub || !isFill(mul->input(1 - j)) ||
              scalarConstant(sub->input(0)) != 1.0)
            continue;
          Node *cast = privateOp(sub->input(1), "Cast");
          if (cast && isBool(cast->input(0)))
            return replace(add, {cast->input(0), s, mul->input(1 - j)}, r);
        }
    }
    return r.notifyMatchFailure(add, "no masked_fill of zeros or (1 - m) F "
                                     "of a bool mask added to the scores");
  }

private:
  bool replace(Node &add, std::vector<Value *> operands, Rewriter &r) {
    auto where = r.resolve("Where");
    if (!where.ok())
      return r.notifyMatchFailure(add, "no Where at this opset");
    Node *w = r.create(*where, std::move(operands), 1, &add);
    r.replaceChain(add, *w);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createSimplifySoftmaxMaskPass() {
  auto p = makeSimplePatternPass<SoftmaxMask>(
      "simplify-softmax-mask",
      "Turn an attention mask added to the scores of a Softmax (Where of "
      "zeros, or (1 - m) * -10000) into one Where on the scores",
      "num-simplified", "masks simplified");
  p->numeric();
  return p;
}

} // namespace onnxopt
