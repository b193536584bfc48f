// fuse-transpose-into-gemm: a 2-D Transpose feeding Gemm's A or B becomes the
// transA/transB flag.
//
// Before:
//   t = Transpose <perm = [1, 0]> (B)
//   Y = Gemm <transB = 0> (A, t, C)
// After:
//   Y = Gemm <transB = 1> (A, B, C)
//
// Preconditions (TRAPS.md 11): decided by the Transpose's perm, which must
// be [1, 0] (or absent with a rank-2 operand), never by the op type alone;
// the Transpose result has no other user and is not a graph output.
// Numeric: a runtime may pick another kernel for the transposed layout.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseTransposeIntoGemmPass();

} // namespace onnxopt
