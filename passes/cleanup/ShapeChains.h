// Chains of layout and type glue collapsed into one op, or none. All exact.
//
// fuse-cast-chains
//   t = Cast <to = T1> (X: T0);  Y = Cast <to = T2> (t)
//   ->  Y = Cast <to = T2> (X), or Y = X when T2 = T0
//   Only when T0 -> T1 is lossless (every T0 value is exactly a T1 value:
//   bool to any number, integers into wider integers of the right sign or
//   floats with enough mantissa, float16/bfloat16 -> float -> double). A
//   narrowing first step rounds or wraps, and skipping it would change
//   results (TRAPS.md 3: float -> int32 -> float truncates; it must stay).
// fuse-consecutive-squeezes
//   Squeeze(Squeeze(X, a1), a2)  ->  Squeeze(X, a1 + a2 mapped back to X's
//   axes). Axes absent: all size-1 dims, which needs a fully static shape.
// fuse-consecutive-unsqueezes
//   Unsqueeze(Unsqueeze(X, a1), a2)  ->  Unsqueeze(X, a2 + a1 mapped forward
//   past a2's new axes).
// fuse-squeeze-unsqueeze
//   Unsqueeze(Squeeze(X, a), a)  ->  X   (the squeezed dims were 1 and come
//   back at the same places); Squeeze(Unsqueeze(X, a), a)  ->  X.
// fuse-consecutive-reshapes
//   Reshape(R(X), S)  ->  Reshape(X, S)  for R any of Reshape, Flatten,
//   Squeeze, Unsqueeze (all keep row-major element order), when S's result
//   does not depend on R's dims: S constant without 0 entries, or
//   allowzero = 1. A 0 entry copies R's dim, which X may not have there
//   (TRAPS.md 12).
//
// Axes are read opset-aware: attributes before Squeeze/Unsqueeze 13, inputs
// from 13 on; a rewritten axes operand keeps the node's own form. The first
// node stays when it has other users.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseCastChainsPass();
std::unique_ptr<Pass> createFuseConsecutiveSqueezesPass();
std::unique_ptr<Pass> createFuseConsecutiveUnsqueezesPass();
std::unique_ptr<Pass> createFuseSqueezeUnsqueezePass();
std::unique_ptr<Pass> createFuseConsecutiveReshapesPass();

} // namespace onnxopt
