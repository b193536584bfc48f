// Text form of the IR in ONNX's textual syntax, with inferred types shown.
#pragma once

#include <ostream>
#include <string>

namespace onnxopt {

class Graph;
class Model;
class Type;

struct PrintOptions {
  /// Print value_info (types of intermediate values) after the initializers.
  bool showValueTypes = true;
  /// Tensors with more elements than this print as `{...}` with a byte count
  /// (0: always print every element).
  int64_t elideTensorsOver = 0;
};

/// Prints `m` in ONNX's textual syntax: the `<...>` model header, then the
/// graph.
void printModel(const Model &m, std::ostream &os,
                const PrintOptions &opts = {});
std::string printModel(const Model &m, const PrintOptions &opts = {});
/// A dim symbol as the text syntax writes it: bare (`batch`) or quoted.
std::string dimSymbolText(std::string_view symbol);
/// Prints one graph at `indent` spaces.
void printGraph(const Graph &g, std::ostream &os, int indent = 0,
                const PrintOptions &opts = {});

} // namespace onnxopt
