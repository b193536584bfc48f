// A self-attention block over one packed Q|K|V projection, as exporters
// write it: the matcher that ort-fuse-attention (com.microsoft.Attention)
// and fuse-attention (ONNX's Attention, opset 23) share.
//
// The block (any layout the exporter chose, e.g. torch.nn.MultiheadAttention's
// sequence-first one or a GPT block's batch-first one):
//   P = Add (MatMul (X, W), bias)               # W: [Din, 3D], bias: [3D]
//   q, k, v = Slice or Split of P's last axis   # [0, D), [D, 2D), [2D, 3D)
//   Qh, Kh, Vh = Reshape/Transpose of q, k, v   # heads split off, K transposed
//   s = MatMul (Qh * c1, Kh) * c2               # scalar scales, optional
//   s = Where (Trilu (ones [S, S], k = 1, upper), -inf, s)   # causal, optional
//       or Add (s, Trilu (-inf [S, S], k = 1, upper))
//   s = Add (s, Where (view of pad [B, S], -inf, 0))          # key padding
//       or Where (view of pad [B, S], -inf, s)
//   O = MatMul (Softmax <axis = -1> (s), Vh)
//   Y = Reshape/Transpose of O                  # [B, S, D] or a view of it
//
// How the layouts are matched: every value between P and Y is described as a
// view of logical axes (P's two leading axes, the channel axis a Reshape
// splits into heads H and head size K), tracked through each Reshape (by the
// inferred dims of its input and result: symbolic products such as
// `8*batch` included) and Transpose. The scores MatMul must contract K with
// the same batch axes (the heads and one of P's leading axes, the batch) on
// both sides, the query rows and key columns being P's other leading axis
// (the sequence); the output view must be [B, S, H*K] or its sequence-first
// transpose, merged or not.
//
// What a match guarantees: float32, W and bias constant, three equal parts
// in Q, K, V order, H dividing D, every scale a scalar constant, the values
// between P and Y used only inside the block or by Shape ops, Softmax over
// the last axis, a causal mask exactly an upper Trilu with k = 1 of [S, S]
// (a ConstantOfShape, or an Expand of a one-element constant as the
// TorchScript frontend writes torch.full): of all-true as a Where's
// condition filled with -inf or at most -1e4 (GPT blocks), or of -inf (at
// most -1e4) added to the scores (nn.Transformer's square subsequent mask);
// a key-padding mask a view of a bool [B, S] value (true: padding) that the
// Reshape/Unsqueeze/Expand between broadcast along the heads and queries
// only. Relative-position biases (Swin's windows) do not match.
#pragma once

#include "ir/Graph.h"

#include <cstdint>

namespace onnxopt {

/// A matched block. The rewrite replaces `result`'s uses.
struct AttentionBlock {
  Value *x = nullptr;          // the projection's input [X0, X1, Din]
  Value *w = nullptr;          // constant float [Din, 3D]
  Value *bias = nullptr;       // constant float [3D], or nullptr
  Value *packed = nullptr;     // P: [X0, X1, 3D]
  Value *result = nullptr;     // Y
  int64_t heads = 0;           // H
  int64_t channels = 0;        // D
  double scale = 1.0;          // of Q K', all scales multiplied
  bool seqFirst = false;       // P's leading axes are (sequence, batch)
  bool resultSeqFirst = false; // Y is [S, B, D] or [S B, D]
  bool resultRows = false;     // Y's two leading axes are merged (2-D)
  bool causal = false;
  Value *padMask = nullptr; // bool [B, S], true: padding; or nullptr
};

/// Matches the block whose Softmax is `softmax`: nullptr with `out` filled,
/// or why not.
const char *matchAttentionBlock(Node &softmax, AttentionBlock &out);

} // namespace onnxopt
