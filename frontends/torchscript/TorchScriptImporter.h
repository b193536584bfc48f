// The TorchScript frontend: a traced or scripted module saved with
// torch.jit.save, loaded with libtorch, frozen and inlined, and lowered from
// aten/prim ops to ONNX ops in the IR (opset 17), weights as initializers.
//
// Graph inputs are forward()'s arguments by name, float tensors. A saved
// module records no input shapes, so each input needs one (--input-shape; a
// missing one is an error naming the input): libtorch's shape propagation
// runs on it (symbolic dims as 1) so that rank-dependent ops (transpose,
// flatten) lower, and the IR keeps the symbols. Ints computed from sizes
// (x.size(0), ...) stay computed, so a dynamic batch survives
// `x.view(x.size(0), -1)`.
//
// TorchScript can run arbitrary code when loaded: load only files you trust.
#pragma once

#include "ir/Graph.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>

namespace onnxopt {

/// True if onnx-opt was built with the TorchScript frontend.
bool haveTorchScript();

/// True if the file starts like a TorchScript archive (a zip file).
bool looksLikeTorchScript(const std::string &path);

/// The shape of one forward() argument.
struct TorchInput {
  std::string name;
  std::vector<Dim> dims;
  /// --input-type; unset: float, or int64 for embedding indices.
  std::optional<DataType> dtype;
};

/// Loads a TorchScript module and lowers its forward() into a model. Errors
/// (exit 1): unreadable or corrupt archive, not TorchScript, an input without
/// a shape, an op with no lowering (named, with its source location).
absl::StatusOr<std::unique_ptr<Model>>
importTorchScript(const std::string &path,
                  const std::vector<TorchInput> &inputs);

} // namespace onnxopt
