// An example pass plugin: eliminate-double-neg folds Neg(Neg(x)) to x.
//
// Before:                         After:
//   a = Neg (x)                     y = Relu (x)
//   b = Neg (a)
//   y = Relu (b)
//
// Exact for every float (negation only flips the sign bit), NaN included. The
// inner Neg is left to dce when nothing else uses it.
#include "passes/PassRegistry.h"
#include "passes/PatternPass.h"
#include "passes/Plugin.h"

namespace {

using namespace onnxopt;

/// Rooted at the outer Neg. A pattern changes the graph only through the
/// Rewriter (so the greedy driver revisits what changed) and says why it did
/// not match: `--debug-only=eliminate-double-neg` prints the reasons.
class DoubleNeg final : public OpRewritePattern {
public:
  explicit DoubleNeg(Statistic &folded)
      : OpRewritePattern("Neg"), folded_(folded) {}
  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (!n.input(0) || !n.output(0))
      return r.notifyMatchFailure(n, "malformed");
    Node *inner = n.input(0)->definingNode();
    if (!inner || !inner->is("Neg") || !inner->input(0))
      return r.notifyMatchFailure(n, "not fed by a Neg");
    if (!canForwardResult(*n.output(0), *inner->input(0), r.graph()))
      return r.notifyMatchFailure(n, "a graph output needs the node");
    r.replaceNode(n, {inner->input(0)});
    ++folded_;
    return true;
  }

private:
  Statistic &folded_;
};

class EliminateDoubleNegPass final : public PatternPass {
public:
  std::string_view argument() const override { return "eliminate-double-neg"; }
  std::string_view description() const override {
    return "Replace Neg(Neg(x)) with x (example plugin)";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<DoubleNeg>(numFolded));
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
