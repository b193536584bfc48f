// fuse-matmul-add-into-gemm: a 2-D MatMul followed by an Add of a bias
// becomes one Gemm.
//
// Before:
//   m = MatMul (A, B)               # A: [M, K], B: [K, N]
//   Y = Add (m, C)                  # C: [N], [1, N], [M, N], [1] or scalar
// After:
//   Y = Gemm (A, B, C)
//
// Preconditions (TRAPS.md 10): A and B are known to be 2-D (from their types
// or, for B, its constant), float types; the MatMul result has no other user
// and is not a graph output; C broadcasts unidirectionally to [M, N] (an
// [M, N] or [M, 1] C needs M known). Numeric: a runtime's Gemm may fuse the
// multiply and the add (FMA), so results can move by one rounding.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

DataType elemTypeOf(const Value *v) {
  if (v->isConstant() && v->tensor())
    return v->tensor()->dtype();
  return v->type().isTensor() ? v->type().elemType() : DataType::Undefined;
}

class MatMulAddIntoGemm final : public OpRewritePattern {
public:
  MatMulAddIntoGemm(PatternPass &pass, Statistic &fused)
      : OpRewritePattern("Add"), pass_(pass), fused_(fused) {}

  bool matchAndRewrite(Node &add, Rewriter &r) override {
    if (add.op().isOpaque() || add.numInputs() != 2 || !add.output(0))
      return r.notifyMatchFailure(add, "opaque or malformed");
    Node *mm = nullptr;
    Value *c = nullptr;
    for (size_t i = 0; i < 2 && !mm; ++i)
      if (add.input(i) && isOp(add.input(i)->definingNode(), "MatMul") &&
          add.input(1 - i)) {
        mm = add.input(i)->definingNode();
        c = add.input(1 - i);
      }
    if (!mm)
      return r.notifyMatchFailure(add, "not fed by MatMul");
    if (!isPrivateResult(mm->output(0)))
      return r.notifyMatchFailure(
          add, "the MatMul result has other users or is a graph output");
    Value *a = mm->input(0), *b = mm->input(1);
    if (rankOf(a) != 2 || rankOf(b) != 2)
      return r.notifyMatchFailure(add, "A or B is not known to be 2-D");
    DataType dt = elemTypeOf(a);
    if (!isFloatType(dt) || elemTypeOf(b) != dt || elemTypeOf(c) != dt)
      return r.notifyMatchFailure(add, "not one float type");
    // C must broadcast to [M, N] without enlarging it.
    auto n = staticDim(b, 1), m = staticDim(a, 0);
    auto cr = rankOf(c);
    if (!cr || !n)
      return r.notifyMatchFailure(add, "C's rank or N unknown");
    if (*cr > 2)
      return r.notifyMatchFailure(
          add, "C has more dims than [M, N] (it would enlarge the result)");
    std::vector<std::optional<int64_t>> cd;
    for (int64_t i = 0; i < *cr; ++i)
      cd.push_back(staticDim(c, i));
    auto fits = [](std::optional<int64_t> d, std::optional<int64_t> want) {
      return d && (*d == 1 || (want && *d == *want));
    };
    bool ok = *cr == 0 || (*cr == 1 && fits(cd[0], n)) ||
              (*cr == 2 && fits(cd[0], m) && fits(cd[1], n));
    if (!ok)
      return r.notifyMatchFailure(add, "C does not broadcast to [M, N]");
    auto gemm = r.resolve("Gemm");
    if (!gemm.ok())
      return r.notifyMatchFailure(add, "no Gemm at this opset");
    // The Gemm takes over the Add's result, name and type (a graph output
    // keeps its name: the new result is a node result of this graph).
    Node *g = r.create(*gemm, {a, b, c}, 1, &add);
    g->name = add.name.empty() ? mm->name : add.name;
    r.takeNameAndType(g->output(0), *add.output(0));
    r.replaceNode(add, {g->output(0)});
    r.eraseNode(*mm);
    ++fused_;
    return true;
  }

private:
  PatternPass &pass_;
  Statistic &fused_;
};

class FuseMatMulAddIntoGemmPass final : public PatternPass {
public:
  std::string_view argument() const override {
    return "fuse-matmul-add-into-gemm";
  }
  std::string_view description() const override {
    return "Turn a 2-D MatMul plus a broadcastable bias into Gemm";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<MatMulAddIntoGemm>(*this, numFused));
  }

private:
  Statistic numFused{this, "num-fused", "MatMul+Add pairs turned into Gemm"};
};

} // namespace

std::unique_ptr<Pass> createFuseMatMulAddIntoGemmPass() {
  return std::make_unique<FuseMatMulAddIntoGemmPass>();
}

} // namespace onnxopt
