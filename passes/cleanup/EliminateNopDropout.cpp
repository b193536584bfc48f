// eliminate-nop-dropout: removes Dropout in inference mode.
#include "passes/cleanup/EliminateNopDropout.h"

#include "passes/Pass.h"
#include "passes/PassUtils.h"

namespace onnxopt {

namespace {

/// True if `v` is absent or a constant scalar false.
bool isConstantFalse(const Value *v) {
  if (!v)
    return true;
  if (!v->isConstant() || !v->tensor() ||
      v->tensor()->dtype() != DataType::Bool || v->tensor()->numElements() != 1)
    return false;
  return v->tensor()->bytes()[0] == 0;
}

class EliminateNopDropoutPass final : public Pass {
public:
  std::string_view argument() const override { return "eliminate-nop-dropout"; }
  std::string_view description() const override {
    return "Remove Dropout in inference mode when its mask is unused";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node *n : g.nodes()) {
      if (!n->is("Dropout") || n->op().isOpaque() || !n->input(0) ||
          !n->output(0))
        continue;
      if (n->numOutputs() > 1 && n->output(1) && !n->output(1)->useEmpty()) {
        ++numMaskUsed;
        continue;
      }
      if (n->op().sinceVersion <= 6) {
        const Attribute *isTest = n->attr("is_test");
        if (!isTest || isTest->i == 0)
          continue;
      }
      if (n->op().sinceVersion >= 12 && n->numInputs() > 2 &&
          !isConstantFalse(n->input(2)))
        continue;
      Value *out = n->output(0);
      if (!canForwardResult(*out, *n->input(0), g))
        continue;
      out->replaceAllUsesWith(n->input(0));
      n->erase();
      ++numRemoved;
      changed = true;
    }
    return changed;
  }

private:
  Statistic numRemoved{this, "num-removed", "Dropout nodes removed"};
  Statistic numMaskUsed{this, "num-mask-used", "Dropouts kept: mask used"};
};

} // namespace

std::unique_ptr<Pass> createEliminateNopDropoutPass() {
  return std::make_unique<EliminateNopDropoutPass>();
}

} // namespace onnxopt
