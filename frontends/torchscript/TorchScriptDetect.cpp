// Recognizing a TorchScript archive (built with or without libtorch).
#include "frontends/torchscript/TorchScriptImporter.h"

#include <cstring>
#include <fstream>

namespace onnxopt {

bool looksLikeTorchScript(const std::string &path) {
  // torch.jit.save writes a zip archive; an ONNX protobuf never starts so.
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  f.read(magic, 4);
  return f.gcount() == 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0;
}

} // namespace onnxopt
