// fuse-mul-into-conv: a Mul by a per-channel constant after a Conv scales the
// Conv's weights and bias instead.
//
// Before:
//   c = Conv (X, W, B)
//   Y = Mul (c, S)                  # S: [M,1,1], [1,M,1,1], a scalar, ...
// After:
//   Y = Conv (X, W', B')
//
// Algebra: W'[m, ...] = W[m, ...] * S[m], B'[m] = B[m] * S[m].
// Preconditions: as fuse-add-bias-into-conv (private Conv result, constant
// float weights, S varies only along the channel axis). Numeric: products
// are rounded in another order.
//
// The pattern is ChannelOpIntoConv (passes/PatternUtils.h).
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class FuseMulIntoConvPass final : public PatternPass {
public:
  std::string_view argument() const override { return "fuse-mul-into-conv"; }
  std::string_view description() const override {
    return "Fold a Mul by a per-channel constant into the Conv before it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(makeChannelOpIntoConvPattern("Mul", numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Muls folded into Conv weights"};
};

} // namespace

std::unique_ptr<Pass> createFuseMulIntoConvPass() {
  return std::make_unique<FuseMulIntoConvPass>();
}

} // namespace onnxopt
