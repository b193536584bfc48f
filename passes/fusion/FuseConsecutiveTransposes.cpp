// fuse-consecutive-transposes: two Transposes in a row become one, or none
// when they cancel.
//
// Before:
//   t = Transpose <perm = p> (X)
//   Y = Transpose <perm = q> (t)
// After:
//   Y = Transpose <perm = r> (X)    # r[i] = p[q[i]]; nothing if r is identity
//
// Preconditions: both perms explicit (or the rank known from the type); the
// first result may have other users (it then stays for them). Exact: only
// elements move.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

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

std::unique_ptr<Pass> createFuseConsecutiveTransposesPass() {
  return std::make_unique<FuseConsecutiveTransposesPass>();
}

} // namespace onnxopt
