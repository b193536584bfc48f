// Node attributes.
#include "ir/Attribute.h"

#include "ir/Graph.h"

namespace onnxopt {

Attribute::Attribute() = default;
Attribute::Attribute(std::string n, AttrKind k) : name(std::move(n)), kind(k) {}
Attribute::~Attribute() = default;
Attribute::Attribute(Attribute &&) noexcept = default;
Attribute &Attribute::operator=(Attribute &&) noexcept = default;

Attribute Attribute::makeInt(std::string name, int64_t v) {
  Attribute a(std::move(name), AttrKind::Int);
  a.i = v;
  return a;
}
Attribute Attribute::makeFloat(std::string name, float v) {
  Attribute a(std::move(name), AttrKind::Float);
  a.f = v;
  return a;
}
Attribute Attribute::makeString(std::string name, std::string v) {
  Attribute a(std::move(name), AttrKind::String);
  a.s = std::move(v);
  return a;
}
Attribute Attribute::makeInts(std::string name, std::vector<int64_t> v) {
  Attribute a(std::move(name), AttrKind::Ints);
  a.ints = std::move(v);
  return a;
}
Attribute Attribute::copyWithoutGraphs() const {
  Attribute c(name, kind);
  c.refAttrName = refAttrName;
  c.docString = docString;
  c.f = f;
  c.i = i;
  c.s = s;
  c.floats = floats;
  c.ints = ints;
  c.strings = strings;
  c.tensors = tensors;
  c.sparseTensors = sparseTensors;
  c.types = types;
  return c;
}

Attribute Attribute::makeFloats(std::string name, std::vector<float> v) {
  Attribute a(std::move(name), AttrKind::Floats);
  a.floats = std::move(v);
  return a;
}
Attribute Attribute::makeTensor(std::string name,
                                std::shared_ptr<const Tensor> t) {
  Attribute a(std::move(name), AttrKind::Tensor);
  a.tensors.push_back(std::move(t));
  return a;
}
Attribute Attribute::makeGraph(std::string name, std::unique_ptr<Graph> g) {
  Attribute a(std::move(name), AttrKind::Graph);
  a.graphs.push_back(std::move(g));
  return a;
}

const char *attrKindName(AttrKind kind) {
  switch (kind) {
  case AttrKind::Float:
    return "float";
  case AttrKind::Int:
    return "int";
  case AttrKind::String:
    return "string";
  case AttrKind::Tensor:
    return "tensor";
  case AttrKind::Graph:
    return "graph";
  case AttrKind::SparseTensor:
    return "sparse_tensor";
  case AttrKind::TypeProto:
    return "type_proto";
  case AttrKind::Floats:
    return "floats";
  case AttrKind::Ints:
    return "ints";
  case AttrKind::Strings:
    return "strings";
  case AttrKind::Tensors:
    return "tensors";
  case AttrKind::Graphs:
    return "graphs";
  case AttrKind::SparseTensors:
    return "sparse_tensors";
  case AttrKind::TypeProtos:
    return "type_protos";
  case AttrKind::Undefined:
    break;
  }
  return "undefined";
}

} // namespace onnxopt
