// libFuzzer target: the ONNX text parser and the import behind it, and the
// printer on what they accept (whose output must parse again).
#include "frontends/onnx/OnnxImporter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  // No base directory: every external-data reference is an error.
  auto m = onnxopt::importModelText(text, "");
  if (!m.ok() || !onnxopt::verifyModel(**m).ok())
    return 0;
  std::string printed = onnxopt::printModel(**m);
  // What the printer writes, the parser reads back.
  if (!onnxopt::importModelText(printed, "").ok())
    std::abort();
  return 0;
}
