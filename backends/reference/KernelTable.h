// Internal to backends/reference: how each kernel file adds its kernels.
#pragma once

#include "backends/reference/Evaluator.h"

#include <map>
#include <string>

namespace onnxopt::ref {

/// Op type -> kernel: the bare type for the default domain, `domain.type`
/// for others (`com.microsoft.Attention`). A std::map: supportedOps() lists
/// it in order.
using KernelMap = std::map<std::string, Kernel, std::less<>>;

void registerElementwiseKernels(KernelMap &m);
void registerShapeKernels(KernelMap &m);
void registerReduceKernels(KernelMap &m);
void registerNNKernels(KernelMap &m);
void registerControlFlowKernels(KernelMap &m);
void registerRnnKernels(KernelMap &m);
void registerMiscKernels(KernelMap &m);
void registerDetectionKernels(KernelMap &m);
void registerSequenceKernels(KernelMap &m);
void registerEinsumKernels(KernelMap &m);
void registerContribKernels(KernelMap &m);
void registerNchwcKernels(KernelMap &m);

/// The kernel registered under `key` (KernelMap's naming), or nullptr.
Kernel kernelNamed(std::string_view key);
void registerMLKernels(KernelMap &m);

/// The Conv and Gemm kernels (NN.cpp), which FusedConv and FusedGemm
/// (Contrib.cpp) run before their activation.
absl::Status convKernel(KernelContext &ctx);
absl::Status gemmKernel(KernelContext &ctx);
/// The MatMul kernel, which FusedMatMul runs on its (transposed) operands.
absl::Status matmulKernel(KernelContext &ctx);
/// FusedConv's `activation` with its `activation_params` (nchwc.Conv's
/// too), applied to float32 `y`.
absl::StatusOr<TensorPtr> applyFusedActivation(KernelContext &ctx,
                                               const Tensor &y);

/// Concatenates same-typed tensors along `axis` (Concat, ConcatFromSequence).
absl::StatusOr<TensorPtr> concatTensors(KernelContext &ctx,
                                        const std::vector<const Tensor *> &ins,
                                        int64_t axis);
/// Splits `x` along `axis` (normalized) into parts of `sizes` (Split,
/// SplitToSequence).
absl::StatusOr<std::vector<TensorPtr>>
splitTensor(KernelContext &ctx, const Tensor &x, int64_t axis,
            const std::vector<int64_t> &sizes);

/// Normalizes a possibly negative axis for `rank`; false if out of range.
inline bool normalizeAxis(int64_t &axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return false;
  if (axis < 0)
    axis += rank;
  return true;
}

} // namespace onnxopt::ref
