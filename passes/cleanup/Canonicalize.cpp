// canonicalize: applies every op's fold hook (passes/Folding.h) to a fixed
// point.
//
// Before:                                   After:
//   t = Transpose <perm = [0, 1]> (x)         y = Relu (x)
//   c = Cast <to = 1> (t)      # x is float
//   y = Relu (c)
//
// Preconditions: those of each fold (exact ones only); a graph output whose
// folded value is a graph input, a constant or another output keeps its node
// to carry its name. Exact.

#include "passes/PatternPass.h"

namespace onnxopt {

namespace {

class CanonicalizePass final : public PatternPass {
public:
  std::string_view argument() const override { return "canonicalize"; }
  std::string_view description() const override {
    return "Fold ops whose result is an existing value (Identity, no-op "
           "Transpose, Cast to the same type)";
  }

protected:
  void
  populatePatterns(std::vector<std::unique_ptr<OpRewritePattern>> &) override {}
  bool useFolds() const override { return true; }
};

} // namespace

std::unique_ptr<Pass> createCanonicalizePass() {
  return std::make_unique<CanonicalizePass>();
}

} // namespace onnxopt
