// eliminate-if-with-const-cond: an If whose condition is a constant is
// replaced by the nodes of the branch it always takes.
//
// Before:
//   Y = If (c) <then_branch = { ...; => (a) }, else_branch = { ... }>
//   with c = {true}
// After:
//   the then branch's nodes, inlined before the If's place; Y is its output a
//
// Preconditions: c is a constant (not overridable) with one bool element. The
// branch's constants become the graph's; values it captures from outer
// scopes are used directly; nested subgraphs move with their nodes. A graph
// output that the branch returns straight from an outer value, a constant or
// another output keeps a node of its own (an Identity). Exact: the same
// nodes run on the same values.

#include "passes/PatternRewriter.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

/// The value of a constant one-element bool condition, or nullopt.
std::optional<bool> constantCondition(const Value *c) {
  if (!isConstantTensor(c) || c->tensor()->dtype() != DataType::Bool ||
      c->tensor()->numElements() != 1 || c->tensor()->bytes().size() != 1)
    return std::nullopt;
  return c->tensor()->bytes()[0] != 0;
}

class EliminateIfWithConstCondPass final : public Pass {
public:
  std::string_view argument() const override {
    return "eliminate-if-with-const-cond";
  }
  std::string_view description() const override {
    return "Replace an If with a constant condition by the branch it takes";
  }

  absl::StatusOr<bool> run(Graph &g, PassContext &ctx) override {
    if (!g.numNodesOfType("If"))
      return false;
    std::vector<Node *> ifs;
    for (Node *n : g.nodes())
      if (n->is("If") && !n->op().isOpaque() && n->numInputs() == 1 &&
          constantCondition(n->input(0)))
        ifs.push_back(n);
    if (ifs.empty())
      return false;
    NameGenerator names(g);
    for (Node *n : ifs) {
      auto status =
          inlineBranch(*n, *constantCondition(n->input(0)), g, ctx, names);
      if (!status.ok())
        return status;
      ++numInlined;
    }
    return true;
  }

private:
  absl::Status inlineBranch(Node &n, bool cond, Graph &g, PassContext &ctx,
                            NameGenerator &names) {
    const Attribute *a = n.attr(cond ? "then_branch" : "else_branch");
    if (!a || a->graphs.size() != 1 || a->graphs[0]->numInputs() != 0 ||
        a->graphs[0]->numOutputs() != n.numOutputs())
      return absl::InvalidArgumentError(
          "If '" + n.name + "': the branch taken does not match the node");
    Graph &branch = *a->graphs[0];
    absl::flat_hash_set<const Node *> inlined;
    // Constants first, then the nodes in order: each node's branch-local
    // operands have been redirected to their copies by then.
    for (size_t i = 0; i < branch.numInitializers(); ++i) {
      Value *c = branch.initializer(i);
      Value *copy =
          c->sparse()
              ? g.addSparseInitializer(names.fresh(c->name()), c->sparse())
              : g.addInitializer(names.fresh(c->name()), c->tensor());
      copy->setType(c->type());
      c->replaceAllUsesWith(copy);
    }
    for (Node *old : branch.nodes()) {
      std::vector<Value *> inputs;
      for (size_t i = 0; i < old->numInputs(); ++i)
        inputs.push_back(old->input(i));
      Node *m = g.createNode(old->op(), inputs, old->numOutputs(), &n);
      inlined.insert(m);
      m->name = old->name;
      m->docString = old->docString;
      m->mutableAttrs() = std::move(old->mutableAttrs());
      for (Graph *sub : m->subgraphs())
        sub->setParentNode(m);
      for (size_t i = 0; i < old->numOutputs(); ++i) {
        Value *from = old->output(i), *to = m->output(i);
        if (!from)
          continue;
        to->setName(names.fresh(from->name()));
        to->setType(from->type());
        from->replaceAllUsesWith(to);
      }
    }
    absl::flat_hash_set<const Value *> renamed;
    for (size_t i = 0; i < n.numOutputs(); ++i) {
      Value *out = n.output(i), *v = branch.output(i);
      if (!out)
        continue;
      // An inlined result takes the If result's name (freed with the If).
      if (v->kind() == Value::Kind::NodeOutput && v->graph() == &g &&
          v->definingNode() && inlined.contains(v->definingNode()) &&
          renamed.insert(v).second)
        v->setName(out->name());
      if (!canForwardResult(*out, *v, g)) {
        auto id = ctx.model.resolveOp("Identity");
        if (!id.ok())
          return id.status();
        Node *carrier = g.createNode(*id, {v}, 1, &n);
        carrier->output(0)->setName(out->name());
        carrier->output(0)->setType(out->type());
        v = carrier->output(0);
      }
      out->replaceAllUsesWith(v);
    }
    n.erase();
    return absl::OkStatus();
  }

  Statistic numInlined{this, "num-inlined", "Ifs replaced by their branch"};
};

} // namespace

std::unique_ptr<Pass> createEliminateIfWithConstCondPass() {
  return std::make_unique<EliminateIfWithConstCondPass>();
}

} // namespace onnxopt
