// Reference kernels: MatMul, Gemm, Conv, ConvTranspose, pooling,
// normalizations, Softmax family, LRN and the loss ops.
#include "backends/reference/Gemm.h"
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>

namespace onnxopt::ref {

namespace {

// ------------------------------------------------------------------ helpers

/// A float tensor's elements as C (float or double): a view when the tensor
/// already holds C, else a converted copy (16-bit floats).
template <class C> class Loaded {
public:
  explicit Loaded(const Tensor &t) {
    bool same = (std::is_same_v<C, float> && t.dtype() == DataType::Float) ||
                (std::is_same_v<C, double> && t.dtype() == DataType::Double);
    if (same) {
      view_.emplace(t);
      p_ = view_->data();
      return;
    }
    switch (t.dtype()) {
      REF_NUMERIC({
        View<T> v(t);
        buf_.resize(static_cast<size_t>(v.size()));
        for (int64_t i = 0; i < v.size(); ++i)
          buf_[i] = C(Compute<T>(v[i]));
      })
    default:
      break;
    }
    p_ = buf_.data();
  }
  const C *data() const { return p_; }
  C operator[](int64_t i) const { return p_[i]; }

private:
  std::optional<View<C>> view_;
  std::vector<C> buf_;
  const C *p_ = nullptr;
};

/// Writes C values as a tensor of float type `dt`.
template <class C>
absl::StatusOr<TensorPtr> store(KernelContext &ctx, DataType dt,
                                const std::vector<int64_t> &dims,
                                const std::vector<C> &v) {
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(dt, dims));
  switch (dt) {
    REF_FLOATS({
      for (int64_t i = 0; i < out.size(); ++i)
        out.data<T>()[i] = T(Compute<T>(v[i]));
    })
  default:
    return ctx.unsupportedType(dt);
  }
  return out.finish();
}

/// Runs impl<double> for double inputs and impl<float> for the other floats.
#define FLOAT_DISPATCH(DT, CALL)                                               \
  do {                                                                         \
    if ((DT) == DataType::Double) {                                            \
      using C = double;                                                        \
      return CALL;                                                             \
    }                                                                          \
    if (isFloatType(DT)) {                                                     \
      using C = float;                                                         \
      return CALL;                                                             \
    }                                                                          \
    return ctx.unsupportedType(DT);                                            \
  } while (0)

template <class C> std::vector<C> transposed(const C *p, int64_t r, int64_t c) {
  std::vector<C> t(static_cast<size_t>(r * c));
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      t[j * r + i] = p[i * c + j];
  return t;
}

// ------------------------------------------------------------------ matmul

template <class C>
absl::Status matmulImpl(KernelContext &ctx, const Tensor &a, const Tensor &b) {
  std::vector<int64_t> da = a.dims(), db = b.dims();
  if (da.empty() || db.empty())
    return ctx.error("MatMul inputs must have rank at least 1");
  bool vecA = da.size() == 1, vecB = db.size() == 1;
  if (vecA)
    da.insert(da.begin(), 1);
  if (vecB)
    db.push_back(1);
  int64_t M = da[da.size() - 2], K = da.back(), N = db.back();
  if (db[db.size() - 2] != K)
    return ctx.error("MatMul inner dimensions differ");
  std::vector<int64_t> ba(da.begin(), da.end() - 2),
      bb(db.begin(), db.end() - 2);
  size_t r = std::max(ba.size(), bb.size());
  std::vector<int64_t> batch(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t x = i < r - ba.size() ? 1 : ba[i - (r - ba.size())];
    int64_t y = i < r - bb.size() ? 1 : bb[i - (r - bb.size())];
    if (x != y && x != 1 && y != 1)
      return ctx.error("MatMul batch dimensions do not broadcast");
    batch[i] = x == 1 ? y : x;
  }
  std::vector<int64_t> dims = batch;
  if (!vecA)
    dims.push_back(M);
  if (!vecB)
    dims.push_back(N);
  Loaded<C> la(a), lb(b);
  int64_t nb = product(batch);
  std::vector<C> out(static_cast<size_t>(nb * M * N), C(0));
  std::vector<int64_t> sa = broadcastStrides(ba, batch),
                       sb = broadcastStrides(bb, batch), idx;
  for (int64_t i = 0; i < nb; ++i) {
    int64_t oa = 0, ob = 0, rem = i;
    for (size_t d = r; d-- > 0;) {
      int64_t c = rem % batch[d];
      rem /= batch[d];
      oa += c * sa[d];
      ob += c * sb[d];
    }
    gemmAcc<C>(M, N, K, la.data() + oa * M * K, lb.data() + ob * K * N,
               out.data() + i * M * N);
  }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, store<C>(ctx, a.dtype(), dims, out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

template <class T>
absl::Status matmulInt(KernelContext &ctx, const Tensor &a, const Tensor &b) {
  if (a.dims().size() != 2 || b.dims().size() != 2 ||
      a.dims()[1] != b.dims()[0])
    return ctx.error("integer MatMul supports 2-D inputs only");
  int64_t M = a.dims()[0], K = a.dims()[1], N = b.dims()[1];
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(a.dtype(), {M, N}));
  View<T> va(a), vb(b);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc = T(acc + va[i * K + k] * vb[k * N + j]);
      out.data<T>()[i * N + j] = acc;
    }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kMatMul(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *a, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *b, ctx.required(1));
  if (a->dtype() != b->dtype())
    return ctx.error("input element types differ");
  if (!isFloatType(a->dtype())) {
    switch (a->dtype()) {
      REF_INTS(return matmulInt<T>(ctx, *a, *b))
    default:
      return ctx.unsupportedType(a->dtype());
    }
  }
  FLOAT_DISPATCH(a->dtype(), matmulImpl<C>(ctx, *a, *b));
}

template <class C> absl::Status gemmImpl(KernelContext &ctx) {
  const Tensor &a = *ctx.input(0), &b = *ctx.input(1);
  bool ta = ctx.attrInt("transA", 0), tb = ctx.attrInt("transB", 0);
  C alpha = C(ctx.attrFloat("alpha", 1.0f)),
    beta = C(ctx.attrFloat("beta", 1.0f));
  if (a.dims().size() != 2 || b.dims().size() != 2)
    return ctx.error("Gemm inputs must be 2-D");
  int64_t M = ta ? a.dims()[1] : a.dims()[0],
          K = ta ? a.dims()[0] : a.dims()[1];
  int64_t K2 = tb ? b.dims()[1] : b.dims()[0],
          N = tb ? b.dims()[0] : b.dims()[1];
  if (K != K2)
    return ctx.error("Gemm inner dimensions differ");
  Loaded<C> la(a), lb(b);
  std::vector<C> at, bt;
  const C *pa = la.data(), *pb = lb.data();
  if (ta) {
    at = transposed(pa, K, M);
    pa = at.data();
  }
  if (tb) {
    bt = transposed(pb, N, K);
    pb = bt.data();
  }
  std::vector<C> out(static_cast<size_t>(M * N), C(0));
  gemmAcc<C>(M, N, K, pa, pb, out.data());
  for (C &v : out)
    v *= alpha;
  if (const Tensor *c = ctx.input(2)) {
    if (!std::is_integral_v<C> && beta != C(0)) {
      Loaded<C> lc(*c);
      std::vector<int64_t> cd = c->dims();
      if (cd.size() > 2)
        return ctx.error("Gemm C must have rank at most 2");
      std::vector<int64_t> st = broadcastStrides(cd, {M, N});
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j)
          out[i * N + j] += beta * lc[i * st[0] + j * st[1]];
    }
  }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, store<C>(ctx, a.dtype(), {M, N}, out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

absl::Status kGemm(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *a, ctx.required(0));
  ONNXOPT_RETURN_IF_ERROR(ctx.required(1).status());
  FLOAT_DISPATCH(a->dtype(), gemmImpl<C>(ctx));
}

// ------------------------------------------------------------------ conv

/// Spatial geometry shared by Conv, ConvTranspose and the pools.
struct Window {
  size_t rank = 0;
  std::vector<int64_t> in, kernel, stride, dilation, padBegin, padEnd, out;
};

/// Reads kernel_shape/strides/dilations/pads/auto_pad and computes output
/// sizes (forward direction).
absl::StatusOr<Window> forwardWindow(KernelContext &ctx,
                                     const std::vector<int64_t> &inSpatial,
                                     std::vector<int64_t> kernel,
                                     bool ceilMode) {
  Window w;
  w.rank = inSpatial.size();
  w.in = inSpatial;
  w.kernel = std::move(kernel);
  w.stride = ctx.attrInts("strides");
  w.dilation = ctx.attrInts("dilations");
  std::vector<int64_t> pads = ctx.attrInts("pads");
  if (w.stride.empty())
    w.stride.assign(w.rank, 1);
  if (w.dilation.empty())
    w.dilation.assign(w.rank, 1);
  if (pads.empty())
    pads.assign(2 * w.rank, 0);
  if (w.kernel.size() != w.rank || w.stride.size() != w.rank ||
      w.dilation.size() != w.rank || pads.size() != 2 * w.rank)
    return ctx.error("kernel, strides, dilations or pads do not match the "
                     "input's spatial rank");
  std::string autoPad = ctx.attrString("auto_pad", "NOTSET");
  w.padBegin.assign(pads.begin(), pads.begin() + w.rank);
  w.padEnd.assign(pads.begin() + w.rank, pads.end());
  for (size_t i = 0; i < w.rank; ++i) {
    if (w.stride[i] <= 0 || w.dilation[i] <= 0 || w.kernel[i] <= 0)
      return ctx.error("kernel, strides and dilations must be positive");
    int64_t ext = (w.kernel[i] - 1) * w.dilation[i] + 1;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t o = (w.in[i] + w.stride[i] - 1) / w.stride[i];
      int64_t total =
          std::max<int64_t>(0, (o - 1) * w.stride[i] + ext - w.in[i]);
      w.padBegin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.padEnd[i] = total - w.padBegin[i];
    } else if (autoPad == "VALID") {
      w.padBegin[i] = w.padEnd[i] = 0;
    }
    int64_t span = w.in[i] + w.padBegin[i] + w.padEnd[i] - ext;
    if (span < 0)
      return ctx.error("the kernel is larger than the padded input");
    int64_t o = ceilMode ? (span + w.stride[i] - 1) / w.stride[i] + 1
                         : span / w.stride[i] + 1;
    // A window must start inside the input or its left padding.
    if (ceilMode && (o - 1) * w.stride[i] >= w.in[i] + w.padBegin[i])
      --o;
    w.out.push_back(o);
  }
  return w;
}

/// Unpacks input patches into columns: col[(c*K + k), p] for channel c, kernel
/// offset k, output position p.
template <class C>
void im2col(const C *x, int64_t channels, const Window &w, C *col) {
  int64_t kSize = product(w.kernel), oSize = product(w.out);
  int64_t inSize = product(w.in);
  std::vector<int64_t> kIdx(w.rank), oIdx(w.rank);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < kSize; ++k) {
      int64_t rem = k;
      for (size_t d = w.rank; d-- > 0;) {
        kIdx[d] = rem % w.kernel[d];
        rem /= w.kernel[d];
      }
      C *row = col + (c * kSize + k) * oSize;
      const C *xc = x + c * inSize;
      if (w.rank == 2) {
        for (int64_t oh = 0; oh < w.out[0]; ++oh) {
          int64_t ih =
              oh * w.stride[0] - w.padBegin[0] + kIdx[0] * w.dilation[0];
          C *r = row + oh * w.out[1];
          if (ih < 0 || ih >= w.in[0]) {
            std::fill(r, r + w.out[1], C(0));
            continue;
          }
          const C *xr = xc + ih * w.in[1];
          for (int64_t ow = 0; ow < w.out[1]; ++ow) {
            int64_t iw =
                ow * w.stride[1] - w.padBegin[1] + kIdx[1] * w.dilation[1];
            r[ow] = iw >= 0 && iw < w.in[1] ? xr[iw] : C(0);
          }
        }
        continue;
      }
      for (int64_t p = 0; p < oSize; ++p) {
        int64_t rem2 = p, off = 0, mul = 1;
        bool inside = true;
        for (size_t d = w.rank; d-- > 0;) {
          oIdx[d] = rem2 % w.out[d];
          rem2 /= w.out[d];
          int64_t i =
              oIdx[d] * w.stride[d] - w.padBegin[d] + kIdx[d] * w.dilation[d];
          if (i < 0 || i >= w.in[d])
            inside = false;
          off += i * mul;
          mul *= w.in[d];
        }
        row[p] = inside ? xc[off] : C(0);
      }
    }
}

template <class C> absl::Status convImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0), &wt = *ctx.input(1);
  if (x.dims().size() < 3 || wt.dims().size() != x.dims().size())
    return ctx.error("Conv input and weight ranks must match and be >= 3");
  int64_t N = x.dims()[0], Cin = x.dims()[1], M = wt.dims()[0];
  int64_t group = ctx.attrInt("group", 1);
  if (group <= 0 || Cin % group || M % group || wt.dims()[1] * group != Cin)
    return ctx.error("channels do not match the weight and group");
  std::vector<int64_t> inSp(x.dims().begin() + 2, x.dims().end());
  std::vector<int64_t> kernel = ctx.attrInts("kernel_shape");
  if (kernel.empty())
    kernel.assign(wt.dims().begin() + 2, wt.dims().end());
  ONNXOPT_ASSIGN_OR_RETURN(Window w, forwardWindow(ctx, inSp, kernel, false));
  int64_t cg = Cin / group, mg = M / group, kSize = product(w.kernel),
          inSize = product(w.in), oSize = product(w.out);
  Loaded<C> lx(x), lw(wt);
  std::vector<C> out(static_cast<size_t>(N * M * oSize), C(0));
  bool pointwise = kSize == 1;
  for (size_t i = 0; i < w.rank; ++i)
    pointwise =
        pointwise && w.stride[i] == 1 && w.padBegin[i] == 0 && w.padEnd[i] == 0;
  std::vector<C> col(pointwise ? 0 : size_t(cg * kSize * oSize));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < group; ++g) {
      const C *xg = lx.data() + (n * Cin + g * cg) * inSize;
      const C *colp = xg;
      if (!pointwise) {
        im2col<C>(xg, cg, w, col.data());
        colp = col.data();
      }
      gemmAcc<C>(mg, oSize, cg * kSize, lw.data() + g * mg * cg * kSize, colp,
                 out.data() + (n * M + g * mg) * oSize);
    }
  if (const Tensor *b = ctx.input(2)) {
    Loaded<C> lb(*b);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t p = 0; p < oSize; ++p)
          out[(n * M + m) * oSize + p] += lb[m];
  }
  std::vector<int64_t> dims = {N, M};
  dims.insert(dims.end(), w.out.begin(), w.out.end());
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, store<C>(ctx, x.dtype(), dims, out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

absl::Status kConv(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_RETURN_IF_ERROR(ctx.required(1).status());
  FLOAT_DISPATCH(x->dtype(), convImpl<C>(ctx));
}

template <class C> absl::Status convTransposeImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0), &wt = *ctx.input(1);
  if (x.dims().size() < 3 || wt.dims().size() != x.dims().size())
    return ctx.error("ConvTranspose input and weight ranks must match");
  size_t rank = x.dims().size() - 2;
  int64_t N = x.dims()[0], Cin = x.dims()[1], group = ctx.attrInt("group", 1);
  if (group <= 0 || wt.dims()[0] != Cin || Cin % group)
    return ctx.error("channels do not match the weight and group");
  int64_t mg = wt.dims()[1], M = mg * group, cg = Cin / group;
  std::vector<int64_t> in(x.dims().begin() + 2, x.dims().end());
  std::vector<int64_t> kernel = ctx.attrInts("kernel_shape");
  if (kernel.empty())
    kernel.assign(wt.dims().begin() + 2, wt.dims().end());
  std::vector<int64_t> stride = ctx.attrInts("strides"),
                       dil = ctx.attrInts("dilations"),
                       pads = ctx.attrInts("pads"),
                       outPad = ctx.attrInts("output_padding"),
                       outShape = ctx.attrInts("output_shape");
  if (stride.empty())
    stride.assign(rank, 1);
  if (dil.empty())
    dil.assign(rank, 1);
  if (outPad.empty())
    outPad.assign(rank, 0);
  if (pads.empty())
    pads.assign(2 * rank, 0);
  if (kernel.size() != rank || stride.size() != rank || dil.size() != rank ||
      pads.size() != 2 * rank || outPad.size() != rank)
    return ctx.error("attribute lengths do not match the spatial rank");
  std::string autoPad = ctx.attrString("auto_pad", "NOTSET");
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t full =
        stride[i] * (in[i] - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1;
    if (!outShape.empty()) {
      int64_t want = outShape[outShape.size() - rank + i];
      // Floor division: a negative total (output_shape past the full size)
      // pads the end, as the spec's reference computes it.
      int64_t total = full - want,
              half = total >= 0 ? total / 2 : -((1 - total) / 2);
      if (autoPad == "SAME_UPPER") {
        pads[i] = half;
        pads[i + rank] = total - half;
      } else {
        pads[i] = total - half;
        pads[i + rank] = half;
      }
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t want = in[i] * stride[i];
      int64_t total = std::max<int64_t>(0, full - want);
      pads[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pads[i + rank] = total - pads[i];
    }
    out[i] = full - pads[i] - pads[i + rank];
    if (out[i] < 0)
      return ctx.error("negative output size");
  }
  int64_t inSize = product(in), oSize = product(out), kSize = product(kernel);
  Loaded<C> lx(x), lw(wt);
  std::vector<C> res(static_cast<size_t>(N * M * oSize), C(0));
  std::vector<int64_t> ii(rank), kk(rank);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < group; ++g)
      for (int64_t c = 0; c < cg; ++c) {
        int64_t ci = g * cg + c;
        for (int64_t p = 0; p < inSize; ++p) {
          C xv = lx[(n * Cin + ci) * inSize + p];
          int64_t rem = p;
          for (size_t d = rank; d-- > 0;) {
            ii[d] = rem % in[d];
            rem /= in[d];
          }
          for (int64_t k = 0; k < kSize; ++k) {
            int64_t r2 = k, off = 0, mul = 1;
            bool inside = true;
            for (size_t d = rank; d-- > 0;) {
              kk[d] = r2 % kernel[d];
              r2 /= kernel[d];
              int64_t o = ii[d] * stride[d] + kk[d] * dil[d] - pads[d];
              if (o < 0 || o >= out[d])
                inside = false;
              off += o * mul;
              mul *= out[d];
            }
            if (!inside)
              continue;
            for (int64_t m = 0; m < mg; ++m)
              res[(n * M + g * mg + m) * oSize + off] +=
                  xv * lw[((ci * mg) + m) * kSize + k];
          }
        }
      }
  if (const Tensor *b = ctx.input(2)) {
    Loaded<C> lb(*b);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t p = 0; p < oSize; ++p)
          res[(n * M + m) * oSize + p] += lb[m];
  }
  std::vector<int64_t> dims = {N, M};
  dims.insert(dims.end(), out.begin(), out.end());
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, store<C>(ctx, x.dtype(), dims, res));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

absl::Status kConvTranspose(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_RETURN_IF_ERROR(ctx.required(1).status());
  FLOAT_DISPATCH(x->dtype(), convTransposeImpl<C>(ctx));
}

// ------------------------------------------------------------------ pooling

template <class C> absl::Status poolImpl(KernelContext &ctx, bool isMax) {
  const Tensor &x = *ctx.input(0);
  if (x.dims().size() < 3)
    return ctx.error("pooling input must have rank >= 3");
  int64_t N = x.dims()[0], Ch = x.dims()[1];
  std::vector<int64_t> inSp(x.dims().begin() + 2, x.dims().end());
  std::vector<int64_t> kernel = ctx.attrInts("kernel_shape");
  ONNXOPT_ASSIGN_OR_RETURN(
      Window w, forwardWindow(ctx, inSp, kernel, ctx.attrInt("ceil_mode", 0)));
  bool includePad = ctx.attrInt("count_include_pad", 0);
  int64_t inSize = product(w.in), oSize = product(w.out),
          kSize = product(w.kernel);
  Loaded<C> lx(x);
  std::vector<C> out(static_cast<size_t>(N * Ch * oSize));
  std::vector<int64_t> idxOut(ctx.wantsOutput(1) ? out.size() : 0);
  bool colMajor = ctx.attrInt("storage_order", 0);
  std::vector<int64_t> oIdx(w.rank), kIdx(w.rank), pos(w.rank);
  for (int64_t nc = 0; nc < N * Ch; ++nc) {
    const C *xc = lx.data() + nc * inSize;
    for (int64_t p = 0; p < oSize; ++p) {
      int64_t rem = p;
      for (size_t d = w.rank; d-- > 0;) {
        oIdx[d] = rem % w.out[d];
        rem /= w.out[d];
      }
      C best = -std::numeric_limits<C>::infinity(), sum = 0;
      int64_t bestAt = -1, valid = 0, padded = 0;
      for (int64_t k = 0; k < kSize; ++k) {
        int64_t r2 = k;
        bool inside = true, inPadded = true;
        for (size_t d = w.rank; d-- > 0;) {
          kIdx[d] = r2 % w.kernel[d];
          r2 /= w.kernel[d];
          pos[d] =
              oIdx[d] * w.stride[d] - w.padBegin[d] + kIdx[d] * w.dilation[d];
          if (pos[d] < 0 || pos[d] >= w.in[d])
            inside = false;
          if (pos[d] < -w.padBegin[d] || pos[d] >= w.in[d] + w.padEnd[d])
            inPadded = false;
        }
        padded += inPadded;
        if (!inside)
          continue;
        int64_t off = 0;
        for (size_t d = 0; d < w.rank; ++d)
          off = off * w.in[d] + pos[d];
        C v = xc[off];
        ++valid;
        sum += v;
        if (v > best || bestAt < 0) {
          best = v;
          bestAt = off;
          if (colMajor) {
            int64_t cm = 0, mul = 1;
            for (size_t d = 0; d < w.rank; ++d) {
              cm += pos[d] * mul;
              mul *= w.in[d];
            }
            bestAt = cm;
          }
        }
      }
      if (isMax) {
        out[nc * oSize + p] = best;
        if (!idxOut.empty())
          idxOut[nc * oSize + p] = nc * inSize + bestAt;
      } else {
        int64_t div = includePad ? padded : valid;
        out[nc * oSize + p] = div ? sum / C(div) : C(0);
      }
    }
  }
  std::vector<int64_t> dims = {N, Ch};
  dims.insert(dims.end(), w.out.begin(), w.out.end());
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, store<C>(ctx, x.dtype(), dims, out));
  ctx.setOutput(0, t);
  if (!idxOut.empty())
    ctx.setOutput(1, makeInt64s(idxOut, dims));
  return absl::OkStatus();
}

absl::Status kMaxPool(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  if (x->dtype() == DataType::Int8 || x->dtype() == DataType::UInt8)
    return ctx.unsupportedType(x->dtype());
  FLOAT_DISPATCH(x->dtype(), poolImpl<C>(ctx, true));
}
absl::Status kAveragePool(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), poolImpl<C>(ctx, false));
}

template <class C> absl::Status globalPoolImpl(KernelContext &ctx, bool isMax) {
  const Tensor &x = *ctx.input(0);
  if (x.dims().size() < 2)
    return ctx.error("input rank must be >= 2");
  int64_t nc = x.dims()[0] * x.dims()[1], sp = product(x.dims(), 2);
  Loaded<C> lx(x);
  std::vector<C> out(static_cast<size_t>(nc));
  for (int64_t i = 0; i < nc; ++i) {
    C acc = isMax ? -std::numeric_limits<C>::infinity() : C(0);
    for (int64_t j = 0; j < sp; ++j)
      acc = isMax ? std::max(acc, lx[i * sp + j]) : acc + lx[i * sp + j];
    out[i] = isMax ? acc : acc / C(sp);
  }
  std::vector<int64_t> dims = x.dims();
  for (size_t d = 2; d < dims.size(); ++d)
    dims[d] = 1;
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, store<C>(ctx, x.dtype(), dims, out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}
absl::Status kGlobalAveragePool(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), globalPoolImpl<C>(ctx, false));
}
absl::Status kGlobalMaxPool(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), globalPoolImpl<C>(ctx, true));
}

// ------------------------------------------------------------ normalization

template <class C> absl::Status batchNormImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0);
  for (size_t i = 1; i < 5; ++i)
    ONNXOPT_RETURN_IF_ERROR(ctx.required(i).status());
  if (x.dims().size() < 2)
    return ctx.error("input rank must be >= 2");
  int64_t N = x.dims()[0], Ch = x.dims()[1], sp = product(x.dims(), 2);
  C eps = C(ctx.attrFloat("epsilon", 1e-5f)),
    momentum = C(ctx.attrFloat("momentum", 0.9f));
  bool training = ctx.attrInt("training_mode", 0);
  Loaded<C> lx(x), scale(*ctx.input(1)), bias(*ctx.input(2)),
      mean(*ctx.input(3)), var(*ctx.input(4));
  std::vector<C> useMean(static_cast<size_t>(Ch)),
      useVar(static_cast<size_t>(Ch));
  for (int64_t c = 0; c < Ch; ++c) {
    useMean[c] = mean[c];
    useVar[c] = var[c];
  }
  if (training) {
    for (int64_t c = 0; c < Ch; ++c) {
      double s = 0, sq = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t p = 0; p < sp; ++p) {
          double v = lx[(n * Ch + c) * sp + p];
          s += v;
          sq += v * v;
        }
      double cnt = double(N * sp), m = s / cnt;
      useMean[c] = C(m);
      useVar[c] = C(sq / cnt - m * m);
    }
  }
  std::vector<C> out(static_cast<size_t>(N * Ch * sp));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < Ch; ++c) {
      C inv = C(1) / std::sqrt(useVar[c] + eps);
      for (int64_t p = 0; p < sp; ++p) {
        int64_t i = (n * Ch + c) * sp + p;
        out[i] = (lx[i] - useMean[c]) * inv * scale[c] + bias[c];
      }
    }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           store<C>(ctx, x.dtype(), x.dims(), out));
  ctx.setOutput(0, t);
  if (training) {
    std::vector<C> rm(static_cast<size_t>(Ch)), rv(static_cast<size_t>(Ch));
    for (int64_t c = 0; c < Ch; ++c) {
      rm[c] = mean[c] * momentum + useMean[c] * (C(1) - momentum);
      rv[c] = var[c] * momentum + useVar[c] * (C(1) - momentum);
    }
    ONNXOPT_ASSIGN_OR_RETURN(TensorPtr m,
                             store<C>(ctx, ctx.input(3)->dtype(), {Ch}, rm));
    ONNXOPT_ASSIGN_OR_RETURN(TensorPtr v,
                             store<C>(ctx, ctx.input(4)->dtype(), {Ch}, rv));
    ctx.setOutput(1, m);
    ctx.setOutput(2, v);
  }
  return absl::OkStatus();
}
absl::Status kBatchNormalization(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  if (ctx.sinceVersion() < 14 && ctx.numOutputs() > 1 && ctx.wantsOutput(1))
    return unsupported(
        "node '", ctx.node().name,
        "' (BatchNormalization): the training outputs of opsets "
        "before 14 are not supported by the reference interpreter");
  FLOAT_DISPATCH(x->dtype(), batchNormImpl<C>(ctx));
}

template <class C> absl::Status instanceNormImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0);
  ONNXOPT_RETURN_IF_ERROR(ctx.required(1).status());
  ONNXOPT_RETURN_IF_ERROR(ctx.required(2).status());
  if (x.dims().size() < 3)
    return ctx.error("input rank must be >= 3");
  int64_t N = x.dims()[0], Ch = x.dims()[1], sp = product(x.dims(), 2);
  C eps = C(ctx.attrFloat("epsilon", 1e-5f));
  Loaded<C> lx(x), scale(*ctx.input(1)), bias(*ctx.input(2));
  std::vector<C> out(static_cast<size_t>(N * Ch * sp));
  for (int64_t i = 0; i < N * Ch; ++i) {
    int64_t c = i % Ch;
    double s = 0;
    for (int64_t p = 0; p < sp; ++p)
      s += lx[i * sp + p];
    double m = s / double(sp), v = 0;
    for (int64_t p = 0; p < sp; ++p)
      v += (lx[i * sp + p] - m) * (lx[i * sp + p] - m);
    v /= double(sp);
    C inv = C(1 / std::sqrt(v + double(eps)));
    for (int64_t p = 0; p < sp; ++p)
      out[i * sp + p] = (lx[i * sp + p] - C(m)) * inv * scale[c] + bias[c];
  }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           store<C>(ctx, x.dtype(), x.dims(), out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}
absl::Status kInstanceNormalization(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), instanceNormImpl<C>(ctx));
}

/// `t`'s elements broadcast to `dims` (numpy rules), row-major, as doubles:
/// a normalization's scale or bias over its normalized axes. nullopt when
/// `t` has more dims than `dims`.
template <class C>
std::optional<std::vector<double>>
broadcastValues(const Tensor &t, const std::vector<int64_t> &dims) {
  if (t.dims().size() > dims.size())
    return std::nullopt;
  Loaded<C> v(t);
  std::vector<double> out(static_cast<size_t>(product(dims)));
  forEachBroadcast<1>(dims, {broadcastStrides(t.dims(), dims)},
                      [&](int64_t i, const std::array<int64_t, 1> &off) {
                        out[static_cast<size_t>(i)] = double(v[off[0]]);
                      });
  return out;
}

template <class C> absl::Status layerNormImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0);
  ONNXOPT_RETURN_IF_ERROR(ctx.required(1).status());
  int64_t r = int64_t(x.dims().size()), axis = ctx.attrInt("axis", -1);
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  double eps = ctx.attrFloat("epsilon", 1e-5f);
  int64_t outer = product(x.dims(), 0, size_t(axis)),
          inner = product(x.dims(), size_t(axis));
  std::vector<int64_t> normDims(x.dims().begin() + axis, x.dims().end());
  auto scale = broadcastValues<C>(*ctx.input(1), normDims);
  std::optional<std::vector<double>> bias;
  if (const Tensor *biasT = ctx.input(2))
    if (!(bias = broadcastValues<C>(*biasT, normDims)))
      return ctx.error("bias has more axes than the normalized ones");
  if (!scale)
    return ctx.error("scale has more axes than the normalized ones");
  Loaded<C> lx(x);
  std::vector<C> out(static_cast<size_t>(outer * inner)),
      means(static_cast<size_t>(outer)), invs(static_cast<size_t>(outer));
  for (int64_t o = 0; o < outer; ++o) {
    // Statistics in double; the spec's stash_type=1 asks for at least float.
    double s = 0;
    for (int64_t j = 0; j < inner; ++j)
      s += lx[o * inner + j];
    double m = s / double(inner), v = 0;
    for (int64_t j = 0; j < inner; ++j)
      v += (lx[o * inner + j] - m) * (lx[o * inner + j] - m);
    v /= double(inner);
    double inv = 1 / std::sqrt(v + eps);
    means[o] = C(m);
    invs[o] = C(inv);
    for (int64_t j = 0; j < inner; ++j) {
      double y = (lx[o * inner + j] - m) * inv * (*scale)[size_t(j)];
      if (bias)
        y += (*bias)[size_t(j)];
      out[o * inner + j] = C(y);
    }
  }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           store<C>(ctx, x.dtype(), x.dims(), out));
  ctx.setOutput(0, t);
  std::vector<int64_t> statDims = x.dims();
  for (int64_t d = axis; d < r; ++d)
    statDims[d] = 1;
  DataType statType = DataType(ctx.attrInt("stash_type", 1));
  if (!isFloatType(statType))
    statType = DataType::Float;
  if (ctx.wantsOutput(1)) {
    ONNXOPT_ASSIGN_OR_RETURN(TensorPtr m,
                             store<C>(ctx, statType, statDims, means));
    ctx.setOutput(1, m);
  }
  if (ctx.wantsOutput(2)) {
    ONNXOPT_ASSIGN_OR_RETURN(TensorPtr v,
                             store<C>(ctx, statType, statDims, invs));
    ctx.setOutput(2, v);
  }
  return absl::OkStatus();
}
absl::Status kLayerNormalization(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), layerNormImpl<C>(ctx));
}

/// RMSNormalization (23): x / sqrt(mean(x^2 over the axes from `axis`) +
/// epsilon) * scale (broadcast to the normalized axes), statistics in
/// double.
template <class C> absl::Status rmsNormImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0);
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *scaleT, ctx.required(1));
  if (scaleT->dtype() != x.dtype())
    return ctx.error("scale of another element type than X is not "
                     "implemented by the reference interpreter");
  int64_t r = int64_t(x.dims().size()), axis = ctx.attrInt("axis", -1);
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  double eps = ctx.attrFloat("epsilon", 1e-5f);
  int64_t outer = product(x.dims(), 0, size_t(axis)),
          inner = product(x.dims(), size_t(axis));
  std::vector<int64_t> normDims(x.dims().begin() + axis, x.dims().end());
  auto scale = broadcastValues<C>(*scaleT, normDims);
  if (!scale)
    return ctx.error("scale has more axes than the normalized ones");
  Loaded<C> lx(x);
  std::vector<C> out(static_cast<size_t>(outer * inner));
  for (int64_t o = 0; o < outer; ++o) {
    double sq = 0;
    for (int64_t j = 0; j < inner; ++j)
      sq += double(lx[o * inner + j]) * double(lx[o * inner + j]);
    double inv = 1 / std::sqrt(sq / double(inner) + eps);
    for (int64_t j = 0; j < inner; ++j)
      out[o * inner + j] =
          C(double(lx[o * inner + j]) * inv * (*scale)[size_t(j)]);
  }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           store<C>(ctx, x.dtype(), x.dims(), out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}
absl::Status kRMSNormalization(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), rmsNormImpl<C>(ctx));
}

/// Attention (23) without past keys/values, softcap or the qk output:
/// Q [B, Hq, S, E] and K, V [B, Hkv, T, E|Ev] (or 3-D [B, S, H*E] with
/// q_num_heads/kv_num_heads), Hq a multiple of Hkv (grouped queries);
/// softmax(scale Q K' + mask) V with scale 1/sqrt(E) unless given; the mask
/// bool (false: left out, as -inf) or added, broadcast to [B, Hq, S, T];
/// is_causal leaves out key j > query i (aligned at the upper left, as
/// ONNX's reference). Statistics in double.
template <class C> absl::Status attentionImpl(KernelContext &ctx) {
  const Tensor &q = *ctx.input(0);
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *k, ctx.required(1));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *v, ctx.required(2));
  const Tensor *mask = ctx.input(3);
  if (ctx.hasInput(4) || ctx.hasInput(5) || ctx.wantsOutput(1) ||
      ctx.wantsOutput(2) || ctx.wantsOutput(3) ||
      ctx.attrFloat("softcap", 0.0f) != 0.0f)
    return ctx.error("past keys/values, present outputs, qk_matmul_output and "
                     "softcap are not implemented by the reference "
                     "interpreter");
  if (k->dtype() != q.dtype() || v->dtype() != q.dtype())
    return ctx.error("Q, K and V of different element types are not "
                     "implemented by the reference interpreter");
  size_t rank = q.dims().size();
  if ((rank != 3 && rank != 4) || k->dims().size() != rank ||
      v->dims().size() != rank)
    return ctx.error("Q, K and V must all be 3-D or all 4-D");
  int64_t batch = q.dims()[0], hq, hkv, s, t, e, ev;
  if (rank == 4) {
    hq = q.dims()[1];
    hkv = k->dims()[1];
    s = q.dims()[2];
    t = k->dims()[2];
    e = q.dims()[3];
    ev = v->dims()[3];
    if (k->dims()[3] != e || v->dims()[1] != hkv || v->dims()[2] != t)
      return ctx.error("K and V do not match Q");
  } else {
    hq = ctx.attrInt("q_num_heads", 0);
    hkv = ctx.attrInt("kv_num_heads", 0);
    if (hq <= 0 || hkv <= 0 || q.dims()[2] % hq || k->dims()[2] % hkv ||
        v->dims()[2] % hkv)
      return ctx.error("q_num_heads and kv_num_heads must divide the hidden "
                       "sizes");
    s = q.dims()[1];
    t = k->dims()[1];
    e = q.dims()[2] / hq;
    ev = v->dims()[2] / hkv;
    if (k->dims()[2] / hkv != e || v->dims()[1] != t)
      return ctx.error("K and V do not match Q");
  }
  if (k->dims()[0] != batch || v->dims()[0] != batch || hq % hkv != 0)
    return ctx.error("batch sizes differ or kv heads do not divide q heads");
  double scale = ctx.hasAttr("scale") ? ctx.attrFloat("scale", 1.0f)
                                      : 1.0 / std::sqrt(double(e));
  bool causal = ctx.attrInt("is_causal", 0) != 0;
  // Element (b, h, i, j) of the mask, broadcast from its trailing dims.
  std::vector<int64_t> maskStrides;
  std::optional<Loaded<C>> additive;
  std::optional<View<uint8_t>> keep;
  if (mask) {
    if (mask->dims().size() > 4)
      return ctx.error("the mask has more than 4 dims");
    maskStrides = broadcastStrides(mask->dims(), {batch, hq, s, t});
    if (mask->dtype() == DataType::Bool)
      keep.emplace(*mask);
    else if (mask->dtype() == q.dtype())
      additive.emplace(*mask);
    else
      return ctx.error("the mask is neither bool nor Q's element type");
  }
  // Offsets of (b, h, i, d) in Q, K, V for either layout.
  auto at = [&](int64_t heads, int64_t len, int64_t width, int64_t b, int64_t h,
                int64_t i, int64_t d) {
    return rank == 4 ? ((b * heads + h) * len + i) * width + d
                     : (b * len + i) * heads * width + h * width + d;
  };
  Loaded<C> lq(q), lk(*k), lv(*v);
  std::vector<int64_t> outDims = rank == 4
                                     ? std::vector<int64_t>{batch, hq, s, ev}
                                     : std::vector<int64_t>{batch, s, hq * ev};
  std::vector<C> out(static_cast<size_t>(batch * hq * s * ev));
  std::vector<double> row(static_cast<size_t>(t));
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hq; ++h) {
      int64_t g = h / (hq / hkv);
      for (int64_t i = 0; i < s; ++i) {
        double mx = -inf;
        for (int64_t j = 0; j < t; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < e; ++d)
            dot += double(lq[at(hq, s, e, b, h, i, d)]) *
                   double(lk[at(hkv, t, e, b, g, j, d)]);
          double x = dot * scale;
          int64_t mo = mask ? b * maskStrides[0] + h * maskStrides[1] +
                                  i * maskStrides[2] + j * maskStrides[3]
                            : 0;
          if ((causal && j > i) || (keep && (*keep)[mo] == 0))
            x = -inf;
          else if (additive)
            x += double((*additive)[mo]);
          row[j] = x;
          mx = std::max(mx, x);
        }
        double sum = 0;
        for (int64_t j = 0; j < t; ++j) {
          row[j] = mx == -inf ? 0 : std::exp(row[j] - mx);
          sum += row[j];
        }
        for (int64_t d = 0; d < ev; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < t; ++j)
            acc += row[j] * double(lv[at(hkv, t, ev, b, g, j, d)]);
          out[at(hq, s, ev, b, h, i, d)] = C(sum > 0 ? acc / sum : 0);
        }
      }
    }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr y, store<C>(ctx, q.dtype(), outDims, out));
  ctx.setOutput(0, y);
  return absl::OkStatus();
}
absl::Status kAttention(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *q, ctx.required(0));
  FLOAT_DISPATCH(q->dtype(), attentionImpl<C>(ctx));
}

enum class SoftKind { Softmax, LogSoftmax, Hardmax };

/// The softmax family: before opset 13 the input is coerced to 2-D at `axis`
/// (default 1); from 13 on it works along `axis` (default -1).
template <class C> absl::Status softmaxImpl(KernelContext &ctx, SoftKind kind) {
  const Tensor &x = *ctx.input(0);
  bool legacy = ctx.sinceVersion() < 13;
  int64_t r = int64_t(x.dims().size()),
          axis = ctx.attrInt("axis", legacy ? 1 : -1);
  if (r == 0 ? axis != 0 && axis != -1 : !normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  int64_t outer, len, inner;
  if (legacy) {
    outer = product(x.dims(), 0, size_t(axis));
    len = product(x.dims(), size_t(axis));
    inner = 1;
  } else {
    outer = product(x.dims(), 0, size_t(axis));
    len = r ? x.dims()[axis] : 1;
    inner = product(x.dims(), size_t(axis) + 1);
  }
  Loaded<C> lx(x);
  std::vector<C> out(static_cast<size_t>(x.numElements()));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < inner; ++c) {
      auto at = [&](int64_t j) { return (o * len + j) * inner + c; };
      C mx = -std::numeric_limits<C>::infinity();
      int64_t arg = 0;
      for (int64_t j = 0; j < len; ++j)
        if (lx[at(j)] > mx) {
          mx = lx[at(j)];
          arg = j;
        }
      if (kind == SoftKind::Hardmax) {
        for (int64_t j = 0; j < len; ++j)
          out[at(j)] = j == arg ? C(1) : C(0);
        continue;
      }
      C sum = 0;
      for (int64_t j = 0; j < len; ++j)
        sum += std::exp(lx[at(j)] - mx);
      for (int64_t j = 0; j < len; ++j)
        out[at(j)] = kind == SoftKind::Softmax ? std::exp(lx[at(j)] - mx) / sum
                                               : lx[at(j)] - mx - std::log(sum);
    }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           store<C>(ctx, x.dtype(), x.dims(), out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}
absl::Status kSoftmax(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), softmaxImpl<C>(ctx, SoftKind::Softmax));
}
absl::Status kLogSoftmax(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), softmaxImpl<C>(ctx, SoftKind::LogSoftmax));
}
absl::Status kHardmax(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), softmaxImpl<C>(ctx, SoftKind::Hardmax));
}

template <class C> absl::Status lrnImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0);
  if (x.dims().size() < 3)
    return ctx.error("input rank must be >= 3");
  int64_t size = ctx.attrInt("size", 0);
  if (size <= 0)
    return ctx.error("size must be positive");
  C alpha = C(ctx.attrFloat("alpha", 1e-4f)),
    beta = C(ctx.attrFloat("beta", 0.75f)),
    bias = C(ctx.attrFloat("bias", 1.0f));
  int64_t N = x.dims()[0], Ch = x.dims()[1], sp = product(x.dims(), 2);
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  Loaded<C> lx(x);
  std::vector<C> out(static_cast<size_t>(x.numElements()));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < Ch; ++c)
      for (int64_t p = 0; p < sp; ++p) {
        C s = 0;
        for (int64_t k = std::max<int64_t>(0, c - lo);
             k <= std::min(Ch - 1, c + hi); ++k) {
          C v = lx[(n * Ch + k) * sp + p];
          s += v * v;
        }
        int64_t i = (n * Ch + c) * sp + p;
        out[i] = lx[i] / std::pow(bias + alpha / C(size) * s, beta);
      }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           store<C>(ctx, x.dtype(), x.dims(), out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}
absl::Status kLRN(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), lrnImpl<C>(ctx));
}

template <class C> absl::Status mvnImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0);
  std::vector<int64_t> axes = ctx.hasAttr("axes")
                                  ? ctx.attrInts("axes")
                                  : std::vector<int64_t>{0, 2, 3};
  int64_t r = int64_t(x.dims().size());
  std::vector<bool> red(static_cast<size_t>(r), false);
  for (int64_t a : axes) {
    if (!normalizeAxis(a, r))
      return ctx.error("axis out of range");
    red[a] = true;
  }
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < r; ++i)
    kept.push_back(red[i] ? 1 : x.dims()[i]);
  std::vector<int64_t> ks = stridesOf(kept);
  std::array<std::vector<int64_t>, 1> st;
  for (int64_t i = 0; i < r; ++i)
    st[0].push_back(red[i] ? 0 : ks[i]);
  int64_t groups = product(kept), per = groups ? x.numElements() / groups : 0;
  Loaded<C> lx(x);
  std::vector<double> s(static_cast<size_t>(groups), 0),
      sq(static_cast<size_t>(groups), 0);
  forEachBroadcast<1>(x.dims(), st,
                      [&](int64_t i, const std::array<int64_t, 1> &o) {
                        s[o[0]] += lx[i];
                        sq[o[0]] += double(lx[i]) * lx[i];
                      });
  std::vector<C> out(static_cast<size_t>(x.numElements()));
  forEachBroadcast<1>(
      x.dims(), st, [&](int64_t i, const std::array<int64_t, 1> &o) {
        double m = s[o[0]] / double(per), v = sq[o[0]] / double(per) - m * m;
        out[i] = C((lx[i] - m) / (std::sqrt(std::max(v, 0.0)) + 1e-9));
      });
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           store<C>(ctx, x.dtype(), x.dims(), out));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}
absl::Status kMeanVarianceNormalization(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), mvnImpl<C>(ctx));
}

// ------------------------------------------------------------------ losses

/// NegativeLogLikelihoodLoss on log-probabilities lp [N, C, d...]; shared by
/// SoftmaxCrossEntropyLoss.
template <class C>
absl::StatusOr<TensorPtr> nllLoss(KernelContext &ctx, const std::vector<C> &lp,
                                  const std::vector<int64_t> &dims,
                                  const Tensor &target, const Tensor *weight,
                                  DataType outType) {
  if (dims.size() < 2)
    return ctx.error("input rank must be >= 2");
  int64_t N = dims[0], Ch = dims[1], sp = product(dims, 2);
  std::vector<int64_t> t = toInt64s(target);
  if (int64_t(t.size()) != N * sp)
    return ctx.error("target shape does not match the input");
  std::optional<Loaded<C>> w;
  if (weight)
    w.emplace(*weight);
  bool hasIgnore = ctx.hasAttr("ignore_index");
  int64_t ignore = ctx.attrInt("ignore_index", 0);
  std::string reduction = ctx.attrString("reduction", "mean");
  std::vector<C> loss(static_cast<size_t>(N * sp));
  double sum = 0, wsum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < sp; ++p) {
      int64_t c = t[n * sp + p];
      if (hasIgnore && c == ignore) {
        loss[n * sp + p] = 0;
        continue;
      }
      if (c < 0 || c >= Ch)
        return ctx.error("target class out of range");
      C wc = w ? (*w)[c] : C(1);
      C l = -lp[(n * Ch + c) * sp + p] * wc;
      loss[n * sp + p] = l;
      sum += double(l);
      wsum += double(wc);
    }
  if (reduction == "none") {
    std::vector<int64_t> od = {N};
    od.insert(od.end(), dims.begin() + 2, dims.end());
    return store<C>(ctx, outType, od, loss);
  }
  C v = reduction == "sum" ? C(sum) : C(wsum == 0 ? 0 : sum / wsum);
  return store<C>(ctx, outType, {}, std::vector<C>{v});
}

template <class C> absl::Status nllImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0);
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *target, ctx.required(1));
  Loaded<C> lx(x);
  std::vector<C> lp(lx.data(), lx.data() + x.numElements());
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, nllLoss<C>(ctx, lp, x.dims(), *target,
                                                   ctx.input(2), x.dtype()));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}
absl::Status kNegativeLogLikelihoodLoss(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), nllImpl<C>(ctx));
}

template <class C> absl::Status sceImpl(KernelContext &ctx) {
  const Tensor &x = *ctx.input(0);
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *target, ctx.required(1));
  if (x.dims().size() < 2)
    return ctx.error("input rank must be >= 2");
  int64_t N = x.dims()[0], Ch = x.dims()[1], sp = product(x.dims(), 2);
  Loaded<C> lx(x);
  std::vector<C> lp(static_cast<size_t>(x.numElements()));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < sp; ++p) {
      C mx = -std::numeric_limits<C>::infinity();
      for (int64_t c = 0; c < Ch; ++c)
        mx = std::max(mx, lx[(n * Ch + c) * sp + p]);
      C s = 0;
      for (int64_t c = 0; c < Ch; ++c)
        s += std::exp(lx[(n * Ch + c) * sp + p] - mx);
      C ls = std::log(s);
      for (int64_t c = 0; c < Ch; ++c)
        lp[(n * Ch + c) * sp + p] = lx[(n * Ch + c) * sp + p] - mx - ls;
    }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, nllLoss<C>(ctx, lp, x.dims(), *target,
                                                   ctx.input(2), x.dtype()));
  ctx.setOutput(0, t);
  if (ctx.wantsOutput(1)) {
    ONNXOPT_ASSIGN_OR_RETURN(TensorPtr l,
                             store<C>(ctx, x.dtype(), x.dims(), lp));
    ctx.setOutput(1, l);
  }
  return absl::OkStatus();
}
absl::Status kSoftmaxCrossEntropyLoss(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  FLOAT_DISPATCH(x->dtype(), sceImpl<C>(ctx));
}

} // namespace

absl::Status convKernel(KernelContext &ctx) { return kConv(ctx); }
absl::Status gemmKernel(KernelContext &ctx) { return kGemm(ctx); }
absl::Status matmulKernel(KernelContext &ctx) { return kMatMul(ctx); }

void registerNNKernels(KernelMap &m) {
  m["AveragePool"] = kAveragePool;
  m["BatchNormalization"] = kBatchNormalization;
  m["Conv"] = kConv;
  m["ConvTranspose"] = kConvTranspose;
  m["Gemm"] = kGemm;
  m["GlobalAveragePool"] = kGlobalAveragePool;
  m["GlobalMaxPool"] = kGlobalMaxPool;
  m["Hardmax"] = kHardmax;
  m["InstanceNormalization"] = kInstanceNormalization;
  m["LayerNormalization"] = kLayerNormalization;
  m["RMSNormalization"] = kRMSNormalization;
  m["Attention"] = kAttention;
  m["LogSoftmax"] = kLogSoftmax;
  m["LRN"] = kLRN;
  m["MatMul"] = kMatMul;
  m["MaxPool"] = kMaxPool;
  m["MeanVarianceNormalization"] = kMeanVarianceNormalization;
  m["NegativeLogLikelihoodLoss"] = kNegativeLogLikelihoodLoss;
  m["Softmax"] = kSoftmax;
  m["SoftmaxCrossEntropyLoss"] = kSoftmaxCrossEntropyLoss;
}

} // namespace onnxopt::ref
