// The lowering layer: a target is what one execution provider accepts (the
// ops and domains it runs fast) plus the passes that lower a portable graph
// to it. `--target=NAME` runs the target's lowering pipeline after the -O
// pipeline; `--list-targets` lists them. A new execution provider is one more
// target: a folder under backends/ with its lowering passes and one
// registration function named in BuiltinTargets.cpp.
#pragma once

#include "ir/Graph.h"
#include "passes/PatternPass.h"

#include <string>
#include <string_view>
#include <vector>

namespace onnxopt {

struct Target {
  std::string name;
  /// One line for --list-targets.
  std::string description;
  /// The runtimes known to accept what the target emits (README's table).
  std::string accepts;
  /// Domains the lowered model may import beyond the input's (the lowering
  /// passes add each one they use).
  std::vector<OpsetImport> opsets;
  /// The lowering pipeline (pass pipeline text), run after the user's; empty
  /// for the portable target.
  std::string pipeline;
};

/// Registers the in-tree targets and their lowering passes (once; an error
/// only if a name is taken twice, a bug of the build).
absl::Status registerBuiltinTargets();
/// Adds a target; an error if its name is taken.
absl::Status registerTarget(Target t);
/// Every registered target, `onnx` (the default) first.
const std::vector<Target> &registeredTargets();
/// The target named `name`, or nullptr.
const Target *findTarget(std::string_view name);

/// A pattern pass that lowers to ops of other domains: before its patterns
/// run, the model imports each of `opsets()` it lacks (so the Rewriter can
/// resolve their ops); afterwards an import the graph does not use is
/// dropped again, so a lowering that matched nothing leaves the model as it
/// was.
class LoweringPass : public PatternPass {
public:
  absl::StatusOr<bool> run(Graph &g, PassContext &ctx) override;

protected:
  virtual std::vector<OpsetImport> opsets() const = 0;
  /// The rewrite itself, with the imports in place: the patterns by
  /// default; a lowering that is not a set of local patterns (a layout
  /// change over the whole graph) overrides it.
  virtual absl::StatusOr<bool> lower(Graph &g, PassContext &ctx) {
    return PatternPass::run(g, ctx);
  }
  void
  populatePatterns(std::vector<std::unique_ptr<OpRewritePattern>> &) override {}
};

} // namespace onnxopt
