// cse: merges nodes that compute the same thing from the same operands.
//
// Before:                         After:
//   a = Relu (x)                    a = Relu (x)
//   b = Relu (x)                    y = Add (a, a)
//   y = Add (a, b)
//
// Preconditions: same op (domain, type, opset), the very same operands in the
// same order, attributes equal exactly (floats by bit pattern, tensors by
// bytes, subgraphs structurally); every present result of the later node is
// present in the earlier one. Never merges non-deterministic ops (Random*,
// Multinomial, Bernoulli) or opaque ops. Exact.

#include "ir/Equivalence.h"
#include "passes/Pass.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"

#include <tuple>

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

/// A cheap key over a node: op identity, operand identities, attribute names
/// and kinds, result count. Nodes with equal keys are compared exactly. Hashed
/// and compared in place: building a key string per node made cse allocate
/// once per node.
struct KeyHash {
  size_t operator()(const Node *n) const {
    size_t h = absl::Hash<
        std::tuple<std::string_view, std::string_view, int, size_t, size_t>>()(
        {isDefaultDomain(n->op().domain) ? "" : n->op().domain, n->op().type,
         n->op().sinceVersion, n->numInputs(), n->numOutputs()});
    for (size_t i = 0; i < n->numInputs(); ++i)
      h = mix(h, std::hash<const Value *>()(n->input(i)));
    for (const Attribute &a : n->attrs())
      h = mix(h, std::hash<std::string_view>()(a.name) +
                     static_cast<size_t>(a.kind));
    return h;
  }
  static size_t mix(size_t h, size_t v) {
    return (h ^ v) * 0x9E3779B97F4A7C15ull + (h >> 29);
  }
};

struct KeyEq {
  bool operator()(const Node *a, const Node *b) const {
    if (a->op().type != b->op().type ||
        a->op().sinceVersion != b->op().sinceVersion ||
        isDefaultDomain(a->op().domain) != isDefaultDomain(b->op().domain) ||
        (!isDefaultDomain(a->op().domain) &&
         a->op().domain != b->op().domain) ||
        a->numInputs() != b->numInputs() ||
        a->numOutputs() != b->numOutputs() ||
        a->attrs().size() != b->attrs().size())
      return false;
    for (size_t i = 0; i < a->numInputs(); ++i)
      if (a->input(i) != b->input(i))
        return false;
    for (size_t i = 0; i < a->attrs().size(); ++i)
      if (a->attrs()[i].name != b->attrs()[i].name ||
          a->attrs()[i].kind != b->attrs()[i].kind)
        return false;
    return true;
  }
};

class CommonSubexpressionEliminationPass final : public Pass {
public:
  std::string_view argument() const override { return "cse"; }
  std::string_view description() const override {
    return "Merge nodes computing the same result from the same operands";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    // Looked up by key; never iterated. The key is the first node with it,
    // which is never erased; its operands come earlier, so a merge does not
    // change them. Candidates keep program order, so the earliest equivalent
    // node survives.
    absl::flat_hash_map<const Node *, absl::InlinedVector<Node *, 1>, KeyHash,
                        KeyEq>
        seen;
    // Sized once: growing by rehashing would move every entry several times.
    seen.reserve(g.numNodes());
    bool changed = false;
    for (Node *n : g.nodes()) {
      if (n->op().isOpaque() || isNonDeterministic(*n) || n->numOutputs() == 0)
        continue;
      auto &candidates = seen[n];
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
