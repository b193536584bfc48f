// Exact structural equality of attributes, tensors and subgraphs.
#include "ir/Equivalence.h"

#include "absl/container/flat_hash_map.h"

#include <cstring>

namespace onnxopt {

namespace {

using ValueMap = absl::flat_hash_map<const Value *, const Value *>;

bool sameBits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool graphsEquivalentWith(const Graph &a, const Graph &b, ValueMap &map);

bool attrEqual(const Attribute &x, const Attribute &y, ValueMap &map) {
  if (x.kind != y.kind || x.refAttrName != y.refAttrName || x.i != y.i ||
      !sameBits(x.f, y.f) || x.s != y.s || x.ints != y.ints ||
      x.strings != y.strings || x.types != y.types ||
      x.floats.size() != y.floats.size() ||
      x.tensors.size() != y.tensors.size() ||
      x.graphs.size() != y.graphs.size() ||
      x.sparseTensors.size() != y.sparseTensors.size())
    return false;
  for (size_t i = 0; i < x.floats.size(); ++i)
    if (!sameBits(x.floats[i], y.floats[i]))
      return false;
  for (size_t i = 0; i < x.tensors.size(); ++i)
    if (!x.tensors[i]->contentEquals(*y.tensors[i]))
      return false;
  for (size_t i = 0; i < x.sparseTensors.size(); ++i) {
    const SparseTensor &p = *x.sparseTensors[i], &q = *y.sparseTensors[i];
    if (p.dims != q.dims || !p.values.contentEquals(q.values) ||
        !p.indices.contentEquals(q.indices))
      return false;
  }
  for (size_t i = 0; i < x.graphs.size(); ++i)
    if (!graphsEquivalentWith(*x.graphs[i], *y.graphs[i], map))
      return false;
  return true;
}

bool attrsEqualWith(const Node &a, const Node &b, ValueMap &map) {
  if (a.attrs().size() != b.attrs().size())
    return false;
  for (const Attribute &x : a.attrs()) {
    const Attribute *y = b.attr(x.name);
    if (!y || !attrEqual(x, *y, map))
      return false;
  }
  return true;
}

const Value *mapped(const ValueMap &map, const Value *v) {
  auto it = map.find(v);
  return it == map.end() ? v : it->second;
}

bool graphsEquivalentWith(const Graph &a, const Graph &b, ValueMap &map) {
  if (a.numInputs() != b.numInputs() ||
      a.numInitializers() != b.numInitializers() ||
      a.numNodes() != b.numNodes() || a.numOutputs() != b.numOutputs())
    return false;
  for (size_t i = 0; i < a.numInputs(); ++i) {
    if (a.input(i)->type() != b.input(i)->type())
      return false;
    map[a.input(i)] = b.input(i);
  }
  for (size_t i = 0; i < a.numInitializers(); ++i) {
    const Value *x = a.initializer(i), *y = b.initializer(i);
    if (!x->tensor() || !y->tensor() ||
        !x->tensor()->contentEquals(*y->tensor()))
      return false;
    map[x] = y;
  }
  for (const Node *x = a.firstNode(), *y = b.firstNode(); x;
       x = x->next(), y = y->next()) {
    if (!(x->op() == y->op()) || x->numInputs() != y->numInputs() ||
        x->numOutputs() != y->numOutputs() || !attrsEqualWith(*x, *y, map))
      return false;
    for (size_t i = 0; i < x->numInputs(); ++i)
      if (mapped(map, x->input(i)) != y->input(i))
        return false;
    for (size_t i = 0; i < x->numOutputs(); ++i) {
      if (!x->output(i) != !y->output(i))
        return false;
      if (x->output(i))
        map[x->output(i)] = y->output(i);
    }
  }
  for (size_t i = 0; i < a.numOutputs(); ++i)
    if (mapped(map, a.output(i)) != b.output(i))
      return false;
  return true;
}

} // namespace

bool attributesEqual(const Node &a, const Node &b) {
  ValueMap map;
  return attrsEqualWith(a, b, map);
}

bool graphsEquivalent(const Graph &a, const Graph &b) {
  ValueMap map;
  return graphsEquivalentWith(a, b, map);
}

} // namespace onnxopt
