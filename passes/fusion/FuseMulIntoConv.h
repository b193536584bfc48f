// fuse-mul-into-conv: a Mul by a per-channel constant after a Conv scales the
// Conv's weights and bias instead.
//
// Before:
//   c = Conv (X, W, B)
//   Y = Mul (c, S)                  # S: [M,1,1], [1,M,1,1], a scalar, ...
// After:
//   Y = Conv (X, W', B')
//
// Algebra: W'[m, ...] = W[m, ...] * S[m], B'[m] = B[m] * S[m].
// Preconditions: as fuse-add-bias-into-conv (private Conv result, constant
// float weights, S varies only along the channel axis). Numeric: products
// are rounded in another order.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseMulIntoConvPass();

} // namespace onnxopt
