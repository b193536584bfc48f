// dce: removes nodes whose results are unused.
//
// Before:                         After:
//   t = Relu (x)    # t unused      y = Neg (x)
//   y = Neg (x)
//
// Preconditions: every result of the node is unused (subgraph captures count as
// uses) and the node is not opaque (a custom op may have effects we cannot
// see). Graph inputs and outputs are never removed. Exact.

#include "passes/Pass.h"

namespace onnxopt {

namespace {

class DeadCodeEliminationPass final : public Pass {
public:
  std::string_view argument() const override { return "dce"; }
  std::string_view description() const override {
    return "Remove nodes whose results are unused";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    uint64_t before = numRemoved.value();
    // Back to front, so a chain of dead nodes goes in one sweep.
    for (Node *n = g.lastNode(); n;) {
      Node *prev = n->prev();
      if (!n->hasUses() && !n->op().isOpaque()) {
        n->erase();
        ++numRemoved;
      }
      n = prev;
    }
    return numRemoved.value() != before;
  }

private:
  Statistic numRemoved{this, "num-removed", "Nodes removed"};
};

} // namespace

std::unique_ptr<Pass> createDeadCodeEliminationPass() {
  return std::make_unique<DeadCodeEliminationPass>();
}

} // namespace onnxopt
