// Structural verification of the IR: SSA, order, use lists, outputs.
#pragma once

#include "absl/status/status.h"

namespace onnxopt {

class Graph;
class Model;

/// Checks that every operand is defined before its use (in this graph or an
/// enclosing one, before the node that owns the subgraph), that use lists and
/// result back-pointers are consistent, that graph outputs are defined, and
/// that subgraphs point back at their node. Returns the first problem found,
/// naming the node.
absl::Status verifyGraph(const Graph &g);
absl::Status verifyModel(const Model &m);

} // namespace onnxopt
