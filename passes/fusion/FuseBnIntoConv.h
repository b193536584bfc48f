// fuse-bn-into-conv: folds an inference BatchNormalization into the Conv or
// ConvTranspose that feeds it.
//
// Before:
//   c = Conv (X, W, B)
//   Y = BatchNormalization <epsilon = e> (c, scale, bias, mean, var)
// After:
//   Y = Conv (X, W', B')
//
// Algebra, per output channel m, with s[m] = scale[m] / sqrt(var[m] + e):
//   W'[m, ...] = W[m, ...] * s[m]
//   B'[m]      = (B[m] - mean[m]) * s[m] + bias[m]      (B = 0 when absent)
// ConvTranspose keeps its weights as [Cin, Cout/group, k...]: output channel
// m = g * (Cout/group) + j scales W[c, j, ...] for every input channel c of
// group g.
//
// Preconditions: BatchNormalization of opset 9 or later in inference (no
// training_mode, or 0; its optional outputs unused); the Conv result has no
// other user and is not a graph output; W, B and every BatchNormalization
// parameter are constants (not overridable graph inputs); float, double,
// float16 or bfloat16 weights; parameter lengths match the output channels.
//
// Numeric: W' and B' are computed in double and rounded once to the weight
// type, so outputs move by float rounding (within --verify's default
// rtol 1e-4 / atol 1e-5 on the corpus). Float16 weights are rounded to
// float16 after a double computation.
//
// fuse-bn-into-gemm: the same for a Gemm whose 2-D result feeds the
// BatchNormalization (channel = output column j):
//   y = Gemm <alpha, beta, transB> (A, B, C);  Y = BatchNormalization (y, ...)
// becomes
//   Y = Gemm <alpha, beta = 1, transB> (A, B', C')
//   B'[:, j] = B[:, j] * s[j]   (rows of B when transB = 1)
//   C'[j]    = (beta * C[j] - mean[j]) * s[j] + bias[j]
// Preconditions as above; B is a 2-D constant, C absent or a constant that
// does not vary along the rows (a scalar, [N] or [1, N]).
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseBnIntoConvPass();
std::unique_ptr<Pass> createFuseBnIntoGemmPass();

} // namespace onnxopt
