// eliminate-unused-initializers: removes constants nothing uses.
//
// Before:  g (float[2] X) => (float[2] Y) <float[2] W = {1, 2}> { Y = Relu (X)
// } After:   g (float[2] X) => (float[2] Y) { Y = Relu (X) }
//
// Preconditions: the initializer is a constant with no use (subgraph captures
// count). Defaults of graph inputs are part of the model's contract and stay.
// Exact.
#pragma once

#include <memory>

namespace onnxopt {
class Pass;
std::unique_ptr<Pass> createEliminateUnusedInitializersPass();
} // namespace onnxopt
