// Tensor storage.
#include "ir/Tensor.h"

#include "utils/CheckedMath.h"

#include <algorithm>
#include <cstring>

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
  if (dtype_ != o.dtype_ || dims_ != o.dims_ || size_ != o.size_ ||
      strings_ != o.strings_)
    return false;
  bool deferred =
      (buffer_ && buffer_->deferred()) || (o.buffer_ && o.buffer_->deferred());
  if (!deferred)
    return bytes() == o.bytes();
  if (offset_ == 0 && o.offset_ == 0 && size_ == buffer_->size() &&
      o.size_ == o.buffer_->size()) {
    auto same = buffer_->sameBytesAs(*o.buffer_);
    if (!same)
      same = o.buffer_->sameBytesAs(*buffer_);
    if (same)
      return *same;
  }
  // Random weights differ in their first bytes: compare 64 KiB at a time.
  constexpr size_t kPiece = 64 << 10;
  std::string a(std::min(size_, kPiece), '\0'), b(a.size(), '\0');
  for (size_t at = 0; at < size_; at += kPiece) {
    size_t n = std::min(kPiece, size_ - at);
    buffer_->read(offset_ + at, n, a.data());
    o.buffer_->read(o.offset_ + at, n, b.data());
    if (std::memcmp(a.data(), b.data(), n) != 0)
      return false;
  }
  return true;
}

} // namespace onnxopt
