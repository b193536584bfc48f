// ort-fuse-matmul-scale: a MatMul with a scalar scale on an operand or on its
// result, or with its right operand's last two axes transposed, becomes ONNX
// Runtime's com.microsoft.FusedMatMul, which scales inside the GEMM (alpha)
// and reads the transposed operand in place (transB).
//
// Before:                                After:
//   a = Mul (A, c)                         Y = com.microsoft.FusedMatMul
//   t = Transpose <perm = [.., n-1, n-2]> (B)    <alpha = c, transB = 1> (A, B)
//   Y = MatMul (a, t)                      (and Y = Mul (MatMul (A, B), c))
//
// Preconditions: float32; c a scalar constant (Div by c gives alpha 1/c);
// the Mul, the Transpose and the MatMul's result (for a scale after it) have
// no other user; the Transpose swaps exactly the last two of at least two
// axes; at least one of scale or transpose is there (a plain MatMul stays).
// Attention blocks and GELUs are lowered first (ort-fuse-attention,
// ort-fuse-bias-gelu: a GELU's final x0.5 would otherwise become the next
// MatMul's alpha), so this takes what they leave: Swin-T's scaled windowed
// attention.
//
// Numeric: alpha is applied to the sum instead of an operand or the result.
// ONNX Runtime's MatMulScaleFusion does the same at load at level
// `extended`; lowered ahead, a model loaded at `disabled` gets it too.
#include "backends/ort/OrtPasses.h"

#include "passes/PatternUtils.h"

#include <cmath>
#include <numeric>

namespace onnxopt {

namespace {

/// The scale `n` (Mul or Div by a scalar float constant) applies to its
/// other operand, or nullopt; `x` is set to that operand.
std::optional<double> scaleOf(const Node *n, Value *&x) {
  if (!n || (!isOp(n, "Mul") && !isOp(n, "Div")) || n->numInputs() != 2)
    return std::nullopt;
  for (unsigned i = 0; i < 2; ++i) {
    const Value *c = n->input(i);
    if (isOp(n, "Div") && i == 0)
      continue; // c / x is not a scale
    auto s = scalarConstant(c);
    if (!s)
      continue;
    double v = *s;
    if (!std::isfinite(v) || v == 0)
      return std::nullopt;
    if (rankOf(c).value_or(99) > rankOf(n->input(1 - i)).value_or(-1))
      return std::nullopt; // it would broadcast the result to more axes
    x = n->input(1 - i);
    return isOp(n, "Div") ? 1.0 / v : v;
  }
  return std::nullopt;
}

class MatMulToFusedMatMul final : public OpRewritePattern {
public:
  explicit MatMulToFusedMatMul(Statistic &fused)
      : OpRewritePattern("MatMul"), fused_(fused) {}

  bool matchAndRewrite(Node &mm, Rewriter &r) override {
    if (mm.op().isOpaque() || mm.numInputs() != 2 || !mm.output(0) ||
        !mm.input(0) || !mm.input(1))
      return r.notifyMatchFailure(mm, "opaque or malformed");
    if (!mm.output(0)->type().isTensor() ||
        mm.output(0)->type().elemType() != DataType::Float)
      return r.notifyMatchFailure(mm, "not float32");
    Value *a = mm.input(0), *b = mm.input(1);
    double alpha = 1.0;
    std::vector<Node *> absorbed;
    // A scale on either operand.
    for (Value **operand : {&a, &b}) {
      Value *x = nullptr;
      Node *p = (*operand)->definingNode();
      if (auto s = scaleOf(p, x); s && isPrivateResult(*operand)) {
        alpha *= *s;
        absorbed.push_back(p);
        *operand = x;
      }
    }
    // B's last two axes transposed.
    bool transB = false;
    if (Node *t = b->definingNode();
        isOp(t, "Transpose") && isPrivateResult(b)) {
      auto perm = permOf(*t);
      size_t n = perm ? perm->size() : 0;
      std::vector<int64_t> swapLast(n);
      std::iota(swapLast.begin(), swapLast.end(), 0);
      if (n >= 2)
        std::swap(swapLast[n - 1], swapLast[n - 2]);
      if (n >= 2 && *perm == swapLast && rankOf(a).value_or(0) >= 2) {
        transB = true;
        absorbed.push_back(t);
        b = t->input(0);
      }
    }
    // A scale of the result.
    Node *last = &mm;
    if (isPrivateResult(mm.output(0))) {
      Node *u = mm.output(0)->firstUse()->user();
      Value *x = nullptr;
      if (auto s = scaleOf(u, x); s && x == mm.output(0)) {
        alpha *= *s;
        last = u;
      }
    }
    if (absorbed.empty() && last == &mm)
      return r.notifyMatchFailure(mm, "no scale or transpose to fuse");
    auto op = r.resolve("FusedMatMul", "com.microsoft");
    if (!op.ok())
      return r.notifyMatchFailure(mm, "no com.microsoft domain");
    Node *f = r.create(*op, {a, b}, 1, last);
    f->name = mm.name;
    r.setAttr(*f, Attribute::makeFloat("alpha", static_cast<float>(alpha)));
    if (transB)
      r.setAttr(*f, Attribute::makeInt("transB", 1));
    r.takeNameAndType(f->output(0), *last->output(0));
    r.replaceAllUsesWith(last->output(0), f->output(0));
    r.eraseDeadFrom(*last);
    ++fused_;
    return true;
  }

private:
  Statistic &fused_;
};

class OrtFuseMatMulScalePass final : public OrtLoweringPass {
public:
  std::string_view argument() const override { return "ort-fuse-matmul-scale"; }
  std::string_view description() const override {
    return "Lower MatMul with a scalar scale or a transposed right operand to "
           "ONNX Runtime's com.microsoft.FusedMatMul";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<MatMulToFusedMatMul>(numFused));
  }

private:
  Statistic numFused{this, "num-fused", "MatMuls lowered to FusedMatMul"};
};

} // namespace

std::unique_ptr<Pass> createOrtFuseMatMulScalePass() {
  return std::make_unique<OrtFuseMatMulScalePass>();
}

} // namespace onnxopt
