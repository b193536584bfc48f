// fuse-matmul-add-into-gemm, fuse-transpose-into-gemm and
// fuse-consecutive-transposes.
#include "passes/fusion/FuseConsecutiveTransposes.h"
#include "passes/fusion/FuseMatMulAddIntoGemm.h"
#include "passes/fusion/FuseTransposeIntoGemm.h"

#include "passes/cleanup/CleanupUtils.h"

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
    if (!ref::isFloatType(dt) || elemTypeOf(b) != dt || elemTypeOf(c) != dt)
      return r.notifyMatchFailure(add, "not one float type");
    // C must broadcast to [M, N] without enlarging it.
    auto n = staticDim(b, 1), m = staticDim(a, 0);
    auto cr = rankOf(c);
    if (!cr || *cr > 2 || !n)
      return r.notifyMatchFailure(add, "C's rank or N unknown");
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

/// The perm of a Transpose of known rank, or nullopt.
std::optional<std::vector<int64_t>> permOf(const Node &t) {
  if (const Attribute *p = t.attr("perm"))
    return p->ints;
  auto r = rankOf(t.input(0));
  if (!r)
    return std::nullopt;
  std::vector<int64_t> perm;
  for (int64_t i = *r; i-- > 0;)
    perm.push_back(i);
  return perm;
}

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

class ConsecutiveTransposes final : public OpRewritePattern {
public:
  explicit ConsecutiveTransposes(Statistic &fused)
      : OpRewritePattern("Transpose"), fused_(fused) {}

  bool matchAndRewrite(Node &second, Rewriter &r) override {
    if (second.op().isOpaque() || !second.input(0) || !second.output(0))
      return r.notifyMatchFailure(second, "opaque or malformed");
    Node *first = second.input(0)->definingNode();
    if (!isOp(first, "Transpose") || !first->input(0))
      return r.notifyMatchFailure(second, "not fed by a Transpose");
    auto p = permOf(*first), q = permOf(second);
    if (!p || !q || p->size() != q->size())
      return r.notifyMatchFailure(second, "a perm or rank is unknown");
    std::vector<int64_t> combined;
    bool identity = true;
    for (size_t i = 0; i < q->size(); ++i) {
      int64_t k = (*q)[i];
      if (k < 0 || k >= int64_t(p->size()))
        return r.notifyMatchFailure(second, "perm out of range");
      combined.push_back((*p)[k]);
      identity &= combined.back() == int64_t(i);
    }
    Value *x = first->input(0);
    if (identity) {
      if (!canForwardResult(*second.output(0), *x, r.graph()))
        return r.notifyMatchFailure(second, "a graph output needs the node");
      r.replaceNode(second, {x});
    } else {
      r.setAttr(second, Attribute::makeInts("perm", combined));
      r.setOperand(second, 0, x);
    }
    if (!first->hasUses())
      r.eraseNode(*first);
    ++fused_;
    return true;
  }

private:
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

class FuseConsecutiveTransposesPass final : public PatternPass {
public:
  std::string_view argument() const override {
    return "fuse-consecutive-transposes";
  }
  std::string_view description() const override {
    return "Merge a Transpose of a Transpose into one (or none)";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<ConsecutiveTransposes>(numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Transpose pairs merged"};
};

} // namespace

std::unique_ptr<Pass> createFuseMatMulAddIntoGemmPass() {
  return std::make_unique<FuseMatMulAddIntoGemmPass>();
}
std::unique_ptr<Pass> createFuseTransposeIntoGemmPass() {
  return std::make_unique<FuseTransposeIntoGemmPass>();
}
std::unique_ptr<Pass> createFuseConsecutiveTransposesPass() {
  return std::make_unique<FuseConsecutiveTransposesPass>();
}

} // namespace onnxopt
