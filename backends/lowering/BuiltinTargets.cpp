// The in-tree targets: one registration function per execution provider,
// each defined in its own folder under backends/.
#include "backends/lowering/Target.h"

namespace onnxopt {

// backends/ort/OrtCpuTarget.cpp
absl::Status registerOrtCpuTarget();

absl::Status registerBuiltinTargets() {
  static const absl::Status once = [] { return registerOrtCpuTarget(); }();
  return once;
}

} // namespace onnxopt
