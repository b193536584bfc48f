// ONNX backend: the IR to .onnx (protobuf, optionally with external data).
#pragma once

#include "ir/Graph.h"
#include "utils/OutputFile.h"

#include "absl/status/status.h"

#include <cstdint>
#include <string>

namespace onnx {
class TensorProto;
}

namespace onnxopt {

struct ExportOptions {
  /// File name (relative to the output's directory, no '/') for external data.
  /// Empty: weights are written inline unless the model would pass protobuf's
  /// 2 GiB limit, in which case they go to "<output name>.data".
  std::string externalData;
  /// Tensors of at least this many bytes go to the external data file.
  uint64_t externalThreshold = 1024;
  /// When set, the external data file is checked against these inputs (the
  /// file that protobuf's limit forces is named here, not by the caller).
  const FileGuard *guard = nullptr;
  /// Which intermediate values get a value_info entry (graph inputs and
  /// outputs always carry their types).
  enum class ValueInfo {
    /// Those the input model declared (Value::typeDeclared): a round trip
    /// keeps them, inferred types are not written. ONNX Runtime fuses on the
    /// shapes it is given, and some of those fusions are slower on its CPU
    /// provider (residual Add + LayerNormalization into
    /// SkipLayerNormalization); the output should give it what the original
    /// gave.
    Declared,
    /// Every typed value (for viewers such as Netron, and tools that do not
    /// infer shapes themselves).
    All,
    None,
  };
  ValueInfo valueInfo = ValueInfo::Declared;
};

/// Writes `m` to `path` ("-" for stdout) atomically: to a temporary, renamed on
/// success; a data file is replaced, never appended to. Graph input and output
/// names and order are written exactly as in the IR, and the same model gives
/// the same bytes on every run. Weights are streamed from their mappings.
absl::Status exportModelFile(const Model &m, const std::string &path,
                             const ExportOptions &opts = {});

/// Writes one tensor as a TensorProto file named `name`, atomically.
absl::Status exportTensorFile(const Tensor &t, const std::string &name,
                              const std::string &path);

} // namespace onnxopt
