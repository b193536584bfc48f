// fuse-mul-into-matmul: a constant scale on either side of a MatMul by a
// constant weight moves into the weight (and its bias).
//
// Before (after the MatMul, optionally through its bias Add and a
// Transpose, as ConvNeXt's layer scale):
//   y = MatMul (X, W);  z = Add (y, b);  t = Transpose <perm> (z)
//   Y = Mul (t, c)           # c varies at most along W's output columns
// After:
//   y = MatMul (X, W');  z = Add (y, b');  Y = Transpose <perm> (z)
//   W'[:, j] = W[:, j] * c[j],  b'[j] = b[j] * c[j]
//
// Before (in front of the MatMul):
//   h = Mul (X, s);  Y = MatMul (h, W)        # s a one-element constant
// After:
//   Y = MatMul (X, W'),  W' = W * s
// except the final x 0.5 of an erf GELU, X = x * (1 + erf(...)): ONNX
// Runtime, TensorRT and OpenVINO fuse the whole canonical GELU (ORT with the
// bias before it as BiasGelu), which is worth more than the Mul.
//
// Preconditions: W a 2-D float constant, b a 1-D constant of W's width, c or
// s constants of W's type; every intermediate private (one user, not a graph
// output). Numeric: W * c is rounded once, (X W) * c was rounded twice.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseMulIntoMatMulPass();

} // namespace onnxopt
