// dedup-initializers: merges constants with the same dtype, shape and bytes.
//
// Before:  <float[2] A = {1, 2}, float[2] B = {1, 2}>  y = Add (A, B)
// After:   <float[2] A = {1, 2}>                       y = Add (A, A)
//
// Preconditions: both are constants of this graph (never a graph input's
// overridable default), dense, with equal dtype, dims and bytes (onnxsim#265:
// not merely equal values). The first in order survives. Exact.
#pragma once

#include <memory>

namespace onnxopt {
class Pass;
std::unique_ptr<Pass> createDedupInitializersPass();
} // namespace onnxopt
