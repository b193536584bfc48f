// Reference kernels: Reduce* and ArgMax/ArgMin.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include <array>
#include <cmath>
#include <limits>

namespace onnxopt::ref {

namespace {

enum class Red {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  LogSum,
  LogSumExp,
  SumSquare
};

struct ReducePlan {
  std::vector<bool> reduced;
  std::vector<int64_t> outDims;  // with keepdims applied
  std::vector<int64_t> keptDims; // reduced axes as 1
  bool identity = false;
};

absl::StatusOr<ReducePlan> planReduce(KernelContext &ctx, const Tensor &x,
                                      std::vector<int64_t> axes,
                                      bool noopWithEmpty) {
  int64_t r = int64_t(x.dims().size());
  ReducePlan p;
  p.reduced.assign(static_cast<size_t>(r), axes.empty());
  if (axes.empty() && noopWithEmpty) {
    p.identity = true;
    p.reduced.assign(static_cast<size_t>(r), false);
  }
  for (int64_t a : axes) {
    if (!normalizeAxis(a, r))
      return ctx.error("axis out of range");
    p.reduced[a] = true;
  }
  bool keep = ctx.attrInt("keepdims", 1);
  for (int64_t i = 0; i < r; ++i) {
    p.keptDims.push_back(p.reduced[i] ? 1 : x.dims()[i]);
    if (!p.reduced[i] || keep)
      p.outDims.push_back(p.reduced[i] ? 1 : x.dims()[i]);
  }
  return p;
}

template <class T>
absl::Status reduceTyped(KernelContext &ctx, const Tensor &x,
                         const ReducePlan &p, Red red) {
  using A =
      std::conditional_t<std::is_integral_v<Compute<T>>, Compute<T>, double>;
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x.dtype(), p.outDims));
  int64_t n = out.size();
  A init = 0;
  if (red == Red::Prod)
    init = 1;
  else if (red == Red::Max)
    init = std::numeric_limits<A>::has_infinity
               ? -std::numeric_limits<A>::infinity()
               : std::numeric_limits<A>::lowest();
  else if (red == Red::Min)
    init = std::numeric_limits<A>::has_infinity
               ? std::numeric_limits<A>::infinity()
               : std::numeric_limits<A>::max();
  std::vector<A> acc(static_cast<size_t>(n), init);
  std::vector<int64_t> outStrides = stridesOf(p.keptDims);
  std::array<std::vector<int64_t>, 1> st;
  for (size_t i = 0; i < p.reduced.size(); ++i)
    st[0].push_back(p.reduced[i] ? 0 : outStrides[i]);
  View<T> in(x);
  forEachBroadcast<1>(x.dims(), st,
                      [&](int64_t i, const std::array<int64_t, 1> &o) {
                        A v = A(Compute<T>(in[i]));
                        A &a = acc[o[0]];
                        switch (red) {
                        case Red::Sum:
                        case Red::Mean:
                        case Red::LogSum:
                          a += v;
                          break;
                        case Red::Max:
                          if constexpr (!std::is_integral_v<A>)
                            if (std::isnan(v) || std::isnan(a)) {
                              a = std::numeric_limits<A>::quiet_NaN();
                              break;
                            }
                          a = v > a ? v : a;
                          break;
                        case Red::Min:
                          if constexpr (!std::is_integral_v<A>)
                            if (std::isnan(v) || std::isnan(a)) {
                              a = std::numeric_limits<A>::quiet_NaN();
                              break;
                            }
                          a = v < a ? v : a;
                          break;
                        case Red::Prod:
                          a *= v;
                          break;
                        case Red::L1:
                          a += v < 0 ? A(-v) : v;
                          break;
                        case Red::L2:
                        case Red::SumSquare:
                          a += v * v;
                          break;
                        case Red::LogSumExp:
                          a += A(std::exp(double(v)));
                          break;
                        }
                      });
  int64_t count = n ? x.numElements() / n : 0;
  for (int64_t i = 0; i < n; ++i) {
    A a = acc[i];
    switch (red) {
    case Red::Mean:
      a = count ? A(a / A(count)) : a;
      break;
    case Red::L2:
      a = A(std::sqrt(double(a)));
      break;
    case Red::LogSum:
    case Red::LogSumExp:
      a = A(std::log(double(a)));
      break;
    default:
      break;
    }
    out.data<T>()[i] = T(Compute<T>(a));
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status reduce(KernelContext &ctx, Red red) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  std::vector<int64_t> axes = ctx.attrInts("axes");
  if (const Tensor *a = ctx.input(1))
    axes = toInt64s(*a);
  ONNXOPT_ASSIGN_OR_RETURN(
      ReducePlan p,
      planReduce(ctx, *x, axes, ctx.attrInt("noop_with_empty_axes", 0)));
  if (p.identity) {
    ctx.setOutput(0, ctx.inputPtr(0));
    return absl::OkStatus();
  }
  switch (x->dtype()) {
    REF_NUMERIC(return reduceTyped<T>(ctx, *x, p, red))
  default:
    return ctx.unsupportedType(x->dtype());
  }
  return absl::OkStatus();
}

#define REDUCE(NAME)                                                           \
  absl::Status kReduce##NAME(KernelContext &ctx) {                             \
    return reduce(ctx, Red::NAME);                                             \
  }
REDUCE(Sum)
REDUCE(Mean)
REDUCE(Max)
REDUCE(Min)
REDUCE(Prod)
REDUCE(L1)
REDUCE(L2)
REDUCE(LogSum)
REDUCE(LogSumExp)
REDUCE(SumSquare)
#undef REDUCE

absl::Status argReduce(KernelContext &ctx, bool isMax) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", 0);
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  bool keep = ctx.attrInt("keepdims", 1),
       last = ctx.attrInt("select_last_index", 0);
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < r; ++i)
    if (i != axis)
      dims.push_back(x->dims()[i]);
    else if (keep)
      dims.push_back(1);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(DataType::Int64, dims));
  int64_t outer = product(x->dims(), 0, size_t(axis)), len = x->dims()[axis],
          inner = product(x->dims(), size_t(axis) + 1);
  if (len == 0)
    return ctx.error("cannot take the arg of an empty axis");
  switch (x->dtype()) {
    REF_NUMERIC({
      View<T> in(*x);
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t c = 0; c < inner; ++c) {
          int64_t best = 0;
          Compute<T> bv = Compute<T>(in[a * len * inner + c]);
          for (int64_t j = 1; j < len; ++j) {
            Compute<T> v = Compute<T>(in[(a * len + j) * inner + c]);
            bool better = isMax ? (v > bv || (last && v == bv))
                                : (v < bv || (last && v == bv));
            if (better) {
              best = j;
              bv = v;
            }
          }
          out.data<int64_t>()[a * inner + c] = best;
        }
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}
absl::Status kArgMax(KernelContext &ctx) { return argReduce(ctx, true); }
absl::Status kArgMin(KernelContext &ctx) { return argReduce(ctx, false); }

} // namespace

void registerReduceKernels(KernelMap &m) {
  m["ArgMax"] = kArgMax;
  m["ArgMin"] = kArgMin;
  m["ReduceL1"] = kReduceL1;
  m["ReduceL2"] = kReduceL2;
  m["ReduceLogSum"] = kReduceLogSum;
  m["ReduceLogSumExp"] = kReduceLogSumExp;
  m["ReduceMax"] = kReduceMax;
  m["ReduceMean"] = kReduceMean;
  m["ReduceMin"] = kReduceMin;
  m["ReduceProd"] = kReduceProd;
  m["ReduceSum"] = kReduceSum;
  m["ReduceSumSquare"] = kReduceSumSquare;
}

} // namespace onnxopt::ref
