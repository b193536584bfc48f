// Per-op fold hooks: an existing value a node's result always equals, if any.
//
// A fold never creates nodes or constants; it names a value that already exists
// (MLIR's fold contract). The greedy driver applies folds before patterns when
// a pass asks for them (canonicalize does).
#pragma once

#include "ir/Graph.h"

#include <string_view>
#include <vector>

namespace onnxopt {

/// Returns an existing value equal to `n`'s first result for every input, or
/// nullptr. Exact folds only:
///   Identity(x)                                 -> x
///   Transpose(x) with perm = [0, 1, ..., r-1]   -> x   (no perm: rank <= 1)
///   Cast(x) with `to` = x's element type        -> x
///   CastLike(x, t) with t of x's element type   -> x
Value *foldNode(const Node &n);

/// The (default-domain) op types that have a fold hook: foldNode returns
/// nullptr for every other node.
std::vector<std::string_view> foldHookOpTypes();

} // namespace onnxopt
