// topo-sort: orders nodes so every value is defined before its uses.
//
// Before:                         After:
//   y = Relu (t)                    t = Neg (x)
//   t = Neg (x)                     y = Relu (t)
//
// Stable: nodes already in a valid order keep it (Kahn's algorithm, earliest
// original position first). Uses inside subgraph bodies of values of this graph
// count as dependencies of the node owning the body. Exact.

#include "passes/Pass.h"

#include "absl/container/flat_hash_map.h"

#include <algorithm>
#include <functional>

namespace onnxopt {

namespace {

/// Nodes of `g` producing values used by `sub` (any depth).
void captures(const Graph &sub, const Graph &g, std::vector<Node *> &out) {
  for (const Node *n : sub.nodes()) {
    for (size_t i = 0; i < n->numInputs(); ++i)
      if (Value *v = n->input(i); v && v->graph() == &g && v->definingNode())
        out.push_back(v->definingNode());
    for (const Graph *inner : n->subgraphs())
      captures(*inner, g, out);
  }
  for (size_t i = 0; i < sub.numOutputs(); ++i)
    if (Value *v = sub.output(i); v && v->graph() == &g && v->definingNode())
      out.push_back(v->definingNode());
}

class TopoSortPass final : public Pass {
public:
  std::string_view argument() const override { return "topo-sort"; }
  std::string_view description() const override {
    return "Order nodes topologically, keeping the existing order where valid";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    std::vector<Node *> nodes;
    // Looked up by pointer; never iterated.
    absl::flat_hash_map<const Node *, size_t> index;
    for (Node *n : g.nodes()) {
      index[n] = nodes.size();
      nodes.push_back(n);
    }
    std::vector<std::vector<size_t>> users(nodes.size());
    std::vector<size_t> pending(nodes.size(), 0);
    for (size_t i = 0; i < nodes.size(); ++i) {
      std::vector<Node *> deps;
      for (size_t k = 0; k < nodes[i]->numInputs(); ++k)
        if (Value *v = nodes[i]->input(k);
            v && v->graph() == &g && v->definingNode())
          deps.push_back(v->definingNode());
      for (const Graph *sub : nodes[i]->subgraphs())
        captures(*sub, g, deps);
      std::sort(deps.begin(), deps.end(),
                [&](Node *a, Node *b) { return index[a] < index[b]; });
      deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
      for (Node *d : deps) {
        users[index[d]].push_back(i);
        ++pending[i];
      }
    }
    std::vector<size_t> ready;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (!pending[i])
        ready.push_back(i);
    std::make_heap(ready.begin(), ready.end(), std::greater<size_t>());
    std::vector<Node *> order;
    order.reserve(nodes.size());
    while (!ready.empty()) {
      std::pop_heap(ready.begin(), ready.end(), std::greater<size_t>());
      size_t i = ready.back();
      ready.pop_back();
      order.push_back(nodes[i]);
      for (size_t u : users[i])
        if (--pending[u] == 0) {
          ready.push_back(u);
          std::push_heap(ready.begin(), ready.end(), std::greater<size_t>());
        }
    }
    if (order.size() != nodes.size())
      return absl::InternalError("the graph has a cycle");
    if (order == nodes)
      return false;
    g.reorder(order);
    ++numReordered;
    return true;
  }

private:
  Statistic numReordered{this, "num-reordered", "Graphs reordered"};
};

} // namespace

std::unique_ptr<Pass> createTopoSortPass() {
  return std::make_unique<TopoSortPass>();
}

} // namespace onnxopt
