// Overflow-checked arithmetic for sizes read from files.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace onnxopt {

/// a * b, or nullopt on int64 overflow or when either operand is negative.
inline std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

/// a + b, or nullopt on int64 overflow or when either operand is negative.
inline std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

/// Product of dims, or nullopt if any dim is negative or the product overflows.
inline std::optional<int64_t> checkedProduct(std::span<const int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    auto r = checkedMul(n, d);
    if (!r)
      return std::nullopt;
    n = *r;
  }
  return n;
}

} // namespace onnxopt
