// The pass registry.
#include "passes/PassRegistry.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <optional>

namespace onnxopt {

#define ONNXOPT_PASS(ARG, ALIAS, FACTORY) std::unique_ptr<Pass> FACTORY();
#include "passes/Passes.def"

static std::vector<PassInfo> &registry() {
  static std::vector<PassInfo> passes = [] {
    std::vector<PassInfo> v;
#define ONNXOPT_PASS(ARG, ALIAS, FACTORY) v.push_back({ARG, ALIAS, FACTORY});
#include "passes/Passes.def"
    return v;
  }();
  return passes;
}

const std::vector<PassInfo> &registeredPasses() { return registry(); }

static absl::Status &pendingError() {
  static absl::Status error;
  return error;
}

absl::Status takeRegistrationError() {
  absl::Status st = pendingError();
  pendingError() = absl::OkStatus();
  return st;
}

absl::Status registerPass(PassInfo info) {
  for (const PassInfo &p : registry())
    if (p.argument == info.argument || p.alias == info.argument ||
        (!info.alias.empty() &&
         (p.argument == info.alias || p.alias == info.alias))) {
      absl::Status st = absl::FailedPreconditionError(
          absl::StrCat("pass '", info.argument, "' is already registered"));
      if (pendingError().ok())
        pendingError() = st;
      return st;
    }
  registry().push_back(std::move(info));
  return absl::OkStatus();
}

namespace {

/// onnxoptimizer names that one onnx-opt pass covers besides its own alias
/// (docs/onnxoptimizer-passes.md): {onnxoptimizer name, onnx-opt argument}.
constexpr std::pair<std::string_view, std::string_view> kExtraAliases[] = {
    {"adjust_slice_and_matmul", "constant-fold"},
    {"eliminate_nop_add_zero", "eliminate-op-with-unit"},
    {"eliminate_nop_div_one", "eliminate-op-with-unit"},
    {"eliminate_nop_gather_shape", "fold-shape-ops"},
    {"eliminate_nop_mul_one", "eliminate-op-with-unit"},
    {"eliminate_nop_sub_zero", "eliminate-op-with-unit"},
    {"eliminate_shape_op", "fold-shape-ops"},
    {"eliminate_shape_slice", "fold-shape-ops"},
    {"eliminate_slice_shape", "fold-shape-ops"},
    {"extract_constant_to_initializer", "constant-fold"},
    {"fuse_attention", "fuse-attention"},
    {"fuse_concat_and_reshape", "fuse-concat-into-reshape"},
    {"fuse_concat_shape_for_reshape", "fuse-concat-into-reshape"},
    {"fuse_constant_reshape", "fuse-concat-into-reshape"},
    {"fuse_gelu", "fuse-gelu"},
    {"fuse_pad_into_avgpool", "fuse-pad-into-pool"},
    {"fuse_pad_into_maxpool", "fuse-pad-into-pool"},
};

/// onnxoptimizer names with nothing to run in onnx-opt, and names it refuses,
/// with the reason (docs/onnxoptimizer-passes.md).
constexpr std::pair<std::string_view, std::string_view> kNoPassNames[] = {
    {"adjust_add", ""}, // onnx-opt's patterns accept either operand order
    {"eliminate_initializer_from_input",
     "it deletes graph inputs, which are the model's contract (an "
     "initializer that is also an input is an overridable default)"},
    {"lift_lexical_references", ""}, // subgraphs capture outer values directly
    {"nop", ""},
    {"rename_input_output",
     "graph input and output names are the model's contract"},
    {"rewrite_input_dtype", "graph input types are the model's contract"},
    {"set_unique_name_for_nodes", "node names are kept as given"},
    {"split_init", "splitting a model into init and predict nets is a "
                   "deployment step, not an optimization"},
    {"split_predict", "splitting a model into init and predict nets is a "
                      "deployment step, not an optimization"},
};

const PassInfo *findPass(std::string_view name) {
  for (const PassInfo &p : registry())
    if (p.argument == name || (!p.alias.empty() && p.alias == name))
      return &p;
  for (const auto &[alias, argument] : kExtraAliases)
    if (alias == name)
      return findPass(argument);
  return nullptr;
}

} // namespace

std::unique_ptr<Pass> createPass(std::string_view name) {
  const PassInfo *p = findPass(name);
  return p ? p->factory() : nullptr;
}

std::optional<std::string> noPassReason(std::string_view name) {
  for (const auto &[n, why] : kNoPassNames)
    if (n == name)
      return std::string(why);
  return std::nullopt;
}

std::string canonicalPassName(std::string_view name) {
  const PassInfo *p = findPass(name);
  return p ? p->argument : std::string();
}

std::vector<std::string> passAliases(const PassInfo &info) {
  std::vector<std::string> out;
  if (!info.alias.empty())
    out.push_back(info.alias);
  for (const auto &[alias, argument] : kExtraAliases)
    if (argument == info.argument)
      out.emplace_back(alias);
  return out;
}

namespace {

/// Levenshtein distance (one row of the table at a time).
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

} // namespace

std::string suggestPassName(std::string_view name) {
  // The closest argument or alias, if it is a plausible typo (as LLVM's
  // "did you mean" for options).
  std::string best;
  size_t bestDistance = std::max<size_t>(3, name.size() / 4) + 1;
  auto consider = [&](std::string_view candidate, std::string_view argument) {
    size_t d = editDistance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = std::string(argument);
    }
  };
  for (const PassInfo &p : registry()) {
    consider(p.argument, p.argument);
    if (!p.alias.empty())
      consider(p.alias, p.alias);
  }
  for (const auto &[alias, argument] : kExtraAliases)
    consider(alias, alias);
  for (const auto &[n, why] : kNoPassNames)
    if (why.empty())
      consider(n, n);
  consider("fixpoint", "fixpoint");
  return best;
}

} // namespace onnxopt
