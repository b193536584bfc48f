// fuse-add-bias-into-conv: an Add of a per-channel constant after a Conv
// becomes the Conv's bias.
//
// Before:
//   c = Conv (X, W)                 # or Conv (X, W, B)
//   Y = Add (c, A)                  # A: [M,1,1], [1,M,1,1], a scalar, ...
// After:
//   Y = Conv (X, W, B')             # B' = A (or B + A), length M
//
// Preconditions: a Conv (not opaque) whose result has no other user and is
// not a graph output; A and B constants of the weight's float type; A
// broadcasts to the Conv output without enlarging it and varies only along
// the channel axis. Numeric: the bias is added inside the convolution, so
// the rounding order changes (B + A is also rounded once).
//
// The pattern is ChannelOpIntoConv (passes/PatternUtils.h).
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class FuseAddBiasIntoConvPass final : public PatternPass {
public:
  std::string_view argument() const override {
    return "fuse-add-bias-into-conv";
  }
  std::string_view description() const override {
    return "Fold an Add of a per-channel constant into the Conv before it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(makeChannelOpIntoConvPattern("Add", numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Adds folded into Conv biases"};
};

} // namespace

std::unique_ptr<Pass> createFuseAddBiasIntoConvPass() {
  return std::make_unique<FuseAddBiasIntoConvPass>();
}

} // namespace onnxopt
