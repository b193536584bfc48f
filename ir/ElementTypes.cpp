// Reading and building tensors by element type.
#include "ir/ElementTypes.h"

#include <algorithm>

namespace onnxopt {

std::vector<int64_t> toInt64s(const Tensor &t) {
  std::vector<int64_t> out;
  switch (t.dtype()) {
    REF_INTS({
      View<T> v(t);
      out.assign(v.data(), v.data() + v.size());
    })
  default:
    break;
  }
  return out;
}

std::vector<double> toDoubles(const Tensor &t) {
  std::vector<double> out;
  switch (t.dtype()) {
    REF_NUMERIC({
      View<T> v(t);
      out.reserve(static_cast<size_t>(v.size()));
      for (int64_t i = 0; i < v.size(); ++i)
        out.push_back(double(Compute<T>(v[i])));
    })
    REF_BOOL({
      View<T> v(t);
      for (int64_t i = 0; i < v.size(); ++i)
        out.push_back(v[i] ? 1.0 : 0.0);
    })
  default:
    break;
  }
  return out;
}

TensorPtr makeInt64s(const std::vector<int64_t> &values,
                     std::vector<int64_t> dims) {
  NewTensor t(DataType::Int64, std::move(dims));
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t.finish();
}

} // namespace onnxopt
