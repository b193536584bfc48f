// ONNX frontend: .onnx (protobuf) and .onnxtxt (ONNX text syntax) into the IR.
#pragma once

#include "ir/Graph.h"
#include "utils/MappedFile.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>

namespace onnx {
class ModelProto;
class TensorProto;
} // namespace onnx

namespace onnxopt {

/// Bounds on the work a model may ask for.
struct ImportOptions {
  /// Subgraph nesting limit.
  unsigned maxGraphDepth = 64;
  /// raw_data payloads at least this large are mapped, not copied.
  size_t mapThreshold = 64;
  /// Model-local functions inlined at their call sites (InlineFunctions.h).
  bool inlineLocalFunctions = false;
};

/// Oldest and newest ONNX IR versions this build reads.
constexpr int64_t kMinIrVersion = 3;
constexpr int64_t kMaxIrVersion = 11;

/// Reads a model file: ONNX text syntax or protobuf, told apart by content.
/// Weights stay in the file's mapping (and external data files beside it).
/// Every problem is an error status naming the element and the file.
absl::StatusOr<std::unique_ptr<Model>>
importModelFile(const std::string &path, const ImportOptions &opts = {});

/// The bytes of a model file ("-": standard input, read whole; else mapped).
absl::StatusOr<std::shared_ptr<const Buffer>>
readModelSource(const std::string &path);

/// Imports a model from bytes read by readModelSource (`path` names it in
/// messages and locates external data): text or protobuf by content. The
/// same bytes can be imported again for a second, independent copy.
absl::StatusOr<std::unique_ptr<Model>>
importModelBuffer(const std::shared_ptr<const Buffer> &file,
                  const std::string &path, const ImportOptions &opts = {});

/// Reads a model in ONNX text syntax; external data resolves against `baseDir`.
absl::StatusOr<std::unique_ptr<Model>>
importModelText(std::string_view text, const std::string &baseDir,
                const ImportOptions &opts = {});

/// Converts a parsed ModelProto (no mapped slots) into the IR.
absl::StatusOr<std::unique_ptr<Model>>
importModelProto(const onnx::ModelProto &proto, const std::string &baseDir,
                 const ImportOptions &opts = {});

/// Converts one TensorProto (an element of a SequenceProto, say), with the same
/// checks as a model's tensors; external data resolves against `baseDir`.
absl::StatusOr<std::shared_ptr<const Tensor>>
importTensorProto(const onnx::TensorProto &tp, const std::string &baseDir,
                  const std::string &what);

/// Reads one TensorProto file (the input_N.pb / output_N.pb files of ONNX's
/// test data), with the same checks as a model's tensors.
absl::StatusOr<std::shared_ptr<const Tensor>>
importTensorFile(const std::string &path);

} // namespace onnxopt
