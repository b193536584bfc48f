// Atomic output: write to a temporary file beside the target, rename on commit.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "utils/MappedFile.h"

#include <memory>
#include <string>
#include <string_view>

namespace onnxopt {

/// A file written under a temporary name and renamed over `path` on commit().
/// Destroyed without commit(), it removes the temporary: a failed run leaves
/// nothing. The path "-" writes to standard output.
class OutputFile {
public:
  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  static absl::StatusOr<std::unique_ptr<OutputFile>>
  create(const std::string &path);

  absl::Status write(std::string_view bytes);
  absl::Status write(const char *data, size_t size) {
    return write(std::string_view(data, size));
  }
  /// Writes a range; large ranges of a file are copied in the kernel
  /// (copy_file_range), as cp does, instead of faulting in the mapping.
  absl::Status write(const ByteRange &range);
  /// Bytes written so far.
  uint64_t offset() const { return offset_ + buffered_.size(); }
  absl::Status commit();
  const std::string &path() const { return path_; }

private:
  OutputFile() = default;
  absl::Status flush();
  std::string path_, tmpPath_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::string buffered_;
  bool committed_ = false;
};

/// Writes `bytes` to `path` atomically ("-" writes to stdout).
absl::Status writeFileAtomically(const std::string &path,
                                 std::string_view bytes);

} // namespace onnxopt
