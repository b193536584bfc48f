// PatternPass: a pass that applies a set of rewrite patterns with the greedy
// driver.
#pragma once

#include "passes/Pass.h"
#include "passes/PatternRewriter.h"

namespace onnxopt {

/// Base of passes made of OpRewritePatterns. Options shared by all of them:
/// `max-iterations` (sweeps before giving up) and `test-convergence` (fail when
/// the patterns still change the graph after the last sweep).
class PatternPass : public Pass {
public:
  absl::StatusOr<bool> run(Graph &g, PassContext &ctx) override {
    if (patterns_.empty())
      populatePatterns(patterns_);
    GreedyRewriteConfig config;
    config.maxIterations = maxIterations.intValue();
    config.testConvergence = testConvergence.boolValue();
    config.fold = useFolds();
    config.model = &ctx.model;
    config.debugType = argument();
    auto n = applyPatternsGreedily(g, patterns_, config);
    if (!n.ok())
      return n.status();
    numRewrites += *n;
    return *n > 0;
  }

protected:
  virtual void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) = 0;
  /// Whether the driver applies fold hooks too.
  virtual bool useFolds() const { return false; }

private:
  PassOption maxIterations{this, "max-iterations", "Sweeps before giving up",
                           PassOption::Kind::Int, "10"};
  PassOption testConvergence{this, "test-convergence",
                             "Fail if the last sweep still changed the graph",
                             PassOption::Kind::Bool, "false"};
  Statistic numRewrites{this, "num-rewrites",
                        "Folds and pattern rewrites applied"};
  std::vector<std::unique_ptr<OpRewritePattern>> patterns_;
};

} // namespace onnxopt
