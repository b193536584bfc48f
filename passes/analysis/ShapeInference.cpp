// shape-inference and fold-shape-ops: passes over the type inference engine of
// the ONNX format layer (format/TypeInference.h: ONNX's own per-operator type,
// shape and data-propagation functions, run over the IR through an adapter).
//
// shape-inference fills in what the IR does not know yet: types of values
// without one, unknown dims and ranks. It never overrides a declared dim, and
// never fails: nodes whose inference throws, opaque and custom-domain ops keep
// their declared types (counted in --pass-statistics). Symbolic dims
// (`batch`, `seq`) flow through as ONNX's functions propagate them.
#include "format/TypeInference.h"
#include "passes/Pass.h"

namespace onnxopt {

namespace {

bool allResultsSettled(const Graph &g) {
  for (const Node *n : g.nodes())
    for (size_t i = 0; i < n->numOutputs(); ++i)
      if (const Value *v = n->output(i); v && !isSettled(v->type()))
        return false;
  return true;
}

class ShapeInferencePass final : public Pass {
public:
  std::string_view argument() const override { return "shape-inference"; }
  std::string_view description() const override {
    return "Infer types and shapes (symbolic dims kept) with ONNX's "
           "per-operator functions";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &ctx) override {
    // Declared dims are never overridden, so when every node result is
    // settled inference can change nothing: the usual case on a fixpoint's
    // confirming iteration, where running it would cost the most.
    if (allResultsSettled(g))
      return false;
    RefineCounts c = refineTypes(g, ctx.model.onnxOpset());
    numFailed += c.failed;
    numRefined += c.refined;
    numUnknown += c.unknown;
    bool changed = c.refined != 0;
    return changed;
  }

private:
  Statistic numRefined{this, "num-refined",
                       "Values whose type gained information"};
  Statistic numUnknown{this, "num-unknown", "Values still without a type"};
  Statistic numFailed{this, "num-failed",
                      "Nodes whose inference function rejected the node"};
};

} // namespace

std::unique_ptr<Pass> createShapeInferencePass() {
  return std::make_unique<ShapeInferencePass>();
}

} // namespace onnxopt
