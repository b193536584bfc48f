// Graphviz DOT of a model: the graph to look at (`--emit=dot`).
#pragma once

#include "absl/container/flat_hash_set.h"

#include <string>

namespace onnxopt {

class Model;

/// How printDot draws, for the HTML view.
struct DotOptions {
  /// Prefixed to every node id (`id` of the SVG group Graphviz writes).
  std::string idPrefix;
  /// When set: a node none of whose results is named in it is drawn marked
  /// with `markClass` (the HTML view marks what a pipeline removed, in the
  /// before graph, and created, in the after graph).
  const absl::flat_hash_set<std::string> *other = nullptr;
  std::string markClass;
};

/// A printed view: the DOT text, a JSON object of every node's details by
/// id (op, name, attributes, operands and results with their types, mark),
/// and the number of op nodes.
struct DotView {
  std::string dot;
  std::string nodesJson;
  size_t numNodes = 0;
};

/// Every value name produced by a node or a graph input, subgraphs
/// included (what DotOptions::other holds).
absl::flat_hash_set<std::string> valueNames(const Model &m);

/// Prints `m` as a Graphviz digraph: graph inputs and outputs as ellipses,
/// each node a box labeled with its op (domain-qualified outside ONNX), up
/// to four short attributes, its constant operands summarized as
/// `name: type` (never their data) and its results' types (symbolic dims
/// by name); edges carry values from producer to user. Subgraph bodies are
/// clusters inside their owner's, with edges from the outer values they
/// read. Node ids are `n<k>` in program order, the same in every run.
/// Op nodes have class "op" (and the mark), inputs and outputs class "io".
std::string printDot(const Model &m);
DotView printDotView(const Model &m, const DotOptions &opts);

} // namespace onnxopt
