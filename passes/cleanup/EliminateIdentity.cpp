// eliminate-identity: forwards an Identity's input to its users.
#include "passes/cleanup/EliminateIdentity.h"

#include "passes/PassUtils.h"
#include "passes/PatternPass.h"

namespace onnxopt {

namespace {

class ForwardIdentity final : public OpRewritePattern {
public:
  explicit ForwardIdentity(Statistic &removed)
      : OpRewritePattern("Identity"), removed_(removed) {}
  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.numInputs() != 1 || !n.input(0) || !n.output(0))
      return r.notifyMatchFailure(n, "no operand or no result");
    if (!canForwardResult(*n.output(0), *n.input(0), r.graph()))
      return r.notifyMatchFailure(n,
                                  "a graph output needs the node for its name");
    r.replaceNode(n, {n.input(0)});
    ++removed_;
    return true;
  }

private:
  Statistic &removed_;
};

class EliminateIdentityPass final : public PatternPass {
public:
  std::string_view argument() const override { return "eliminate-identity"; }
  std::string_view description() const override {
    return "Replace the result of Identity with its input";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<ForwardIdentity>(numRemoved));
  }

private:
  Statistic numRemoved{this, "num-removed", "Identity nodes removed"};
};

} // namespace

std::unique_ptr<Pass> createEliminateIdentityPass() {
  return std::make_unique<EliminateIdentityPass>();
}

} // namespace onnxopt
