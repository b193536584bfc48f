// Helpers shared by rewriting passes.
#pragma once

#include "ir/Graph.h"

namespace onnxopt {

/// True if the uses of `result` (a node result in `g`) may be pointed at
/// `replacement`. A graph output whose replacement is not a node result of the
/// same graph (a graph input, a constant, an outer value), or is already
/// another output, needs a node of its own to carry its name: that case says
/// no.
inline bool canForwardResult(const Value &result, const Value &replacement,
                             const Graph &g) {
  if (!result.isGraphOutput())
    return true;
  return replacement.kind() == Value::Kind::NodeOutput &&
         replacement.graph() == &g && !replacement.isGraphOutput();
}

/// After a rewrite stopped using constant `v`: if nothing uses it any more
/// and nothing else holds its tensor, lets a mapped file drop its pages (the
/// peak memory of folding is then the new weights, not old plus new).
/// eliminate-unused-initializers removes the value later.
inline void releaseIfDead(const Value *v) {
  if (v && v->isConstant() && v->useEmpty() && v->tensor() &&
      v->tensor().use_count() == 1)
    v->tensor()->releasePages();
}

} // namespace onnxopt
