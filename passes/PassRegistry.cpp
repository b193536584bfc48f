// The pass registry.
#include "passes/PassRegistry.h"

#include "absl/strings/str_cat.h"

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

std::unique_ptr<Pass> createPass(std::string_view name) {
  for (const PassInfo &p : registry())
    if (p.argument == name || (!p.alias.empty() && p.alias == name))
      return p.factory();
  return nullptr;
}

} // namespace onnxopt
