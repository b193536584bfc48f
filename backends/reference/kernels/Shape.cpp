// Reference kernels that move elements: Shape, Reshape, Transpose, Concat,
// Split, Slice, Gather*, Scatter*, Expand, Tile, Pad, Range, Trilu, TopK, ...
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"
#include "utils/Parallel.h"

#include "absl/strings/str_cat.h"

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif
#include <algorithm>
#include <array>
#include <numeric>

namespace onnxopt::ref {

namespace {

/// Copies single elements from one tensor into a new one, for any element
/// type (strings included).
class Mover {
public:
  Mover(const Tensor &src, NewTensor &dst)
      : src_(src), dst_(dst), es_(elementSize(src.dtype())),
        s_(src.bytes().data()), d_(dst.data<char>()) {}
  void operator()(int64_t di, int64_t si) {
    switch (es_) {
    case 0:
      dst_.strings()[di] = src_.strings()[si];
      break;
    case 1:
      d_[di] = s_[si];
      break;
    case 2:
      std::memcpy(d_ + di * 2, s_ + si * 2, 2);
      break;
    case 4:
      std::memcpy(d_ + di * 4, s_ + si * 4, 4);
      break;
    case 8:
      std::memcpy(d_ + di * 8, s_ + si * 8, 8);
      break;
    default:
      std::memcpy(d_ + di * es_, s_ + si * es_, es_);
    }
  }
  /// Copies `n` consecutive elements.
  void run(int64_t di, int64_t si, int64_t n) {
    if (es_ == 0) {
      for (int64_t k = 0; k < n; ++k)
        dst_.strings()[di + k] = src_.strings()[si + k];
      return;
    }
    std::memcpy(d_ + di * es_, s_ + si * es_, size_t(n) * es_);
  }

private:
  const Tensor &src_;
  NewTensor &dst_;
  size_t es_;
  const char *s_;
  char *d_;
};

absl::StatusOr<TensorPtr> reshaped(KernelContext &ctx, const Tensor &x,
                                   std::vector<int64_t> dims) {
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x.dtype(), dims));
  if (out.size() != x.numElements())
    return ctx.error("the new shape has another element count");
  Mover(x, out).run(0, 0, out.size());
  return out.finish();
}

/// An int64 list from an optional input, or nullopt when absent.
std::optional<std::vector<int64_t>> intsInput(const KernelContext &ctx,
                                              size_t i) {
  const Tensor *t = ctx.input(i);
  if (!t)
    return std::nullopt;
  return toInt64s(*t);
}

} // namespace

absl::StatusOr<TensorPtr> concatTensors(KernelContext &ctx,
                                        const std::vector<const Tensor *> &ins,
                                        int64_t axis) {
  if (ins.empty())
    return ctx.error("needs at least one input");
  int64_t r = int64_t(ins[0]->dims().size());
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  std::vector<int64_t> dims = ins[0]->dims();
  dims[axis] = 0;
  for (const Tensor *t : ins) {
    if (int64_t(t->dims().size()) != r || t->dtype() != ins[0]->dtype())
      return ctx.error("inputs differ in rank or element type");
    for (int64_t d = 0; d < r; ++d)
      if (d != axis && t->dims()[d] != ins[0]->dims()[d])
        return ctx.error("inputs differ outside the concat axis");
    dims[axis] += t->dims()[axis];
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(ins[0]->dtype(), dims));
  int64_t outer = product(dims, 0, size_t(axis)),
          inner = product(dims, size_t(axis) + 1), offset = 0;
  for (const Tensor *t : ins) {
    int64_t chunk = t->dims()[axis] * inner;
    Mover mv(*t, out);
    for (int64_t o = 0; o < outer; ++o)
      mv.run(o * dims[axis] * inner + offset, o * chunk, chunk);
    offset += chunk;
  }
  return out.finish();
}

absl::StatusOr<std::vector<TensorPtr>>
splitTensor(KernelContext &ctx, const Tensor &x, int64_t axis,
            const std::vector<int64_t> &sizes) {
  int64_t len = x.dims()[axis];
  for (int64_t s : sizes)
    if (s < 0)
      return ctx.error("negative split size");
  if (std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != len)
    return ctx.error("split sizes do not add up to the axis length");
  int64_t outer = product(x.dims(), 0, size_t(axis)),
          inner = product(x.dims(), size_t(axis) + 1), offset = 0;
  std::vector<TensorPtr> parts;
  for (int64_t s : sizes) {
    std::vector<int64_t> dims = x.dims();
    dims[axis] = s;
    ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x.dtype(), dims));
    Mover mv(x, out);
    for (int64_t o = 0; o < outer; ++o)
      mv.run(o * s * inner, (o * len + offset) * inner, s * inner);
    offset += s;
    parts.push_back(out.finish());
  }
  return parts;
}

namespace {

absl::Status kIdentity(KernelContext &ctx) {
  if (!ctx.value(0))
    return ctx.error("input is missing");
  ctx.setOutputValue(0, *ctx.value(0));
  return absl::OkStatus();
}

absl::Status kShape(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t r = int64_t(x->dims().size());
  int64_t start = ctx.attrInt("start", 0), end = ctx.attrInt("end", r);
  auto clampAxis = [&](int64_t a) {
    if (a < 0)
      a += r;
    return std::clamp<int64_t>(a, 0, r);
  };
  start = clampAxis(start);
  end = clampAxis(end);
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back(x->dims()[i]);
  ctx.setOutput(0, makeInt64s(dims, {int64_t(dims.size())}));
  return absl::OkStatus();
}

absl::Status kSize(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ctx.setOutput(0, makeInt64s({x->numElements()}, {}));
  return absl::OkStatus();
}

absl::Status kReshape(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  std::vector<int64_t> shape =
      ctx.sinceVersion() < 5 ? ctx.attrInts("shape") : toInt64s(*ctx.input(1));
  bool allowZero = ctx.attrInt("allowzero", 0);
  int64_t known = 1, inferAt = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (i >= x->dims().size())
        return ctx.error("shape has a 0 past the input's rank");
      shape[i] = x->dims()[i];
    }
    if (shape[i] == -1) {
      if (inferAt >= 0)
        return ctx.error("shape has more than one -1");
      inferAt = int64_t(i);
      continue;
    }
    if (shape[i] < 0)
      return ctx.error("shape has a negative dimension");
    known *= shape[i];
  }
  if (inferAt >= 0) {
    if (known == 0 || x->numElements() % known)
      return ctx.error("cannot infer the -1 dimension");
    shape[inferAt] = x->numElements() / known;
  }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, reshaped(ctx, *x, shape));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

absl::Status kFlatten(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", 1);
  if (axis < 0)
    axis += r;
  if (axis < 0 || axis > r)
    return ctx.error("axis out of range");
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           reshaped(ctx, *x,
                                    {product(x->dims(), 0, size_t(axis)),
                                     product(x->dims(), size_t(axis))}));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

absl::Status kSqueeze(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t r = int64_t(x->dims().size());
  std::vector<int64_t> axes =
      ctx.sinceVersion() < 13
          ? ctx.attrInts("axes")
          : intsInput(ctx, 1).value_or(std::vector<int64_t>());
  std::vector<bool> drop(static_cast<size_t>(r), false);
  if (axes.empty())
    for (int64_t i = 0; i < r; ++i)
      drop[i] = x->dims()[i] == 1;
  for (int64_t a : axes) {
    if (!normalizeAxis(a, r) || x->dims()[a] != 1)
      return ctx.error("axis out of range or not of size 1");
    drop[a] = true;
  }
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < r; ++i)
    if (!drop[i])
      dims.push_back(x->dims()[i]);
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, reshaped(ctx, *x, dims));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

absl::Status kUnsqueeze(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  std::vector<int64_t> axes =
      ctx.sinceVersion() < 13
          ? ctx.attrInts("axes")
          : intsInput(ctx, 1).value_or(std::vector<int64_t>());
  int64_t r = int64_t(x->dims().size() + axes.size());
  std::vector<bool> ins(static_cast<size_t>(r), false);
  for (int64_t a : axes) {
    if (!normalizeAxis(a, r) || ins[a])
      return ctx.error("axes out of range or repeated");
    ins[a] = true;
  }
  std::vector<int64_t> dims;
  size_t k = 0;
  for (int64_t i = 0; i < r; ++i)
    dims.push_back(ins[i] ? 1 : x->dims()[k++]);
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t, reshaped(ctx, *x, dims));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

constexpr int64_t kTransposeTile = 32;

/// dst[j * dstStride + i] = src[i * srcStride + j] for an nRows x nCols block
/// of `Word`-sized elements (strides in elements), copied in cache-sized
/// tiles. Word-typed copies: a memcpy of a run-time size per element was a
/// library call each (ViT-B/16's weights took 0.5 s).
template <class Word>
void transposeBlock(const char *src, int64_t srcStride, char *dst,
                    int64_t dstStride, int64_t nRows, int64_t nCols) {
  constexpr size_t es = sizeof(Word);
  for (int64_t i0 = 0; i0 < nRows; i0 += kTransposeTile) {
    int64_t i1 = std::min(nRows, i0 + kTransposeTile);
    for (int64_t j0 = 0; j0 < nCols; j0 += kTransposeTile) {
      int64_t j1 = std::min(nCols, j0 + kTransposeTile);
      int64_t i = i0;
#if defined(__SSE2__)
      // 32-bit words (float weights, the common case): 4x4 blocks transposed
      // in registers, each row of a block one 16-byte load and store. Moves
      // and shuffles only: every bit pattern (NaN payloads too) is kept.
      if constexpr (es == 4) {
        size_t ss = size_t(srcStride) * 4, ds = size_t(dstStride) * 4;
        for (; i + 4 <= i1; i += 4) {
          int64_t j = j0;
          for (; j + 4 <= j1; j += 4) {
            const char *s = src + size_t(i) * ss + size_t(j) * 4;
            __m128 r0 = _mm_loadu_ps(reinterpret_cast<const float *>(s));
            __m128 r1 = _mm_loadu_ps(reinterpret_cast<const float *>(s + ss));
            __m128 r2 =
                _mm_loadu_ps(reinterpret_cast<const float *>(s + 2 * ss));
            __m128 r3 =
                _mm_loadu_ps(reinterpret_cast<const float *>(s + 3 * ss));
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            char *d = dst + size_t(j) * ds + size_t(i) * 4;
            _mm_storeu_ps(reinterpret_cast<float *>(d), r0);
            _mm_storeu_ps(reinterpret_cast<float *>(d + ds), r1);
            _mm_storeu_ps(reinterpret_cast<float *>(d + 2 * ds), r2);
            _mm_storeu_ps(reinterpret_cast<float *>(d + 3 * ds), r3);
          }
          for (int64_t ii = i; ii < i + 4; ++ii)
            for (int64_t jj = j; jj < j1; ++jj)
              std::memcpy(dst + size_t(jj) * ds + size_t(ii) * 4,
                          src + size_t(ii) * ss + size_t(jj) * 4, 4);
        }
      }
#endif
      for (; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) {
          Word w;
          std::memcpy(&w, src + size_t(i * srcStride + j) * es, es);
          std::memcpy(dst + size_t(j * dstStride + i) * es, &w, es);
        }
    }
  }
}

/// transposeBlock for 2-, 4- or 8-byte elements.
void transposeBlock(size_t es, const char *src, int64_t srcStride, char *dst,
                    int64_t dstStride, int64_t nRows, int64_t nCols) {
  if (es == 2)
    transposeBlock<uint16_t>(src, srcStride, dst, dstStride, nRows, nCols);
  else if (es == 4)
    transposeBlock<uint32_t>(src, srcStride, dst, dstStride, nRows, nCols);
  else
    transposeBlock<uint64_t>(src, srcStride, dst, dstStride, nRows, nCols);
}

/// The transpose of the last two axes of a tensor (weights stored [out, in],
/// possibly batched over leading axes), computed when its bytes are needed:
/// a folded weight that is only written out is produced a few MiB at a time
/// straight into the output file (ViT-B/16 has 311 MB of them). Output row j
/// of matrix b is column j of the operand's matrix b; bands of rows are shared
/// among the cores, each written by one thread: the same bytes at any count.
class TransposedBuffer final : public DeferredBuffer {
public:
  TransposedBuffer(const Tensor &x, int64_t batches, int64_t rows, int64_t cols,
                   size_t es)
      : DeferredBuffer(size_t(batches * rows * cols) * es), src_(x.buffer()),
        srcOffset_(x.byteOffset()), rows_(rows), cols_(cols), es_(es) {}
  size_t granule() const override { return size_t(rows_) * es_; }
  /// A transpose is a bijection: equal operands, equal results.
  std::optional<bool> sameBytesAs(const Buffer &other) const override {
    auto *o = dynamic_cast<const TransposedBuffer *>(&other);
    if (!o || !src_ || !o->src_ || o->rows_ != rows_ || o->cols_ != cols_ ||
        o->es_ != es_ || o->size() != size())
      return std::nullopt;
    return std::memcmp(src_->data() + srcOffset_,
                       o->src_->data() + o->srcOffset_, size()) == 0;
  }

protected:
  void produce(size_t offset, size_t size, char *dst) const override {
    const size_t rowBytes = size_t(rows_) * es_;
    const size_t matBytes = rowBytes * size_t(cols_);
    const char *base = src_->data() + srcOffset_;
    size_t at = offset, end = offset + size;
    while (at < end) {
      size_t b = at / matBytes, j = at % matBytes / rowBytes;
      size_t into = at % rowBytes;
      const char *mat = base + b * matBytes;
      char *out = dst + (at - offset);
      if (into != 0 || end - at < rowBytes) {
        // Part of a row: the whole row, then the part asked for.
        std::string row(rowBytes, '\0');
        transposeBlock(es_, mat + j * es_, cols_, row.data(), rows_, rows_, 1);
        size_t n = std::min(rowBytes - into, end - at);
        std::memcpy(out, row.data() + into, n);
        at += n;
        continue;
      }
      int64_t k =
          int64_t(std::min<size_t>(size_t(cols_) - j, (end - at) / rowBytes));
      int64_t bands = (k + kTransposeTile - 1) / kTransposeTile;
      // A thread per MiB at least: below that, starting one costs more.
      int64_t bandBytes = kTransposeTile * int64_t(rowBytes);
      parallelFor(bands, std::max<int64_t>(1, (1 << 20) / bandBytes),
                  [&](int64_t first, int64_t last) {
                    int64_t j0 = first * kTransposeTile;
                    int64_t j1 = std::min(k, last * kTransposeTile);
                    transposeBlock(es_, mat + (int64_t(j) + j0) * es_, cols_,
                                   out + size_t(j0) * rowBytes, rows_, rows_,
                                   j1 - j0);
                  });
      at += size_t(k) * rowBytes;
    }
  }

  /// Computed whole: the operand may be freed (an evaluator's activations).
  void computed() const override { src_.reset(); }

private:
  mutable std::shared_ptr<const Buffer> src_;
  size_t srcOffset_;
  int64_t rows_, cols_;
  size_t es_;
};

absl::Status kTranspose(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  size_t r = x->dims().size();
  std::vector<int64_t> perm = ctx.attrInts("perm");
  if (!ctx.hasAttr("perm"))
    for (size_t i = 0; i < r; ++i)
      perm.push_back(int64_t(r - 1 - i));
  if (perm.size() != r)
    return ctx.error("perm has the wrong length");
  std::vector<int64_t> dims(r), inStrides = stridesOf(x->dims());
  std::vector<bool> seen(r, false);
  for (size_t i = 0; i < r; ++i) {
    if (perm[i] < 0 || perm[i] >= int64_t(r) || seen[perm[i]])
      return ctx.error("perm is not a permutation");
    seen[perm[i]] = true;
    dims[i] = x->dims()[perm[i]];
  }
  // The common case, a matrix transpose (weights stored [out, in]), possibly
  // batched over leading axes: copied in cache-sized tiles, when the bytes
  // are needed.
  bool swapLast =
      r >= 2 && perm[r - 1] == int64_t(r - 2) && perm[r - 2] == int64_t(r - 1);
  for (size_t i = 0; swapLast && i + 2 < r; ++i)
    swapLast = perm[i] == int64_t(i);
  size_t es = elementSize(x->dtype());
  int64_t n = x->numElements();
  if (swapLast && (es == 2 || es == 4 || es == 8) && n > 0 && x->buffer()) {
    ONNXOPT_RETURN_IF_ERROR(ctx.checkOutput(x->dtype(), dims));
    int64_t rows = x->dims()[r - 2], cols = x->dims()[r - 1];
    auto buffer = std::make_shared<TransposedBuffer>(*x, n / (rows * cols),
                                                     rows, cols, es);
    if (buffer->size() < kAnonymousFrom)
      buffer->data(); // small: computed now, as any other kernel's output
    ctx.setOutput(0, std::make_shared<Tensor>(x->dtype(), dims, buffer, 0,
                                              buffer->size()));
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  std::array<std::vector<int64_t>, 1> st;
  st[0].resize(r);
  for (size_t i = 0; i < r; ++i)
    st[0][i] = inStrides[perm[i]];
  Mover mv(*x, out);
  forEachBroadcast<1>(
      dims, st,
      [&](int64_t i, const std::array<int64_t, 1> &o) { mv(i, o[0]); });
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kConcat(KernelContext &ctx) {
  std::vector<const Tensor *> ins;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    ONNXOPT_ASSIGN_OR_RETURN(const Tensor *t, ctx.required(i));
    ins.push_back(t);
  }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr t,
                           concatTensors(ctx, ins, ctx.attrInt("axis", 0)));
  ctx.setOutput(0, t);
  return absl::OkStatus();
}

absl::Status kSplit(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", 0);
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  std::vector<int64_t> split =
      ctx.sinceVersion() < 13
          ? ctx.attrInts("split")
          : intsInput(ctx, 1).value_or(std::vector<int64_t>());
  int64_t n = int64_t(ctx.numOutputs()), len = x->dims()[axis];
  if (split.empty()) {
    int64_t each = (len + n - 1) / n;
    for (int64_t i = 0; i < n; ++i)
      split.push_back(std::max<int64_t>(0, std::min(each, len - each * i)));
  }
  if (int64_t(split.size()) != n)
    return ctx.error("split has another number of entries than outputs");
  ONNXOPT_ASSIGN_OR_RETURN(auto parts, splitTensor(ctx, *x, axis, split));
  for (size_t i = 0; i < parts.size(); ++i)
    ctx.setOutput(i, parts[i]);
  return absl::OkStatus();
}

absl::Status kSlice(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t r = int64_t(x->dims().size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.sinceVersion() < 10) {
    starts = ctx.attrInts("starts");
    ends = ctx.attrInts("ends");
    axes = ctx.attrInts("axes");
  } else {
    if (!ctx.input(1) || !ctx.input(2))
      return ctx.error("starts and ends are required");
    starts = toInt64s(*ctx.input(1));
    ends = toInt64s(*ctx.input(2));
    axes = intsInput(ctx, 3).value_or(std::vector<int64_t>());
    steps = intsInput(ctx, 4).value_or(std::vector<int64_t>());
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(int64_t(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return ctx.error("starts, ends, axes and steps differ in length");
  std::vector<int64_t> begin(static_cast<size_t>(r), 0),
      step(static_cast<size_t>(r), 1), dims = x->dims();
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = axes[i];
    if (!normalizeAxis(a, r))
      return ctx.error("axis out of range");
    int64_t d = x->dims()[a], s = steps[i];
    if (s == 0)
      return ctx.error("step is 0");
    int64_t b = starts[i], e = ends[i];
    if (b < 0)
      b += d;
    if (e < 0)
      e += d;
    if (s > 0) {
      b = std::clamp<int64_t>(b, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      dims[a] = e > b ? (e - b + s - 1) / s : 0;
    } else {
      b = std::clamp<int64_t>(b, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      dims[a] = b > e ? (b - e - s - 1) / -s : 0;
    }
    begin[a] = b;
    step[a] = s;
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  std::vector<int64_t> inStrides = stridesOf(x->dims());
  std::array<std::vector<int64_t>, 1> st;
  int64_t base = 0;
  for (int64_t i = 0; i < r; ++i) {
    st[0].push_back(inStrides[i] * step[i]);
    base += begin[i] * inStrides[i];
  }
  Mover mv(*x, out);
  if (r > 0 && step[size_t(r - 1)] == 1) {
    // Unit step on the last axis (nearly every slice): copy whole rows.
    int64_t row = dims[size_t(r - 1)];
    std::vector<int64_t> rows = dims;
    rows[size_t(r - 1)] = 1;
    forEachBroadcast<1>(rows, st,
                        [&](int64_t i, const std::array<int64_t, 1> &o) {
                          mv.run(i * row, base + o[0], row);
                        });
  } else {
    forEachBroadcast<1>(dims, st,
                        [&](int64_t i, const std::array<int64_t, 1> &o) {
                          mv(i, base + o[0]);
                        });
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kGather(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *idx, ctx.required(1));
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", 0);
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  std::vector<int64_t> ind = toInt64s(*idx), dims;
  int64_t d = x->dims()[axis];
  for (int64_t &i : ind) {
    if (i < -d || i >= d)
      return ctx.error(absl::StrCat("index ", i, " out of range"));
    if (i < 0)
      i += d;
  }
  dims.insert(dims.end(), x->dims().begin(), x->dims().begin() + axis);
  dims.insert(dims.end(), idx->dims().begin(), idx->dims().end());
  dims.insert(dims.end(), x->dims().begin() + axis + 1, x->dims().end());
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  int64_t outer = product(x->dims(), 0, size_t(axis)),
          inner = product(x->dims(), size_t(axis) + 1), n = int64_t(ind.size());
  Mover mv(*x, out);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n; ++j)
      mv.run((o * n + j) * inner, (o * d + ind[j]) * inner, inner);
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

/// Coordinates of flat index `i` in `dims`.
void unravel(int64_t i, const std::vector<int64_t> &dims,
             std::vector<int64_t> &coord) {
  coord.resize(dims.size());
  for (size_t k = dims.size(); k-- > 0;) {
    coord[k] = dims[k] ? i % dims[k] : 0;
    i = dims[k] ? i / dims[k] : 0;
  }
}

absl::Status kGatherElements(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *idx, ctx.required(1));
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", 0);
  if (!normalizeAxis(axis, r) || int64_t(idx->dims().size()) != r)
    return ctx.error("axis out of range or ranks differ");
  std::vector<int64_t> ind = toInt64s(*idx), st = stridesOf(x->dims()), c;
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(x->dtype(), idx->dims()));
  Mover mv(*x, out);
  int64_t d = x->dims()[axis];
  for (int64_t i = 0; i < out.size(); ++i) {
    unravel(i, idx->dims(), c);
    int64_t k = ind[i];
    if (k < -d || k >= d)
      return ctx.error("index out of range");
    c[axis] = k < 0 ? k + d : k;
    int64_t src = 0;
    for (int64_t a = 0; a < r; ++a)
      src += c[a] * st[a];
    mv(i, src);
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kGatherND(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *idx, ctx.required(1));
  int64_t b = ctx.attrInt("batch_dims", 0), r = int64_t(x->dims().size()),
          q = int64_t(idx->dims().size());
  if (q < 1 || b >= std::min(r, q))
    return ctx.error("bad batch_dims or ranks");
  int64_t k = idx->dims().back();
  if (k > r - b)
    return ctx.error("index tuples are longer than the data rank");
  std::vector<int64_t> dims(idx->dims().begin(), idx->dims().end() - 1);
  dims.insert(dims.end(), x->dims().begin() + b + k, x->dims().end());
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  std::vector<int64_t> ind = toInt64s(*idx), st = stridesOf(x->dims());
  int64_t batch = product(x->dims(), 0, size_t(b));
  int64_t perBatch = product(idx->dims(), size_t(b), size_t(q - 1));
  int64_t slice = product(x->dims(), size_t(b + k));
  int64_t batchStride = product(x->dims(), size_t(b));
  Mover mv(*x, out);
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t j = 0; j < perBatch; ++j) {
      int64_t src = bi * batchStride;
      for (int64_t t = 0; t < k; ++t) {
        int64_t v = ind[(bi * perBatch + j) * k + t], d = x->dims()[b + t];
        if (v < -d || v >= d)
          return ctx.error("index out of range");
        src += (v < 0 ? v + d : v) * st[b + t];
      }
      mv.run((bi * perBatch + j) * slice, src, slice);
    }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

/// Applies a scatter reduction to one element.
template <class T> void reduceInto(T &dst, T v, const std::string &mode) {
  using C = Compute<T>;
  if (mode == "add")
    dst = T(C(dst) + C(v));
  else if (mode == "mul")
    dst = T(C(dst) * C(v));
  else if (mode == "max")
    dst = C(dst) < C(v) ? v : dst;
  else if (mode == "min")
    dst = C(v) < C(dst) ? v : dst;
  else
    dst = v;
}

absl::Status kScatterElements(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *idx, ctx.required(1));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *upd, ctx.required(2));
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", 0);
  if (!normalizeAxis(axis, r) || idx->dims() != upd->dims())
    return ctx.error("axis out of range or indices/updates shapes differ");
  std::string mode = ctx.attrString("reduction", "none");
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), x->dims()));
  Mover(*x, out).run(0, 0, out.size());
  std::vector<int64_t> ind = toInt64s(*idx), st = stridesOf(x->dims()), c;
  int64_t d = x->dims()[axis];
  switch (x->dtype()) {
    REF_ALL_POD({
      View<T> u(*upd);
      T *o = out.data<T>();
      for (int64_t i = 0; i < u.size(); ++i) {
        unravel(i, idx->dims(), c);
        int64_t k = ind[i];
        if (k < -d || k >= d)
          return ctx.error("index out of range");
        c[axis] = k < 0 ? k + d : k;
        int64_t dst = 0;
        for (int64_t a = 0; a < r; ++a)
          dst += c[a] * st[a];
        reduceInto(o[dst], u[i], mode);
      }
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kScatterND(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *idx, ctx.required(1));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *upd, ctx.required(2));
  std::string mode = ctx.attrString("reduction", "none");
  int64_t k = idx->dims().empty() ? 0 : idx->dims().back();
  if (k > int64_t(x->dims().size()))
    return ctx.error("index tuples are longer than the data rank");
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), x->dims()));
  Mover(*x, out).run(0, 0, out.size());
  std::vector<int64_t> ind = toInt64s(*idx), st = stridesOf(x->dims());
  int64_t n = k ? int64_t(ind.size()) / k : 0,
          slice = product(x->dims(), size_t(k));
  switch (x->dtype()) {
    REF_ALL_POD({
      View<T> u(*upd);
      T *o = out.data<T>();
      for (int64_t j = 0; j < n; ++j) {
        int64_t dst = 0;
        for (int64_t t = 0; t < k; ++t) {
          int64_t v = ind[j * k + t], d = x->dims()[t];
          if (v < -d || v >= d)
            return ctx.error("index out of range");
          dst += (v < 0 ? v + d : v) * st[t];
        }
        for (int64_t e = 0; e < slice; ++e)
          reduceInto(o[dst + e], u[j * slice + e], mode);
      }
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kExpand(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *s, ctx.required(1));
  std::vector<int64_t> shape = toInt64s(*s);
  size_t r = std::max(shape.size(), x->dims().size());
  std::vector<int64_t> dims(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t a =
        i < r - x->dims().size() ? 1 : x->dims()[i - (r - x->dims().size())];
    int64_t b = i < r - shape.size() ? 1 : shape[i - (r - shape.size())];
    if (a != b && a != 1 && b != 1)
      return ctx.error("shape does not broadcast with the input");
    dims[i] = a == 1 ? b : a;
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  std::array<std::vector<int64_t>, 1> st{broadcastStrides(x->dims(), dims)};
  Mover mv(*x, out);
  forEachBroadcast<1>(
      dims, st,
      [&](int64_t i, const std::array<int64_t, 1> &o) { mv(i, o[0]); });
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kTile(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *rep, ctx.required(1));
  std::vector<int64_t> reps = toInt64s(*rep), dims = x->dims();
  if (reps.size() != dims.size())
    return ctx.error("repeats length differs from the input rank");
  for (size_t i = 0; i < dims.size(); ++i) {
    if (reps[i] < 0)
      return ctx.error("negative repeat");
    dims[i] *= reps[i];
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  std::vector<int64_t> st = stridesOf(x->dims()), c;
  Mover mv(*x, out);
  for (int64_t i = 0; i < out.size(); ++i) {
    unravel(i, dims, c);
    int64_t src = 0;
    for (size_t a = 0; a < dims.size(); ++a)
      src += (c[a] % x->dims()[a]) * st[a];
    mv(i, src);
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kPad(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t r = int64_t(x->dims().size());
  std::string mode = ctx.attrString("mode", "constant");
  std::vector<int64_t> pads =
      ctx.sinceVersion() < 11
          ? ctx.attrInts(ctx.sinceVersion() < 2 ? "paddings" : "pads")
          : intsInput(ctx, 1).value_or(std::vector<int64_t>());
  if (auto axes = intsInput(ctx, 3)) {
    // Pad 18: pads for the listed axes only.
    if (pads.size() != 2 * axes->size())
      return ctx.error("pads must have twice as many entries as axes");
    std::vector<int64_t> full(static_cast<size_t>(2 * r), 0);
    for (size_t i = 0; i < axes->size(); ++i) {
      int64_t a = (*axes)[i];
      if (!normalizeAxis(a, r))
        return ctx.error("axis out of range");
      full[a] = pads[i];
      full[a + r] = pads[i + axes->size()];
    }
    pads = std::move(full);
  }
  if (int64_t(pads.size()) != 2 * r)
    return ctx.error("pads must have twice the input rank entries");
  std::vector<int64_t> dims(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) {
    dims[i] = x->dims()[i] + pads[i] + pads[i + r];
    if (dims[i] < 0)
      return ctx.error("pads remove more than the dimension");
    if (mode != "constant" && x->dims()[i] == 0 && dims[i] > 0)
      return ctx.error("cannot reflect or edge-pad an empty dimension");
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  std::vector<int64_t> st = stridesOf(x->dims()), c;
  switch (x->dtype()) {
    REF_ALL_POD({
      T fill{};
      if (ctx.sinceVersion() < 11)
        fill = T(Compute<T>(ctx.attrFloat("value", 0.0f)));
      else if (const Tensor *v = ctx.input(2); v && v->numElements() == 1)
        fill = View<T>(*v)[0];
      View<T> in(*x);
      T *o = out.data<T>();
      for (int64_t i = 0; i < out.size(); ++i) {
        unravel(i, dims, c);
        int64_t src = 0;
        bool outside = false;
        for (int64_t a = 0; a < r; ++a) {
          int64_t p = c[a] - pads[a], d = x->dims()[a];
          if (p < 0 || p >= d) {
            if (mode == "constant") {
              outside = true;
              break;
            }
            if (mode == "edge") {
              p = std::clamp<int64_t>(p, 0, d - 1);
            } else { // reflect, without repeating the edge
              if (d == 1) {
                p = 0;
              } else {
                int64_t period = 2 * (d - 1);
                p = ((p % period) + period) % period;
                if (p >= d)
                  p = period - p;
              }
            }
          }
          src += p * st[a];
        }
        o[i] = outside ? fill : in[src];
      }
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kConstantOfShape(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *s, ctx.required(0));
  std::vector<int64_t> dims = toInt64s(*s);
  const Attribute *a = ctx.node().attr("value");
  const Tensor *v = a && !a->tensors.empty() ? a->tensors[0].get() : nullptr;
  DataType dt = v ? v->dtype() : DataType::Float;
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(dt, dims));
  if (v) {
    if (v->numElements() != 1)
      return ctx.error("value must hold one element");
    size_t es = elementSize(dt);
    char *o = out.data<char>();
    for (int64_t i = 0; i < out.size(); ++i)
      std::memcpy(o + i * es, v->bytes().data(), es);
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kConstant(KernelContext &ctx) {
  for (const Attribute &a : ctx.node().attrs()) {
    if (a.name == "value" && !a.tensors.empty()) {
      ctx.setOutput(0, a.tensors[0]);
      return absl::OkStatus();
    }
    if (a.name == "value_float") {
      NewTensor t(DataType::Float, {});
      *t.data<float>() = a.f;
      ctx.setOutput(0, t.finish());
      return absl::OkStatus();
    }
    if (a.name == "value_floats") {
      NewTensor t(DataType::Float, {int64_t(a.floats.size())});
      std::copy(a.floats.begin(), a.floats.end(), t.data<float>());
      ctx.setOutput(0, t.finish());
      return absl::OkStatus();
    }
    if (a.name == "value_int") {
      ctx.setOutput(0, makeInt64s({a.i}, {}));
      return absl::OkStatus();
    }
    if (a.name == "value_ints") {
      ctx.setOutput(0, makeInt64s(a.ints, {int64_t(a.ints.size())}));
      return absl::OkStatus();
    }
    if (a.name == "value_string") {
      ctx.setOutput(0,
                    std::make_shared<Tensor>(Tensor::fromStrings({}, {a.s})));
      return absl::OkStatus();
    }
    if (a.name == "value_strings") {
      ctx.setOutput(0, std::make_shared<Tensor>(Tensor::fromStrings(
                           {int64_t(a.strings.size())}, a.strings)));
      return absl::OkStatus();
    }
  }
  return unsupported("node '", ctx.node().name,
                     "' (Constant): this value attribute (sparse_value) is not "
                     "supported by the reference interpreter");
}

absl::Status kRange(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *s, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *l, ctx.required(1));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *d, ctx.required(2));
  switch (s->dtype()) {
    REF_NUMERIC({
      using C = Compute<T>;
      C start = C(View<T>(*s)[0]), limit = C(View<T>(*l)[0]),
        delta = C(View<T>(*d)[0]);
      if (delta == C(0))
        return ctx.error("delta is 0");
      double n = std::ceil((double(limit) - double(start)) / double(delta));
      int64_t count = n > 0 ? int64_t(n) : 0;
      ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                               ctx.allocate(s->dtype(), {count}));
      for (int64_t i = 0; i < count; ++i)
        out.data<T>()[i] = T(C(start + C(i) * delta));
      ctx.setOutput(0, out.finish());
    })
  default:
    return ctx.unsupportedType(s->dtype());
  }
  return absl::OkStatus();
}

absl::Status kTrilu(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  if (x->dims().size() < 2)
    return ctx.error("input rank must be at least 2");
  int64_t k = ctx.input(1) ? toInt64s(*ctx.input(1)).at(0) : 0;
  bool upper = ctx.attrInt("upper", 1);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), x->dims()));
  size_t r = x->dims().size();
  int64_t rows = x->dims()[r - 2], cols = x->dims()[r - 1];
  Mover mv(*x, out);
  for (int64_t i = 0; i < out.size(); ++i) {
    int64_t col = i % cols, row = (i / cols) % rows;
    bool keep = upper ? col - row >= k : col - row <= k;
    if (keep)
      mv(i, i);
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status depthSpace(KernelContext &ctx, bool toSpace) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  if (x->dims().size() != 4)
    return ctx.error("input must be 4-D");
  int64_t b = ctx.attrInt("blocksize", 0);
  if (b <= 0)
    return ctx.error("blocksize must be positive");
  int64_t n = x->dims()[0], c = x->dims()[1], h = x->dims()[2],
          w = x->dims()[3];
  bool crd = ctx.attrString("mode", "DCR") == "CRD";
  std::vector<int64_t> dims;
  if (toSpace) {
    if (c % (b * b))
      return ctx.error("channels not divisible by blocksize^2");
    dims = {n, c / (b * b), h * b, w * b};
  } else {
    if (h % b || w % b)
      return ctx.error("spatial dims not divisible by blocksize");
    dims = {n, c * b * b, h / b, w / b};
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  Mover mv(*x, out);
  std::vector<int64_t> q;
  for (int64_t i = 0; i < out.size(); ++i) {
    unravel(i, dims, q);
    int64_t src;
    if (toSpace) {
      int64_t oc = q[1], oh = q[2], ow = q[3], bh = oh % b, bw = ow % b;
      int64_t cc =
          crd ? oc * b * b + bh * b + bw : (bh * b + bw) * dims[1] + oc;
      src = ((q[0] * c + cc) * h + oh / b) * w + ow / b;
    } else {
      int64_t oc = q[1], cc = oc % c, blk = oc / c, bh = blk / b, bw = blk % b;
      src = ((q[0] * c + cc) * h + q[2] * b + bh) * w + q[3] * b + bw;
    }
    mv(i, src);
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}
absl::Status kDepthToSpace(KernelContext &ctx) { return depthSpace(ctx, true); }
absl::Status kSpaceToDepth(KernelContext &ctx) {
  return depthSpace(ctx, false);
}

absl::Status kOneHot(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *idx, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *depthT, ctx.required(1));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *vals, ctx.required(2));
  std::vector<double> ind = toDoubles(*idx), depthV = toDoubles(*depthT);
  if (depthV.size() != 1 || vals->numElements() != 2)
    return ctx.error("depth must be a scalar and values hold two elements");
  int64_t depth = int64_t(depthV[0]);
  int64_t r = int64_t(idx->dims().size()) + 1, axis = ctx.attrInt("axis", -1);
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  std::vector<int64_t> dims = idx->dims();
  dims.insert(dims.begin() + axis, depth);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(vals->dtype(), dims));
  int64_t outer = product(idx->dims(), 0, size_t(axis)),
          inner = product(idx->dims(), size_t(axis));
  Mover mv(*vals, out);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t dd = 0; dd < depth; ++dd)
      for (int64_t in = 0; in < inner; ++in) {
        int64_t k = int64_t(ind[o * inner + in]);
        if (k < 0)
          k += depth;
        mv((o * depth + dd) * inner + in, k == dd ? 1 : 0);
      }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kCompress(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *cond, ctx.required(1));
  View<uint8_t> c(*cond);
  bool hasAxis = ctx.hasAttr("axis");
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", 0);
  std::vector<int64_t> dims = x->dims();
  int64_t outer = 1, len = x->numElements(), inner = 1;
  if (hasAxis) {
    if (!normalizeAxis(axis, r))
      return ctx.error("axis out of range");
    outer = product(x->dims(), 0, size_t(axis));
    len = x->dims()[axis];
    inner = product(x->dims(), size_t(axis) + 1);
  }
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < std::min<int64_t>(len, c.size()); ++i)
    if (c[i])
      keep.push_back(i);
  if (hasAxis)
    dims[axis] = int64_t(keep.size());
  else
    dims = {int64_t(keep.size())};
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), dims));
  Mover mv(*x, out);
  int64_t n = int64_t(keep.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n; ++j)
      mv.run((o * n + j) * inner, (o * len + keep[j]) * inner, inner);
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kNonZero(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  std::vector<double> v = toDoubles(*x);
  std::vector<int64_t> nz, c;
  for (int64_t i = 0; i < int64_t(v.size()); ++i)
    if (v[i] != 0)
      nz.push_back(i);
  int64_t r = int64_t(x->dims().size()), n = int64_t(nz.size());
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(DataType::Int64, {r, n}));
  for (int64_t j = 0; j < n; ++j) {
    unravel(nz[j], x->dims(), c);
    for (int64_t a = 0; a < r; ++a)
      out.data<int64_t>()[a * n + j] = c[a];
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kEyeLike(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  if (x->dims().size() != 2)
    return ctx.error("input must be 2-D");
  DataType dt = DataType(ctx.attrInt("dtype", int64_t(x->dtype())));
  int64_t k = ctx.attrInt("k", 0);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(dt, x->dims()));
  int64_t rows = x->dims()[0], cols = x->dims()[1];
  switch (dt) {
    REF_ALL_POD({
      for (int64_t i = 0; i < rows; ++i)
        if (i + k >= 0 && i + k < cols)
          out.data<T>()[i * cols + i + k] = T(Compute<T>(1));
    })
  default:
    return ctx.unsupportedType(dt);
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kDropout(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  bool training = false;
  if (const Tensor *t = ctx.input(2))
    training = View<uint8_t>(*t)[0] != 0;
  double ratio = ctx.input(1) ? toDoubles(*ctx.input(1)).at(0)
                              : ctx.attrFloat("ratio", 0.5f);
  if (training && ratio != 0)
    return unsupported("node '", ctx.node().name,
                       "' (Dropout): training mode is random and not "
                       "supported by the reference interpreter");
  ctx.setOutput(0, ctx.inputPtr(0));
  if (ctx.wantsOutput(1)) {
    ONNXOPT_ASSIGN_OR_RETURN(NewTensor m,
                             ctx.allocate(DataType::Bool, x->dims()));
    std::fill(m.data<uint8_t>(), m.data<uint8_t>() + m.size(), 1);
    ctx.setOutput(1, m.finish());
  }
  return absl::OkStatus();
}

absl::Status kCumSum(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *ax, ctx.required(1));
  int64_t r = int64_t(x->dims().size()), axis = toInt64s(*ax).at(0);
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  bool exclusive = ctx.attrInt("exclusive", 0),
       reverse = ctx.attrInt("reverse", 0);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), x->dims()));
  int64_t outer = product(x->dims(), 0, size_t(axis)), len = x->dims()[axis],
          inner = product(x->dims(), size_t(axis) + 1);
  switch (x->dtype()) {
    REF_NUMERIC({
      View<T> in(*x);
      T *o = out.data<T>();
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t c = 0; c < inner; ++c) {
          Compute<T> acc = 0;
          for (int64_t s = 0; s < len; ++s) {
            int64_t j = reverse ? len - 1 - s : s;
            int64_t at = (a * len + j) * inner + c;
            if (exclusive) {
              o[at] = T(acc);
              acc = Compute<T>(acc + Compute<T>(in[at]));
            } else {
              acc = Compute<T>(acc + Compute<T>(in[at]));
              o[at] = T(acc);
            }
          }
        }
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kReverseSequence(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *lens, ctx.required(1));
  int64_t ba = ctx.attrInt("batch_axis", 1), ta = ctx.attrInt("time_axis", 0);
  if (x->dims().size() < 2 || ba > 1 || ta > 1 || ba == ta)
    return ctx.error("bad batch_axis/time_axis");
  std::vector<int64_t> l = toInt64s(*lens), c, st = stridesOf(x->dims());
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x->dtype(), x->dims()));
  Mover mv(*x, out);
  for (int64_t i = 0; i < out.size(); ++i) {
    unravel(i, x->dims(), c);
    int64_t b = c[ba], t = c[ta];
    if (b >= int64_t(l.size()))
      return ctx.error("sequence_lens is too short");
    if (t < l[b])
      c[ta] = l[b] - 1 - t;
    int64_t src = 0;
    for (size_t a = 0; a < c.size(); ++a)
      src += c[a] * st[a];
    mv(i, src);
  }
  ctx.setOutput(0, out.finish());
  return absl::OkStatus();
}

absl::Status kTopK(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t k = ctx.sinceVersion() < 10 ? ctx.attrInt("k", 0)
                                      : toInt64s(*ctx.input(1)).at(0);
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", -1);
  bool largest = ctx.attrInt("largest", 1);
  if (!normalizeAxis(axis, r) || k < 0 || k > x->dims()[axis])
    return ctx.error("axis or k out of range");
  std::vector<int64_t> dims = x->dims();
  dims[axis] = k;
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor vals, ctx.allocate(x->dtype(), dims));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor inds, ctx.allocate(DataType::Int64, dims));
  int64_t outer = product(x->dims(), 0, size_t(axis)), len = x->dims()[axis],
          inner = product(x->dims(), size_t(axis) + 1);
  switch (x->dtype()) {
    REF_NUMERIC({
      View<T> in(*x);
      std::vector<int64_t> order(static_cast<size_t>(len));
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t c = 0; c < inner; ++c) {
          auto at = [&](int64_t j) {
            return Compute<T>(in[(a * len + j) * inner + c]);
          };
          std::iota(order.begin(), order.end(), 0);
          // Ties keep the lower index first, as the spec asks.
          std::stable_sort(order.begin(), order.end(),
                           [&](int64_t p, int64_t q) {
                             return largest ? at(p) > at(q) : at(p) < at(q);
                           });
          for (int64_t j = 0; j < k; ++j) {
            vals.data<T>()[(a * k + j) * inner + c] =
                in[(a * len + order[j]) * inner + c];
            inds.data<int64_t>()[(a * k + j) * inner + c] = order[j];
          }
        }
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, vals.finish());
  ctx.setOutput(1, inds.finish());
  return absl::OkStatus();
}

} // namespace

void registerShapeKernels(KernelMap &m) {
  m["Compress"] = kCompress;
  m["Concat"] = kConcat;
  m["Constant"] = kConstant;
  m["ConstantOfShape"] = kConstantOfShape;
  m["CumSum"] = kCumSum;
  m["DepthToSpace"] = kDepthToSpace;
  m["Dropout"] = kDropout;
  m["Expand"] = kExpand;
  m["EyeLike"] = kEyeLike;
  m["Flatten"] = kFlatten;
  m["Gather"] = kGather;
  m["GatherElements"] = kGatherElements;
  m["GatherND"] = kGatherND;
  m["Identity"] = kIdentity;
  m["NonZero"] = kNonZero;
  m["OneHot"] = kOneHot;
  m["Pad"] = kPad;
  m["Range"] = kRange;
  m["Reshape"] = kReshape;
  m["ReverseSequence"] = kReverseSequence;
  m["ScatterElements"] = kScatterElements;
  m["ScatterND"] = kScatterND;
  m["Shape"] = kShape;
  m["Size"] = kSize;
  m["Slice"] = kSlice;
  m["SpaceToDepth"] = kSpaceToDepth;
  m["Split"] = kSplit;
  m["Squeeze"] = kSqueeze;
  m["Tile"] = kTile;
  m["TopK"] = kTopK;
  m["Transpose"] = kTranspose;
  m["Trilu"] = kTrilu;
  m["Unsqueeze"] = kUnsqueeze;
  m["Scatter"] = kScatterElements;
}

} // namespace onnxopt::ref
