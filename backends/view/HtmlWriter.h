// One self-contained HTML page showing a model's graph (`--emit=html`).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace onnxopt {

/// One graph of the page: its SVG (laid out by Graphviz from printDotView's
/// DOT) and the node details printDotView gave with it.
struct HtmlPane {
  std::string title;
  std::string svg;
  std::string nodesJson;
  size_t numNodes = 0;
};

/// One row of the op-count table.
struct HtmlOpCount {
  std::string op;
  size_t before = 0, after = 0;
};

struct HtmlPage {
  std::string title;
  /// The pipeline that made the second pane from the first ("" for one).
  std::string pipeline;
  /// One pane, or the model before and after the pipeline.
  std::vector<HtmlPane> panes;
  /// With two panes: op counts before and after.
  std::vector<HtmlOpCount> opCounts;
};

/// The page: everything inlined (no network), the graphs as SVG, a search
/// box (node name, op, result name; `#search=TEXT` in the URL searches on
/// load; the count of matches is in #matches's data-count), each node's
/// attributes and types shown on hover and click, nodes a pipeline removed
/// or created marked, and the op-count table.
std::string writeHtml(const HtmlPage &page);

} // namespace onnxopt
