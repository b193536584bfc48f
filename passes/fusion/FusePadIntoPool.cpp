// fuse-pad-into-pool: a constant Pad of the spatial dims before AveragePool or
// MaxPool becomes the pool's pads.
//
// Before:
//   p = Pad <mode = "constant"> (X, pads)      # N and C unpadded
//   Y = AveragePool <pads = q> (p)
// After:
//   Y = AveragePool <pads = q + spatial(pads), count_include_pad = 1> (X)
//
// AveragePool: the Pad value must be 0, and the explicit zeros count in the
// average, so the pool must count its pads too: either its own pads are all 0
// (count_include_pad becomes 1) or it already has count_include_pad = 1.
// MaxPool: only a Pad value of -inf (padding never wins a max) and the
// Indices output unused (its indices would refer to the padded tensor).
// Both: constant, non-negative pads; auto_pad NOTSET; the Pad result has no
// other user and is not a graph output. Numeric: a runtime may take another
// kernel for an implicitly padded pool.
//
// The pattern is PadInto (passes/PatternUtils.h).
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class FusePadIntoPoolPass final : public PatternPass {
public:
  std::string_view argument() const override { return "fuse-pad-into-pool"; }
  std::string_view description() const override {
    return "Fold a constant spatial Pad into the pads of the AveragePool or "
           "MaxPool after it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(makePadIntoPattern("AveragePool", numFused));
    patterns.push_back(makePadIntoPattern("MaxPool", numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Pads folded into pools"};
};

} // namespace

std::unique_ptr<Pass> createFusePadIntoPoolPass() {
  return std::make_unique<FusePadIntoPoolPass>();
}

} // namespace onnxopt
