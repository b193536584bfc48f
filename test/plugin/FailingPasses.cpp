// Test-only plugin: passes that fail, to exercise onnx-opt's error paths
// (pass errors, IR broken by a pass, the reproducer, --verify).
#include "passes/Pass.h"
#include "passes/PassRegistry.h"
#include "passes/Plugin.h"

namespace {

using namespace onnxopt;

/// Reports a model error.
class FailPass final : public Pass {
public:
  std::string_view argument() const override { return "test-fail"; }
  std::string_view description() const override { return "Always fails"; }
  absl::StatusOr<bool> run(Graph &, PassContext &) override {
    return absl::InvalidArgumentError("test-fail refuses this model");
  }
};

/// Leaves a use before its definition: the verifier must catch it.
class BreakIrPass final : public Pass {
public:
  std::string_view argument() const override { return "test-break-ir"; }
  std::string_view description() const override {
    return "Moves the last node first";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    if (g.numNodes() < 2)
      return false;
    g.lastNode()->moveBefore(g.firstNode());
    return true;
  }
};

/// Claims to be exact but turns every Relu into a Neg: --verify must catch it
/// and --verify-bisect must name it.
class MiscompilePass final : public Pass {
public:
  std::string_view argument() const override { return "test-miscompile"; }
  std::string_view description() const override {
    return "Replaces Relu with Neg (wrong on purpose)";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node *n : g.nodes())
      if (n->is("Relu")) {
        auto neg = resolveOp("", "Neg", 17);
        if (!neg.ok())
          return neg.status();
        n->setOp(*neg);
        changed = true;
      }
    return changed;
  }
};

/// A numeric pass that is wrong by about 1%, the size of a mistaken fusion
/// constant (Relu becomes LeakyRelu with alpha 0.01): the default --verify
/// tolerances must catch it.
class DriftPass final : public Pass {
public:
  std::string_view argument() const override { return "test-drift"; }
  std::string_view description() const override {
    return "Replaces Relu with LeakyRelu(0.01) (wrong on purpose)";
  }
  bool isExact() const override { return false; }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node *n : g.nodes())
      if (n->is("Relu")) {
        auto leaky = resolveOp("", "LeakyRelu", 17);
        if (!leaky.ok())
          return leaky.status();
        n->setOp(*leaky);
        Attribute alpha("alpha", AttrKind::Float);
        alpha.f = 0.01f;
        n->setAttr(std::move(alpha));
        changed = true;
      }
    return changed;
  }
};

void registerPasses() {
  (void)registerPass(
      {"test-drift", "", [] { return std::make_unique<DriftPass>(); }});
  (void)registerPass(
      {"test-fail", "", [] { return std::make_unique<FailPass>(); }});
  (void)registerPass(
      {"test-break-ir", "", [] { return std::make_unique<BreakIrPass>(); }});
  (void)registerPass({"test-miscompile", "",
                      [] { return std::make_unique<MiscompilePass>(); }});
}

} // namespace

ONNXOPT_PLUGIN_EXPORT OnnxOptPluginInfo onnxoptGetPluginInfo() {
  return {ONNXOPT_PLUGIN_API_VERSION, "failing-passes", registerPasses};
}
