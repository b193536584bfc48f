// eliminate-unused-initializers: removes constants nothing uses.
//
// Before:  g (float[2] X) => (float[2] Y) <float[2] W = {1, 2}> { Y = Relu (X)
// } After:   g (float[2] X) => (float[2] Y) { Y = Relu (X) }
//
// Preconditions: the initializer is a constant with no use (subgraph captures
// count). Defaults of graph inputs are part of the model's contract and stay.
// Exact.

#include "passes/Pass.h"

namespace onnxopt {

namespace {

class EliminateUnusedInitializersPass final : public Pass {
public:
  std::string_view argument() const override {
    return "eliminate-unused-initializers";
  }
  std::string_view description() const override {
    return "Remove initializers that nothing uses";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    size_t n =
        g.eraseInitializersIf([](const Value &v) { return v.useEmpty(); });
    numRemoved += n;
    return n != 0;
  }

private:
  Statistic numRemoved{this, "num-removed", "Initializers removed"};
};

} // namespace

std::unique_ptr<Pass> createEliminateUnusedInitializersPass() {
  return std::make_unique<EliminateUnusedInitializersPass>();
}

} // namespace onnxopt
