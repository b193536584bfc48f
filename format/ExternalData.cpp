// External data resolution with containment checks.
#include "format/ExternalData.h"

#include "utils/CheckedMath.h"
#include "utils/Diagnostics.h"
#include "utils/Sha1.h"

#include "absl/strings/str_split.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace onnxopt {

ExternalDataResolver::ExternalDataResolver(std::string modelDir)
    : modelDir_(std::move(modelDir)) {}

namespace {

std::optional<int64_t> parseNonNegative(const std::string &s) {
  if (s.empty())
    return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto times10 = checkedMul(v, 10);
    if (!times10)
      return std::nullopt;
    auto r = checkedAdd(*times10, c - '0');
    if (!r)
      return std::nullopt;
    v = *r;
  }
  return v;
}

} // namespace

absl::StatusOr<std::shared_ptr<MappedFile>>
ExternalDataResolver::open(const std::string &location,
                           const std::string &what) {
  if (auto it = files_.find(location); it != files_.end())
    return it->second;
  auto bad = [&](const std::string &why) {
    return absl::PermissionDeniedError(absl::StrCat(
        what, ": external data location '", location, "' rejected: ", why));
  };
  if (modelDir_.empty())
    return bad("the model has no directory to resolve it against");
  if (location.empty())
    return bad("empty path");
  if (location.front() == '/')
    return bad("absolute paths are not allowed");
  if (location.find('\\') != std::string::npos ||
      location.find('\0') != std::string::npos)
    return bad("backslashes and NUL bytes are not allowed");
  std::vector<std::string> parts = absl::StrSplit(location, '/');
  for (const std::string &p : parts)
    if (p.empty() || p == "..")
      return bad("the path must stay inside the model directory (no '..' or "
                 "empty components)");

  int dirfd = ::open(modelDir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return bad(absl::StrCat("cannot open the model directory: ",
                            std::strerror(errno)));
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] == ".")
      continue;
    int next = ::openat(dirfd, parts[i].c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    ::close(dirfd);
    if (next < 0)
      return bad(
          err == ELOOP || err == ENOTDIR
              ? absl::StrCat("'", parts[i], "' is a symlink or not a directory")
              : absl::StrCat("cannot open directory '", parts[i],
                             "': ", std::strerror(err)));
    dirfd = next;
  }
  int fd =
      ::openat(dirfd, parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  int err = errno;
  ::close(dirfd);
  if (fd < 0) {
    if (err == ELOOP)
      return bad("it is a symlink");
    if (err == ENOENT)
      return absl::NotFoundError(absl::StrCat(what, ": external data file '",
                                              location, "' does not exist"));
    return bad(std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return bad("not a regular file");
  }
  if (st.st_nlink != 1) {
    ::close(fd);
    return bad(absl::StrCat("the file has ", st.st_nlink, " hard links"));
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto file, MappedFile::fromDescriptor(fd, location));
  files_.emplace(location, file);
  opened_.push_back(modelDir_ + "/" + location);
  return file;
}

absl::StatusOr<std::pair<std::shared_ptr<const Buffer>, std::string_view>>
ExternalDataResolver::resolve(
    const std::vector<std::pair<std::string, std::string>> &entries,
    uint64_t expectedBytes, const std::string &what) {
  std::optional<std::string> location, checksum;
  std::optional<int64_t> offset, length;
  for (const auto &[key, value] : entries) {
    if (key == "location") {
      location = value;
    } else if (key == "offset" || key == "length") {
      auto v = parseNonNegative(value);
      if (!v)
        return invalidInput(what, ": external data ", key, " '", value,
                            "' is not a non-negative integer");
      (key == "offset" ? offset : length) = *v;
    } else if (key == "checksum") {
      checksum = value;
    } else if (key == "basepath") {
      // Written by old ONNX Python helpers; it never changes where data is
      // read.
    } else {
      return invalidInput(what, ": unknown external data key '", key, "'");
    }
  }
  if (!location)
    return invalidInput(what, ": external data has no 'location'");
  ONNXOPT_ASSIGN_OR_RETURN(auto file, open(*location, what));
  uint64_t off = offset.value_or(0);
  uint64_t len = length ? static_cast<uint64_t>(*length) : expectedBytes;
  if (off > file->size() || len > file->size() - off)
    return invalidInput(what, ": external data offset ", off, " + length ", len,
                        " runs past the end of '", *location, "' (",
                        file->size(), " bytes)");
  if (len != expectedBytes)
    return invalidInput(what, ": external data length ", len,
                        " does not match the tensor's size of ", expectedBytes,
                        " bytes");
  std::string_view bytes(file->data() + off, len);
  if (checksum && sha1Hex(bytes) != *checksum)
    return absl::DataLossError(absl::StrCat(what,
                                            ": external data checksum does not "
                                            "match the bytes in '",
                                            *location, "'"));
  return std::make_pair(std::shared_ptr<const Buffer>(file), bytes);
}

} // namespace onnxopt
