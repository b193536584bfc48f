// fuse-transpose-into-gemm: a 2-D Transpose feeding Gemm's A or B becomes the
// transA/transB flag.
//
// Before:
//   t = Transpose <perm = [1, 0]> (B)
//   Y = Gemm <transB = 0> (A, t, C)
// After:
//   Y = Gemm <transB = 1> (A, B, C)
//
// Preconditions (TRAPS.md 11): decided by the Transpose's perm, which must
// be [1, 0] (or absent with a rank-2 operand), never by the op type alone;
// the Transpose result has no other user and is not a graph output.
// Numeric: a runtime may pick another kernel for the transposed layout.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class TransposeIntoGemm final : public OpRewritePattern {
public:
  explicit TransposeIntoGemm(Statistic &fused)
      : OpRewritePattern("Gemm"), fused_(fused) {}

  bool matchAndRewrite(Node &gemm, Rewriter &r) override {
    if (gemm.op().isOpaque() || gemm.numInputs() < 2)
      return r.notifyMatchFailure(gemm, "opaque or malformed");
    for (size_t i = 0; i < 2; ++i) {
      Value *v = gemm.input(i);
      Node *t = v ? v->definingNode() : nullptr;
      if (!isOp(t, "Transpose") || !isPrivateResult(v) || !t->input(0))
        continue;
      auto perm = permOf(*t);
      if (!perm || *perm != std::vector<int64_t>{1, 0})
        continue; // by perm, never by op type alone
      const char *flag = i == 0 ? "transA" : "transB";
      const Attribute *old = gemm.attr(flag);
      int64_t now = old ? old->i : 0;
      r.setAttr(gemm, Attribute::makeInt(flag, now ? 0 : 1));
      r.setOperand(gemm, i, t->input(0));
      r.eraseNode(*t);
      ++fused_;
      return true;
    }
    return r.notifyMatchFailure(gemm, "no private 2-D Transpose operand");
  }

private:
  Statistic &fused_;
};

class FuseTransposeIntoGemmPass final : public PatternPass {
public:
  std::string_view argument() const override {
    return "fuse-transpose-into-gemm";
  }
  std::string_view description() const override {
    return "Fold a [1, 0] Transpose of a Gemm operand into transA/transB";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<TransposeIntoGemm>(numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Transposes folded into Gemm"};
};

} // namespace

std::unique_ptr<Pass> createFuseTransposeIntoGemmPass() {
  return std::make_unique<FuseTransposeIntoGemmPass>();
}

} // namespace onnxopt
