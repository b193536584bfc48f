// fuse-consecutive-slices (exact)
//   Slice(Slice(X, s1, e1, a1, p1), s2, e2, a2, p2) -> Slice(X, s1+s2, e1+e2,
//   a1+a2, p1+p2) when a1 and a2 are disjoint (slices of different axes
//   commute); constant operands, opset 10 or later.
//
// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
#include "passes/PatternUtils.h"

#include <algorithm>

namespace onnxopt {

namespace {

class SliceOfSlice final : public SimplePattern {
public:
  explicit SliceOfSlice(SimplePatternPass &pass)
      : SimplePattern("Slice", pass) {}

  bool matchAndRewrite(Node &outer, Rewriter &r) override {
    if (outer.op().isOpaque() || !outer.input(0) || !outer.output(0))
      return r.notifyMatchFailure(outer, "opaque or malformed");
    Node *inner = producer(outer, "Slice");
    if (!inner || !inner->input(0) || !isPrivateResult(outer.input(0)))
      return r.notifyMatchFailure(outer, "not fed by a private Slice");
    // Slicing keeps the rank: X's tells both.
    auto rank = rankOf(inner->input(0));
    auto a = sliceParams(*inner, rank), b = sliceParams(outer, rank);
    if (!a || !b)
      return r.notifyMatchFailure(outer,
                                  "operands not constant (or opset < 10)");
    for (int64_t axis : b->axes)
      if (std::find(a->axes.begin(), a->axes.end(), axis) != a->axes.end())
        return r.notifyMatchFailure(outer, "both slice the same axis");
    auto join = [](std::vector<int64_t> x, const std::vector<int64_t> &y) {
      x.insert(x.end(), y.begin(), y.end());
      return x;
    };
    std::vector<Value *> operands = {inner->input(0)};
    using Field = std::vector<int64_t> SliceParams::*;
    for (Field f : {&SliceParams::starts, &SliceParams::ends,
                    &SliceParams::axes, &SliceParams::steps})
      operands.push_back(r.createInitializer(
          "slice", makeInt64Tensor(join((*a).*f, (*b).*f))));
    r.setOperands(outer, operands);
    if (!inner->hasUses())
      r.eraseNode(*inner);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseConsecutiveSlicesPass() {
  return makeSimplePatternPass<SliceOfSlice>(
      "fuse-consecutive-slices", "Merge a Slice of a Slice over disjoint axes",
      "num-fused", "Slice pairs merged");
}

} // namespace onnxopt
