// Atomic output files.
#include "utils/OutputFile.h"

#include "utils/Diagnostics.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace onnxopt {

static constexpr size_t kBufferSize = 1 << 20;

OutputFile::~OutputFile() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!committed_ && !tmpPath_.empty())
    ::unlink(tmpPath_.c_str());
}

absl::StatusOr<std::unique_ptr<OutputFile>>
OutputFile::create(const std::string &path) {
  std::unique_ptr<OutputFile> f(new OutputFile());
  f->path_ = path;
  if (path == "-") {
    f->fd_ = ::dup(STDOUT_FILENO);
    return f;
  }
  std::string tmpl = path + ".tmp-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0)
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create output file '", path, "': ", std::strerror(errno)));
  ::fchmod(fd, 0644);
  f->fd_ = fd;
  f->tmpPath_ = buf.data();
  f->buffered_.reserve(kBufferSize);
  return f;
}

/// A failed write is the machine's (a full disk, a quota, an I/O error), not
/// a bug in onnx-opt: exit code 1 with the reason, not 4.
static absl::Status writeError(const std::string &path) {
  return absl::ResourceExhaustedError(
      absl::StrCat("cannot write '", path, "': ", std::strerror(errno)));
}

absl::Status OutputFile::flush() {
  const char *p = buffered_.data();
  size_t left = buffered_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return writeError(tmpPath_.empty() ? "standard output" : tmpPath_);
    }
    p += n;
    left -= static_cast<size_t>(n);
    offset_ += static_cast<uint64_t>(n);
  }
  buffered_.clear();
  return absl::OkStatus();
}

absl::Status OutputFile::write(std::string_view bytes) {
  if (buffered_.size() + bytes.size() <= kBufferSize) {
    buffered_.append(bytes);
    return absl::OkStatus();
  }
  ONNXOPT_RETURN_IF_ERROR(flush());
  if (bytes.size() < kBufferSize) {
    buffered_.append(bytes);
    return absl::OkStatus();
  }
  // Large payloads (weights) go straight from their mapping to the file.
  buffered_ = std::string();
  std::string_view rest = bytes;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return writeError(tmpPath_.empty() ? "standard output" : tmpPath_);
    }
    rest.remove_prefix(static_cast<size_t>(n));
    offset_ += static_cast<uint64_t>(n);
  }
  buffered_.reserve(kBufferSize);
  return absl::OkStatus();
}

absl::Status OutputFile::write(const ByteRange &range) {
  constexpr size_t kKernelCopyMin = 256 << 10;
  const Buffer *src = range.source;
  if (!src || src->fd() < 0 || range.bytes.size() < kKernelCopyMin)
    return write(range.bytes);
  ONNXOPT_RETURN_IF_ERROR(flush());
  loff_t in = range.bytes.data() - src->data();
  size_t left = range.bytes.size();
  while (left > 0) {
    ssize_t n = ::copy_file_range(src->fd(), &in, fd_, nullptr, left, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      // Not supported between these files (or a short source): plain write.
      size_t done = range.bytes.size() - left;
      return write(range.bytes.substr(done));
    }
    left -= static_cast<size_t>(n);
    offset_ += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status OutputFile::commit() {
  ONNXOPT_RETURN_IF_ERROR(flush());
  if (::close(fd_) != 0) {
    fd_ = -1;
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot close '", tmpPath_, "': ", std::strerror(errno)));
  }
  fd_ = -1;
  if (tmpPath_.empty()) {
    committed_ = true;
    return absl::OkStatus();
  }
  if (::rename(tmpPath_.c_str(), path_.c_str()) != 0)
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot rename output to '", path_, "': ", std::strerror(errno)));
  committed_ = true;
  return absl::OkStatus();
}

absl::Status writeFileAtomically(const std::string &path,
                                 std::string_view bytes) {
  std::fflush(stdout);
  ONNXOPT_ASSIGN_OR_RETURN(auto file, OutputFile::create(path));
  ONNXOPT_RETURN_IF_ERROR(file->write(bytes));
  return file->commit();
}

} // namespace onnxopt
