// Reference kernels: unary math and activations, broadcasting binary ops,
// comparisons, logic, Where, Clip, Cast.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace onnxopt::ref {

namespace {

// ------------------------------------------------------------------ unary

/// y = f(x), computed in Compute<T>, over the float types or (kAnyNumeric)
/// every numeric type.
template <bool kAnyNumeric, class F>
absl::Status unary(KernelContext &ctx, F f) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), x->dims()));
  switch (x->dtype()) {
    REF_NUMERIC({
      if constexpr (kAnyNumeric || kIsFloat<T>) {
        View<T> in(*x);
        T *o = out.data<T>();
        for (int64_t i = 0; i < in.size(); ++i)
          o[i] = T(f(Compute<T>(in[i])));
      } else {
        return ctx.unsupportedType(x->dtype());
      }
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}
template <class F> absl::Status unaryFloat(KernelContext &ctx, F f) {
  return unary<false>(ctx, f);
}
template <class F> absl::Status unaryNumeric(KernelContext &ctx, F f) {
  return unary<true>(ctx, f);
}

#define UNARY_FLOAT(NAME, EXPR)                                                \
  absl::Status k##NAME(KernelContext &ctx) {                                   \
    return unaryFloat(ctx, [&](auto x) {                                       \
      using C = decltype(x);                                                   \
      (void)sizeof(C);                                                         \
      return EXPR;                                                             \
    });                                                                        \
  }

UNARY_FLOAT(Exp, std::exp(x))
UNARY_FLOAT(Log, std::log(x))
UNARY_FLOAT(Sqrt, std::sqrt(x))
UNARY_FLOAT(Reciprocal, C(1) / x)
UNARY_FLOAT(Sin, std::sin(x))
UNARY_FLOAT(Cos, std::cos(x))
UNARY_FLOAT(Tan, std::tan(x))
UNARY_FLOAT(Asin, std::asin(x))
UNARY_FLOAT(Acos, std::acos(x))
UNARY_FLOAT(Atan, std::atan(x))
UNARY_FLOAT(Sinh, std::sinh(x))
UNARY_FLOAT(Cosh, std::cosh(x))
UNARY_FLOAT(Asinh, std::asinh(x))
UNARY_FLOAT(Acosh, std::acosh(x))
UNARY_FLOAT(Atanh, std::atanh(x))
UNARY_FLOAT(Ceil, std::ceil(x))
UNARY_FLOAT(Floor, std::floor(x))
UNARY_FLOAT(Round, std::nearbyint(x)) // halves to even, as the spec says
UNARY_FLOAT(Erf, std::erf(x))
UNARY_FLOAT(Tanh, std::tanh(x))
UNARY_FLOAT(Sigmoid, x >= C(0) ? C(1) / (C(1) + std::exp(-x))
                               : std::exp(x) / (C(1) + std::exp(x)))
UNARY_FLOAT(Softplus,
            x > C(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)))
UNARY_FLOAT(Softsign, x / (C(1) + std::abs(x)))
UNARY_FLOAT(HardSwish, x *std::max(C(0), std::min(C(1), x / C(6) + C(0.5))))
UNARY_FLOAT(Elu, x >= C(0)
                     ? x
                     : C(ctx.attrFloat("alpha", 1.0f)) * (std::exp(x) - C(1)))
UNARY_FLOAT(Celu,
            std::max(C(0), x) +
                std::min(C(0),
                         C(ctx.attrFloat("alpha", 1.0f)) *
                             (std::exp(x / C(ctx.attrFloat("alpha", 1.0f))) -
                              C(1))))
UNARY_FLOAT(Selu, C(ctx.attrFloat("gamma", 1.05070102214813232421875f)) *
                      (x > C(0) ? x
                                : C(ctx.attrFloat("alpha",
                                                  1.67326319217681884765625f)) *
                                      (std::exp(x) - C(1))))
UNARY_FLOAT(HardSigmoid,
            std::max(C(0), std::min(C(1), C(ctx.attrFloat("alpha", 0.2f)) * x +
                                              C(ctx.attrFloat("beta", 0.5f)))))
UNARY_FLOAT(ThresholdedRelu, x > C(ctx.attrFloat("alpha", 1.0f)) ? x : C(0))
UNARY_FLOAT(Mish, x *std::tanh(x > C(0) ? x + std::log1p(std::exp(-x))
                                        : std::log1p(std::exp(x))))

/// Gelu (20): 0.5 x (1 + erf(x / sqrt 2)), or with approximate = 'tanh'
/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
absl::Status kGelu(KernelContext &ctx) {
  std::string approx = ctx.attrString("approximate", "none");
  if (approx == "tanh")
    return unaryFloat(ctx, [](auto x) {
      using C = decltype(x);
      return C(0.5) * x *
             (C(1) +
              std::tanh(C(0.7978845608028654) * (x + C(0.044715) * x * x * x)));
    });
  if (approx != "none")
    return ctx.error("approximate must be 'none' or 'tanh'");
  return unaryFloat(ctx, [](auto x) {
    using C = decltype(x);
    return C(0.5) * x * (C(1) + std::erf(x * C(0.7071067811865476)));
  });
}
UNARY_FLOAT(LeakyRelu, x >= C(0) ? x : C(ctx.attrFloat("alpha", 0.01f)) * x)

absl::Status kAbs(KernelContext &ctx) {
  return unaryNumeric(ctx, [](auto x) {
    if constexpr (std::is_unsigned_v<decltype(x)>)
      return x;
    else
      return x < decltype(x)(0) ? decltype(x)(-x) : x;
  });
}
absl::Status kNeg(KernelContext &ctx) {
  return unaryNumeric(ctx, [](auto x) { return decltype(x)(-x); });
}
absl::Status kSign(KernelContext &ctx) {
  return unaryNumeric(ctx, [](auto x) {
    using C = decltype(x);
    return x > C(0) ? C(1) : x < C(0) ? C(-1) : C(0);
  });
}
absl::Status kRelu(KernelContext &ctx) {
  return unaryNumeric(ctx, [](auto x) {
    using C = decltype(x);
    return x > C(0) ? x : C(0);
  });
}
absl::Status kShrink(KernelContext &ctx) {
  double bias = ctx.attrFloat("bias", 0.0f),
         lambd = ctx.attrFloat("lambd", 0.5f);
  return unaryNumeric(ctx, [&](auto x) {
    using C = decltype(x);
    double v = double(x);
    return v < -lambd ? C(v + bias) : v > lambd ? C(v - bias) : C(0);
  });
}

/// y = pred(x) as bool.
template <class F> absl::Status predicate(KernelContext &ctx, F f) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Bool, x->dims()));
  switch (x->dtype()) {
    REF_FLOATS({
      View<T> in(*x);
      uint8_t *o = out.data<uint8_t>();
      for (int64_t i = 0; i < in.size(); ++i)
        o[i] = f(Compute<T>(in[i])) ? 1 : 0;
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}
absl::Status kIsNaN(KernelContext &ctx) {
  return predicate(ctx, [](auto x) { return std::isnan(x); });
}
absl::Status kIsInf(KernelContext &ctx) {
  bool neg = ctx.attrInt("detect_negative", 1),
       pos = ctx.attrInt("detect_positive", 1);
  return predicate(ctx, [&](auto x) {
    return std::isinf(x) && ((x > 0 && pos) || (x < 0 && neg));
  });
}
absl::Status kNot(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  if (x->dtype() != DataType::Bool)
    return ctx.unsupportedType(x->dtype());
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Bool, x->dims()));
  View<uint8_t> in(*x);
  for (int64_t i = 0; i < in.size(); ++i)
    out.data<uint8_t>()[i] = in[i] ? 0 : 1;
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

// ------------------------------------------------------------------ binary

/// The numpy broadcast of two shapes, or nullopt.
std::optional<std::vector<int64_t>>
broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b) {
  size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>>
broadcastOrError(KernelContext &ctx, const Tensor &a, const Tensor &b) {
  auto s = broadcastShapes(a.dims(), b.dims());
  if (!s)
    return ctx.error("input shapes do not broadcast");
  return *s;
}

/// out[i] = f(a, b) with broadcasting; A and B are the element types, R the
/// result's.
template <class A, class B, class R, class F>
absl::Status binaryLoop(KernelContext &ctx, const Tensor &a, const Tensor &b,
                        DataType outType, F f) {
  ONNXOPT_ASSIGN_OR_RETURN(auto dims, broadcastOrError(ctx, a, b));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(outType, dims));
  View<A> va(a);
  View<B> vb(b);
  R *o = out.data<R>();
  if (a.dims() == b.dims()) {
    for (int64_t i = 0; i < out.size(); ++i)
      o[i] = R(f(va[i], vb[i]));
  } else if (vb.size() == 1) {
    for (int64_t i = 0; i < out.size(); ++i)
      o[i] = R(f(va[i], vb[0]));
  } else {
    std::array<std::vector<int64_t>, 2> st{broadcastStrides(a.dims(), dims),
                                           broadcastStrides(b.dims(), dims)};
    forEachBroadcast<2>(dims, st,
                        [&](int64_t i, const std::array<int64_t, 2> &off) {
                          o[i] = R(f(va[off[0]], vb[off[1]]));
                        });
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

template <class F>
absl::Status arith(KernelContext &ctx, const Tensor &a, const Tensor &b, F f) {
  if (a.dtype() != b.dtype())
    return ctx.error("input element types differ");
  switch (a.dtype()) {
    REF_NUMERIC(return binaryLoop<T, T, T>(ctx, a, b, a.dtype(), [&](T x, T y) {
      return f(Compute<T>(x), Compute<T>(y));
    }))
  default:
    return ctx.unsupportedType(a.dtype());
  }
  return absl::OkStatus();
}

template <class F> absl::Status arithKernel(KernelContext &ctx, F f) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *a, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *b, ctx.required(1));
  return arith(ctx, *a, *b, f);
}

// Signed overflow wraps (two's complement) rather than being undefined.
template <class C> C wrapAdd(C x, C y) {
  if constexpr (std::is_integral_v<C>)
    return C(std::make_unsigned_t<C>(x) + std::make_unsigned_t<C>(y));
  else
    return x + y;
}
template <class C> C wrapSub(C x, C y) {
  if constexpr (std::is_integral_v<C>)
    return C(std::make_unsigned_t<C>(x) - std::make_unsigned_t<C>(y));
  else
    return x - y;
}
template <class C> C wrapMul(C x, C y) {
  if constexpr (std::is_integral_v<C>)
    return C(std::make_unsigned_t<C>(x) * std::make_unsigned_t<C>(y));
  else
    return x * y;
}

absl::Status kAdd(KernelContext &ctx) {
  return arithKernel(ctx, [](auto x, auto y) { return wrapAdd(x, y); });
}
absl::Status kSub(KernelContext &ctx) {
  return arithKernel(ctx, [](auto x, auto y) { return wrapSub(x, y); });
}
absl::Status kMul(KernelContext &ctx) {
  return arithKernel(ctx, [](auto x, auto y) { return wrapMul(x, y); });
}
absl::Status kDiv(KernelContext &ctx) {
  bool divByZero = false;
  absl::Status st = arithKernel(ctx, [&](auto x, auto y) {
    using C = decltype(x);
    if constexpr (std::is_integral_v<C>) {
      if (y == 0 || (std::is_signed_v<C> && y == C(-1) &&
                     x == std::numeric_limits<C>::min())) {
        divByZero = true;
        return C(0);
      }
    }
    return C(x / y);
  });
  if (st.ok() && divByZero)
    return ctx.error("integer division by zero or overflow");
  return st;
}
absl::Status kMod(KernelContext &ctx) {
  bool fmod = ctx.attrInt("fmod", 0);
  bool divByZero = false;
  absl::Status st = arithKernel(ctx, [&](auto x, auto y) {
    using C = decltype(x);
    if constexpr (std::is_integral_v<C>) {
      if (y == 0) {
        divByZero = true;
        return C(0);
      }
      if (std::is_signed_v<C> && y == C(-1))
        return C(0);
      C r = C(x % y);
      // Without fmod the result takes the divisor's sign (Python's %).
      if (!fmod && r != 0 && ((r < 0) != (y < 0)))
        r = C(r + y);
      return r;
    } else {
      C r = std::fmod(x, y);
      if (!fmod && r != C(0) && ((r < C(0)) != (y < C(0))))
        r += y;
      return r;
    }
  });
  if (st.ok() && divByZero)
    return ctx.error("integer modulo by zero");
  return st;
}

absl::Status kPow(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *a, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *b, ctx.required(1));
  // The exponent may have another type: read it as double when it differs.
  if (a->dtype() == b->dtype())
    return arithKernel(ctx, [](auto x, auto y) {
      using C = decltype(x);
      if constexpr (std::is_integral_v<C>)
        return C(std::pow(double(x), double(y)));
      else
        return C(std::pow(x, y));
    });
  std::vector<double> e = toDoubles(*b);
  auto exps = std::make_shared<Tensor>(Tensor::fromBytes(
      DataType::Double, b->dims(),
      std::string(reinterpret_cast<const char *>(e.data()), e.size() * 8)));
  switch (a->dtype()) {
    REF_NUMERIC(return binaryLoop<T, double, T>(
        ctx, *a, *exps, a->dtype(), [](T x, double y) {
          using C = Compute<T>;
          if constexpr (std::is_integral_v<C>)
            return C(std::pow(double(x), y));
          else
            return C(std::pow(C(x), C(y)));
        }))
  default:
    return ctx.unsupportedType(a->dtype());
  }
  return absl::OkStatus();
}

absl::Status kPRelu(KernelContext &ctx) {
  return arithKernel(ctx, [](auto x, auto s) {
    using C = decltype(x);
    return x < C(0) ? C(s * x) : x;
  });
}

/// Max/Min/Sum/Mean over any number of broadcasting inputs.
template <class F>
absl::Status variadic(KernelContext &ctx, F f, bool mean = false) {
  if (ctx.numInputs() == 0)
    return ctx.error("needs at least one input");
  ONNXOPT_RETURN_IF_ERROR(ctx.required(0).status());
  TensorPtr acc = ctx.inputPtr(0);
  for (size_t i = 1; i < ctx.numInputs(); ++i) {
    ONNXOPT_ASSIGN_OR_RETURN(const Tensor *b, ctx.required(i));
    ONNXOPT_RETURN_IF_ERROR(arith(ctx, *acc, *b, f));
    acc = ctx.outputs()[0].tensor;
  }
  if (mean) {
    double n = double(ctx.numInputs());
    ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                             ctx.allocate(acc->dtype(), acc->dims()));
    switch (acc->dtype()) {
      REF_NUMERIC({
        View<T> v(*acc);
        for (int64_t i = 0; i < v.size(); ++i)
          out.data<T>()[i] = T(Compute<T>(v[i]) / Compute<T>(n));
      })
    default:
      return ctx.unsupportedType(acc->dtype());
    }
    acc = out.finish();
  }
  ctx.setOutput(0, acc);
  return absl::OkStatus();
}

template <class C> C nanMax(C x, C y) {
  if constexpr (!std::is_integral_v<C>)
    if (std::isnan(x) || std::isnan(y))
      return std::numeric_limits<C>::quiet_NaN();
  return x < y ? y : x;
}
template <class C> C nanMin(C x, C y) {
  if constexpr (!std::is_integral_v<C>)
    if (std::isnan(x) || std::isnan(y))
      return std::numeric_limits<C>::quiet_NaN();
  return y < x ? y : x;
}

absl::Status kMax(KernelContext &ctx) {
  return variadic(ctx, [](auto x, auto y) { return nanMax(x, y); });
}
absl::Status kMin(KernelContext &ctx) {
  return variadic(ctx, [](auto x, auto y) { return nanMin(x, y); });
}
absl::Status kSum(KernelContext &ctx) {
  return variadic(ctx, [](auto x, auto y) { return wrapAdd(x, y); });
}
absl::Status kMean(KernelContext &ctx) {
  return variadic(
      ctx, [](auto x, auto y) { return x + y; }, true);
}

/// Comparisons: bool output, any numeric or bool input.
template <class F> absl::Status compare(KernelContext &ctx, F f) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *a, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *b, ctx.required(1));
  if (a->dtype() != b->dtype())
    return ctx.error("input element types differ");
  if (a->dtype() == DataType::String) {
    ONNXOPT_ASSIGN_OR_RETURN(auto dims, broadcastOrError(ctx, *a, *b));
    ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(DataType::Bool, dims));
    std::array<std::vector<int64_t>, 2> st{broadcastStrides(a->dims(), dims),
                                           broadcastStrides(b->dims(), dims)};
    forEachBroadcast<2>(
        dims, st, [&](int64_t i, const std::array<int64_t, 2> &o) {
          out.data<uint8_t>()[i] = f(a->strings()[o[0]], b->strings()[o[1]]);
        });
    ctx.setOutput(0, out.finish());
    return absl::OkStatus();
  }
  switch (a->dtype()) {
    REF_NUMERIC(return binaryLoop<T, T, uint8_t>(
        ctx, *a, *b, DataType::Bool,
        [&](T x, T y) { return f(Compute<T>(x), Compute<T>(y)) ? 1 : 0; }))
    REF_BOOL(return binaryLoop<T, T, uint8_t>(
        ctx, *a, *b, DataType::Bool,
        [&](T x, T y) { return f(x != 0, y != 0) ? 1 : 0; }))
  default:
    return ctx.unsupportedType(a->dtype());
  }
  return absl::OkStatus();
}

absl::Status kEqual(KernelContext &ctx) {
  return compare(ctx, [](const auto &x, const auto &y) { return x == y; });
}
absl::Status kLess(KernelContext &ctx) {
  return compare(ctx, [](const auto &x, const auto &y) { return x < y; });
}
absl::Status kGreater(KernelContext &ctx) {
  return compare(ctx, [](const auto &x, const auto &y) { return x > y; });
}
absl::Status kLessOrEqual(KernelContext &ctx) {
  return compare(ctx, [](const auto &x, const auto &y) { return x <= y; });
}
absl::Status kGreaterOrEqual(KernelContext &ctx) {
  return compare(ctx, [](const auto &x, const auto &y) { return x >= y; });
}

template <class F> absl::Status logical(KernelContext &ctx, F f) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *a, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *b, ctx.required(1));
  if (a->dtype() != DataType::Bool || b->dtype() != DataType::Bool)
    return ctx.unsupportedType(a->dtype());
  return binaryLoop<uint8_t, uint8_t, uint8_t>(
      ctx, *a, *b, DataType::Bool,
      [&](uint8_t x, uint8_t y) { return f(x != 0, y != 0) ? 1 : 0; });
}
absl::Status kAnd(KernelContext &ctx) {
  return logical(ctx, [](bool x, bool y) { return x && y; });
}
absl::Status kOr(KernelContext &ctx) {
  return logical(ctx, [](bool x, bool y) { return x || y; });
}
absl::Status kXor(KernelContext &ctx) {
  return logical(ctx, [](bool x, bool y) { return x != y; });
}

absl::Status kBitShift(KernelContext &ctx) {
  bool left = ctx.attrString("direction") == "LEFT";
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *a, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *b, ctx.required(1));
  switch (a->dtype()) {
    REF_UNSIGNED_INTS(
        return binaryLoop<T, T, T>(ctx, *a, *b, a->dtype(), [&](T x, T y) {
          if (y >= T(sizeof(T) * 8))
            return T(0);
          return left ? T(x << y) : T(x >> y);
        }))
  default:
    return ctx.unsupportedType(a->dtype());
  }
  return absl::OkStatus();
}

absl::Status kWhere(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *c, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(1));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *y, ctx.required(2));
  auto d1 = broadcastShapes(c->dims(), x->dims());
  auto dims = d1 ? broadcastShapes(*d1, y->dims()) : std::nullopt;
  if (!dims)
    return ctx.error("input shapes do not broadcast");
  if (x->dtype() != y->dtype())
    return ctx.error("X and Y element types differ");
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), *dims));
  std::array<std::vector<int64_t>, 3> st{broadcastStrides(c->dims(), *dims),
                                         broadcastStrides(x->dims(), *dims),
                                         broadcastStrides(y->dims(), *dims)};
  View<uint8_t> vc(*c);
  if (x->dtype() == DataType::String) {
    forEachBroadcast<3>(
        *dims, st, [&](int64_t i, const std::array<int64_t, 3> &o) {
          out.strings()[i] = vc[o[0]] ? x->strings()[o[1]] : y->strings()[o[2]];
        });
  } else {
    switch (x->dtype()) {
      REF_ALL_POD({
        View<T> vx(*x), vy(*y);
        T *p = out.data<T>();
        forEachBroadcast<3>(*dims, st,
                            [&](int64_t i, const std::array<int64_t, 3> &o) {
                              p[i] = vc[o[0]] ? vx[o[1]] : vy[o[2]];
                            });
      })
    default:
      return ctx.unsupportedType(x->dtype());
    }
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kClip(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), x->dims()));
  switch (x->dtype()) {
    REF_NUMERIC({
      using C = Compute<T>;
      C lo = std::numeric_limits<C>::lowest(),
        hi = std::numeric_limits<C>::max();
      if (ctx.sinceVersion() < 11) {
        lo = C(ctx.attrFloat("min", float(std::max<double>(
                                        double(lo), -3.4028234663852886e38))));
        hi = C(ctx.attrFloat(
            "max", float(std::min<double>(double(hi), 3.4028234663852886e38))));
      } else {
        if (const Tensor *m = ctx.input(1); m && m->numElements() == 1)
          lo = C(View<T>(*m)[0]);
        if (const Tensor *m = ctx.input(2); m && m->numElements() == 1)
          hi = C(View<T>(*m)[0]);
      }
      View<T> in(*x);
      for (int64_t i = 0; i < in.size(); ++i) {
        C v = C(in[i]);
        // NaN passes through, as with std::min/max in this order.
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
        out.data<T>()[i] = T(v);
      }
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

// ------------------------------------------------------------------ cast

template <class From, class To> To convert(From x) {
  if constexpr (std::is_same_v<To, uint8_t> && std::is_same_v<From, bool>)
    return x ? 1 : 0;
  else
    return To(Compute<To>(Compute<From>(x)));
}

absl::Status castTo(KernelContext &ctx, const Tensor &x, DataType to) {
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(to, x.dims()));
  if (x.dtype() == to) {
    if (to == DataType::String)
      out.strings() = x.strings();
    else
      std::memcpy(out.data<char>(), x.bytes().data(), x.bytes().size());
    ctx.setOutput(0, out.finish());
    return absl::OkStatus();
  }
  if (x.dtype() == DataType::String || to == DataType::String)
    return unsupported("node '", ctx.node().name,
                       "' (Cast): casts to or from string are not supported "
                       "by the reference interpreter");
  bool fromBool = x.dtype() == DataType::Bool;
  absl::Status st = absl::OkStatus();
  auto inner = [&](auto *tag) {
    using From = std::remove_pointer_t<decltype(tag)>;
    View<From> in(x);
    switch (to) {
      REF_NUMERIC({
        T *o = out.data<T>();
        for (int64_t i = 0; i < in.size(); ++i) {
          if (fromBool)
            o[i] = T(Compute<T>(in[i] != From(0) ? 1 : 0));
          else
            o[i] = T(Compute<T>(Compute<From>(in[i])));
        }
      })
    case DataType::Bool: {
      uint8_t *o = out.data<uint8_t>();
      for (int64_t i = 0; i < in.size(); ++i)
        o[i] = Compute<From>(in[i]) != Compute<From>(0) ? 1 : 0;
      break;
    }
    default:
      st = ctx.unsupportedType(to);
    }
  };
  switch (x.dtype()) {
    REF_NUMERIC(inner(static_cast<T *>(nullptr)))
    REF_BOOL(inner(static_cast<T *>(nullptr)))
  default:
    return ctx.unsupportedType(x.dtype());
  }
  ONNXOPT_RETURN_IF_ERROR(st);
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kCast(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t to = ctx.attrInt("to", 0);
  if (!isKnownDataType(int32_t(to)) || to == 0)
    return ctx.error("unknown 'to' type");
  return castTo(ctx, *x, DataType(to));
}
absl::Status kCastLike(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *like, ctx.required(1));
  return castTo(ctx, *x, like->dtype());
}

} // namespace

void registerElementwiseKernels(KernelMap &m) {
  m["Abs"] = kAbs;
  m["Acos"] = kAcos;
  m["Acosh"] = kAcosh;
  m["Add"] = kAdd;
  m["And"] = kAnd;
  m["Asin"] = kAsin;
  m["Asinh"] = kAsinh;
  m["Atan"] = kAtan;
  m["Atanh"] = kAtanh;
  m["BitShift"] = kBitShift;
  m["Cast"] = kCast;
  m["CastLike"] = kCastLike;
  m["Ceil"] = kCeil;
  m["Celu"] = kCelu;
  m["Clip"] = kClip;
  m["Cos"] = kCos;
  m["Cosh"] = kCosh;
  m["Div"] = kDiv;
  m["Elu"] = kElu;
  m["Equal"] = kEqual;
  m["Erf"] = kErf;
  m["Exp"] = kExp;
  m["Floor"] = kFloor;
  m["Greater"] = kGreater;
  m["GreaterOrEqual"] = kGreaterOrEqual;
  m["HardSigmoid"] = kHardSigmoid;
  m["HardSwish"] = kHardSwish;
  m["Mish"] = kMish;
  m["Gelu"] = kGelu;
  m["IsInf"] = kIsInf;
  m["IsNaN"] = kIsNaN;
  m["LeakyRelu"] = kLeakyRelu;
  m["Less"] = kLess;
  m["LessOrEqual"] = kLessOrEqual;
  m["Log"] = kLog;
  m["Max"] = kMax;
  m["Mean"] = kMean;
  m["Min"] = kMin;
  m["Mod"] = kMod;
  m["Mul"] = kMul;
  m["Neg"] = kNeg;
  m["Not"] = kNot;
  m["Or"] = kOr;
  m["PRelu"] = kPRelu;
  m["Pow"] = kPow;
  m["Reciprocal"] = kReciprocal;
  m["Relu"] = kRelu;
  m["Round"] = kRound;
  m["Selu"] = kSelu;
  m["Shrink"] = kShrink;
  m["Sigmoid"] = kSigmoid;
  m["Sign"] = kSign;
  m["Sin"] = kSin;
  m["Sinh"] = kSinh;
  m["Softplus"] = kSoftplus;
  m["Softsign"] = kSoftsign;
  m["Sqrt"] = kSqrt;
  m["Sub"] = kSub;
  m["Sum"] = kSum;
  m["Tan"] = kTan;
  m["Tanh"] = kTanh;
  m["ThresholdedRelu"] = kThresholdedRelu;
  m["Where"] = kWhere;
  m["Xor"] = kXor;
}

} // namespace onnxopt::ref
