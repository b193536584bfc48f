// Reference kernels for the com.microsoft contrib ops the ort-cpu target
// emits (backends/ort), as ONNX Runtime's contrib operator docs define them,
// so that --verify and --evaluate run lowered models without ONNX Runtime.
#include "backends/reference/Gemm.h"
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>

namespace onnxopt::ref {

namespace {

/// com.microsoft.Attention (opset 1), packed self-attention:
///   P = input [B, S, Din] x weights [Din, 3D] + bias [3D]
///   per batch b and head h (head size K = D / num_heads):
///   out[b, i, h*K + k] = sum_j softmax_j(scale * Q_i . K_j + mask) V_j[k]
/// with scale 1/sqrt(K) unless given, and mask mask_filter_value (default
/// -10000) where j > i when unidirectional and where mask_index (a raw
/// int32 [B, S] key mask) is 0. Other mask_index formats, past,
/// attention_bias, qkv_hidden_sizes and rotary embeddings are not
/// implemented (an error naming them).
absl::Status kAttention(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *w, ctx.required(1));
  const Tensor *bias = ctx.input(2);
  const Tensor *mask = ctx.input(3);
  for (size_t i = 4; i < ctx.numInputs(); ++i)
    if (ctx.hasInput(i))
      return ctx.error("past and attention_bias inputs are not implemented "
                       "by the reference interpreter");
  if (ctx.wantsOutput(1))
    return ctx.error("the present output is not implemented by the "
                     "reference interpreter");
  if (ctx.hasAttr("qkv_hidden_sizes") || ctx.attrInt("do_rotary", 0) != 0)
    return ctx.error("qkv_hidden_sizes and do_rotary are not implemented by "
                     "the reference interpreter");
  if (x->dtype() != DataType::Float || w->dtype() != DataType::Float ||
      (bias && bias->dtype() != DataType::Float))
    return ctx.unsupportedType(x->dtype());
  const auto &xd = x->dims(), &wd = w->dims();
  if (xd.size() != 3 || wd.size() != 2 || wd[0] != xd[2] || wd[1] % 3 != 0)
    return ctx.error("input must be [B, S, Din] and weights [Din, 3D]");
  int64_t batch = xd[0], seq = xd[1], din = xd[2], n3 = wd[1], d = n3 / 3;
  int64_t heads = ctx.attrInt("num_heads", 0);
  if (heads <= 0 || d % heads != 0)
    return ctx.error("num_heads must be positive and divide the hidden size");
  if (bias && bias->dims() != std::vector<int64_t>{n3})
    return ctx.error("bias must be [3D]");
  int64_t hs = d / heads;
  float scale = ctx.hasAttr("scale") ? ctx.attrFloat("scale", 1.0f)
                                     : 1.0f / std::sqrt(static_cast<float>(hs));
  float maskValue = ctx.attrFloat("mask_filter_value", -10000.0f);
  bool causal = ctx.attrInt("unidirectional", 0) != 0;
  // A raw key mask only: int32 [B, S], 0 where a key is left out.
  if (mask && (mask->dtype() != DataType::Int32 ||
               mask->dims() != std::vector<int64_t>{batch, seq}))
    return ctx.error("mask_index other than a raw int32 [batch, seq] key mask "
                     "is not implemented by the reference interpreter");
  std::optional<View<int32_t>> keep;
  if (mask)
    keep.emplace(*mask);
  ONNXOPT_RETURN_IF_ERROR(ctx.checkOutput(DataType::Float, {batch, seq, n3}));
  View<float> vx(*x), vw(*w);
  // The packed projection, every row at once.
  std::vector<float> p(static_cast<size_t>(batch * seq * n3), 0.0f);
  gemmAcc<float>(batch * seq, n3, din, vx.data(), vw.data(), p.data());
  if (bias) {
    View<float> vb(*bias);
    for (int64_t r = 0; r < batch * seq; ++r)
      for (int64_t c = 0; c < n3; ++c)
        p[r * n3 + c] += vb[c];
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Float, {batch, seq, d}));
  float *o = out.data<float>();
  std::vector<float> row(static_cast<size_t>(seq));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      const float *base = p.data() + b * seq * n3 + h * hs;
      for (int64_t i = 0; i < seq; ++i) {
        const float *q = base + i * n3;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < seq; ++j) {
          const float *k = base + j * n3 + d;
          float dot = 0;
          for (int64_t e = 0; e < hs; ++e)
            dot += q[e] * k[e];
          bool masked =
              (causal && j > i) || (keep && (*keep)[b * seq + j] == 0);
          row[j] = dot * scale + (masked ? maskValue : 0.0f);
          mx = std::max(mx, row[j]);
        }
        float sum = 0;
        for (int64_t j = 0; j < seq; ++j) {
          row[j] = std::exp(row[j] - mx);
          sum += row[j];
        }
        float *dst = o + (b * seq + i) * d + h * hs;
        for (int64_t j = 0; j < seq; ++j) {
          const float *v = base + j * n3 + 2 * d;
          float wgt = row[j] / sum;
          for (int64_t e = 0; e < hs; ++e)
            dst[e] += wgt * v[e];
        }
      }
    }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

/// com.microsoft.Gelu (X) and BiasGelu (A, B [last dim of A]):
/// 0.5 * x * (1 + erf(x / sqrt(2))) of X, or of A + B broadcast over A's
/// last axis.
absl::Status geluImpl(KernelContext &ctx, bool withBias) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  const Tensor *bias = withBias ? ctx.input(1) : nullptr;
  if (withBias && !bias)
    return ctx.error("input 1 (the bias) is missing");
  if (x->dtype() != DataType::Float ||
      (bias && bias->dtype() != DataType::Float))
    return ctx.unsupportedType(x->dtype());
  int64_t n = x->dims().empty() ? 1 : x->dims().back();
  if (bias && (bias->dims().size() != 1 || bias->dims()[0] != n))
    return ctx.error("bias must be 1-D, as long as the input's last axis");
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Float, x->dims()));
  View<float> vx(*x);
  std::optional<View<float>> vb;
  if (bias)
    vb.emplace(*bias);
  float *o = out.data<float>();
  const float invSqrt2 = static_cast<float>(1 / std::sqrt(2.0));
  for (int64_t i = 0; i < vx.size(); ++i) {
    float v = vx[i] + (vb ? (*vb)[i % n] : 0.0f);
    o[i] = 0.5f * v * (1.0f + std::erf(v * invSqrt2));
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

/// com.microsoft.QuickGelu (X): X * sigmoid(alpha * X), alpha 1.702 unless
/// given.
absl::Status kQuickGelu(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  if (x->dtype() != DataType::Float)
    return ctx.unsupportedType(x->dtype());
  float alpha = ctx.attrFloat("alpha", 1.702f);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Float, x->dims()));
  View<float> vx(*x);
  for (int64_t i = 0; i < vx.size(); ++i)
    out.data<float>()[i] = vx[i] / (1.0f + std::exp(-alpha * vx[i]));
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kGelu(KernelContext &ctx) { return geluImpl(ctx, false); }
absl::Status kBiasGelu(KernelContext &ctx) { return geluImpl(ctx, true); }

/// com.microsoft.FusedConv and FusedGemm: the Conv (Gemm) of the same
/// attributes, then `activation` (Relu, LeakyRelu, Sigmoid, Tanh, Clip,
/// HardSigmoid) with FusedConv's activation_params or FusedGemm's
/// activation_alpha/activation_beta. FusedConv's sum input Z is not
/// implemented.
absl::Status fusedImpl(KernelContext &ctx, bool conv) {
  if (conv && ctx.hasInput(3))
    return ctx.error("FusedConv's Z input is not implemented by the reference "
                     "interpreter");
  ONNXOPT_RETURN_IF_ERROR(conv ? convKernel(ctx) : gemmKernel(ctx));
  TensorPtr y = ctx.outputs()[0].tensor;
  if (!y || y->dtype() != DataType::Float)
    return ctx.unsupportedType(y ? y->dtype() : DataType::Undefined);
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr out, applyFusedActivation(ctx, *y));
  ctx.setOutput(0, std::move(out));
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<TensorPtr> applyFusedActivation(KernelContext &ctx,
                                               const Tensor &y) {
  bool conv = ctx.node().op().type != "FusedGemm";
  std::string act = ctx.attrString("activation");
  if (act.empty())
    act = "Identity";
  std::vector<float> p = ctx.attrFloats("activation_params");
  if (!conv)
    p = {ctx.attrFloat("activation_alpha", std::nanf("")),
         ctx.attrFloat("activation_beta", std::nanf(""))};
  auto param = [&](size_t i, float dflt) {
    return i < p.size() && !std::isnan(p[i]) ? p[i] : dflt;
  };
  std::function<float(float)> f;
  if (act == "Identity") {
    f = [](float v) { return v; };
  } else if (act == "HardSwish" && conv) {
    f = [](float v) {
      return v * std::max(0.0f, std::min(1.0f, v / 6.0f + 0.5f));
    };
  } else if (act == "Relu") {
    f = [](float v) { return v > 0 ? v : 0.0f; };
  } else if (act == "Sigmoid") {
    f = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
  } else if (act == "Tanh") {
    f = [](float v) { return std::tanh(v); };
  } else if (act == "LeakyRelu") {
    float alpha = param(0, 0.01f);
    f = [alpha](float v) { return v < 0 ? alpha * v : v; };
  } else if (act == "HardSigmoid") {
    float alpha = param(0, 0.2f), beta = param(1, 0.5f);
    f = [alpha, beta](float v) {
      return std::max(0.0f, std::min(1.0f, alpha * v + beta));
    };
  } else if (act == "Clip" && conv && p.size() == 2) {
    float lo = p[0], hi = p[1];
    f = [lo, hi](float v) { return std::min(std::max(v, lo), hi); };
  } else {
    return ctx.error(absl::StrCat("activation '", act,
                                  "' is not implemented by the reference "
                                  "interpreter"));
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Float, y.dims()));
  View<float> vy(y);
  for (int64_t i = 0; i < vy.size(); ++i)
    out.data<float>()[i] = f(vy[i]);
  return out.finish();
}

namespace {

absl::Status kFusedConv(KernelContext &ctx) { return fusedImpl(ctx, true); }
absl::Status kFusedGemm(KernelContext &ctx) { return fusedImpl(ctx, false); }

/// `t` with its last two axes swapped (float32, rank >= 2).
absl::StatusOr<TensorPtr> swapLastTwo(KernelContext &ctx, const Tensor &t) {
  std::vector<int64_t> dims = t.dims();
  if (dims.size() < 2 || t.dtype() != DataType::Float)
    return ctx.error("a transposed operand must be float32 of rank 2 or more");
  int64_t rows = dims[dims.size() - 2], cols = dims.back();
  std::swap(dims[dims.size() - 2], dims.back());
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(DataType::Float, dims));
  View<float> in(t);
  float *o = out.data<float>();
  int64_t block = rows * cols;
  for (int64_t base = 0; base < in.size(); base += block)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        o[base + j * rows + i] = in[base + i * cols + j];
  return out.finish();
}

/// com.microsoft.FusedMatMul: alpha * MatMul (op(A), op(B)), op swapping the
/// last two axes when transA / transB. transBatchA/B are not implemented.
absl::Status kFusedMatMul(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *a, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *b, ctx.required(1));
  if (ctx.attrInt("transBatchA", 0) || ctx.attrInt("transBatchB", 0))
    return ctx.error("transBatchA/transBatchB are not implemented by the "
                     "reference interpreter");
  if (a->dtype() != DataType::Float || b->dtype() != DataType::Float)
    return ctx.unsupportedType(a->dtype());
  RefValue ra = *ctx.value(0), rb = *ctx.value(1);
  if (ctx.attrInt("transA", 0)) {
    ONNXOPT_ASSIGN_OR_RETURN(ra.tensor, swapLastTwo(ctx, *a));
  }
  if (ctx.attrInt("transB", 0)) {
    ONNXOPT_ASSIGN_OR_RETURN(rb.tensor, swapLastTwo(ctx, *b));
  }
  KernelContext product(ctx.node(), {&ra, &rb}, ctx.evaluator());
  ONNXOPT_RETURN_IF_ERROR(matmulKernel(product));
  const Tensor &y = *product.outputs()[0].tensor;
  float alpha = ctx.attrFloat("alpha", 1.0f);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Float, y.dims()));
  View<float> vy(y);
  for (int64_t i = 0; i < vy.size(); ++i)
    out.data<float>()[i] = alpha * vy[i];
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

} // namespace

void registerContribKernels(KernelMap &m) {
  m["com.microsoft.FusedMatMul"] = kFusedMatMul;
  m["com.microsoft.FusedConv"] = kFusedConv;
  m["com.microsoft.FusedGemm"] = kFusedGemm;
  m["com.microsoft.Attention"] = kAttention;
  m["com.microsoft.BiasGelu"] = kBiasGelu;
  m["com.microsoft.Gelu"] = kGelu;
  m["com.microsoft.QuickGelu"] = kQuickGelu;
}

} // namespace onnxopt::ref
