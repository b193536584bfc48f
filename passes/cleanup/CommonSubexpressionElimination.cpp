// cse: merges nodes that compute the same thing from the same operands.
#include "passes/cleanup/CommonSubexpressionElimination.h"

#include "ir/Equivalence.h"
#include "passes/Pass.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace onnxopt {

namespace {

bool isNonDeterministic(const Node &n) {
  static const char *kOps[] = {"RandomUniform",     "RandomNormal",
                               "RandomUniformLike", "RandomNormalLike",
                               "Multinomial",       "Bernoulli"};
  for (const char *op : kOps)
    if (n.is(op))
      return true;
  return false;
}

/// A cheap key: op identity, operand identities and attribute names and kinds.
/// Candidates with the same key are compared exactly.
std::string keyOf(const Node &n) {
  std::string k =
      absl::StrCat(isDefaultDomain(n.op().domain) ? "" : n.op().domain, "/",
                   n.op().type, "/", n.op().sinceVersion, "(");
  for (size_t i = 0; i < n.numInputs(); ++i)
    absl::StrAppend(&k, reinterpret_cast<uintptr_t>(n.input(i)), ",");
  absl::StrAppend(&k, ")<");
  for (const Attribute &a : n.attrs())
    absl::StrAppend(&k, a.name, ":", static_cast<int>(a.kind), ";");
  absl::StrAppend(&k, ">", n.numOutputs());
  return k;
}

class CommonSubexpressionEliminationPass final : public Pass {
public:
  std::string_view argument() const override { return "cse"; }
  std::string_view description() const override {
    return "Merge nodes computing the same result from the same operands";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    // Looked up by key; never iterated. Candidates keep program order, so the
    // earliest equivalent node survives.
    absl::flat_hash_map<std::string, std::vector<Node *>> seen;
    bool changed = false;
    for (Node *n : g.nodes()) {
      if (n->op().isOpaque() || isNonDeterministic(*n) || n->numOutputs() == 0)
        continue;
      auto &candidates = seen[keyOf(*n)];
      Node *match = nullptr;
      for (Node *m : candidates) {
        bool covers = true;
        for (size_t i = 0; i < n->numOutputs(); ++i)
          if (n->output(i) && !m->output(i))
            covers = false;
        if (covers && attributesEqual(*m, *n)) {
          match = m;
          break;
        }
      }
      if (!match) {
        candidates.push_back(n);
        continue;
      }
      for (size_t i = 0; i < n->numOutputs(); ++i)
        if (n->output(i))
          n->output(i)->replaceAllUsesWith(match->output(i));
      n->erase();
      ++numMerged;
      changed = true;
    }
    return changed;
  }

private:
  Statistic numMerged{this, "num-merged", "Nodes merged into an earlier twin"};
};

} // namespace

std::unique_ptr<Pass> createCommonSubexpressionEliminationPass() {
  return std::make_unique<CommonSubexpressionEliminationPass>();
}

} // namespace onnxopt
