// The TorchScript frontend when onnx-opt is built without libtorch.
#include "frontends/torchscript/TorchScriptImporter.h"

namespace onnxopt {

bool haveTorchScript() { return false; }

absl::StatusOr<std::unique_ptr<Model>>
importTorchScript(const std::string &path, const std::vector<TorchInput> &) {
  return absl::UnimplementedError(
      path + ": a TorchScript archive, and this onnx-opt was built without "
             "the TorchScript frontend (install libtorch-dev and rebuild with "
             "-DONNXOPT_TORCHSCRIPT=ON)");
}

} // namespace onnxopt
