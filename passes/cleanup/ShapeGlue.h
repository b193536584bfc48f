// Shape computations that exporters leave (Shape -> Gather/Slice -> Unsqueeze
// -> Concat -> Reshape), read syntactically. All exact. fold-shape-ops does
// the same through inference and symbols; these need no inference and keep
// working where a dim is unknown rather than symbolic.
//
// eliminate-shape-gather
//   Gather <axis = 0> (Shape(X), i)  ->  the constant dims when X's dims at i
//   are static; from opset 15, a dynamic 1-D run i..i+k of X's dims becomes
//   Shape <start = i, end = i+k> (X).
// eliminate-slice-after-shape
//   Slice (Shape(X), [s], [e], axes = [0], steps = [1])  ->  the constant
//   dims when static; from opset 15 otherwise Shape <start = s, end = e> (X)
//   (Shape and a unit-step Slice clamp the same way).
// fuse-concat-into-reshape
//   Reshape (X, Concat(parts))  ->  Reshape (X, constant)  when every part is
//   a constant or X's own dims: a dim at its own position becomes 0 ("copy",
//   allowzero 0 only; TRAPS.md 12), a static dim its value, and at most one
//   other becomes -1 when all the other entries are known non-zero (a
//   0-sized dim would make -1 ambiguous).
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createEliminateShapeGatherPass();
std::unique_ptr<Pass> createEliminateSliceAfterShapePass();
std::unique_ptr<Pass> createFuseConcatIntoReshapePass();

} // namespace onnxopt
