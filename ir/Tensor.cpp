// Tensor storage.
#include "ir/Tensor.h"

#include "utils/CheckedMath.h"

namespace onnxopt {

Tensor::Tensor(DataType dtype, std::vector<int64_t> dims,
               std::shared_ptr<const Buffer> buffer, size_t offset, size_t size)
    : dtype_(dtype), dims_(std::move(dims)), buffer_(std::move(buffer)),
      offset_(offset), size_(size) {}

Tensor Tensor::fromBytes(DataType dtype, std::vector<int64_t> dims,
                         std::string bytes) {
  size_t n = bytes.size();
  return Tensor(dtype, std::move(dims),
                std::make_shared<OwnedBuffer>(std::move(bytes)), 0, n);
}

Tensor Tensor::fromStrings(std::vector<int64_t> dims,
                           std::vector<std::string> elements) {
  Tensor t;
  t.dtype_ = DataType::String;
  t.dims_ = std::move(dims);
  t.strings_ = std::move(elements);
  return t;
}

int64_t Tensor::numElements() const {
  return checkedProduct(dims_).value_or(-1);
}

bool Tensor::isMapped() const {
  return dynamic_cast<const MappedFile *>(buffer_.get()) != nullptr;
}

bool Tensor::contentEquals(const Tensor &o) const {
  return dtype_ == o.dtype_ && dims_ == o.dims_ && bytes() == o.bytes() &&
         strings_ == o.strings_;
}

} // namespace onnxopt
