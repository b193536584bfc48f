// The lowering passes of the ort-cpu target (ONNX Runtime's CPU execution
// provider): each rewrites standard ONNX into com.microsoft contrib ops that
// ONNX Runtime runs as one kernel.
#pragma once

#include "backends/lowering/Target.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onnxopt {

/// The base of the ort-cpu lowering passes: numeric (ONNX Runtime's fused
/// kernels round otherwise than the ops they replace), emitting ops of the
/// com.microsoft domain (opset 1).
class OrtLoweringPass : public LoweringPass {
public:
  bool isExact() const override { return false; }

protected:
  std::vector<OpsetImport> opsets() const override {
    return {{"com.microsoft", 1}};
  }
};

/// An activation ONNX Runtime's fused kernels apply (FusedConv, FusedGemm,
/// nchwc.Conv): its name as their `activation` attribute takes it, and its
/// parameters.
struct OrtActivation {
  std::string name;
  std::vector<float> params;
};
/// `n` as such an activation (Relu, Sigmoid, Tanh, LeakyRelu, HardSigmoid,
/// Clip with constant bounds), or nullopt with why not.
std::optional<OrtActivation> ortActivationOf(const Node &n, const char *&why);

std::unique_ptr<Pass> createOrtFuseAttentionPass();
std::unique_ptr<Pass> createOrtNchwcPass();
std::unique_ptr<Pass> createOrtFuseQuickGeluPass();
std::unique_ptr<Pass> createOrtFuseBiasGeluPass();
std::unique_ptr<Pass> createOrtFuseActivationPass();
std::unique_ptr<Pass> createOrtFuseMatMulScalePass();

} // namespace onnxopt
