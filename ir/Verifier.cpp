// Structural verification of the IR.
#include "ir/Verifier.h"

#include "ir/Graph.h"
#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

#include <atomic>
#include <vector>

namespace onnxopt {

namespace {

std::string describe(const Node &n) {
  return absl::StrCat("node '", n.name, "' (", n.op().type, ")");
}

} // namespace

/// Checks the back-pointers, use lists and def-before-use of a graph and its
/// subgraphs. Scope is a mark on each value (this run's number once its
/// definition is seen, cleared when a subgraph's scope ends), not a set:
/// verify-each runs after every pass, and on large graphs hashing every
/// value every time cost more than the passes.
class Verifier {
public:
  Verifier() : mark_(++runs_) {}

  /// A top-level graph: its marks go stale with the next run's number.
  absl::Status run(const Graph &g) { return check(g); }

private:
  /// A subgraph: its values leave scope when it ends.
  absl::Status runNested(const Graph &g) {
    absl::Status st = check(g);
    unmark(g);
    return st;
  }

  void define(const Value *v) { const_cast<Value *>(v)->verifyMark_ = mark_; }
  bool inScope(const Value *v) const { return v->verifyMark_ == mark_; }

  void unmark(const Graph &g) {
    for (size_t i = 0; i < g.numInputs(); ++i)
      const_cast<Value *>(g.input(i))->verifyMark_ = 0;
    for (size_t i = 0; i < g.numInitializers(); ++i)
      const_cast<Value *>(g.initializer(i))->verifyMark_ = 0;
    for (const Node *n : g.nodes())
      for (size_t i = 0; i < n->numOutputs(); ++i)
        if (const Value *v = n->output(i))
          const_cast<Value *>(v)->verifyMark_ = 0;
  }

  absl::Status check(const Graph &g) {
    for (size_t i = 0; i < g.numInputs(); ++i) {
      const Value *v = g.input(i);
      if (v->graph() != &g || v->kind() != Value::Kind::GraphInput)
        return absl::InternalError(absl::StrCat("graph input '", v->name(),
                                                "' has a wrong back-pointer"));
      define(v);
    }
    for (size_t i = 0; i < g.numInitializers(); ++i)
      define(g.initializer(i));
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
          ONNXOPT_RETURN_IF_ERROR(runNested(*sub));
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
        define(v);
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
    return absl::OkStatus();
  }

  // Atomic: verifiers on other threads must not draw the same number.
  static inline std::atomic<uint64_t> runs_ = 0;
  uint64_t mark_;
};

absl::Status verifyGraph(const Graph &g) { return Verifier().run(g); }

absl::Status verifyModel(const Model &m) {
  if (!m.graph)
    return absl::InternalError("model has no graph");
  return verifyGraph(*m.graph);
}

} // namespace onnxopt
