// eliminate-identity: forwards an Identity's input to its users.
#include "passes/cleanup/EliminateIdentity.h"

#include "passes/Pass.h"
#include "passes/PassUtils.h"

namespace onnxopt {

namespace {

class EliminateIdentityPass final : public Pass {
public:
  std::string_view argument() const override { return "eliminate-identity"; }
  std::string_view description() const override {
    return "Replace the result of Identity with its input";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node *n : g.nodes()) {
      if (!n->is("Identity") || n->numInputs() != 1 || !n->input(0) ||
          !n->output(0))
        continue;
      Value *in = n->input(0);
      Value *out = n->output(0);
      if (!canForwardResult(*out, *in, g))
        continue;
      out->replaceAllUsesWith(in);
      n->erase();
      ++numRemoved;
      changed = true;
    }
    return changed;
  }

private:
  Statistic numRemoved{this, "num-removed", "Identity nodes removed"};
};

} // namespace

std::unique_ptr<Pass> createEliminateIdentityPass() {
  return std::make_unique<EliminateIdentityPass>();
}

} // namespace onnxopt
