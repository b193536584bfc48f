// Graphviz DOT of a model: the graph to look at (`--emit=dot`).
#pragma once

#include <string>

namespace onnxopt {

class Model;

/// Prints `m` as a Graphviz digraph: graph inputs and outputs as ellipses,
/// each node a box labeled with its op (domain-qualified outside ONNX), up
/// to four short attributes, its constant operands summarized as
/// `name: type` (never their data) and its results' types (symbolic dims
/// by name); edges carry values from producer to user. Subgraph bodies are
/// clusters inside their owner's, with edges from the outer values they
/// read. Node ids are `n<k>` in program order, the same in every run.
std::string printDot(const Model &m);

} // namespace onnxopt
