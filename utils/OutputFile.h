// Atomic output: write to a temporary file beside the target, rename on commit.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "utils/MappedFile.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace onnxopt {

/// A file written under a temporary name and renamed over `path` on commit().
/// Destroyed without commit(), it removes the temporary: a failed run leaves
/// nothing. The path "-" writes to standard output.
///
/// Only a regular file is ever replaced. A symlink is followed (the file it
/// names is replaced, the link stays); a character device (/dev/null) or a
/// FIFO is opened and written through, as `cp` and a shell redirection do; a
/// directory, block device or socket is refused.
class OutputFile {
public:
  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  static absl::StatusOr<std::unique_ptr<OutputFile>>
  create(const std::string &path);
  /// True when writes go straight to the file (stdout, a device, a FIFO):
  /// there is no temporary to rename.
  bool direct() const { return tmpPath_.empty(); }

  absl::Status write(std::string_view bytes);
  absl::Status write(const char *data, size_t size) {
    return write(std::string_view(data, size));
  }
  /// Writes a range; large ranges of a file are copied in the kernel
  /// (copy_file_range), as cp does, instead of faulting in the mapping, and
  /// the holes of a sparse source stay holes in a regular output file; a
  /// deferred source's bytes are produced into the file piece by piece.
  absl::Status write(const ByteRange &range);
  /// Bytes written so far.
  uint64_t offset() const { return offset_ + buffered_.size(); }
  absl::Status commit();
  const std::string &path() const { return path_; }

private:
  OutputFile() = default;
  absl::Status flush();
  absl::Status copyFromFile(int src, loff_t in, size_t size);
  absl::Status writeDeferred(const ByteRange &range);
  std::string where() const { return path_ == "-" ? "standard output" : path_; }
  std::string path_, tmpPath_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::string buffered_;
  bool committed_ = false;
};

/// Writes `bytes` to `path` atomically ("-" writes to stdout).
absl::Status writeFileAtomically(const std::string &path,
                                 std::string_view bytes);

/// Where a write to `path` lands: symlinks followed to the file they name
/// (which may not exist yet); "-" stays "-".
absl::StatusOr<std::string> resolveOutputPath(const std::string &path);

/// What a path is, for output checks.
enum class PathKind { Missing, Regular, Directory, CharDevice, Fifo, Other };
PathKind pathKind(const std::string &path);

/// Keeps outputs off inputs and off each other. A file is identified by
/// device and inode after following links (or, not existing yet, by its
/// canonical path). Only regular files and paths that do not exist yet are
/// compared: writing twice to /dev/null or through a FIFO harms nothing.
class FileGuard {
public:
  /// Records an input file. `replaceable`: the one output allowed to be this
  /// file is the model written in place with an atomic rename (-o naming the
  /// input model), claimed with `inPlace`.
  void addInput(const std::string &path, std::string role,
                bool replaceable = false);
  /// Checks `path` against every input and every output claimed so far, then
  /// claims it. A clash is a usage error naming both.
  absl::Status claimOutput(const std::string &path, std::string role,
                           bool inPlace = false);
  /// Checks `path` against the inputs only (a file a writer decides to create
  /// itself, such as external data that the size of the model forces).
  absl::Status checkNotInput(const std::string &path,
                             const std::string &role) const;

private:
  struct Entry {
    bool exists = false;
    uint64_t dev = 0, ino = 0;
    std::string canonical;
    std::string path, role;
    bool replaceable = false;
  };
  static std::optional<Entry> identify(const std::string &path);
  static bool same(const Entry &a, const Entry &b);
  std::vector<Entry> inputs_, outputs_;
};

} // namespace onnxopt
