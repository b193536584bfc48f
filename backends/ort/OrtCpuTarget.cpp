// The ort-cpu target: ONNX Runtime's CPU execution provider. Its lowering
// passes register as passes too, so `-p ort-fuse-attention` and
// `--debug-only=ort-fuse-attention` work on their own.
#include "backends/ort/OrtPasses.h"

#include "passes/PassRegistry.h"
#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

#include <tuple>

namespace onnxopt {

namespace {
// GELU before the scales: its final x0.5 is not a MatMul's.
constexpr const char *kOrtCpuLowering =
    "shape-inference,ort-fuse-attention,ort-fuse-bias-gelu,"
    "ort-fuse-matmul-scale,ort-fuse-quick-gelu,ort-fuse-activation";
// What a lowering leaves behind: duplicates, dead nodes, and the weights it
// replaced (the NCHWc filters are reordered copies).
constexpr const char *kCleanup = ",cse,dce,eliminate-unused-initializers";
} // namespace

absl::Status registerOrtCpuTarget() {
  ONNXOPT_RETURN_IF_ERROR(
      registerPass({"ort-fuse-attention", "", createOrtFuseAttentionPass}));
  ONNXOPT_RETURN_IF_ERROR(
      registerPass({"ort-fuse-bias-gelu", "", createOrtFuseBiasGeluPass}));
  ONNXOPT_RETURN_IF_ERROR(
      registerPass({"ort-fuse-activation", "", createOrtFuseActivationPass}));
  ONNXOPT_RETURN_IF_ERROR(registerPass(
      {"ort-fuse-matmul-scale", "", createOrtFuseMatMulScalePass}));
  ONNXOPT_RETURN_IF_ERROR(registerPass({"ort-nchwc", "", createOrtNchwcPass}));
  ONNXOPT_RETURN_IF_ERROR(
      registerPass({"ort-fuse-quick-gelu", "", createOrtFuseQuickGeluPass}));
  ONNXOPT_RETURN_IF_ERROR(registerTarget(
      Target{"ort-cpu",
             "ONNX Runtime, CPU execution provider: attention blocks as "
             "com.microsoft.Attention, scaled MatMuls as FusedMatMul, erf "
             "GELUs as Gelu/BiasGelu, SiLUs as QuickGelu, Conv/Gemm + "
             "activation as FusedConv/FusedGemm",
             "ONNX Runtime 1.14 and later (com.microsoft opset 1)",
             {{"com.microsoft", 1}},
             std::string(kOrtCpuLowering) + kCleanup}));
  // The NCHWc variants: what ONNX Runtime's level `all` does to
  // convolutions on a host of that vector width, done ahead of time.
  for (auto [name, block, isa] :
       {std::tuple{"ort-cpu-avx2", 8, "without AVX-512F (AVX2, AVX, SSE)"},
        std::tuple{"ort-cpu-avx512", 16, "with AVX-512F"}})
    ONNXOPT_RETURN_IF_ERROR(registerTarget(Target{
        name,
        absl::StrCat("ort-cpu, and float convolutions with the pools and "
                     "element-wise ops between them in ONNX Runtime's NCHWc "
                     "layout of block ",
                     block, " (com.microsoft.nchwc) for x86-64 hosts ", isa),
        absl::StrCat("ONNX Runtime 1.14 and later, CPU provider, on an x86-64 "
                     "host ",
                     isa, " only (another block size computes wrong results)"),
        {{"com.microsoft", 1}, {"com.microsoft.nchwc", 1}},
        absl::StrCat(kOrtCpuLowering, ",ort-nchwc{block-size=", block, "}",
                     kCleanup)}));
  return absl::OkStatus();
}

} // namespace onnxopt
