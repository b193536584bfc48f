// Structural verification of the IR.
#include "ir/Verifier.h"

#include "ir/Graph.h"
#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

#include <vector>

namespace onnxopt {

namespace {

std::string describe(const Node &n) {
  return absl::StrCat("node '", n.name, "' (", n.op().type, ")");
}

class Verifier {
public:
  absl::Status run(const Graph &g) {
    // Membership only; never iterated.
    scopes_.emplace_back();
    auto &scope = scopes_.back();
    for (size_t i = 0; i < g.numInputs(); ++i) {
      const Value *v = g.input(i);
      if (v->graph() != &g || v->kind() != Value::Kind::GraphInput)
        return absl::InternalError(absl::StrCat("graph input '", v->name(),
                                                "' has a wrong back-pointer"));
      scope.insert(v);
    }
    for (size_t i = 0; i < g.numInitializers(); ++i)
      scope.insert(g.initializer(i));
    size_t count = 0;
    for (const Node *n : g.nodes()) {
      ++count;
      if (n->graph() != &g)
        return absl::InternalError(
            absl::StrCat(describe(*n), " has a wrong graph back-pointer"));
      for (size_t i = 0; i < n->numInputs(); ++i) {
        const Use &u = const_cast<Node *>(n)->inputUse(i);
        if (u.user() != n || u.index() != i)
          return absl::InternalError(absl::StrCat(
              describe(*n), " operand ", i, " has a wrong use back-pointer"));
        const Value *v = n->input(i);
        if (v && !inScope(v))
          return absl::InternalError(
              absl::StrCat(describe(*n), " operand ", i, " ('", v->name(),
                           "') is not defined before its use"));
      }
      for (const Attribute &a : n->attrs())
        for (const auto &sub : a.graphs) {
          if (!sub || sub->parentNode() != n)
            return absl::InternalError(
                absl::StrCat(describe(*n), " attribute '", a.name,
                             "' holds a subgraph with a wrong parent"));
          ONNXOPT_RETURN_IF_ERROR(run(*sub));
        }
      for (size_t i = 0; i < n->numOutputs(); ++i) {
        const Value *v = n->output(i);
        if (!v)
          continue;
        if (v->definingNode() != n || v->resultIndex() != i || v->graph() != &g)
          return absl::InternalError(absl::StrCat(describe(*n), " result ", i,
                                                  " has a wrong back-pointer"));
        size_t listed = 0;
        for (const Use *u = v->firstUse(); u; u = u->nextUse()) {
          ++listed;
          if (u->get() != v)
            return absl::InternalError(absl::StrCat(describe(*n), " result ", i,
                                                    " has a corrupt use list"));
        }
        if (listed != v->numUses())
          return absl::InternalError(absl::StrCat(describe(*n), " result ", i,
                                                  " has a wrong use count"));
        scopes_.back().insert(v);
      }
    }
    if (count != g.numNodes())
      return absl::InternalError(
          absl::StrCat("graph '", g.name, "' has a wrong node count"));
    for (size_t i = 0; i < g.numOutputs(); ++i) {
      const Value *v = g.output(i);
      if (!v)
        return absl::InternalError(
            absl::StrCat("graph '", g.name, "' output ", i, " is undefined"));
      if (!inScope(v))
        return absl::InternalError(absl::StrCat("graph '", g.name, "' output ",
                                                i, " ('", v->name(),
                                                "') is not defined in scope"));
    }
    scopes_.pop_back();
    return absl::OkStatus();
  }

private:
  bool inScope(const Value *v) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
      if (it->contains(v))
        return true;
    return false;
  }
  std::vector<absl::flat_hash_set<const Value *>> scopes_;
};

} // namespace

absl::Status verifyGraph(const Graph &g) { return Verifier().run(g); }

absl::Status verifyModel(const Model &m) {
  if (!m.graph)
    return absl::InternalError("model has no graph");
  return verifyGraph(*m.graph);
}

} // namespace onnxopt
