// constant-fold: evaluates nodes whose inputs are all constants.
//
// Before:
//   <ir_version: 8, opset_import: ["" : 17]>
//   g (float[2] X) => (float[2] Y)
//   <float[2] a = {1, 2}, float[2] b = {3, 4}>
//   { s = Add (a, b)
//     Y = Mul (X, s) }
// After:
//   g (float[2] X) => (float[2] Y)
//   <float[2] a = {1, 2}, float[2] b = {3, 4}, float[2] s = {4, 6}>
//   { Y = Mul (X, s) }
// (the dead a and b go with eliminate-unused-initializers.)
//
// A node is folded when it has a reference kernel (backends/reference), every
// present input is a constant (an initializer that is not a graph input: an
// overridable default is not a constant), it is deterministic (never
// Random*, Multinomial, Bernoulli), it is not opaque or in a custom domain,
// it owns no subgraph, and its results grow the model by at most `max-size`
// bytes, counting the bytes of inputs the fold leaves unused. A node the
// interpreter cannot evaluate (an error, an unsupported type) stays as it is.
// Constant nodes become initializers. Exact: the folded values are what the
// reference interpreter computes for the original model.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createConstantFoldPass();

} // namespace onnxopt
