// Broadcasting and strides for the reference kernels; the element types,
// views and type dispatch they use are IR-level (ir/ElementTypes.h).
#pragma once

#include "ir/ElementTypes.h"
#include "ir/Tensor.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace onnxopt::ref {

// The IR-level element types, under the names the kernels use.
using onnxopt::BFloat16;
using onnxopt::Compute;
using onnxopt::ComputeOf;
using onnxopt::Float16;
using onnxopt::isFloatType;
using onnxopt::kIsFloat;
using onnxopt::makeInt64s;
using onnxopt::NewTensor;
using onnxopt::TensorPtr;
using onnxopt::toDoubles;
using onnxopt::toInt64s;
using onnxopt::View;

/// Row-major strides of `dims`.
inline std::vector<int64_t> stridesOf(const std::vector<int64_t> &dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;)
    s[i - 1] = s[i] * dims[i];
  return s;
}

inline int64_t product(const std::vector<int64_t> &dims, size_t from = 0,
                       size_t to = SIZE_MAX) {
  int64_t p = 1;
  for (size_t i = from; i < dims.size() && i < to; ++i)
    p *= dims[i];
  return p;
}

/// Strides of `in` broadcast (numpy rules) to the rank-`rank` output: 0 along
/// broadcast dimensions.
inline std::vector<int64_t> broadcastStrides(const std::vector<int64_t> &in,
                                             const std::vector<int64_t> &out) {
  std::vector<int64_t> s(out.size(), 0);
  std::vector<int64_t> st = stridesOf(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    s[off + i] = in[i] == 1 ? 0 : st[i];
  return s;
}

/// Calls fn(outIndex, offsets) for every element of `out`, where offsets[k] is
/// the element of input k (given by its broadcast strides).
template <size_t K, class Fn>
void forEachBroadcast(const std::vector<int64_t> &out,
                      const std::array<std::vector<int64_t>, K> &strides,
                      Fn fn) {
  int64_t total = product(out);
  if (total == 0)
    return;
  size_t rank = out.size();
  std::vector<int64_t> idx(rank, 0);
  std::array<int64_t, K> off{};
  int64_t inner = rank ? out[rank - 1] : 1;
  std::array<int64_t, K> innerStride{};
  for (size_t k = 0; k < K; ++k)
    innerStride[k] = rank ? strides[k][rank - 1] : 0;
  for (int64_t o = 0; o < total; o += inner) {
    std::array<int64_t, K> cur = off;
    for (int64_t j = 0; j < inner; ++j) {
      fn(o + j, cur);
      for (size_t k = 0; k < K; ++k)
        cur[k] += innerStride[k];
    }
    // Advance the odometer over the outer dimensions.
    // (Rank 0 has no outer dimension: one pass of the inner loop.)
    for (size_t d = rank ? rank - 1 : 0; d-- > 0;) {
      ++idx[d];
      for (size_t k = 0; k < K; ++k)
        off[k] += strides[k][d];
      if (idx[d] < out[d])
        break;
      for (size_t k = 0; k < K; ++k)
        off[k] -= strides[k][d] * out[d];
      idx[d] = 0;
    }
  }
}

} // namespace onnxopt::ref
