// fuse-matmul-add-into-gemm: a 2-D MatMul followed by an Add of a bias
// becomes one Gemm.
//
// Before:
//   m = MatMul (A, B)               # A: [M, K], B: [K, N]
//   Y = Add (m, C)                  # C: [N], [1, N], [M, N], [1] or scalar
// After:
//   Y = Gemm (A, B, C)
//
// Preconditions (TRAPS.md 10): A and B are known to be 2-D (from their types
// or, for B, its constant), float types; the MatMul result has no other user
// and is not a graph output; C broadcasts unidirectionally to [M, N] (an
// [M, N] or [M, 1] C needs M known). Numeric: a runtime's Gemm may fuse the
// multiply and the add (FMA), so results can move by one rounding.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseMatMulAddIntoGemmPass();

} // namespace onnxopt
