// Small models built in code for unit tests.
#pragma once

#include "ir/Graph.h"

#include <memory>

namespace onnxopt::test {

/// An empty model at IR version 8 importing the default domain at opset 17.
inline std::unique_ptr<Model> makeModel() {
  auto m = std::make_unique<Model>();
  m->irVersion = 8;
  m->opsetImports = {{"", 17}};
  m->graph = std::make_unique<Graph>();
  m->graph->name = "g";
  return m;
}

} // namespace onnxopt::test
