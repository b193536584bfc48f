// The NCHWc blocked layouts that ONNX Runtime's com.microsoft.nchwc ops
// define (part of their contract, as a schema is of an op), as
// index maps (what MLAS's reorder routines produce): the ort-nchwc lowering
// writes filters in them, the reference kernels read tensors back out.
//
// An NCHWc tensor of logical shape [N, C, H, W] is stored as
// [N, Cp/B, H, W, B], Cp = C rounded up to the block size B, the padding
// channels zero; its ONNX shape is [N, Cp, H, W]. B is the host's vector
// width in floats as ONNX Runtime's MLAS picks it: 16 with AVX-512F, 8
// otherwise (x86-64).
#pragma once

#include <cstdint>

namespace onnxopt::nchwc {

/// The model metadata key recording the block size a model was lowered for.
inline constexpr const char *kBlockSizeKey = "onnxopt.nchwc_block_size";

inline int64_t roundUp(int64_t c, int64_t block) {
  return (c + block - 1) / block * block;
}

/// Offset of element (n, c, s) of an NCHWc tensor of `paddedChannels`
/// channels and `spatial` = H*W positions.
inline int64_t activationIndex(int64_t n, int64_t c, int64_t s,
                               int64_t paddedChannels, int64_t spatial,
                               int64_t block) {
  return ((n * (paddedChannels / block) + c / block) * spatial + s) * block +
         c % block;
}

/// The two filter layouts of nchwc.Conv. OIHWBiBo: blocks of B outputs x B
/// inputs, inputs outer ([O/B][I/B][KH][KW][Bi][Bo]); OIHWBo: blocks of B
/// outputs over every input ([O/B][I][KH][KW][Bo]).
enum class FilterLayout { OIHWBiBo, OIHWBo };

/// The layout MLAS reads a filter of `outputs` x `inputsPerGroup` in: OIHWBo
/// for a depthwise convolution and for one whose input is plain NCHW (one
/// group of fewer than B channels), else OIHWBiBo.
inline FilterLayout filterLayout(int64_t group, int64_t inputsPerGroup,
                                 int64_t outputs, int64_t block) {
  if (group > 1)
    return inputsPerGroup == 1 && outputs == group ? FilterLayout::OIHWBo
                                                   : FilterLayout::OIHWBiBo;
  return inputsPerGroup < block ? FilterLayout::OIHWBo : FilterLayout::OIHWBiBo;
}

/// Whether nchwc.Conv reads its input X in NCHWc (else plain NCHW).
inline bool blockedInput(int64_t group, int64_t inputsPerGroup, int64_t block) {
  return group > 1 || inputsPerGroup >= block;
}

/// Offset of W[o][i][k] (k the flat kernel position of `kernelSize`) in a
/// filter of `inputsPerGroup` inputs stored in `layout`.
inline int64_t filterIndex(FilterLayout layout, int64_t o, int64_t i, int64_t k,
                           int64_t inputsPerGroup, int64_t kernelSize,
                           int64_t block) {
  if (layout == FilterLayout::OIHWBo)
    return (((o / block) * inputsPerGroup + i) * kernelSize + k) * block +
           o % block;
  return (((o / block) * (inputsPerGroup / block) + i / block) * kernelSize +
          k) *
             block * block +
         (i % block) * block + o % block;
}

} // namespace onnxopt::nchwc
