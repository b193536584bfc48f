// eliminate-identity: forwards an Identity's input to its users.
//
// Before:                         After:
//   t = Identity (x)                y = Relu (x)
//   y = Relu (t)
//
// Preconditions: the op is Identity in the default domain. When the result is a
// graph output and the input is not a node result of the same graph (a graph
// input, a constant, or an outer value), the Identity stays: the output needs a
// node of its own to carry its name. Exact.

#include "passes/PatternPass.h"
#include "passes/PatternRewriter.h"

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
