// fuse-add-bias-into-conv: an Add of a per-channel constant after a Conv
// becomes the Conv's bias.
//
// Before:
//   c = Conv (X, W)                 # or Conv (X, W, B)
//   Y = Add (c, A)                  # A: [M,1,1], [1,M,1,1], a scalar, ...
// After:
//   Y = Conv (X, W, B')             # B' = A (or B + A), length M
//
// Preconditions: a Conv (not opaque) whose result has no other user and is
// not a graph output; A and B constants of the weight's float type; A
// broadcasts to the Conv output without enlarging it and varies only along
// the channel axis. Numeric: the bias is added inside the convolution, so
// the rounding order changes (B + A is also rounded once).
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseAddBiasIntoConvPass();

} // namespace onnxopt
