// dce: removes nodes whose results are unused.
//
// Before:                         After:
//   t = Relu (x)    # t unused      y = Neg (x)
//   y = Neg (x)
//
// Preconditions: every result of the node is unused (subgraph captures count as
// uses) and the node is not opaque (a custom op may have effects we cannot
// see). Graph inputs and outputs are never removed. Exact.
#pragma once

#include <memory>

namespace onnxopt {
class Pass;
std::unique_ptr<Pass> createDeadCodeEliminationPass();
} // namespace onnxopt
