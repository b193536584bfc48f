// An example pass plugin: eliminate-double-neg folds Neg(Neg(x)) to x.
//
// Before:                         After:
//   a = Neg (x)                     y = Relu (x)
//   b = Neg (a)
//   y = Relu (b)
//
// Exact for every float (negation only flips the sign bit), NaN included. The
// inner Neg is left to dce when nothing else uses it.
#include "passes/Pass.h"
#include "passes/PassRegistry.h"
#include "passes/PassUtils.h"
#include "passes/Plugin.h"

namespace {

using namespace onnxopt;

class EliminateDoubleNegPass final : public Pass {
public:
  std::string_view argument() const override { return "eliminate-double-neg"; }
  std::string_view description() const override {
    return "Replace Neg(Neg(x)) with x (example plugin)";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node *n : g.nodes()) {
      if (!n->is("Neg") || !n->input(0) || !n->output(0))
        continue;
      Node *inner = n->input(0)->definingNode();
      if (!inner || !inner->is("Neg") || !inner->input(0))
        continue;
      if (!canForwardResult(*n->output(0), *inner->input(0), g))
        continue;
      n->output(0)->replaceAllUsesWith(inner->input(0));
      n->erase();
      ++numFolded;
      changed = true;
    }
    return changed;
  }

private:
  Statistic numFolded{this, "num-folded", "Double negations folded"};
};

void registerPasses() {
  (void)registerPass({"eliminate-double-neg", "", [] {
                        return std::make_unique<EliminateDoubleNegPass>();
                      }});
}

} // namespace

ONNXOPT_PLUGIN_EXPORT OnnxOptPluginInfo onnxoptGetPluginInfo() {
#ifdef EXAMPLE_PLUGIN_API_VERSION
  // Only for onnx-opt's own test of the version check.
  return {EXAMPLE_PLUGIN_API_VERSION, "example", registerPasses};
#else
  return {ONNXOPT_PLUGIN_API_VERSION, "example", registerPasses};
#endif
}
