// libFuzzer target: the protobuf loader (wire-format walk, import, IR
// verifier, text printer) on arbitrary bytes. Any crash, sanitizer report or
// unbounded allocation is a bug; an error status is the expected outcome.
#include "frontends/onnx/OnnxImporter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "utils/MappedFile.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto bytes = std::make_shared<onnxopt::OwnedBuffer>(
      std::string(reinterpret_cast<const char *>(data), size));
  // External data resolves against a directory that does not exist: the
  // fuzzer never reads a file of the machine's.
  auto m = onnxopt::importModelBuffer(bytes, "/nonexistent-fuzz-dir/m.onnx");
  if (m.ok() && onnxopt::verifyModel(**m).ok()) {
    onnxopt::PrintOptions opts;
    opts.elideTensorsOver = 16;
    (void)onnxopt::printModel(**m, opts);
  }
  return 0;
}
