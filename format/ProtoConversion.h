// The one conversion of IR types, tensors and attributes to ONNX protos,
// shared by the writer (backends/onnx) and the type inference engine.
#pragma once

#include "ir/Graph.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <string>

namespace onnxopt {

/// `t` as a TypeProto: tensor, sparse tensor, sequence, optional and map
/// types with their shapes (constant, symbolic or unknown dims), dim and type
/// denotations.
void toTypeProto(const Type &t, onnx::TypeProto &tp);

/// Fills `tp` with `t` (inline raw_data, or string_data) named `name`.
void toTensorProto(const Tensor &t, const std::string &name,
                   onnx::TensorProto &tp);

/// How an attribute's tensors, graphs and sparse tensors are written: the
/// writer streams large tensors and recurses into graphs; inference takes
/// small tensors only. A missing or refusing encoder makes the attribute
/// unconvertible.
struct AttributeEncoders {
  std::function<bool(const Tensor &, onnx::TensorProto &)> tensor;
  std::function<bool(const Graph &, onnx::GraphProto &)> graph;
  std::function<bool(const Tensor &, onnx::TensorProto &)> sparseValues;
};

/// `a` as an AttributeProto (name, type, ref_attr_name, doc string, value).
/// False when a tensor, graph or sparse tensor has no encoder or its encoder
/// refuses it.
bool toAttributeProto(const Attribute &a, onnx::AttributeProto &ap,
                      const AttributeEncoders &enc);

} // namespace onnxopt
