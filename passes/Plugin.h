// Pass plugins: shared libraries that register passes when loaded.
//
// A plugin exports `extern "C" OnnxOptPluginInfo onnxoptGetPluginInfo()`
// returning ONNXOPT_PLUGIN_API_VERSION, a name, and a callback that calls
// registerPass(). onnx-opt loads it with --load-pass-plugin=PATH before the
// pipeline is parsed, so its passes can appear in the same -p. Build one out of
// tree with find_package(OnnxOpt) and onnxopt_add_plugin() (see
// examples/plugin).
#pragma once

#include "absl/status/status.h"

#include <cstdint>
#include <string>

/// Bumped whenever the IR or pass ABI a plugin compiles against changes (2:
/// op census, value ids, inline operands, the driver's worklist API; 3: the
/// Rewriter as the mutation API, with the model and --debug-only; 4: pass
/// options with a fixed set of values, the interpreter's NCHWc block size).
#define ONNXOPT_PLUGIN_API_VERSION 4

/// Marks a plugin's entry point: `ONNXOPT_PLUGIN_EXPORT OnnxOptPluginInfo
/// onnxoptGetPluginInfo() { ... }` (plugins build with hidden visibility).
#define ONNXOPT_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

extern "C" {
struct OnnxOptPluginInfo {
  uint32_t apiVersion;
  const char *name;
  /// Registers the plugin's passes (with onnxopt::registerPass).
  void (*registerPasses)();
};
}

namespace onnxopt {

/// Loads the plugin at `path` and registers its passes. Errors (missing file,
/// missing entry point, API version mismatch, a pass name already taken) are
/// usage errors.
absl::Status loadPassPlugin(const std::string &path);

} // namespace onnxopt
