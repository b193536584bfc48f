// Read-only memory-mapped files.
#include "utils/MappedFile.h"

#include "utils/Diagnostics.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace onnxopt {

MappedFile::~MappedFile() {
  if (data_ && size_)
    ::munmap(const_cast<char *>(data_), size_);
  if (fd_ >= 0)
    ::close(fd_);
}

void MappedFile::release(size_t offset, size_t size) const {
  if (!data_ || offset >= size_)
    return;
  size = std::min(size, size_ - offset);
  uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  uintptr_t begin = uintptr_t(data_) + offset, end = begin + size;
  begin = (begin + page - 1) / page * page;
  end = end / page * page;
  if (end > begin)
    ::madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

void Buffer::read(size_t offset, size_t size, char *dst) const {
  if (size > 0)
    std::memcpy(dst, data() + offset, size);
}

const char *DeferredBuffer::data() const {
  if (!whole_) {
    auto whole = newZeroedBuffer(size_);
    produce(0, size_, whole->mutableData());
    whole_ = std::move(whole);
    computed();
  }
  return whole_->data();
}

void DeferredBuffer::read(size_t offset, size_t size, char *dst) const {
  if (whole_)
    Buffer::read(offset, size, dst);
  else if (size > 0)
    produce(offset, size, dst);
}

std::shared_ptr<MutableBuffer> newZeroedBuffer(size_t size) {
  if (size >= kAnonymousFrom)
    if (auto anon = AnonymousBuffer::create(size))
      return anon;
  return std::make_shared<OwnedBuffer>(std::string(size, '\0'));
}

std::shared_ptr<AnonymousBuffer> AnonymousBuffer::create(size_t size) {
  if (size == 0)
    return nullptr;
  void *p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return nullptr;
#ifdef MADV_HUGEPAGE
  ::madvise(p, size, MADV_HUGEPAGE); // a hint: without THP, small pages
#endif
  return std::shared_ptr<AnonymousBuffer>(
      new AnonymousBuffer(static_cast<char *>(p), size));
}

AnonymousBuffer::~AnonymousBuffer() { ::munmap(data_, size_); }

absl::StatusOr<std::shared_ptr<MappedFile>>
MappedFile::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return absl::NotFoundError(
        absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  return fromDescriptor(fd, path);
}

absl::StatusOr<std::shared_ptr<MappedFile>>
MappedFile::fromDescriptor(int fd, const std::string &displayName) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return invalidInput("cannot stat '", displayName,
                        "': ", std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalidInput("'", displayName, "' is not a regular file");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->name_ = displayName;
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ > 0) {
    void *p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      file->size_ = 0;
      return invalidInput("cannot map '", displayName,
                          "': ", std::strerror(err));
    }
    file->data_ = static_cast<const char *>(p);
  }
  file->fd_ = fd;
  return file;
}

} // namespace onnxopt
