// The ort-cpu target: ONNX Runtime's CPU execution provider. Its lowering
// passes register as passes too, so `-p ort-fuse-attention` and
// `--debug-only=ort-fuse-attention` work on their own.
#include "backends/ort/OrtPasses.h"

#include "passes/PassRegistry.h"
#include "utils/Diagnostics.h"

namespace onnxopt {

absl::Status registerOrtCpuTarget() {
  ONNXOPT_RETURN_IF_ERROR(
      registerPass({"ort-fuse-attention", "", createOrtFuseAttentionPass}));
  ONNXOPT_RETURN_IF_ERROR(
      registerPass({"ort-fuse-bias-gelu", "", createOrtFuseBiasGeluPass}));
  ONNXOPT_RETURN_IF_ERROR(
      registerPass({"ort-fuse-activation", "", createOrtFuseActivationPass}));
  ONNXOPT_RETURN_IF_ERROR(registerPass(
      {"ort-fuse-matmul-scale", "", createOrtFuseMatMulScalePass}));
  return registerTarget(
      Target{"ort-cpu",
             "ONNX Runtime, CPU execution provider: attention blocks as "
             "com.microsoft.Attention, scaled MatMuls as FusedMatMul, erf "
             "GELUs as Gelu/BiasGelu, Conv/Gemm + activation as "
             "FusedConv/FusedGemm",
             "ONNX Runtime 1.14 and later (com.microsoft opset 1)",
             {{"com.microsoft", 1}},
             // GELU before the scales: its final x0.5 is not a MatMul's.
             "shape-inference,ort-fuse-attention,ort-fuse-bias-gelu,"
             "ort-fuse-matmul-scale,ort-fuse-activation,cse,dce"});
}

} // namespace onnxopt
