// Tensor storage: constant data that may be a view into a memory-mapped file.
#pragma once

#include "ir/Type.h"
#include "utils/MappedFile.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace onnxopt {

/// A constant tensor. Numeric data is little-endian bytes in ONNX raw_data
/// layout, held as a view into a shared Buffer (a file mapping or an owned heap
/// buffer), so weights loaded from a file are never copied. String tensors hold
/// their elements.
class Tensor {
public:
  Tensor() = default;
  /// A view of `size` bytes at `offset` into `buffer`.
  Tensor(DataType dtype, std::vector<int64_t> dims,
         std::shared_ptr<const Buffer> buffer, size_t offset, size_t size);
  /// A tensor owning `bytes`.
  static Tensor fromBytes(DataType dtype, std::vector<int64_t> dims,
                          std::string bytes);
  /// A string tensor.
  static Tensor fromStrings(std::vector<int64_t> dims,
                            std::vector<std::string> elements);

  DataType dtype() const { return dtype_; }
  const std::vector<int64_t> &dims() const { return dims_; }
  /// Number of elements (the loader has checked that it does not overflow).
  int64_t numElements() const;
  /// Raw bytes of a numeric tensor (a deferred buffer computes them here).
  std::string_view bytes() const {
    return buffer_ ? std::string_view(buffer_->data() + offset_, size_)
                   : std::string_view();
  }
  /// Their number, without computing deferred bytes.
  size_t byteSize() const { return size_; }
  /// The buffer holding them and where in it they start (a kernel that
  /// defers its output keeps its operand's bytes alive through it).
  const std::shared_ptr<const Buffer> &buffer() const { return buffer_; }
  size_t byteOffset() const { return offset_; }
  /// The raw bytes' place in the buffer holding them, without computing
  /// deferred bytes (a writer produces them piece by piece).
  ByteRange byteRange() const { return {buffer_.get(), offset_, size_}; }
  const std::vector<std::string> &strings() const { return strings_; }
  /// True when the bytes live in a memory-mapped file (not copied).
  bool isMapped() const;
  /// Lets the buffer drop the resident pages of these bytes (a mapped
  /// file's); they stay readable.
  void releasePages() const {
    if (buffer_)
      buffer_->release(offset_, size_);
  }
  /// Same dtype, dims and contents (deferred bytes are produced a piece at a
  /// time, up to the first difference).
  bool contentEquals(const Tensor &other) const;

  /// Name and doc string from the file (hints, as for values).
  std::string name;
  std::string docString;

private:
  DataType dtype_ = DataType::Undefined;
  std::vector<int64_t> dims_;
  std::shared_ptr<const Buffer> buffer_;
  size_t offset_ = 0, size_ = 0;
  std::vector<std::string> strings_;
};

/// A sparse tensor in COO form, as ONNX's SparseTensorProto.
struct SparseTensor {
  Tensor values;
  Tensor indices;
  std::vector<int64_t> dims;
};

} // namespace onnxopt
