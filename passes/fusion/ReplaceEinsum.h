// replace-einsum-with-matmul: a two-operand Einsum that is a (batched)
// matrix product becomes MatMul, with a Transpose of the last two axes for
// an operand stored the other way round.
//
// Before:
//   Y = Einsum <equation = "bhid,bhjd->bhij"> (Q, K)
// After:
//   t = Transpose <perm = [0, 1, 3, 2]> (K)
//   Y = MatMul (Q, t)
//
// Preconditions: explicit output ("->"); batch labels (in both operands and
// the output) lead every term in the same order, optionally after a common
// "..." (numpy broadcasting, as MatMul's); exactly one contracted label k and
// one free label per operand (m in A, n in B); the output ends with m, n (or
// n, m: the operands swap); no repeated label in a term. Ranks must be known
// for the Transpose when "..." is used.
//
// Numeric: MatMul may sum the k products in another order than Einsum.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createReplaceEinsumWithMatmulPass();

} // namespace onnxopt
