// Read-only memory-mapped files: weights are views into these, never copies.
#pragma once

#include "absl/status/statusor.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace onnxopt {

/// Bytes that a Tensor can point into. Keeps its storage alive while shared.
class Buffer {
public:
  virtual ~Buffer() = default;
  virtual const char *data() const = 0;
  virtual size_t size() const = 0;
  /// A read-only descriptor of the file behind the bytes, or -1.
  virtual int fd() const { return -1; }
  /// Tells the buffer that bytes [offset, offset + size) are no longer
  /// needed, so resident pages may be dropped; reading them again stays
  /// valid (a mapped file reads them back in).
  virtual void release(size_t /*offset*/, size_t /*size*/) const {}
};

/// A byte range and the buffer holding it, so that a range of a file can be
/// copied in the kernel rather than through the mapping.
struct ByteRange {
  std::string_view bytes;
  const Buffer *source = nullptr;
};

/// Zero-filled anonymous memory for a large tensor being computed: mapped, so
/// it needs no memset (the kernel hands out zero pages), and in transparent
/// huge pages where the kernel allows (a fault per 2 MiB, not per 4 KiB: a
/// folded ViT-B/16 is 344 MB of new weights).
class AnonymousBuffer final : public Buffer {
public:
  /// nullptr when the mapping fails (the caller falls back to the heap).
  static std::shared_ptr<AnonymousBuffer> create(size_t size);
  ~AnonymousBuffer() override;
  AnonymousBuffer(const AnonymousBuffer &) = delete;
  AnonymousBuffer &operator=(const AnonymousBuffer &) = delete;
  const char *data() const override { return data_; }
  char *mutableData() { return data_; }
  size_t size() const override { return size_; }

private:
  AnonymousBuffer(char *data, size_t size) : data_(data), size_(size) {}
  char *data_;
  size_t size_;
};

/// A heap buffer owning its bytes (folded or decoded tensors).
class OwnedBuffer final : public Buffer {
public:
  explicit OwnedBuffer(std::string bytes) : bytes_(std::move(bytes)) {}
  const char *data() const override { return bytes_.data(); }
  size_t size() const override { return bytes_.size(); }

private:
  std::string bytes_;
};

/// A whole file mapped read-only (MAP_PRIVATE). An empty file maps to no bytes.
class MappedFile final : public Buffer {
public:
  ~MappedFile() override;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  /// Opens and maps `path` (following symlinks: for the model file the user
  /// named).
  static absl::StatusOr<std::shared_ptr<MappedFile>>
  open(const std::string &path);
  /// Maps an already-open descriptor; takes ownership of `fd`.
  static absl::StatusOr<std::shared_ptr<MappedFile>>
  fromDescriptor(int fd, const std::string &displayName);

  const char *data() const override { return data_; }
  size_t size() const override { return size_; }
  /// The descriptor the file was mapped from, kept open: later reads and
  /// in-kernel copies go through it, never through a path lookup.
  int fd() const override { return fd_; }
  /// Drops the resident pages wholly inside the range (MADV_DONTNEED: the
  /// mapping is private and read-only, so they read back from the file).
  void release(size_t offset, size_t size) const override;
  const std::string &name() const { return name_; }

private:
  MappedFile() = default;
  int fd_ = -1;
  const char *data_ = nullptr;
  size_t size_ = 0;
  std::string name_;
};

} // namespace onnxopt
