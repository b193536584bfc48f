// Builder: creates nodes at an insertion point, resolving ops for the model's
// opsets.
#pragma once

#include "ir/Graph.h"

#include "absl/status/statusor.h"

namespace onnxopt {

/// Creates nodes in one graph before an insertion point (nullptr: at the end),
/// resolving each op through the schema registry at the model's opset version.
class Builder {
public:
  Builder(const Model &model, Graph &graph, Node *insertBefore = nullptr)
      : model_(model), graph_(graph), pos_(insertBefore) {}

  void setInsertionPoint(Node *before) { pos_ = before; }
  Graph &graph() const { return graph_; }

  /// Creates `type` in `domain` with `numOutputs` results named from `name`.
  absl::StatusOr<Node *> create(std::string_view type,
                                const std::vector<Value *> &inputs,
                                size_t numOutputs = 1,
                                std::string_view domain = "");

  /// Adds a constant (initializer) to the graph.
  Value *constant(std::string name, std::shared_ptr<const Tensor> t) {
    return graph_.addInitializer(std::move(name), std::move(t));
  }

private:
  const Model &model_;
  Graph &graph_;
  Node *pos_;
};

} // namespace onnxopt
