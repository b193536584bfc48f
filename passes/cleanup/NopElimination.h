// The eliminate-nop-* passes: ops whose result is provably their data input,
// removed. All exact (the result is the input, bit for bit); all forward the
// input to the node's users, except a graph output that cannot take another
// value's place (a graph input, a constant, another output) keeps its node.
//
// eliminate-nop-cast
//   Y = Cast <to = T> (X: T)          ->  X     (CastLike to X's own type too)
// eliminate-nop-transpose
//   Y = Transpose <perm = [0..r-1]> (X)  ->  X  (no perm: only rank <= 1)
// eliminate-nop-reshape
//   Y = Reshape (X, S)  ->  X   when S is constant and names X's own shape
//   entry by entry: a copy (0, allowzero 0), the same static size, or one -1
//   when every other dim of X is static and non-zero (a 0-sized dim would
//   make -1 ambiguous); or S = Shape(X).
// eliminate-nop-expand
//   Y = Expand (X, S)  ->  X   when S is constant, no longer than X's rank, and
//   each entry is 1 or X's static size there (broadcasting cannot enlarge X);
//   or S = Shape(X).
// eliminate-nop-slice
//   Y = Slice (X, starts, ends, axes, steps)  ->  X   when every sliced axis
//   has step 1, start 0 and an end at or past the dim (INT64_MAX, or >= a
//   static dim). Opsets 1-9 read the attributes.
// eliminate-nop-flatten
//   Y = Flatten <axis> (X: rank 2)  ->  X   when the result shape is X's:
//   axis 1, or axis 0 with a static leading 1, or axis 2 with a static
//   trailing 1.
// eliminate-nop-pad
//   Y = Pad (X, pads)  ->  X   when every pad is 0 (any mode).
// eliminate-nop-split
//   Y = Split (X)  ->  X   with a single output and no split sizes, or sizes
//   [d] with d X's static size on the axis.
// eliminate-nop-concat
//   Y = Concat (X)  ->  X; inputs statically empty along the axis are dropped
//   while another input remains (they add no elements).
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createEliminateNopCastPass();
std::unique_ptr<Pass> createEliminateNopTransposePass();
std::unique_ptr<Pass> createEliminateNopReshapePass();
std::unique_ptr<Pass> createEliminateNopExpandPass();
std::unique_ptr<Pass> createEliminateNopSlicePass();
std::unique_ptr<Pass> createEliminateNopFlattenPass();
std::unique_ptr<Pass> createEliminateNopPadPass();
std::unique_ptr<Pass> createEliminateNopSplitPass();
std::unique_ptr<Pass> createEliminateNopConcatPass();

} // namespace onnxopt
