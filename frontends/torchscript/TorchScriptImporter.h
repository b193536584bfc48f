// The TorchScript frontend: a traced or scripted module saved with
// torch.jit.save, loaded with libtorch, frozen and inlined, and lowered from
// aten/prim ops to ONNX ops in the IR (opset 17), weights as initializers.
//
// Graph inputs are forward()'s arguments by name (float tensors unless
// --input-type says otherwise; embedding indices default to int64). A saved
// module records no input shapes, so each input needs one (--input-shape; a
// missing one is an error naming the input). The module is specialized for
// inference on those ranks and dtypes: no grad, no autocast, CPU; what
// scripted code computes from ranks, dtypes and static dims (its checks, the
// fast-path conditions of nn.MultiheadAttention, error messages) is evaluated
// at import time by libtorch's own kernels, and a branch that can only raise
// is dropped (as torch.onnx.export does). Symbolic dims stay symbolic and
// sizes computed from them stay computed, so a dynamic batch survives
// `x.view(x.size(0), -1)`. A branch on a run-time condition becomes ONNX If,
// a loop with a run-time trip count ONNX Loop (a constant `for` is
// unrolled). Lowering.h describes the lowering itself.
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
