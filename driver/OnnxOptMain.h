// The onnx-opt driver as a library: argv -> load -> pipeline -> write.
#pragma once

namespace onnxopt {

/// Runs onnx-opt with `argv`; returns the process exit code (DESIGN.md: 0 ok,
/// 1 invalid input, 2 usage, 3 verification failed, 4 internal error). Another
/// tool can link this and register extra passes before calling it.
int onnxOptMain(int argc, char **argv);

} // namespace onnxopt
