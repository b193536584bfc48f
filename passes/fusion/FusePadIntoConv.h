// fuse-pad-into-conv: a zero Pad of the spatial dims before a Conv becomes
// the Conv's pads.
//
// Before:
//   p = Pad <mode = "constant"> (X, pads)      # value 0, N and C unpadded
//   Y = Conv <pads = q> (p, W)
// After:
//   Y = Conv <pads = q + spatial(pads)> (X, W)
//
// Preconditions: constant mode with value 0 (absent counts as 0); constant,
// non-negative pads that leave the batch and channel dims alone; the Conv has
// auto_pad NOTSET; the Pad result has no other user and is not a graph
// output. Numeric: the same zeros are summed, but a runtime may take another
// kernel for an implicitly padded convolution.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFusePadIntoConvPass();

} // namespace onnxopt
