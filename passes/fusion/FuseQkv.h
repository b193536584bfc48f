// fuse-qkv: MatMuls of one input by different constant weights (the query,
// key and value projections of attention) become one MatMul by the weights
// side by side, then a Split.
//
// Before:
//   q = MatMul (X, Wq);  qb = Add (q, bq)      # Wq: [K, Nq], bq: [Nq]
//   k = MatMul (X, Wk);  kb = Add (k, bk)
//   v = MatMul (X, Wv);  vb = Add (v, bv)
// After:
//   y = MatMul (X, [Wq | Wk | Wv]);  yb = Add (y, [bq | bk | bv])
//   qb, kb, vb = Split <axis = -1> (yb, [Nq, Nk, Nv])
//
// Preconditions: at least two MatMuls read the same X with 2-D constant
// weights of one float type and the same K; biases are merged only when
// every projection adds a 1-D constant bias of its width as its only user
// (otherwise the Adds stay after the Split). The new nodes go before the
// first projection, which every user of the projections follows.
//
// Numeric: each output element is the same dot product, but a wider GEMM
// may block and sum it in another order (within float rounding).
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseQkvPass();

} // namespace onnxopt
