// onnx-opt: a thin wrapper over onnxOptMain.
#include "driver/OnnxOptMain.h"

int main(int argc, char **argv) { return onnxopt::onnxOptMain(argc, argv); }
