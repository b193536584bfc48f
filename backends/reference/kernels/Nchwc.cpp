// Reference kernels for ONNX Runtime's com.microsoft.nchwc ops (what the
// ort-cpu-avx2 / ort-cpu-avx512 targets emit), so that --verify and
// --evaluate run NCHWc-lowered models without ONNX Runtime. Each converts
// its blocked operands to plain NCHW (ir/NchwcLayout.h), runs the
// default-domain kernel of the same attributes, and blocks the result. The
// block size is the model's metadata onnxopt.nchwc_block_size
// (EvalLimits::nchwcBlockSize).
#include "backends/reference/KernelTable.h"
#include "backends/reference/TensorUtil.h"
#include "ir/NchwcLayout.h"

#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

namespace onnxopt::ref {

namespace {

absl::StatusOr<int64_t> blockSize(KernelContext &ctx) {
  int64_t b = ctx.evaluator().limits().nchwcBlockSize;
  if (b != 8 && b != 16)
    return ctx.error(absl::StrCat(
        "an NCHWc op needs the block size the model was lowered for (model "
        "metadata ",
        nchwc::kBlockSizeKey, " = 8 or 16)"));
  return b;
}

absl::StatusOr<const Tensor *> floatOperand(KernelContext &ctx, size_t i,
                                            size_t minRank) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *t, ctx.required(i));
  if (t->dtype() != DataType::Float)
    return ctx.unsupportedType(t->dtype());
  if (t->dims().size() < minRank)
    return ctx.error(absl::StrCat("operand ", i, " has rank ", t->dims().size(),
                                  ", not ", minRank, " or more"));
  return t;
}

/// Blocks plain `x` ([N, C, spatial...], or [N, spatial..., C] when
/// `channelsLast`) into [N, Cp, spatial...] NCHWc.
absl::StatusOr<TensorPtr> block(KernelContext &ctx, const Tensor &x, int64_t b,
                                bool channelsLast) {
  std::vector<int64_t> dims = x.dims();
  int64_t n = dims[0];
  int64_t c = channelsLast ? dims.back() : dims[1];
  int64_t s = product(dims, 1) / (c ? c : 1);
  int64_t cp = nchwc::roundUp(c, b);
  std::vector<int64_t> out = {n, cp};
  if (channelsLast)
    out.insert(out.end(), dims.begin() + 1, dims.end() - 1);
  else
    out.insert(out.end(), dims.begin() + 2, dims.end());
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor t, ctx.allocate(DataType::Float, out));
  View<float> vx(x);
  float *o = t.data<float>();
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t is = 0; is < s; ++is)
        o[nchwc::activationIndex(in, ic, is, cp, s, b)] =
            channelsLast ? vx[(in * s + is) * c + ic]
                         : vx[(in * c + ic) * s + is];
  return t.finish();
}

/// The first `channels` channels of NCHWc `x` as plain NCHW (or NHWC).
absl::StatusOr<TensorPtr> unblock(KernelContext &ctx, const Tensor &x,
                                  int64_t b, int64_t channels,
                                  bool channelsLast) {
  const std::vector<int64_t> &dims = x.dims();
  int64_t n = dims[0], cp = dims[1], s = product(dims, 2);
  if (cp % b != 0 || channels > cp || channels <= 0)
    return ctx.error(absl::StrCat("an NCHWc operand of ", cp,
                                  " channels (block ", b, ") read as ",
                                  channels));
  std::vector<int64_t> out = {n};
  if (!channelsLast)
    out.push_back(channels);
  out.insert(out.end(), dims.begin() + 2, dims.end());
  if (channelsLast)
    out.push_back(channels);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor t, ctx.allocate(DataType::Float, out));
  View<float> vx(x);
  float *o = t.data<float>();
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < channels; ++ic)
      for (int64_t is = 0; is < s; ++is)
        (channelsLast ? o[(in * s + is) * channels + ic]
                      : o[(in * channels + ic) * s + is]) =
            vx[nchwc::activationIndex(in, ic, is, cp, s, b)];
  return t.finish();
}

absl::Status kReorderInput(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(int64_t b, blockSize(ctx));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, floatOperand(ctx, 0, 2));
  bool last = ctx.attrInt("channels_last", 0) != 0;
  // ONNX Runtime's kernel's conditions, so that --verify fails where it
  // would.
  if (x->dims().size() != 4 || (last ? x->dims()[3] : x->dims()[1]) % 4 != 0)
    return ctx.error("ReorderInput takes rank 4 and a channel count that is "
                     "a multiple of 4");
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr y, block(ctx, *x, b, last));
  ctx.setOutput(0, std::move(y));
  return absl::OkStatus();
}

absl::Status kReorderOutput(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(int64_t b, blockSize(ctx));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, floatOperand(ctx, 0, 2));
  int64_t channels = ctx.attrInt("channels", 0);
  ONNXOPT_ASSIGN_OR_RETURN(
      TensorPtr y, unblock(ctx, *x, b, channels ? channels : x->dims()[1],
                           ctx.attrInt("channels_last", 0) != 0));
  ctx.setOutput(0, std::move(y));
  return absl::OkStatus();
}

/// nchwc.Conv (X, W, B?, Sum?): Y = activation(Conv(X, W) + B + Sum), X
/// blocked unless one group of fewer than B channels, W in the layout
/// nchwc::filterLayout gives, B and Y padded to W's outputs.
absl::Status kConv(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(int64_t b, blockSize(ctx));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, floatOperand(ctx, 0, 4));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *w, floatOperand(ctx, 1, 4));
  const std::vector<int64_t> &wd = w->dims();
  int64_t outputs = wd[0], perGroup = wd[1], kernel = wd[2] * wd[3];
  int64_t group = ctx.attrInt("group", 1);
  if (wd.size() != 4 || outputs % b != 0 || group < 1 || perGroup <= 0)
    return ctx.error("the filter is not an NCHWc filter of 4 dims");
  // The filter back in OIHW (its padding rows included).
  nchwc::FilterLayout layout = nchwc::filterLayout(group, perGroup, outputs, b);
  if (layout == nchwc::FilterLayout::OIHWBiBo && perGroup % b != 0)
    return ctx.error("input channels per group are not a multiple of the "
                     "block");
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor plainW, ctx.allocate(DataType::Float, wd));
  View<float> vw(*w);
  for (int64_t o = 0; o < outputs; ++o)
    for (int64_t i = 0; i < perGroup; ++i)
      for (int64_t k = 0; k < kernel; ++k)
        plainW.data<float>()[(o * perGroup + i) * kernel + k] =
            vw[nchwc::filterIndex(layout, o, i, k, perGroup, kernel, b)];
  RefValue rx = *ctx.value(0);
  if (nchwc::blockedInput(group, perGroup, b)) {
    ONNXOPT_ASSIGN_OR_RETURN(rx.tensor,
                             unblock(ctx, *x, b, perGroup * group, false));
  }
  RefValue rw = RefValue::of(plainW.finish());
  std::vector<const RefValue *> operands = {&rx, &rw};
  if (ctx.hasInput(2))
    operands.push_back(ctx.value(2));
  KernelContext conv(ctx.node(), operands, ctx.evaluator());
  ONNXOPT_RETURN_IF_ERROR(convKernel(conv));
  TensorPtr y = conv.outputs()[0].tensor;
  if (ctx.hasInput(3)) {
    ONNXOPT_ASSIGN_OR_RETURN(const Tensor *sum, floatOperand(ctx, 3, 4));
    if (sum->dims() != y->dims())
      return ctx.error("the Sum operand's shape is not the output's");
    ONNXOPT_ASSIGN_OR_RETURN(TensorPtr plainSum,
                             unblock(ctx, *sum, b, outputs, false));
    ONNXOPT_ASSIGN_OR_RETURN(NewTensor added,
                             ctx.allocate(DataType::Float, y->dims()));
    View<float> vy(*y), vs(*plainSum);
    for (int64_t i = 0; i < vy.size(); ++i)
      added.data<float>()[i] = vy[i] + vs[i];
    y = added.finish();
  }
  ONNXOPT_ASSIGN_OR_RETURN(y, applyFusedActivation(ctx, *y));
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr out, block(ctx, *y, b, false));
  ctx.setOutput(0, std::move(out));
  return absl::OkStatus();
}

/// The nchwc pools: the default-domain pool of the same attributes on the
/// unblocked tensor (every channel, padding included), blocked again.
absl::Status poolOnPlain(KernelContext &ctx, std::string_view op) {
  ONNXOPT_ASSIGN_OR_RETURN(int64_t b, blockSize(ctx));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, floatOperand(ctx, 0, 3));
  RefValue rx = RefValue::of(nullptr);
  ONNXOPT_ASSIGN_OR_RETURN(rx.tensor, unblock(ctx, *x, b, x->dims()[1], false));
  KernelContext pool(ctx.node(), {&rx}, ctx.evaluator());
  ONNXOPT_RETURN_IF_ERROR(kernelNamed(op)(pool));
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr out,
                           block(ctx, *pool.outputs()[0].tensor, b, false));
  ctx.setOutput(0, std::move(out));
  return absl::OkStatus();
}

absl::Status kMaxPool(KernelContext &ctx) {
  return poolOnPlain(ctx, "MaxPool");
}
absl::Status kAveragePool(KernelContext &ctx) {
  return poolOnPlain(ctx, "AveragePool");
}
absl::Status kGlobalAveragePool(KernelContext &ctx) {
  return poolOnPlain(ctx, "GlobalAveragePool");
}
absl::Status kGlobalMaxPool(KernelContext &ctx) {
  return poolOnPlain(ctx, "GlobalMaxPool");
}

/// nchwc.Upsample <scales = [1, 1, sh, sw]>, nearest: output (y, x) reads
/// input (y / sh, x / sw), channel blocks as they are.
absl::Status kUpsample(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(int64_t b, blockSize(ctx));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, floatOperand(ctx, 0, 4));
  std::vector<int64_t> sc = ctx.attrInts("scales");
  if (x->dims().size() != 4 || sc.size() != 4 || sc[0] != 1 || sc[1] != 1 ||
      sc[2] < 1 || sc[3] < 1 || x->dims()[1] % b != 0)
    return ctx.error("scales must be [1, 1, sh, sw] of a rank-4 NCHWc input");
  if (ctx.attrString("mode", "nearest") != "nearest")
    return ctx.error("only the nearest mode is implemented by the reference "
                     "interpreter");
  const std::vector<int64_t> &d = x->dims();
  int64_t h = d[2], w = d[3], oh = h * sc[2], ow = w * sc[3];
  int64_t planes = d[0] * (d[1] / b);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Float, {d[0], d[1], oh, ow}));
  View<float> vx(*x);
  float *o = out.data<float>();
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xx = 0; xx < ow; ++xx)
        for (int64_t c = 0; c < b; ++c)
          o[((p * oh + y) * ow + xx) * b + c] =
              vx[((p * h + y / sc[2]) * w + xx / sc[3]) * b + c];
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

} // namespace

void registerNchwcKernels(KernelMap &m) {
  m["com.microsoft.nchwc.ReorderInput"] = kReorderInput;
  m["com.microsoft.nchwc.ReorderOutput"] = kReorderOutput;
  m["com.microsoft.nchwc.Conv"] = kConv;
  m["com.microsoft.nchwc.MaxPool"] = kMaxPool;
  m["com.microsoft.nchwc.AveragePool"] = kAveragePool;
  m["com.microsoft.nchwc.GlobalAveragePool"] = kGlobalAveragePool;
  m["com.microsoft.nchwc.GlobalMaxPool"] = kGlobalMaxPool;
  m["com.microsoft.nchwc.Upsample"] = kUpsample;
}

} // namespace onnxopt::ref
