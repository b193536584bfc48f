// Exact structural equality of attributes, tensors and subgraphs.
#pragma once

#include "ir/Graph.h"

namespace onnxopt {

/// Same name set, kinds and values; floats compare by bit pattern (so -0.0 and
/// 0.0 differ and a NaN equals itself), tensors by dtype, dims and bytes,
/// subgraphs structurally (see graphsEquivalent).
bool attributesEqual(const Node &a, const Node &b);

/// Structural equality of two subgraphs: same inputs (types), constants, nodes
/// in the same order with equal ops and attributes, operands corresponding
/// position by position (outer values must be the very same value), and
/// outputs.
bool graphsEquivalent(const Graph &a, const Graph &b);

} // namespace onnxopt
