// topo-sort: orders nodes so every value is defined before its uses.
//
// Before:                         After:
//   y = Relu (t)                    t = Neg (x)
//   t = Neg (x)                     y = Relu (t)
//
// Stable: nodes already in a valid order keep it (Kahn's algorithm, earliest
// original position first). Uses inside subgraph bodies of values of this graph
// count as dependencies of the node owning the body. Exact.
#pragma once

#include <memory>

namespace onnxopt {
class Pass;
std::unique_ptr<Pass> createTopoSortPass();
} // namespace onnxopt
