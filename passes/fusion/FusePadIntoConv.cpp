// fuse-pad-into-conv: a zero Pad of the spatial dims before a Conv becomes
// the Conv's pads.
//
// Before:
//   p = Pad <mode = "constant"> (X, pads)      # value 0, N and C unpadded
//   Y = Conv <pads = q> (p, W)
// After:
//   Y = Conv <pads = q + spatial(pads)> (X, W)
//
// Preconditions: constant mode with value 0 (absent counts as 0); constant,
// non-negative pads that leave the batch and channel dims alone; the Conv has
// auto_pad NOTSET; the Pad result has no other user and is not a graph
// output. Numeric: the same zeros are summed, but a runtime may take another
// kernel for an implicitly padded convolution.
//
// The pattern is PadInto (passes/PatternUtils.h).
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class FusePadIntoConvPass final : public PatternPass {
public:
  std::string_view argument() const override { return "fuse-pad-into-conv"; }
  std::string_view description() const override {
    return "Fold a zero spatial Pad into the pads of the Conv after it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(makePadIntoPattern("Conv", numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Pads folded into Conv"};
};

} // namespace

std::unique_ptr<Pass> createFusePadIntoConvPass() {
  return std::make_unique<FusePadIntoConvPass>();
}

} // namespace onnxopt
