// Element types at the IR level: the 16-bit floats, the type arithmetic on
// an element is done in, typed read-only views of a tensor's bytes, tensors
// being built, element-type dispatch, and reading a tensor's values. Shared
// by the reference interpreter and the passes that compute new constants.
#pragma once

#include "ir/Tensor.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace onnxopt {

using TensorPtr = std::shared_ptr<const Tensor>;

/// IEEE half precision, stored as bits; arithmetic goes through float.
struct Float16 {
  uint16_t bits = 0;
  Float16() = default;
  Float16(float f) : bits(fromFloat(f)) {}
  operator float() const { return toFloat(bits); }
  static uint16_t fromFloat(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
    int exp = int((x >> 23) & 0xff);
    if (exp == 0xff)
      return uint16_t(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0));
    int e = exp - 127 + 15;
    if (e >= 0x1f)
      return uint16_t(sign | 0x7c00u);
    if (e <= 0) { // subnormal or zero: round to nearest even
      if (e < -10)
        return uint16_t(sign);
      mant |= 0x800000u;
      int shift = 14 - e;
      uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1),
               mid = 1u << (shift - 1);
      if (rem > mid || (rem == mid && (h & 1)))
        ++h;
      return uint16_t(sign | h);
    }
    uint32_t h = (uint32_t(e) << 10) | (mant >> 13), rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
      ++h; // a carry into the exponent rounds up to the next binade or inf
    return uint16_t(sign | h);
  }
  static float toFloat(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16, mant = h & 0x3ffu;
    int exp = (h >> 10) & 0x1f;
    if (exp == 0) {
      float v = float(mant) * 5.9604644775390625e-8f; // mant * 2^-24, exact
      return sign ? -v : v;
    }
    uint32_t x = exp == 0x1f
                     ? sign | 0x7f800000u | (mant << 13)
                     : sign | (uint32_t(exp - 15 + 127) << 23) | (mant << 13);
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
};

/// bfloat16, stored as bits; arithmetic goes through float.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if (std::isnan(f))
      bits = uint16_t((x >> 16) | 0x40);
    else
      bits = uint16_t((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
  }
  operator float() const {
    uint32_t x = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
};

/// The type arithmetic on T is done in: float for the 16-bit floats.
template <class T> struct ComputeOf { using type = T; };
template <> struct ComputeOf<Float16> { using type = float; };
template <> struct ComputeOf<BFloat16> { using type = float; };
template <class T> using Compute = typename ComputeOf<T>::type;

template <class T>
constexpr bool kIsFloat =
    std::is_floating_point_v<T> || std::is_same_v<T, Float16> ||
    std::is_same_v<T, BFloat16>;

/// True for float, double, float16 and bfloat16.
inline bool isFloatType(DataType t) {
  return t == DataType::Float || t == DataType::Double ||
         t == DataType::Float16 || t == DataType::BFloat16;
}

/// A typed read-only view of a tensor's bytes. Mapped weights may sit at any
/// offset in the file, so a misaligned payload is copied once.
template <class T> class View {
public:
  explicit View(const Tensor &t) {
    std::string_view b = t.bytes();
    n_ = int64_t(b.size() / sizeof(T));
    if (reinterpret_cast<uintptr_t>(b.data()) % alignof(T)) {
      copy_.resize(size_t(n_));
      std::memcpy(static_cast<void *>(copy_.data()), b.data(), b.size());
      p_ = copy_.data();
    } else {
      p_ = reinterpret_cast<const T *>(b.data());
    }
  }
  const T *data() const { return p_; }
  int64_t size() const { return n_; }
  const T &operator[](int64_t i) const { return p_[i]; }

private:
  const T *p_ = nullptr;
  int64_t n_ = 0;
  std::vector<T> copy_;
};

/// A tensor being built by a kernel: zero-filled bytes (newZeroedBuffer: large
/// ones in anonymous mapped memory), then finish().
class NewTensor {
public:
  NewTensor(DataType dtype, std::vector<int64_t> dims)
      : dtype_(dtype), dims_(std::move(dims)) {
    int64_t n = 1;
    for (int64_t d : dims_)
      n *= d;
    n_ = n;
    if (dtype_ == DataType::String) {
      strings_.resize(size_t(n));
      return;
    }
    buffer_ = newZeroedBuffer(size_t(n) * elementSize(dtype_));
  }
  template <class T> T *data() {
    return reinterpret_cast<T *>(buffer_->mutableData());
  }
  std::vector<std::string> &strings() { return strings_; }
  int64_t size() const { return n_; }
  const std::vector<int64_t> &dims() const { return dims_; }
  TensorPtr finish() {
    if (dtype_ == DataType::String)
      return std::make_shared<Tensor>(
          Tensor::fromStrings(dims_, std::move(strings_)));
    size_t size = buffer_->size();
    return std::make_shared<Tensor>(dtype_, dims_, std::move(buffer_), 0, size);
  }

private:
  DataType dtype_ = DataType::Undefined;
  std::vector<int64_t> dims_;
  int64_t n_ = 0;
  std::vector<std::string> strings_;
  std::shared_ptr<MutableBuffer> buffer_; // numeric elements
};

// Type dispatch: REF_DISPATCH(dtype, TYPES, body) runs body with T bound to the
// C++ type of dtype for the listed element types.
#define REF_CASE(DT, TYPE, ...)                                                \
  case ::onnxopt::DataType::DT: {                                              \
    using T = TYPE;                                                            \
    __VA_ARGS__;                                                               \
  } break;
#define REF_FLOATS(...)                                                        \
  REF_CASE(Float, float, __VA_ARGS__)                                          \
  REF_CASE(Double, double, __VA_ARGS__)                                        \
  REF_CASE(Float16, ::onnxopt::Float16, __VA_ARGS__)                           \
  REF_CASE(BFloat16, ::onnxopt::BFloat16, __VA_ARGS__)
#define REF_SIGNED_INTS(...)                                                   \
  REF_CASE(Int8, int8_t, __VA_ARGS__)                                          \
  REF_CASE(Int16, int16_t, __VA_ARGS__)                                        \
  REF_CASE(Int32, int32_t, __VA_ARGS__)                                        \
  REF_CASE(Int64, int64_t, __VA_ARGS__)
#define REF_UNSIGNED_INTS(...)                                                 \
  REF_CASE(UInt8, uint8_t, __VA_ARGS__)                                        \
  REF_CASE(UInt16, uint16_t, __VA_ARGS__)                                      \
  REF_CASE(UInt32, uint32_t, __VA_ARGS__)                                      \
  REF_CASE(UInt64, uint64_t, __VA_ARGS__)
#define REF_INTS(...)                                                          \
  REF_SIGNED_INTS(__VA_ARGS__) REF_UNSIGNED_INTS(__VA_ARGS__)
#define REF_NUMERIC(...) REF_FLOATS(__VA_ARGS__) REF_INTS(__VA_ARGS__)
#define REF_BOOL(...) REF_CASE(Bool, uint8_t, __VA_ARGS__)
// Every fixed-size type, for ops that only move elements (bool as uint8_t).
#define REF_ALL_POD(...) REF_NUMERIC(__VA_ARGS__) REF_BOOL(__VA_ARGS__)

/// Reads an integer tensor (int32 or int64) as int64 values.
std::vector<int64_t> toInt64s(const Tensor &t);
/// Reads any numeric tensor as doubles.
std::vector<double> toDoubles(const Tensor &t);
/// An int64 tensor of `dims` holding `values`.
TensorPtr makeInt64s(const std::vector<int64_t> &values,
                     std::vector<int64_t> dims);

} // namespace onnxopt
