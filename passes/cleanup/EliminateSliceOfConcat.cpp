// eliminate-slice-of-concat (exact)
//   Slice(Concat(A, B, C, axis), s, e, axis) -> B when [s, e) is exactly B's
//   extent along the axis, or -> Slice(B, s - off, e - off, axis) when it lies
//   inside B (off: B's offset). Unit step, the slice touches only the Concat
//   axis, and every input's extent along it is static. Exporters concatenate
//   per-level results and slice them apart again (detection heads).
//
// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class SliceOfConcat final : public SimplePattern {
public:
  explicit SliceOfConcat(SimplePatternPass &pass)
      : SimplePattern("Slice", pass) {}

  bool matchAndRewrite(Node &slice, Rewriter &r) override {
    if (slice.op().isOpaque() || !slice.input(0) || !slice.output(0))
      return r.notifyMatchFailure(slice, "opaque or malformed");
    Node *concat = producer(slice, "Concat");
    if (!concat || concat->op().isOpaque())
      return r.notifyMatchFailure(slice, "not fed by a Concat");
    auto rank = concatRank(*concat);
    auto axis = axisOf(*concat, 0, rank);
    auto p = sliceParams(slice, rank);
    if (!axis || !p)
      return r.notifyMatchFailure(slice,
                                  "operands not constant (or opset < 10)");
    if (p->axes.size() != 1 || p->axes[0] != *axis || p->steps[0] != 1)
      return r.notifyMatchFailure(
          slice, "not a unit-step slice of the Concat axis alone");
    // Where each input sits along the axis: every extent must be static.
    std::vector<int64_t> offsets = {0};
    for (size_t i = 0; i < concat->numInputs(); ++i) {
      auto d =
          concat->input(i) ? staticDim(concat->input(i), *axis) : std::nullopt;
      if (!d)
        return r.notifyMatchFailure(slice, "an input's extent is not static");
      offsets.push_back(offsets.back() + *d);
    }
    // ONNX's clamping of starts and ends (step 1).
    int64_t total = offsets.back();
    auto clampIndex = [&](int64_t x) {
      return std::clamp<int64_t>(x < 0 ? x + total : x, 0, total);
    };
    int64_t b = clampIndex(p->starts[0]), e = clampIndex(p->ends[0]);
    if (e <= b)
      return r.notifyMatchFailure(slice, "an empty slice");
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      if (b < offsets[i] || e > offsets[i + 1])
        continue;
      Value *x = concat->input(i);
      if (b == offsets[i] && e == offsets[i + 1])
        return forward(slice, x, r);
      // Inside one input: slice that input instead (the Concat may die).
      r.setOperand(slice, 0, x);
      r.setOperand(
          slice, 1,
          r.createInitializer("slice", makeInt64Tensor({b - offsets[i]})));
      r.setOperand(
          slice, 2,
          r.createInitializer("slice", makeInt64Tensor({e - offsets[i]})));
      ++pass().counter();
      return true;
    }
    return r.notifyMatchFailure(slice, "the range spans several inputs");
  }
};

} // namespace

std::unique_ptr<Pass> createEliminateSliceOfConcatPass() {
  return makeSimplePatternPass<SliceOfConcat>(
      "eliminate-slice-of-concat",
      "Read a Slice of a Concat along its axis from the one input it covers",
      "num-rewired", "Slices reading a Concat input directly");
}

} // namespace onnxopt
