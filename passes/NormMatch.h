// Pieces fuse-layer-norm and fuse-rms-norm both match: the ReduceMean over
// the last axes, the scale (gamma) of the normalized shape, the chain's
// private links.
#pragma once

#include "passes/PatternRewriter.h"

#include <optional>
#include <string_view>
#include <vector>

namespace onnxopt {

/// The producer of `v` when it is a ReduceMean with keepdims 1 and constant
/// axes, else nullptr; its axes in `axes`.
Node *reduceMeanOf(const Value *v, std::vector<int64_t> &axes);

/// The other operand of a two-input node, given one.
Value *otherOperand(const Node &n, const Value *x);

/// The single user of `v` when it is an op of `type` and `v` is private.
Node *soleUser(const Value *v, std::string_view type);

/// A constant for gamma or beta: `c` if its dims, leading 1s dropped, are
/// the normalized dims `norm` (a reshaped copy when they had leading 1s), or
/// nullptr. With unknown normalized dims, a 1-D `c` of one normalized axis.
Value *normalizedConstant(Value *c,
                          const std::vector<std::optional<int64_t>> &norm,
                          Rewriter &r);

/// The last-axes check both normalizations make: `axes` of X (rank `rank`)
/// sorted are k..rank-1; returns k.
std::optional<int64_t> lastAxesStart(std::vector<int64_t> axes,
                                     std::optional<int64_t> rank);

/// Ones of the static normalized dims `norm`, or nullptr when one is dynamic.
Value *onesScale(const std::vector<std::optional<int64_t>> &norm, Rewriter &r,
                 const char *name);

} // namespace onnxopt
