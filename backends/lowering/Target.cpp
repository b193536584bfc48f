// The target registry and the lowering pass base.
#include "backends/lowering/Target.h"

#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace onnxopt {

namespace {

std::vector<Target> &targets() {
  static std::vector<Target> all = [] {
    std::vector<Target> t;
    t.push_back(Target{
        "onnx",
        "Portable ONNX: standard ops at the input's opsets (the default)",
        "any ONNX runtime that runs the input",
        {},
        ""});
    return t;
  }();
  return all;
}

} // namespace

absl::Status registerTarget(Target t) {
  if (findTarget(t.name))
    return absl::AlreadyExistsError(
        absl::StrCat("target '", t.name, "' is already registered"));
  targets().push_back(std::move(t));
  return absl::OkStatus();
}

const std::vector<Target> &registeredTargets() { return targets(); }

const Target *findTarget(std::string_view name) {
  for (const Target &t : targets())
    if (t.name == name)
      return &t;
  return nullptr;
}

absl::StatusOr<bool> LoweringPass::run(Graph &g, PassContext &ctx) {
  Model &m = ctx.model;
  std::vector<std::string> added;
  for (const OpsetImport &imp : opsets())
    if (!m.opsetVersion(imp.domain)) {
      m.opsetImports.push_back(imp);
      added.push_back(imp.domain);
    }
  auto changed = lower(g, ctx);
  // A domain the model did not import had no node anywhere, and this run
  // creates nodes in `g` only (the pass manager ran the nested graphs
  // before, keeping the import if they used it): `g` alone says whether the
  // import is needed, so a model of many subgraphs is not walked per graph.
  auto usedInG = [&](const std::string &d) {
    for (const Node *n : g.nodes())
      if (n->op().domain == d)
        return true;
    return false;
  };
  for (const std::string &d : added)
    if (!(changed.ok() && *changed && usedInG(d)))
      m.opsetImports.erase(
          std::find_if(m.opsetImports.begin(), m.opsetImports.end(),
                       [&](const OpsetImport &i) { return i.domain == d; }));
  return changed;
}

} // namespace onnxopt
