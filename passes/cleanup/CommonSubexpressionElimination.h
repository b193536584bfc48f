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
#pragma once

#include <memory>

namespace onnxopt {
class Pass;
std::unique_ptr<Pass> createCommonSubexpressionEliminationPass();
} // namespace onnxopt
