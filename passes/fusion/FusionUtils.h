// Helpers shared by the fusion passes: the guards every fusion checks and
// building constant tensors from computed values.
#pragma once

#include "backends/reference/TensorUtil.h"
#include "ir/Graph.h"
#include "passes/PassUtils.h"
#include "passes/PatternPass.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onnxopt {

/// A constant operand: an initializer that is not a graph input (so not
/// overridable), dense.
inline bool isConstantTensor(const Value *v) {
  return v && v->isConstant() && v->tensor() != nullptr;
}

/// The intermediate value of a fusion: produced for exactly one user and not
/// a graph output (STYLE.md's fusion guards).
inline bool isPrivateResult(const Value *v) {
  return v && v->hasOneUse() && !v->isGraphOutput();
}

/// A default-domain op with a schema (not opaque) of one of the given
/// types.
inline bool isOp(const Node *n, std::string_view type) {
  return n && !n->op().isOpaque() && n->is(type);
}

/// A tensor of float type `dt` holding `values` (rounded once from double).
std::shared_ptr<const Tensor>
makeFloatTensor(DataType dt, std::vector<int64_t> dims,
                const std::vector<double> &values);

/// W' = W * s[c] with W read as [outer, C, inner] (C = s.size()): element
/// ((o * C) + c) * inner + k is scaled by s[c]. Each product is taken in
/// double and rounded once to W's float type. Streams the weights (an
/// unaligned mapped weight is read element by element, not copied first) and
/// computes no index division per element.
std::shared_ptr<const Tensor> scaleBlocks(const Tensor &w,
                                          const std::vector<double> &s,
                                          int64_t outer, int64_t inner);

/// The constant's elements as doubles.
std::vector<double> constantValues(const Value &v);

/// Values of a constant `c` combined elementwise with a result of `rank`
/// dims: `c` must broadcast to it without enlarging it and vary at most along
/// `axis`, of `count` entries. Returns `count` values, or nullopt.
std::optional<std::vector<double>> valuesAlongAxis(const Value &c, size_t rank,
                                                   size_t axis, int64_t count);

/// Per-output-channel values of a constant `c` combined with a Conv whose
/// output has `rank` dims and `channels` channels: `c` must broadcast to the
/// output without enlarging it and vary at most along the channel axis
/// ([M,1,1], [1,M,1,1], a scalar, ...). Returns M values, or nullopt.
std::optional<std::vector<double>> channelValues(const Value &c, size_t rank,
                                                 int64_t channels);

} // namespace onnxopt
