// IR -> ONNX proto conversion of types, tensors and attributes.
#include "format/ProtoConversion.h"

namespace onnxopt {

void toTypeProto(const Type &t, onnx::TypeProto &tp) {
  auto shape = [&](onnx::TensorShapeProto *sp) {
    for (const Dim &d : *t.shape()) {
      auto *dp = sp->add_dim();
      if (d.isConstant())
        dp->set_dim_value(d.value());
      else if (d.isSymbol())
        dp->set_dim_param(d.symbol());
      if (!d.denotation.empty())
        dp->set_denotation(d.denotation);
    }
  };
  switch (t.kind()) {
  case Type::Kind::Unknown:
    break;
  case Type::Kind::Tensor: {
    auto *tt = tp.mutable_tensor_type();
    tt->set_elem_type(static_cast<int32_t>(t.elemType()));
    if (t.shape())
      shape(tt->mutable_shape());
    break;
  }
  case Type::Kind::SparseTensor: {
    auto *tt = tp.mutable_sparse_tensor_type();
    tt->set_elem_type(static_cast<int32_t>(t.elemType()));
    if (t.shape())
      shape(tt->mutable_shape());
    break;
  }
  case Type::Kind::Sequence:
    if (t.inner())
      toTypeProto(*t.inner(), *tp.mutable_sequence_type()->mutable_elem_type());
    else
      tp.mutable_sequence_type();
    break;
  case Type::Kind::Optional:
    if (t.inner())
      toTypeProto(*t.inner(), *tp.mutable_optional_type()->mutable_elem_type());
    else
      tp.mutable_optional_type();
    break;
  case Type::Kind::Map:
    tp.mutable_map_type()->set_key_type(static_cast<int32_t>(t.elemType()));
    if (t.inner())
      toTypeProto(*t.inner(), *tp.mutable_map_type()->mutable_value_type());
    break;
  }
  if (!t.denotation.empty())
    tp.set_denotation(t.denotation);
}

void toTensorProto(const Tensor &t, const std::string &name,
                   onnx::TensorProto &tp) {
  for (int64_t d : t.dims())
    tp.add_dims(d);
  tp.set_data_type(static_cast<int32_t>(t.dtype()));
  tp.set_name(name);
  if (t.dtype() == DataType::String)
    for (const auto &s : t.strings())
      tp.add_string_data(s);
  else
    tp.set_raw_data(t.bytes().data(), t.bytes().size());
}

namespace {

bool encodeSparse(const SparseTensor &s, onnx::SparseTensorProto &sp,
                  const AttributeEncoders &enc) {
  if (!enc.sparseValues || !enc.sparseValues(s.values, *sp.mutable_values()) ||
      !enc.sparseValues(s.indices, *sp.mutable_indices()))
    return false;
  for (int64_t d : s.dims)
    sp.add_dims(d);
  return true;
}

} // namespace

bool toAttributeProto(const Attribute &a, onnx::AttributeProto &ap,
                      const AttributeEncoders &enc) {
  ap.set_name(a.name);
  ap.set_type(static_cast<onnx::AttributeProto::AttributeType>(a.kind));
  if (!a.refAttrName.empty())
    ap.set_ref_attr_name(a.refAttrName);
  if (!a.docString.empty())
    ap.set_doc_string(a.docString);
  switch (a.kind) {
  case AttrKind::Float:
    ap.set_f(a.f);
    return true;
  case AttrKind::Int:
    ap.set_i(a.i);
    return true;
  case AttrKind::String:
    ap.set_s(a.s);
    return true;
  case AttrKind::Floats:
    for (float f : a.floats)
      ap.add_floats(f);
    return true;
  case AttrKind::Ints:
    for (int64_t i : a.ints)
      ap.add_ints(i);
    return true;
  case AttrKind::Strings:
    for (const auto &s : a.strings)
      ap.add_strings(s);
    return true;
  case AttrKind::Tensor:
    return a.tensors.empty() ||
           (enc.tensor && enc.tensor(*a.tensors[0], *ap.mutable_t()));
  case AttrKind::Tensors:
    for (const auto &t : a.tensors)
      if (!enc.tensor || !enc.tensor(*t, *ap.add_tensors()))
        return false;
    return true;
  case AttrKind::Graph:
    return a.graphs.empty() ||
           (enc.graph && enc.graph(*a.graphs[0], *ap.mutable_g()));
  case AttrKind::Graphs:
    for (const auto &g : a.graphs)
      if (!enc.graph || !enc.graph(*g, *ap.add_graphs()))
        return false;
    return true;
  case AttrKind::SparseTensor:
    return a.sparseTensors.empty() ||
           encodeSparse(*a.sparseTensors[0], *ap.mutable_sparse_tensor(), enc);
  case AttrKind::SparseTensors:
    for (const auto &s : a.sparseTensors)
      if (!encodeSparse(*s, *ap.add_sparse_tensors(), enc))
        return false;
    return true;
  case AttrKind::TypeProto:
    if (!a.types.empty())
      toTypeProto(a.types[0], *ap.mutable_tp());
    return true;
  case AttrKind::TypeProtos:
    for (const Type &t : a.types)
      toTypeProto(t, *ap.add_type_protos());
    return true;
  case AttrKind::Undefined:
    return true;
  }
  return true;
}

} // namespace onnxopt
