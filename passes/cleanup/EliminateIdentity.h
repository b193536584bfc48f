// eliminate-identity: forwards an Identity's input to its users.
//
// Before:                         After:
//   t = Identity (x)                y = Relu (x)
//   y = Relu (t)
//
// Preconditions: the op is Identity in the default domain. When the result is a
// graph output and the input is not a node result of the same graph (a graph
// input, a constant, or an outer value), the Identity stays: the output needs a
// node of its own to carry its name. Exact.
#pragma once

#include <memory>

namespace onnxopt {
class Pass;
std::unique_ptr<Pass> createEliminateIdentityPass();
} // namespace onnxopt
