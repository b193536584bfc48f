// The pass registry: in-tree passes from Passes.def plus plugin passes.
#pragma once

#include "passes/Pass.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onnxopt {

using PassFactory = std::function<std::unique_ptr<Pass>()>;

struct PassInfo {
  std::string argument;
  std::string alias; // onnxoptimizer's snake_case name, or empty
  PassFactory factory;
};

/// Every registered pass, in-tree ones first (sorted), then plugins in load
/// order.
const std::vector<PassInfo> &registeredPasses();
/// Registers a pass (plugins); fails if the argument or alias is taken. The
/// first failure is also kept for takeRegistrationError(), so a plugin that
/// ignores the result still fails to load.
absl::Status registerPass(PassInfo info);
/// The first registration failure since the last call, then OK.
absl::Status takeRegistrationError();
/// Creates the pass named by argument or alias, or nullptr.
std::unique_ptr<Pass> createPass(std::string_view nameOrAlias);
/// For an onnxoptimizer name with no pass: "" when there is nothing to do
/// (`nop`, `adjust_add`, `lift_lexical_references`: the parser skips them),
/// else why onnx-opt refuses it. nullopt for every other name.
std::optional<std::string> noPassReason(std::string_view name);
/// The argument of the pass named by argument or alias, or "".
std::string canonicalPassName(std::string_view nameOrAlias);
/// Every onnxoptimizer name that selects this pass (its alias first).
std::vector<std::string> passAliases(const PassInfo &info);
/// The registered name closest to a misspelled one, or "" if none is close.
std::string suggestPassName(std::string_view name);

} // namespace onnxopt
