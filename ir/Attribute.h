// Node attributes: scalars, lists, tensors, subgraphs and types.
#pragma once

#include "ir/Tensor.h"
#include "ir/Type.h"

#include <memory>
#include <string>
#include <vector>

namespace onnxopt {

class Graph;

/// Attribute kinds; values match AttributeProto.AttributeType.
enum class AttrKind : int32_t {
  Undefined = 0,
  Float = 1,
  Int = 2,
  String = 3,
  Tensor = 4,
  Graph = 5,
  SparseTensor = 11,
  TypeProto = 13,
  Floats = 6,
  Ints = 7,
  Strings = 8,
  Tensors = 9,
  Graphs = 10,
  SparseTensors = 12,
  TypeProtos = 14,
};

/// One named attribute. Single-valued tensor, graph, sparse-tensor and type
/// attributes keep their one element in the corresponding list.
class Attribute {
public:
  Attribute();
  Attribute(std::string name, AttrKind kind);
  ~Attribute();
  Attribute(Attribute &&) noexcept;
  Attribute &operator=(Attribute &&) noexcept;

  /// A copy of everything but subgraphs (which only Graph::clone copies:
  /// graph attributes come back with no graphs).
  Attribute copyWithoutGraphs() const;

  static Attribute makeInt(std::string name, int64_t v);
  static Attribute makeFloat(std::string name, float v);
  static Attribute makeString(std::string name, std::string v);
  static Attribute makeInts(std::string name, std::vector<int64_t> v);
  static Attribute makeFloats(std::string name, std::vector<float> v);
  static Attribute makeTensor(std::string name,
                              std::shared_ptr<const Tensor> t);
  static Attribute makeGraph(std::string name, std::unique_ptr<Graph> g);

  std::string name;
  AttrKind kind = AttrKind::Undefined;
  /// Set in function bodies: the attribute refers to the caller's attribute.
  std::string refAttrName;
  std::string docString;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<std::shared_ptr<const Tensor>> tensors;
  std::vector<std::unique_ptr<Graph>> graphs;
  std::vector<std::shared_ptr<const SparseTensor>> sparseTensors;
  std::vector<Type> types;

  bool isGraphKind() const {
    return kind == AttrKind::Graph || kind == AttrKind::Graphs;
  }
};

/// Text name of an attribute kind ("int", "floats", "graph", ...).
const char *attrKindName(AttrKind kind);

} // namespace onnxopt
