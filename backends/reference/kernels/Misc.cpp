// Reference kernels: quantization and the signal windows.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
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

/// The operands of QuantizeLinear and DequantizeLinear: x, scale and zero
/// point (per tensor or per `axis`), read as doubles.
struct Quant {
  const Tensor *x = nullptr, *scale = nullptr, *zeroPoint = nullptr;
  int64_t axis = 1;
  std::vector<double> xs, ss, zs;
  int64_t param(int64_t i) const {
    return paramIndex(*x, int64_t(ss.size()), axis, i);
  }
};

absl::StatusOr<Quant> quantOperands(KernelContext &ctx) {
  Quant q;
  ONNXOPT_ASSIGN_OR_RETURN(q.x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(q.scale, ctx.required(1));
  q.zeroPoint = ctx.input(2);
  q.axis = ctx.attrInt("axis", 1);
  if (q.scale->numElements() != 1 &&
      !normalizeAxis(q.axis, int64_t(q.x->dims().size())))
    return ctx.error("axis out of range");
  q.xs = toDoubles(*q.x);
  q.ss = toDoubles(*q.scale);
  q.zs = q.zeroPoint ? toDoubles(*q.zeroPoint)
                     : std::vector<double>(q.ss.size(), 0);
  return q;
}

absl::Status kQuantizeLinear(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(Quant q, quantOperands(ctx));
  DataType outType = q.zeroPoint ? q.zeroPoint->dtype() : DataType::UInt8;
  const std::vector<double> &xs = q.xs, &ss = q.ss, &zs = q.zs;
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(outType, q.x->dims()));
  for (int64_t i = 0; i < out.size(); ++i) {
    int64_t k = q.param(i);
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
  ONNXOPT_ASSIGN_OR_RETURN(Quant q, quantOperands(ctx));
  const Tensor *scale = q.scale;
  const std::vector<double> &xs = q.xs, &ss = q.ss, &zs = q.zs;
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(scale->dtype(), q.x->dims()));
  for (int64_t i = 0; i < out.size(); ++i) {
    int64_t k = q.param(i);
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

// ------------------------------------------------------------------ resize

/// One output coordinate along one axis: input taps and their weights, or
/// outside the input (tf_crop_and_resize extrapolates there).
struct Taps {
  std::vector<std::pair<int64_t, double>> taps;
  bool outside = false;
};

struct ResizeParams {
  std::string mode, transform, nearestMode;
  double cubicA = -0.75, extrapolation = 0;
  bool excludeOutside = false;
};

double cubicWeight(double d, double a) {
  d = std::abs(d);
  if (d <= 1)
    return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2)
    return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0;
}

/// Where output coordinate `x` samples the input of length `in`. As in the
/// spec's reference, the resized length is in * scale, unrounded.
double sourceCoord(const ResizeParams &p, int64_t x, int64_t in, double scale,
                   double roiStart, double roiEnd) {
  const std::string &t = p.transform;
  double out = double(in) * scale;
  if (t == "half_pixel")
    return (double(x) + 0.5) / scale - 0.5;
  if (t == "pytorch_half_pixel")
    return out > 1 ? (double(x) + 0.5) / scale - 0.5 : 0;
  if (t == "align_corners")
    return out == 1 ? 0 : double(x) * double(in - 1) / (out - 1);
  if (t == "tf_half_pixel_for_nn")
    return (double(x) + 0.5) / scale;
  if (t == "tf_crop_and_resize")
    return out > 1
               ? roiStart * double(in - 1) + double(x) * (roiEnd - roiStart) *
                                                 double(in - 1) / (out - 1)
               : 0.5 * (roiStart + roiEnd) * double(in - 1);
  return double(x) / scale; // asymmetric
}

Taps tapsFor(const ResizeParams &p, double c, int64_t in) {
  Taps t;
  if (p.transform == "tf_crop_and_resize" && (c < 0 || c > double(in - 1))) {
    t.outside = true;
    return t;
  }
  if (p.mode == "nearest") {
    double r;
    if (p.nearestMode == "round_prefer_ceil")
      r = std::floor(c + 0.5);
    else if (p.nearestMode == "floor")
      r = std::floor(c);
    else if (p.nearestMode == "ceil")
      r = std::ceil(c);
    else // round_prefer_floor
      r = c == std::floor(c) + 0.5 ? std::floor(c) : std::round(c);
    t.taps.push_back({std::clamp<int64_t>(int64_t(r), 0, in - 1), 1.0});
    return t;
  }
  if (p.mode == "linear") {
    c = std::clamp(c, 0.0, double(in - 1));
    int64_t lo = int64_t(std::floor(c));
    int64_t hi = std::min(lo + 1, in - 1);
    double f = c - double(lo);
    t.taps.push_back({lo, 1 - f});
    if (hi != lo)
      t.taps.push_back({hi, f});
    else
      t.taps[0].second = 1;
    return t;
  }
  // cubic: four taps around floor(c); out-of-range taps repeat the edge, or
  // are dropped and the rest renormalized with exclude_outside.
  int64_t base = int64_t(std::floor(c));
  double f = c - double(base), sum = 0;
  for (int64_t k = -1; k <= 2; ++k) {
    double w = cubicWeight(f - double(k), p.cubicA);
    int64_t idx = base + k;
    if (idx < 0 || idx >= in) {
      if (p.excludeOutside)
        continue;
      idx = std::clamp<int64_t>(idx, 0, in - 1);
    }
    t.taps.push_back({idx, w});
    sum += w;
  }
  if (p.excludeOutside && sum != 0)
    for (auto &tw : t.taps)
      tw.second /= sum;
  return t;
}

absl::Status resize(KernelContext &ctx, bool upsample) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  size_t r = x->dims().size();
  ResizeParams p;
  p.mode = ctx.attrString("mode", "nearest");
  if (p.mode != "nearest" && p.mode != "linear" && p.mode != "cubic" &&
      p.mode != "bilinear")
    return ctx.error("unknown mode '" + p.mode + "'");
  if (p.mode == "bilinear")
    p.mode = "linear";
  bool legacy = upsample || ctx.sinceVersion() < 11;
  p.transform =
      legacy ? "asymmetric"
             : ctx.attrString("coordinate_transformation_mode", "half_pixel");
  p.nearestMode =
      legacy ? "floor" : ctx.attrString("nearest_mode", "round_prefer_floor");
  p.cubicA = ctx.attrFloat("cubic_coeff_a", -0.75f);
  p.excludeOutside = ctx.attrInt("exclude_outside", 0);
  p.extrapolation = ctx.attrFloat("extrapolation_value", 0.0f);
  if (upsample && p.mode == "linear")
    p.transform = "asymmetric";

  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  if (upsample && ctx.sinceVersion() < 9) {
    for (float f : ctx.attrFloats("scales"))
      scales.push_back(f);
  } else if (upsample || ctx.sinceVersion() < 11) {
    if (const Tensor *s = ctx.input(1))
      scales = toDoubles(*s);
  } else {
    if (const Tensor *t = ctx.input(1))
      roi = toDoubles(*t);
    if (const Tensor *t = ctx.input(2))
      scales = toDoubles(*t);
    if (const Tensor *t = ctx.input(3))
      sizes = toInt64s(*t);
  }
  std::vector<int64_t> outDims(r);
  std::vector<double> scale(r, 1.0);
  if (!sizes.empty()) {
    if (sizes.size() != r)
      return ctx.error("sizes must have one entry per input dimension");
    for (size_t i = 0; i < r; ++i) {
      outDims[i] = sizes[i];
      scale[i] = x->dims()[i] ? double(sizes[i]) / double(x->dims()[i]) : 1;
    }
  } else {
    if (scales.size() != r)
      return ctx.error("scales must have one entry per input dimension");
    for (size_t i = 0; i < r; ++i) {
      if (!(scales[i] > 0))
        return ctx.error("scales must be positive");
      scale[i] = scales[i];
      outDims[i] = int64_t(std::floor(double(x->dims()[i]) * scales[i]));
    }
  }
  if (roi.size() != 2 * r)
    roi.assign(2 * r, 0), std::fill(roi.begin() + r, roi.end(), 1.0);

  // Separable: resample one axis at a time, in double.
  std::vector<double> cur = toDoubles(*x);
  std::vector<int64_t> dims = x->dims();
  std::vector<std::vector<bool>> outside(r);
  for (size_t d = 0; d < r; ++d) {
    int64_t in = dims[d], out = outDims[d];
    outside[d].assign(size_t(out), false);
    if (in == out && scale[d] == 1.0 && p.transform != "tf_crop_and_resize")
      continue;
    if (in == 0 && out > 0)
      return ctx.error("cannot resize an empty dimension");
    std::vector<Taps> taps;
    for (int64_t o = 0; o < out; ++o) {
      taps.push_back(
          tapsFor(p, sourceCoord(p, o, in, scale[d], roi[d], roi[d + r]), in));
      outside[d][o] = taps.back().outside;
    }
    int64_t outer = product(dims, 0, d), inner = product(dims, d + 1);
    uint64_t n = uint64_t(outer) * uint64_t(out) * uint64_t(inner);
    if (n * sizeof(double) > ctx.limits().maxTensorBytes)
      return limitExceeded("node '", ctx.node().name,
                           "' (Resize): the output is over the evaluation "
                           "limit");
    std::vector<double> next(n, 0.0);
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t o = 0; o < out; ++o)
        for (const auto &[idx, w] : taps[o].taps) {
          const double *src = cur.data() + (a * in + idx) * inner;
          double *dst = next.data() + (a * out + o) * inner;
          for (int64_t c = 0; c < inner; ++c)
            dst[c] += w * src[c];
        }
    cur.swap(next);
    dims[d] = out;
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor res, ctx.allocate(x->dtype(), dims));
  std::vector<int64_t> coord(r);
  for (int64_t i = 0; i < res.size(); ++i) {
    double v = cur[i];
    if (p.transform == "tf_crop_and_resize") {
      int64_t rem = i;
      for (size_t d = r; d-- > 0;) {
        coord[d] = rem % dims[d];
        rem /= dims[d];
        if (!outside[d].empty() && outside[d][coord[d]])
          v = p.extrapolation;
      }
    }
    switch (x->dtype()) {
      REF_FLOATS(res.data<T>()[i] = T(Compute<T>(v)))
      REF_INTS(res.data<T>()[i] = T(std::nearbyint(v)))
    default:
      return ctx.unsupportedType(x->dtype());
    }
  }
  ctx.setOutput(0, res.finish());
  return absl::OkStatus();
}
absl::Status kResize(KernelContext &ctx) { return resize(ctx, false); }
absl::Status kUpsample(KernelContext &ctx) { return resize(ctx, true); }

} // namespace

void registerMiscKernels(KernelMap &m) {
  m["Resize"] = kResize;
  m["Upsample"] = kUpsample;
  m["BlackmanWindow"] = kBlackmanWindow;
  m["DequantizeLinear"] = kDequantizeLinear;
  m["HammingWindow"] = kHammingWindow;
  m["HannWindow"] = kHannWindow;
  m["QuantizeLinear"] = kQuantizeLinear;
}

} // namespace onnxopt::ref
