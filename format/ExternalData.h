// External data: tensor bytes in files beside the model, opened safely.
#pragma once

#include "ir/Tensor.h"
#include "utils/MappedFile.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace onnxopt {

/// Resolves external-data references relative to one model directory. A
/// location must be a relative path inside that directory: no absolute paths,
/// no `..`, no symlink in any component, no file with more than one hard link.
/// Each file is opened once (component by component, without following links)
/// and every read goes through that descriptor's mapping, so a file swapped
/// after the checks is never read.
class ExternalDataResolver {
public:
  /// `modelDir` is the directory holding the model ("" if the model has none,
  /// e.g. text from stdin: then every external reference is an error).
  explicit ExternalDataResolver(std::string modelDir);

  /// The bytes of one tensor described by `entries` (key/value pairs of
  /// TensorProto.external_data), which must hold `expectedBytes` bytes.
  /// `what` names the tensor in messages.
  absl::StatusOr<std::pair<std::shared_ptr<const Buffer>, std::string_view>>
  resolve(const std::vector<std::pair<std::string, std::string>> &entries,
          uint64_t expectedBytes, const std::string &what);

  /// The files opened so far, as paths (model directory + location), in the
  /// order they were first referenced.
  const std::vector<std::string> &openedFiles() const { return opened_; }

private:
  absl::StatusOr<std::shared_ptr<MappedFile>> open(const std::string &location,
                                                   const std::string &what);
  std::string modelDir_;
  // Looked up by location; never iterated.
  absl::flat_hash_map<std::string, std::shared_ptr<MappedFile>> files_;
  std::vector<std::string> opened_;
};

} // namespace onnxopt
