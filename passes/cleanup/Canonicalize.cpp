// canonicalize: applies every op's fold hook to a fixed point.
#include "passes/cleanup/Canonicalize.h"

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
