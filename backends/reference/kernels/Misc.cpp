// Reference kernels: quantization and the signal windows.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include <cmath>

namespace onnxopt::ref {

namespace {

/// Per-tensor or per-axis parameter index for element `i` of `x`.
int64_t paramIndex(const Tensor &x, int64_t paramCount, int64_t axis,
                   int64_t i) {
  if (paramCount == 1)
    return 0;
  int64_t inner = product(x.dims(), size_t(axis) + 1);
  return (i / inner) % x.dims()[axis];
}

absl::Status kQuantizeLinear(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *scale, ctx.required(1));
  const Tensor *zp = ctx.input(2);
  DataType outType = zp ? zp->dtype() : DataType::UInt8;
  int64_t axis = ctx.attrInt("axis", 1), r = int64_t(x->dims().size());
  if (scale->numElements() != 1 && !normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  std::vector<double> xs = toDoubles(*x), ss = toDoubles(*scale),
                      zs = zp ? toDoubles(*zp)
                              : std::vector<double>(ss.size(), 0);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(outType, x->dims()));
  for (int64_t i = 0; i < out.size(); ++i) {
    int64_t k = paramIndex(*x, int64_t(ss.size()), axis, i);
    // Single precision, as the spec's float scale; halves round to even.
    double v = std::nearbyint(double(float(xs[i]) / float(ss[k]))) + zs[k];
    if (outType == DataType::UInt8)
      out.data<uint8_t>()[i] = uint8_t(std::clamp(v, 0.0, 255.0));
    else if (outType == DataType::Int8)
      out.data<int8_t>()[i] = int8_t(std::clamp(v, -128.0, 127.0));
    else
      return ctx.unsupportedType(outType);
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kDequantizeLinear(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *scale, ctx.required(1));
  const Tensor *zp = ctx.input(2);
  int64_t axis = ctx.attrInt("axis", 1), r = int64_t(x->dims().size());
  if (scale->numElements() != 1 && !normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  std::vector<double> xs = toDoubles(*x), ss = toDoubles(*scale),
                      zs = zp ? toDoubles(*zp)
                              : std::vector<double>(ss.size(), 0);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(scale->dtype(), x->dims()));
  for (int64_t i = 0; i < out.size(); ++i) {
    int64_t k = paramIndex(*x, int64_t(ss.size()), axis, i);
    float v = float(xs[i] - zs[k]) * float(ss[k]);
    switch (scale->dtype()) {
      REF_FLOATS(out.data<T>()[i] = T(Compute<T>(v)))
    default:
      return ctx.unsupportedType(scale->dtype());
    }
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

enum class Win { Hann, Hamming, Blackman };

absl::Status window(KernelContext &ctx, Win kind) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *sz, ctx.required(0));
  int64_t n = toInt64s(*sz).at(0);
  bool periodic = ctx.attrInt("periodic", 1);
  DataType dt = DataType(ctx.attrInt("output_datatype", 1));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(dt, {n}));
  double denom = periodic ? double(n) : double(n - 1);
  for (int64_t i = 0; i < n; ++i) {
    double a = 2 * M_PI * double(i) / denom, v;
    if (kind == Win::Hann)
      v = 0.5 - 0.5 * std::cos(a);
    else if (kind == Win::Hamming)
      v = 25.0 / 46 - (1 - 25.0 / 46) * std::cos(a);
    else
      v = 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2 * a);
    switch (dt) {
      REF_NUMERIC(out.data<T>()[i] = T(Compute<T>(v)))
    default:
      return ctx.unsupportedType(dt);
    }
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}
absl::Status kHannWindow(KernelContext &ctx) { return window(ctx, Win::Hann); }
absl::Status kHammingWindow(KernelContext &ctx) {
  return window(ctx, Win::Hamming);
}
absl::Status kBlackmanWindow(KernelContext &ctx) {
  return window(ctx, Win::Blackman);
}

} // namespace

void registerMiscKernels(KernelMap &m) {
  m["BlackmanWindow"] = kBlackmanWindow;
  m["DequantizeLinear"] = kDequantizeLinear;
  m["HammingWindow"] = kHammingWindow;
  m["HannWindow"] = kHannWindow;
  m["QuantizeLinear"] = kQuantizeLinear;
}

} // namespace onnxopt::ref
