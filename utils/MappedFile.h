// Read-only memory-mapped files: weights are views into these, never copies.
#pragma once

#include "absl/status/statusor.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace onnxopt {

/// Bytes that a Tensor can point into. Keeps its storage alive while shared.
class Buffer {
public:
  virtual ~Buffer() = default;
  /// The bytes in memory (a DeferredBuffer computes them all first).
  virtual const char *data() const = 0;
  virtual size_t size() const = 0;
  /// A read-only descriptor of the file behind the bytes, or -1.
  virtual int fd() const { return -1; }
  /// Tells the buffer that bytes [offset, offset + size) are no longer
  /// needed, so resident pages may be dropped; reading them again stays
  /// valid (a mapped file reads them back in).
  virtual void release(size_t /*offset*/, size_t /*size*/) const {}
  /// True while the bytes are not in memory yet (DeferredBuffer): read()
  /// produces a range of them without holding them all.
  virtual bool deferred() const { return false; }
  /// Copies bytes [offset, offset + size) to `dst`.
  virtual void read(size_t offset, size_t size, char *dst) const;
  /// read() is cheapest on ranges that start and end at multiples of this.
  virtual size_t granule() const { return 1; }
  /// Whether all of these bytes equal all of `other`'s (the same size), when
  /// that can be decided without producing deferred ones (two transposes of
  /// the same shape are equal when their operands are); nullopt otherwise.
  virtual std::optional<bool> sameBytesAs(const Buffer & /*other*/) const {
    return std::nullopt;
  }
};

/// A byte range of a buffer, so that a range of a file can be copied in the
/// kernel rather than through the mapping, and a deferred buffer's range
/// produced piece by piece rather than all at once.
struct ByteRange {
  const Buffer *source = nullptr;
  size_t offset = 0, size = 0;
  /// The bytes in memory (a deferred source computes them all).
  std::string_view bytes() const {
    return source ? std::string_view(source->data() + offset, size)
                  : std::string_view();
  }
};

/// New bytes of at least this size live in anonymous mapped memory
/// (AnonymousBuffer); smaller ones on the heap.
constexpr size_t kAnonymousFrom = size_t(4) << 20;

/// Bytes computed when first needed: a folded weight that may only ever be
/// written out is produced piece by piece into the output (no memory for all
/// of it, no second copy) unless something reads it whole first. Not
/// thread-safe: the first data() computes and keeps the bytes.
class DeferredBuffer : public Buffer {
public:
  explicit DeferredBuffer(size_t size) : size_(size) {}
  const char *data() const override;
  size_t size() const override { return size_; }
  bool deferred() const override { return !whole_; }
  void read(size_t offset, size_t size, char *dst) const override;

protected:
  /// Writes bytes [offset, offset + size) to `dst`.
  virtual void produce(size_t offset, size_t size, char *dst) const = 0;
  /// Called once the bytes are all in memory: what only produce() needed
  /// (an operand's bytes) can be let go.
  virtual void computed() const {}

private:
  size_t size_;
  mutable std::shared_ptr<Buffer> whole_;
};

/// A buffer whose bytes its owner fills in (a tensor being computed).
class MutableBuffer : public Buffer {
public:
  virtual char *mutableData() = 0;
};

/// Zero-filled anonymous memory for a large tensor being computed: mapped, so
/// it needs no memset (the kernel hands out zero pages), and in transparent
/// huge pages where the kernel allows (a fault per 2 MiB, not per 4 KiB: a
/// folded ViT-B/16 is 344 MB of new weights).
class AnonymousBuffer final : public MutableBuffer {
public:
  /// nullptr when the mapping fails (the caller falls back to the heap).
  static std::shared_ptr<AnonymousBuffer> create(size_t size);
  ~AnonymousBuffer() override;
  AnonymousBuffer(const AnonymousBuffer &) = delete;
  AnonymousBuffer &operator=(const AnonymousBuffer &) = delete;
  const char *data() const override { return data_; }
  char *mutableData() override { return data_; }
  size_t size() const override { return size_; }

private:
  AnonymousBuffer(char *data, size_t size) : data_(data), size_(size) {}
  char *data_;
  size_t size_;
};

/// A heap buffer owning its bytes (folded or decoded tensors).
class OwnedBuffer final : public MutableBuffer {
public:
  explicit OwnedBuffer(std::string bytes) : bytes_(std::move(bytes)) {}
  const char *data() const override { return bytes_.data(); }
  char *mutableData() override { return bytes_.data(); }
  size_t size() const override { return bytes_.size(); }

private:
  std::string bytes_;
};

/// `size` zero bytes to fill in: an AnonymousBuffer from kAnonymousFrom on
/// (no memset, huge pages), else (or when the mapping fails) an OwnedBuffer.
std::shared_ptr<MutableBuffer> newZeroedBuffer(size_t size);

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
