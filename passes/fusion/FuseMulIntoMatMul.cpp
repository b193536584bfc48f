// fuse-mul-into-matmul: a constant scale on either side of a MatMul by a
// constant weight moves into the weight (and its bias).
//
// Before (after the MatMul, optionally through its bias Add and a
// Transpose, as ConvNeXt's layer scale):
//   y = MatMul (X, W);  z = Add (y, b);  t = Transpose <perm> (z)
//   Y = Mul (t, c)           # c varies at most along W's output columns
// After:
//   y = MatMul (X, W');  z = Add (y, b');  Y = Transpose <perm> (z)
//   W'[:, j] = W[:, j] * c[j],  b'[j] = b[j] * c[j]
//
// Before (in front of the MatMul):
//   h = Mul (X, s);  Y = MatMul (h, W)        # s a one-element constant
// After:
//   Y = MatMul (X, W'),  W' = W * s
// except the final x 0.5 of an erf GELU, X = x * (1 + erf(...)): ONNX
// Runtime, TensorRT and OpenVINO fuse the whole canonical GELU (ORT with the
// bias before it as BiasGelu), which is worth more than the Mul.
//
// Preconditions: W a 2-D float constant, b a 1-D constant of W's width, c or
// s constants of W's type; every intermediate private (one user, not a graph
// output). Numeric: W * c is rounded once, (X W) * c was rounded twice.

#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class MulAfterMatMul final : public SimplePattern {
public:
  explicit MulAfterMatMul(SimplePatternPass &pass)
      : SimplePattern("Mul", pass) {}

  bool matchAndRewrite(Node &mul, Rewriter &r) override {
    if (mul.op().isOpaque() || mul.numInputs() != 2 || !mul.output(0))
      return r.notifyMatchFailure(mul, "opaque or malformed");
    // Walk up from the Mul: [Transpose], [Add], MatMul.
    for (size_t side = 0; side < 2; ++side) {
      Value *t = mul.input(side), *c = mul.input(1 - side);
      if (!t || !isConstantTensor(c) || !isPrivateResult(t))
        continue;
      Node *tr = t->definingNode(), *add = nullptr, *mm = nullptr;
      std::vector<int64_t> perm;
      Value *z = t;
      if (isOp(tr, "Transpose") && tr->attr("perm")) {
        perm = tr->attr("perm")->ints;
        z = tr->input(0);
        if (!z || !isPrivateResult(z))
          continue;
      } else {
        tr = nullptr;
      }
      Node *zn = z->definingNode();
      if (isOp(zn, "Add") && zn->numInputs() == 2) {
        for (Value *in : {zn->input(0), zn->input(1)})
          if (in && isPrivateResult(in) && matmulByConstant(in->definingNode()))
            mm = in->definingNode();
        add = mm ? zn : nullptr;
      } else {
        mm = matmulByConstant(zn);
      }
      if (!mm)
        continue;
      const Tensor &w = *mm->input(1)->tensor();
      int64_t n = w.dims()[1];
      if (c->tensor()->dtype() != w.dtype())
        continue;
      if (add) {
        Value *b = otherConstant(*add, mm->output(0));
        if (!b || b->tensor()->dims() != std::vector<int64_t>{n} ||
            b->tensor()->dtype() != w.dtype())
          continue;
      }
      // The axis of the Mul's operand that holds W's columns.
      // Its rank: the perm's, the type's, or X's (a 2-D weight keeps it).
      auto rank = tr ? std::optional<int64_t>(int64_t(perm.size())) : rankOf(t);
      if (!rank && rankOf(mm->input(0)) >= 2)
        rank = rankOf(mm->input(0));
      if (!rank)
        continue;
      int64_t axis = *rank - 1;
      if (tr) {
        if (int64_t(perm.size()) != *rank)
          continue;
        axis = std::find(perm.begin(), perm.end(), *rank - 1) - perm.begin();
      }
      auto cv = valuesAlongAxis(*c, size_t(*rank), size_t(axis), n);
      if (!cv)
        continue;
      if (!canForwardResult(*mul.output(0), *t, r.graph()))
        return r.notifyMatchFailure(mul, "a graph output needs the node");
      scaleColumns(*mm, add, *cv, r);
      r.setType(t, mul.output(0)->type());
      r.replaceNode(mul, {t});
      ++pass().counter();
      return true;
    }
    return r.notifyMatchFailure(mul, "no private MatMul by a constant, with "
                                     "a per-column scale");
  }
};

/// True if `v` is x * (1 + erf(...)): with a following x 0.5 it is the
/// canonical erf GELU that ONNX Runtime, TensorRT and OpenVINO fuse into one
/// kernel (with the bias before it, ORT's BiasGelu); folding the 0.5 away
/// would cost that fusion more than the Mul.
bool endsErfGelu(const Value &v) {
  const Node *m = v.definingNode();
  if (!isOp(m, "Mul") || m->numInputs() != 2)
    return false;
  for (Value *in : {m->input(0), m->input(1)}) {
    const Node *add = in ? in->definingNode() : nullptr;
    if (!isOp(add, "Add") || add->numInputs() != 2)
      continue;
    for (Value *a : {add->input(0), add->input(1)})
      if (a && isOp(a->definingNode(), "Erf"))
        return true;
  }
  return false;
}

class MulBeforeMatMul final : public SimplePattern {
public:
  explicit MulBeforeMatMul(SimplePatternPass &pass)
      : SimplePattern("MatMul", pass) {}

  bool matchAndRewrite(Node &mm, Rewriter &r) override {
    if (!matmulByConstant(&mm) || !mm.input(0) || !mm.output(0))
      return r.notifyMatchFailure(mm, "not a MatMul by a constant");
    Value *h = mm.input(0);
    Node *mul = h->definingNode();
    if (!isOp(mul, "Mul") || !isPrivateResult(h))
      return r.notifyMatchFailure(mm, "not fed by a private Mul");
    const Tensor &w = *mm.input(1)->tensor();
    for (size_t side = 0; side < 2; ++side) {
      Value *x = mul->input(side), *s = mul->input(1 - side);
      if (!x || !isConstantTensor(s) || s->tensor()->numElements() != 1 ||
          s->tensor()->dtype() != w.dtype())
        continue;
      if (endsErfGelu(*x))
        return r.notifyMatchFailure(
            mm, "the scale ends a GELU (runtimes fuse the whole pattern)");
      // A one-element scale must not broadcast X to a higher rank.
      auto rx = rankOf(x);
      if (!rx || int64_t(s->tensor()->dims().size()) > *rx)
        continue;
      std::vector<double> c(size_t(w.dims()[1]), constantValues(*s)[0]);
      scaleColumns(mm, nullptr, c, r);
      r.setOperand(mm, 0, x);
      r.eraseNode(*mul);
      ++pass().counter();
      return true;
    }
    return r.notifyMatchFailure(mm, "the Mul is not by a one-element constant");
  }
};

} // namespace

std::unique_ptr<Pass> createFuseMulIntoMatMulPass() {
  auto p = std::make_unique<SimplePatternPass>(
      "fuse-mul-into-matmul",
      "Move a constant scale before or after a MatMul by a constant weight "
      "into the weight",
      "num-fused", "Scales moved into weights",
      [](SimplePatternPass &pass,
         std::vector<std::unique_ptr<OpRewritePattern>> &patterns) {
        patterns.push_back(std::make_unique<MulAfterMatMul>(pass));
        patterns.push_back(std::make_unique<MulBeforeMatMul>(pass));
      });
  p->numeric();
  return p;
}

} // namespace onnxopt
