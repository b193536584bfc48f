// Atomic output files.
#include "utils/OutputFile.h"

#include "utils/Diagnostics.h"
#include "utils/Parallel.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
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

absl::StatusOr<std::string> resolveOutputPath(const std::string &path) {
  if (path == "-")
    return path;
  std::string cur = path;
  // Follow the chain link by link: the last target may not exist yet (a
  // dangling link is written through, creating its file, as cp does).
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(cur.c_str(), &st) != 0 || !S_ISLNK(st.st_mode))
      return cur;
    std::vector<char> buf(PATH_MAX + 1);
    ssize_t n = ::readlink(cur.c_str(), buf.data(), PATH_MAX);
    if (n < 0)
      return usageError("cannot read the link '", cur,
                        "': ", std::strerror(errno));
    std::string target(buf.data(), static_cast<size_t>(n));
    if (target.empty() || target[0] != '/') {
      auto slash = cur.find_last_of('/');
      if (slash != std::string::npos)
        target = cur.substr(0, slash + 1) + target;
    }
    cur = target;
  }
  return usageError("output '", path, "': too many levels of symbolic links");
}

PathKind pathKind(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return PathKind::Missing;
  if (S_ISREG(st.st_mode))
    return PathKind::Regular;
  if (S_ISDIR(st.st_mode))
    return PathKind::Directory;
  if (S_ISCHR(st.st_mode))
    return PathKind::CharDevice;
  if (S_ISFIFO(st.st_mode))
    return PathKind::Fifo;
  return PathKind::Other;
}

absl::StatusOr<std::unique_ptr<OutputFile>>
OutputFile::create(const std::string &path) {
  std::unique_ptr<OutputFile> f(new OutputFile());
  f->path_ = path;
  if (path == "-") {
    f->fd_ = ::dup(STDOUT_FILENO);
    return f;
  }
  ONNXOPT_ASSIGN_OR_RETURN(std::string target, resolveOutputPath(path));
  struct stat st;
  bool exists = ::stat(target.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    return usageError("output '", path, "' is a directory");
  if (exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
    // Written through, never replaced: renaming over /dev/null as root would
    // swap the system's device for a regular file.
    int fd = ::open(target.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot open output '", path, "': ", std::strerror(errno)));
    f->fd_ = fd;
    return f;
  }
  if (exists && !S_ISREG(st.st_mode))
    return usageError("output '", path,
                      "' is neither a regular file, a character device nor a "
                      "FIFO: refusing to replace it");
  f->path_ = target;
  std::string tmpl = target + ".tmp-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0)
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create output file '", path, "': ", std::strerror(errno)));
  // A replaced file keeps its permissions; a new one gets the usual 0644.
  ::fchmod(fd, exists ? (st.st_mode & 07777) : 0644);
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
      return writeError(tmpPath_.empty() ? where() : tmpPath_);
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
      return writeError(tmpPath_.empty() ? where() : tmpPath_);
    }
    rest.remove_prefix(static_cast<size_t>(n));
    offset_ += static_cast<uint64_t>(n);
  }
  buffered_.reserve(kBufferSize);
  return absl::OkStatus();
}

absl::Status OutputFile::copyFromFile(int src, loff_t in, size_t size) {
  while (size > 0) {
    ssize_t n = ::copy_file_range(src, &in, fd_, nullptr, size, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return absl::UnavailableError("copy_file_range");
    size -= static_cast<size_t>(n);
    offset_ += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status OutputFile::write(const ByteRange &range) {
  constexpr size_t kKernelCopyMin = 256 << 10;
  const Buffer *src = range.source;
  if (src && src->deferred())
    return writeDeferred(range);
  if (!src || src->fd() < 0 || range.size < kKernelCopyMin)
    return write(range.bytes());
  ONNXOPT_RETURN_IF_ERROR(flush());
  const loff_t begin = static_cast<loff_t>(range.offset);
  const loff_t end = begin + static_cast<loff_t>(range.size);
  loff_t at = begin;
  auto fallBack = [&] { return write(range.bytes().substr(at - begin)); };
  while (at < end) {
    // Holes of a sparse source stay holes (as cp --sparse=auto keeps them):
    // a temporary file can skip over them; a device or FIFO gets zeros.
    loff_t data = direct() ? at : ::lseek(src->fd(), at, SEEK_DATA);
    if (data < 0 && errno != ENXIO)
      data = at; // no SEEK_DATA here: all of it is data
    if (data < 0 || data > end)
      data = end; // ENXIO: only a hole is left
    if (data > at) {
      if (::lseek(fd_, data - at, SEEK_CUR) < 0)
        return fallBack();
      offset_ += static_cast<uint64_t>(data - at);
      at = data;
      continue;
    }
    loff_t hole = direct() ? end : ::lseek(src->fd(), at, SEEK_HOLE);
    if (hole < 0 || hole > end)
      hole = end;
    if (hole <= at)
      hole = end;
    size_t before = offset_;
    if (!copyFromFile(src->fd(), at, static_cast<size_t>(hole - at)).ok()) {
      // Not supported between these files (or a short source): plain write.
      at += static_cast<loff_t>(offset_ - before);
      return fallBack();
    }
    at = hole;
  }
  return absl::OkStatus();
}

absl::Status OutputFile::writeDeferred(const ByteRange &range) {
  // Produced a few MiB at a time into two staging buffers that stay in the
  // cache: while one piece is copied to the file, the next is produced on
  // another core (the copy takes this one). The bytes are never all in
  // memory.
  constexpr size_t kStage = 2 << 20;
  size_t granule = std::max<size_t>(1, range.source->granule());
  size_t piece = std::max(granule, kStage / granule * granule);
  size_t pieces = (range.size + piece - 1) / piece;
  std::string stage[2];
  auto produce = [&](size_t k) {
    size_t n = std::min(piece, range.size - k * piece);
    stage[k % 2].resize(n);
    range.source->read(range.offset + k * piece, n, stage[k % 2].data());
  };
  if (pieces > 0)
    produce(0);
  for (size_t k = 0; k < pieces; ++k) {
    std::thread next;
    if (k + 1 < pieces)
      next = availableCores() > 1 ? startWorker([&, k] { produce(k + 1); })
                                  : (produce(k + 1), std::thread());
    absl::Status st = write(stage[k % 2]);
    if (next.joinable())
      next.join();
    ONNXOPT_RETURN_IF_ERROR(st);
  }
  return absl::OkStatus();
}

absl::Status OutputFile::commit() {
  ONNXOPT_RETURN_IF_ERROR(flush());
  // A file that ends in a skipped hole still has its full length.
  if (!direct() && ::ftruncate(fd_, static_cast<off_t>(offset_)) != 0)
    return writeError(tmpPath_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot close '", tmpPath_.empty() ? where() : tmpPath_,
                     "': ", std::strerror(errno)));
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

std::optional<FileGuard::Entry> FileGuard::identify(const std::string &path) {
  if (path.empty() || path == "-")
    return std::nullopt;
  Entry e;
  e.path = path;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return std::nullopt;
    e.exists = true;
    e.dev = st.st_dev;
    e.ino = st.st_ino;
    return e;
  }
  // Not there yet: the canonical directory and the name decide.
  auto target = resolveOutputPath(path);
  std::string t = target.ok() ? *target : path;
  auto slash = t.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : t.substr(0, slash);
  if (dir.empty())
    dir = "/";
  std::string base = slash == std::string::npos ? t : t.substr(slash + 1);
  char buf[PATH_MAX];
  e.canonical =
      (::realpath(dir.c_str(), buf) ? std::string(buf) : dir) + "/" + base;
  return e;
}

bool FileGuard::same(const Entry &a, const Entry &b) {
  if (a.exists != b.exists)
    return false;
  return a.exists ? a.dev == b.dev && a.ino == b.ino
                  : a.canonical == b.canonical;
}

void FileGuard::addInput(const std::string &path, std::string role,
                         bool replaceable) {
  if (auto e = identify(path)) {
    e->role = std::move(role);
    e->replaceable = replaceable;
    inputs_.push_back(std::move(*e));
  }
}

absl::Status FileGuard::checkNotInput(const std::string &path,
                                      const std::string &role) const {
  auto e = identify(path);
  if (!e)
    return absl::OkStatus();
  for (const Entry &in : inputs_)
    if (same(*e, in))
      return usageError(role, " '", path, "' is the same file as ", in.role,
                        " '", in.path, "': refusing to overwrite an input");
  return absl::OkStatus();
}

absl::Status FileGuard::claimOutput(const std::string &path, std::string role,
                                    bool inPlace) {
  auto e = identify(path);
  if (!e)
    return absl::OkStatus();
  for (const Entry &in : inputs_)
    if (same(*e, in) && !(inPlace && in.replaceable))
      return usageError(role, " '", path, "' is the same file as ", in.role,
                        " '", in.path, "': refusing to overwrite an input");
  for (const Entry &out : outputs_)
    if (same(*e, out))
      return usageError(role, " '", path, "' is the same file as ", out.role,
                        " '", out.path, "': two outputs cannot share a file");
  e->role = std::move(role);
  outputs_.push_back(std::move(*e));
  return absl::OkStatus();
}

} // namespace onnxopt
