// Helpers shared by the fusion passes.
#include "passes/fusion/FusionUtils.h"

#include <cstring>

#include "backends/reference/TensorUtil.h"

namespace onnxopt {

std::shared_ptr<const Tensor>
makeFloatTensor(DataType dt, std::vector<int64_t> dims,
                const std::vector<double> &values) {
  ref::NewTensor out(dt, std::move(dims));
  switch (dt) {
    REF_FLOATS({
      for (int64_t i = 0; i < out.size(); ++i)
        out.data<T>()[i] = T(ref::Compute<T>(values[i]));
    })
  default:
    break;
  }
  return out.finish();
}

namespace {

template <class T>
void scaleInto(const char *src, T *dst, const std::vector<double> &s,
               int64_t outer, int64_t inner) {
  int64_t channels = int64_t(s.size()), i = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      double f = s[size_t(c)];
      for (int64_t k = 0; k < inner; ++k, ++i) {
        T x;
        std::memcpy(&x, src + size_t(i) * sizeof(T), sizeof(T));
        dst[i] = T(ref::Compute<T>(double(ref::Compute<T>(x)) * f));
      }
    }
}

} // namespace

std::shared_ptr<const Tensor> scaleBlocks(const Tensor &w,
                                          const std::vector<double> &s,
                                          int64_t outer, int64_t inner) {
  ref::NewTensor out(w.dtype(), w.dims());
  const char *src = w.bytes().data();
  switch (w.dtype()) {
    REF_FLOATS({ scaleInto<T>(src, out.data<T>(), s, outer, inner); })
  default:
    break;
  }
  return out.finish();
}

std::vector<double> constantValues(const Value &v) {
  return ref::toDoubles(*v.tensor());
}

std::optional<std::vector<double>> valuesAlongAxis(const Value &c, size_t rank,
                                                   size_t axis, int64_t count) {
  if (!isConstantTensor(&c))
    return std::nullopt;
  const std::vector<int64_t> &d = c.tensor()->dims();
  if (d.size() > rank || axis >= rank)
    return std::nullopt;
  // Right-align against the result: every dim is 1 except possibly `axis`,
  // which must then be `count`.
  size_t off = rank - d.size();
  int64_t along = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == 1)
      continue;
    if (off + i != axis || d[i] != count)
      return std::nullopt;
    along = count;
  }
  std::vector<double> v = constantValues(c);
  if (along == 1)
    return std::vector<double>(size_t(count), v.at(0));
  return v;
}

std::optional<std::vector<double>> channelValues(const Value &c, size_t rank,
                                                 int64_t channels) {
  if (rank < 2)
    return std::nullopt;
  return valuesAlongAxis(c, rank, 1, channels);
}

} // namespace onnxopt
