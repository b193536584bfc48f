// The lowering passes of the ort-cpu target (ONNX Runtime's CPU execution
// provider): each rewrites standard ONNX into com.microsoft contrib ops that
// ONNX Runtime runs as one kernel.
#pragma once

#include "backends/lowering/Target.h"

#include <memory>

namespace onnxopt {

std::unique_ptr<Pass> createOrtFuseAttentionPass();
std::unique_ptr<Pass> createOrtFuseBiasGeluPass();
std::unique_ptr<Pass> createOrtFuseActivationPass();

} // namespace onnxopt
