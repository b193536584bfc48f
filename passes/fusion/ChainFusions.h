// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
//
// eliminate-consecutive-idempotent-ops (exact)
//   f(f(X)) -> f(X)  for f in Relu, Abs, Ceil, Floor, Round, Sign.
// fuse-consecutive-reduce-unsqueeze (exact)
//   Unsqueeze(Reduce*(X, axes, keepdims = 0), axes) -> Reduce*(X, axes,
//   keepdims = 1): the same elements, the reduced axes kept as size 1. Axes
//   read opset-aware (ReduceSum's moved to an input at 13, the others' at 18).
// fuse-consecutive-concats (exact)
//   Concat(a, Concat(b, c), d) -> Concat(a, b, c, d) on the same axis.
// fuse-consecutive-slices (exact)
//   Slice(Slice(X, s1, e1, a1, p1), s2, e2, a2, p2) -> Slice(X, s1+s2, e1+e2,
//   a1+a2, p1+p2) when a1 and a2 are disjoint (slices of different axes
//   commute); constant operands, opset 10 or later.
// eliminate-slice-of-concat (exact)
//   Slice(Concat(A, B, C, axis), s, e, axis) -> B when [s, e) is exactly B's
//   extent along the axis, or -> Slice(B, s - off, e - off, axis) when it lies
//   inside B (off: B's offset). Unit step, the slice touches only the Concat
//   axis, and every input's extent along it is static. Exporters concatenate
//   per-level results and slice them apart again (detection heads).
// fuse-not-into-where (exact)
//   Where(Not(c), x, y) -> Where(c, y, x): the same element is picked, and
//   the broadcast shape does not depend on the operand order.
// fuse-consecutive-log-softmax (numeric)
//   Log(Softmax(X, axis)) -> LogSoftmax(X, axis). LogSoftmax computes
//   x - max - log(sum(exp(x - max))), which rounds differently from the log of
//   the rounded softmax (and does not underflow to -inf): within float
//   rounding, not bit for bit.
// eliminate-nop-monotone-argmax (exact by default)
//   ArgMax/ArgMin(f(X)) -> ArgMax/ArgMin(X) for f strictly increasing and
//   injective on the values: a lossless widening Cast. With allow-ties=true
//   also Exp, Log, Sigmoid, Tanh, Softmax and LogSoftmax on the same axis,
//   which are increasing but can round or saturate two different inputs to
//   the same output (a tie picks the first index; X may not tie there).
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createEliminateConsecutiveIdempotentOpsPass();
std::unique_ptr<Pass> createFuseConsecutiveReduceUnsqueezePass();
std::unique_ptr<Pass> createFuseConsecutiveConcatsPass();
std::unique_ptr<Pass> createFuseConsecutiveSlicesPass();
std::unique_ptr<Pass> createEliminateSliceOfConcatPass();
std::unique_ptr<Pass> createFuseNotIntoWherePass();
std::unique_ptr<Pass> createFuseConsecutiveLogSoftmaxPass();
std::unique_ptr<Pass> createEliminateNopMonotoneArgmaxPass();

} // namespace onnxopt
