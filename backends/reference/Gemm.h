// Internal to backends/reference: the register-blocked GEMM the MatMul,
// Gemm, Conv and Attention kernels share.
#pragma once

#include <algorithm>
#include <cstdint>

namespace onnxopt::ref {

/// C[M,N] += A[M,K] * B[K,N], all row-major and contiguous. Blocked over N
/// and K so a panel of B stays in cache, four rows of A at a time so each
/// load of B feeds four outputs; the inner loop is a contiguous axpy that
/// vectorizes. Each output still sums over k in ascending order.
template <class C>
void gemmAcc(int64_t M, int64_t N, int64_t K, const C *A, const C *B, C *out) {
  constexpr int64_t kKBlock = 256, kNBlock = 512;
  for (int64_t j0 = 0; j0 < N; j0 += kNBlock) {
    int64_t jn = std::min(N, j0 + kNBlock) - j0;
    for (int64_t k0 = 0; k0 < K; k0 += kKBlock) {
      int64_t k1 = std::min(K, k0 + kKBlock);
      int64_t i = 0;
      for (; i + 4 <= M; i += 4) {
        C *__restrict__ o0 = out + i * N + j0;
        C *__restrict__ o1 = o0 + N;
        C *__restrict__ o2 = o1 + N;
        C *__restrict__ o3 = o2 + N;
        const C *a = A + i * K;
        for (int64_t k = k0; k < k1; ++k) {
          C x0 = a[k], x1 = a[K + k], x2 = a[2 * K + k], x3 = a[3 * K + k];
          const C *__restrict__ b = B + k * N + j0;
          for (int64_t j = 0; j < jn; ++j) {
            C bv = b[j];
            o0[j] += x0 * bv;
            o1[j] += x1 * bv;
            o2[j] += x2 * bv;
            o3[j] += x3 * bv;
          }
        }
      }
      for (; i < M; ++i) {
        C *__restrict__ o = out + i * N + j0;
        const C *a = A + i * K;
        for (int64_t k = k0; k < k1; ++k) {
          C x = a[k];
          const C *__restrict__ b = B + k * N + j0;
          for (int64_t j = 0; j < jn; ++j)
            o[j] += x * b[j];
        }
      }
    }
  }
}

} // namespace onnxopt::ref
