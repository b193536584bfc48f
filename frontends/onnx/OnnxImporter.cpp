// ONNX frontend: protobuf and text into the IR, validating everything it
// trusts.
#include "frontends/onnx/OnnxImporter.h"

#include "frontends/onnx/InlineFunctions.h"

#include "format/ExternalData.h"
#include "format/TextParser.h"
#include "format/WireFormat.h"
#include "utils/CheckedMath.h"
#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"

#include <google/protobuf/arena.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace onnxopt {

namespace {

constexpr uint64_t kProtobufLimit = uint64_t(2) << 30;

std::string dirOf(const std::string &path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos)
    return ".";
  if (pos == 0)
    return "/";
  return path.substr(0, pos);
}

/// Name lookup for one graph, chained to the enclosing graphs' scopes.
struct Scope {
  const Scope *parent = nullptr;
  // Looked up by name; never iterated.
  absl::flat_hash_map<std::string, Value *> values;
  Value *lookup(const std::string &name) const {
    for (const Scope *s = this; s; s = s->parent)
      if (auto it = s->values.find(name); it != s->values.end())
        return it->second;
    return nullptr;
  }
};

class Importer {
public:
  Importer(const ImportOptions &opts, std::string baseDir,
           std::shared_ptr<const Buffer> file, std::vector<wire::Slot> slots)
      : opts_(opts), external_(std::move(baseDir)), file_(std::move(file)),
        slots_(std::move(slots)) {}

  absl::StatusOr<std::unique_ptr<Model>> importModel(const onnx::ModelProto &p);
  /// A TensorProto on its own (a .pb input or output file).
  absl::StatusOr<std::shared_ptr<const Tensor>>
  importStandaloneTensor(const onnx::TensorProto &tp, const std::string &what) {
    return importTensor(tp, what);
  }

private:
  absl::Status importGraph(const onnx::GraphProto &gp, Graph &g,
                           const Scope *parent, unsigned depth);
  absl::StatusOr<std::shared_ptr<const Tensor>>
  importTensor(const onnx::TensorProto &tp, const std::string &what);
  absl::StatusOr<std::shared_ptr<const SparseTensor>>
  importSparse(const onnx::SparseTensorProto &sp, const std::string &what);
  absl::StatusOr<Type> importType(const onnx::TypeProto &tp,
                                  const std::string &what, unsigned depth = 0);
  absl::StatusOr<Attribute> importAttribute(const onnx::AttributeProto &ap,
                                            const std::string &what,
                                            const Scope *scope, unsigned depth);
  absl::Status checkNode(const onnx::NodeProto &np, const Node &n,
                         const std::string &what);

  const ImportOptions &opts_;
  ExternalDataResolver external_;
  std::shared_ptr<const Buffer> file_;
  std::vector<wire::Slot> slots_;
  Model *model_ = nullptr;
};

std::string nodeWhat(const onnx::NodeProto &np, int index) {
  return absl::StrCat("node ", index, " '", np.name(), "' (", np.op_type(),
                      ")");
}

// ------------------------------------------------------------------ types

absl::StatusOr<Type> Importer::importType(const onnx::TypeProto &tp,
                                          const std::string &what,
                                          unsigned depth) {
  if (depth > 16)
    return limitExceeded(what, ": type nested more than 16 levels deep");
  Type t;
  auto tensorLike = [&](int32_t elem, bool hasShape,
                        const onnx::TensorShapeProto &shape,
                        bool sparse) -> absl::StatusOr<Type> {
    if (elem != 0 && !isKnownDataType(elem))
      return invalidInput(what, ": unknown element type ", elem);
    Type r = sparse ? Type::sparseTensor(static_cast<DataType>(elem))
                    : Type::tensor(static_cast<DataType>(elem));
    if (hasShape) {
      if (shape.dim_size() > 1024)
        return limitExceeded(what, ": rank ", shape.dim_size(),
                             " exceeds the limit of 1024");
      std::vector<Dim> dims;
      for (const auto &d : shape.dim()) {
        Dim dim;
        if (d.has_dim_value()) {
          if (d.dim_value() < 0)
            return invalidInput(what, ": negative dimension ", d.dim_value());
          dim = Dim::constant(d.dim_value());
        } else if (d.has_dim_param() && !d.dim_param().empty()) {
          // An empty dim_param names nothing: the dim is unknown (as a
          // symbol it would print as text nothing can parse back).
          dim = Dim::symbol(d.dim_param());
        }
        dim.denotation = d.denotation();
        dims.push_back(std::move(dim));
      }
      r.setShape(std::move(dims));
    }
    return r;
  };
  switch (tp.value_case()) {
  case onnx::TypeProto::kTensorType: {
    ONNXOPT_ASSIGN_OR_RETURN(t, tensorLike(tp.tensor_type().elem_type(),
                                           tp.tensor_type().has_shape(),
                                           tp.tensor_type().shape(), false));
    break;
  }
  case onnx::TypeProto::kSparseTensorType: {
    ONNXOPT_ASSIGN_OR_RETURN(t,
                             tensorLike(tp.sparse_tensor_type().elem_type(),
                                        tp.sparse_tensor_type().has_shape(),
                                        tp.sparse_tensor_type().shape(), true));
    break;
  }
  case onnx::TypeProto::kSequenceType: {
    ONNXOPT_ASSIGN_OR_RETURN(
        Type e, importType(tp.sequence_type().elem_type(), what, depth + 1));
    t = Type::sequence(std::move(e));
    break;
  }
  case onnx::TypeProto::kOptionalType: {
    ONNXOPT_ASSIGN_OR_RETURN(
        Type e, importType(tp.optional_type().elem_type(), what, depth + 1));
    t = Type::optional(std::move(e));
    break;
  }
  case onnx::TypeProto::kMapType: {
    int32_t key = tp.map_type().key_type();
    if (!isKnownDataType(key))
      return invalidInput(what, ": unknown map key type ", key);
    ONNXOPT_ASSIGN_OR_RETURN(
        Type v, importType(tp.map_type().value_type(), what, depth + 1));
    t = Type::map(static_cast<DataType>(key), std::move(v));
    break;
  }
  case onnx::TypeProto::kOpaqueType:
    return unsupported(what, ": opaque types are not supported");
  case onnx::TypeProto::VALUE_NOT_SET:
    break;
  }
  t.denotation = tp.denotation();
  return t;
}

// ------------------------------------------------------------------ tensors

template <typename T, typename Field>
std::string packField(const Field &field) {
  std::string bytes(field.size() * sizeof(T), '\0');
  for (int i = 0; i < field.size(); ++i) {
    T v = static_cast<T>(field.Get(i));
    std::memcpy(bytes.data() + size_t(i) * sizeof(T), &v, sizeof(T));
  }
  return bytes;
}

absl::StatusOr<std::shared_ptr<const Tensor>>
Importer::importTensor(const onnx::TensorProto &tp, const std::string &what) {
  int32_t dt = tp.data_type();
  if (dt == 0)
    return invalidInput(what, ": data_type is UNDEFINED (0)");
  if (!isKnownDataType(dt))
    return invalidInput(what, ": unknown data_type ", dt);
  auto dtype = static_cast<DataType>(dt);
  if (tp.has_segment())
    return unsupported(what, ": segmented tensors are not supported");
  std::vector<int64_t> dims(tp.dims().begin(), tp.dims().end());
  for (int64_t d : dims)
    if (d < 0)
      return invalidInput(what, ": negative dimension ", d);
  auto count = checkedProduct(dims);
  if (!count)
    return invalidInput(what, ": the product of dims overflows int64");
  size_t es = elementSize(dtype);
  std::optional<int64_t> byteSize =
      es ? checkedMul(*count, int64_t(es)) : std::optional<int64_t>(0);
  if (!byteSize)
    return invalidInput(what, ": byte size of ", *count, " elements overflows");

  // Which data fields are set.
  const auto &unknown = tp.GetReflection()->GetUnknownFields(tp);
  std::optional<uint64_t> slot;
  for (int i = 0; i < unknown.field_count(); ++i)
    if (unknown.field(i).number() == static_cast<int>(wire::kSlotField))
      slot = unknown.field(i).varint();
  bool external = tp.data_location() == onnx::TensorProto::EXTERNAL;
  int fieldsSet = (tp.has_raw_data() || slot) + (tp.float_data_size() > 0) +
                  (tp.int32_data_size() > 0) + (tp.string_data_size() > 0) +
                  (tp.int64_data_size() > 0) + (tp.double_data_size() > 0) +
                  (tp.uint64_data_size() > 0) + external;
  if (fieldsSet > 1)
    return invalidInput(what, ": more than one data field is set");
  if (!external && tp.external_data_size() > 0)
    return invalidInput(
        what, ": external_data is set but data_location is not EXTERNAL");

  auto tensor = std::make_shared<Tensor>();
  auto finish = [&](Tensor t) {
    t.name = tp.name();
    t.docString = tp.doc_string();
    *tensor = std::move(t);
    return tensor;
  };

  if (dtype == DataType::String) {
    if (tp.has_raw_data() || slot || external)
      return invalidInput(what, ": string tensors must use string_data");
    if (tp.string_data_size() != *count)
      return invalidInput(what, ": has ", tp.string_data_size(),
                          " strings but its dims hold ", *count);
    return finish(Tensor::fromStrings(
        dims, std::vector<std::string>(tp.string_data().begin(),
                                       tp.string_data().end())));
  }
  if (slot) {
    if (*slot >= slots_.size())
      return absl::InternalError("slot marker out of range");
    const wire::Slot &s = slots_[*slot];
    if (s.size != uint64_t(*byteSize))
      return invalidInput(what, ": raw_data has ", s.size,
                          " bytes but its dims need ", *byteSize);
    return finish(Tensor(dtype, dims, file_, s.offset, s.size));
  }
  if (tp.has_raw_data()) {
    if (tp.raw_data().size() != uint64_t(*byteSize))
      return invalidInput(what, ": raw_data has ", tp.raw_data().size(),
                          " bytes but its dims need ", *byteSize);
    return finish(Tensor::fromBytes(dtype, dims, tp.raw_data()));
  }
  if (external) {
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto &e : tp.external_data())
      entries.emplace_back(e.key(), e.value());
    ONNXOPT_ASSIGN_OR_RETURN(
        auto res, external_.resolve(entries, uint64_t(*byteSize), what));
    auto [buffer, bytes] = res;
    return finish(Tensor(dtype, dims, buffer,
                         static_cast<size_t>(bytes.data() - buffer->data()),
                         bytes.size()));
  }
  // Typed fields: check the field matches the dtype and the count matches dims.
  auto expect = [&](int have, int64_t per) -> absl::Status {
    if (have == 0 && *count == 0)
      return absl::OkStatus();
    if (int64_t(have) != *count * per)
      return invalidInput(what, ": has ", have, " values but its dims need ",
                          *count * per);
    return absl::OkStatus();
  };
  auto wrongField = [&]() {
    return invalidInput(what, ": the data field set does not match data_type ",
                        dataTypeName(dtype));
  };
  if (fieldsSet == 0) {
    if (*count != 0)
      return invalidInput(what, ": has ", *count, " elements but no data");
    return finish(Tensor::fromBytes(dtype, dims, std::string()));
  }
  std::string bytes;
  switch (dtype) {
  case DataType::Float:
  case DataType::Complex64:
    if (tp.float_data_size() == 0)
      return wrongField();
    ONNXOPT_RETURN_IF_ERROR(
        expect(tp.float_data_size(), dtype == DataType::Complex64 ? 2 : 1));
    bytes = packField<float>(tp.float_data());
    break;
  case DataType::Double:
  case DataType::Complex128:
    if (tp.double_data_size() == 0)
      return wrongField();
    ONNXOPT_RETURN_IF_ERROR(
        expect(tp.double_data_size(), dtype == DataType::Complex128 ? 2 : 1));
    bytes = packField<double>(tp.double_data());
    break;
  case DataType::Int64:
    if (tp.int64_data_size() == 0)
      return wrongField();
    ONNXOPT_RETURN_IF_ERROR(expect(tp.int64_data_size(), 1));
    bytes = packField<int64_t>(tp.int64_data());
    break;
  case DataType::UInt32:
  case DataType::UInt64:
    if (tp.uint64_data_size() == 0)
      return wrongField();
    ONNXOPT_RETURN_IF_ERROR(expect(tp.uint64_data_size(), 1));
    bytes = dtype == DataType::UInt32 ? packField<uint32_t>(tp.uint64_data())
                                      : packField<uint64_t>(tp.uint64_data());
    break;
  case DataType::Int32:
  case DataType::Int16:
  case DataType::Int8:
  case DataType::UInt16:
  case DataType::UInt8:
  case DataType::Bool:
  case DataType::Float16:
  case DataType::BFloat16:
    if (tp.int32_data_size() == 0)
      return wrongField();
    ONNXOPT_RETURN_IF_ERROR(expect(tp.int32_data_size(), 1));
    switch (dtype) {
    case DataType::Int32:
      bytes = packField<int32_t>(tp.int32_data());
      break;
    case DataType::Int16:
      bytes = packField<int16_t>(tp.int32_data());
      break;
    case DataType::Int8:
      bytes = packField<int8_t>(tp.int32_data());
      break;
    case DataType::Bool:
      bytes = packField<uint8_t>(tp.int32_data());
      for (char &c : bytes)
        c = c ? 1 : 0;
      break;
    case DataType::UInt8:
      bytes = packField<uint8_t>(tp.int32_data());
      break;
    default: // UInt16, Float16, BFloat16: low 16 bits hold the value.
      bytes = packField<uint16_t>(tp.int32_data());
      break;
    }
    break;
  default:
    return wrongField();
  }
  return finish(Tensor::fromBytes(dtype, dims, std::move(bytes)));
}

absl::StatusOr<std::shared_ptr<const SparseTensor>>
Importer::importSparse(const onnx::SparseTensorProto &sp,
                       const std::string &what) {
  auto s = std::make_shared<SparseTensor>();
  ONNXOPT_ASSIGN_OR_RETURN(
      auto values, importTensor(sp.values(), what + " (sparse values)"));
  ONNXOPT_ASSIGN_OR_RETURN(
      auto indices, importTensor(sp.indices(), what + " (sparse indices)"));
  s->values = *values;
  s->indices = *indices;
  for (int64_t d : sp.dims()) {
    if (d < 0)
      return invalidInput(what, ": negative sparse dimension ", d);
    s->dims.push_back(d);
  }
  if (!checkedProduct(s->dims))
    return invalidInput(what, ": the product of sparse dims overflows int64");
  if (s->values.dims().size() != 1)
    return invalidInput(what, ": sparse values must be 1-D");
  if (s->indices.dtype() != DataType::Int64)
    return invalidInput(what, ": sparse indices must be int64");
  return std::shared_ptr<const SparseTensor>(std::move(s));
}

// ------------------------------------------------------------------ attributes

absl::StatusOr<Attribute>
Importer::importAttribute(const onnx::AttributeProto &ap,
                          const std::string &nodeWhatStr, const Scope *scope,
                          unsigned depth) {
  std::string what = absl::StrCat(nodeWhatStr, " attribute '", ap.name(), "'");
  if (ap.name().empty())
    return invalidInput(nodeWhatStr, ": an attribute has no name");
  // Which value fields are set, as attribute kinds.
  std::vector<AttrKind> set;
  if (ap.has_f())
    set.push_back(AttrKind::Float);
  if (ap.has_i())
    set.push_back(AttrKind::Int);
  if (ap.has_s())
    set.push_back(AttrKind::String);
  if (ap.has_t())
    set.push_back(AttrKind::Tensor);
  if (ap.has_g())
    set.push_back(AttrKind::Graph);
  if (ap.has_sparse_tensor())
    set.push_back(AttrKind::SparseTensor);
  if (ap.has_tp())
    set.push_back(AttrKind::TypeProto);
  if (ap.floats_size())
    set.push_back(AttrKind::Floats);
  if (ap.ints_size())
    set.push_back(AttrKind::Ints);
  if (ap.strings_size())
    set.push_back(AttrKind::Strings);
  if (ap.tensors_size())
    set.push_back(AttrKind::Tensors);
  if (ap.graphs_size())
    set.push_back(AttrKind::Graphs);
  if (ap.sparse_tensors_size())
    set.push_back(AttrKind::SparseTensors);
  if (ap.type_protos_size())
    set.push_back(AttrKind::TypeProtos);

  AttrKind kind = static_cast<AttrKind>(ap.type());
  bool refOnly = !ap.ref_attr_name().empty();
  if (ap.type() == 0) {
    // Old exporters leave the type out: take it from the one field set.
    if (set.size() != 1)
      return invalidInput(what, ": has no type and ",
                          set.empty() ? "no value" : "several values");
    kind = set[0];
  } else {
    const char *name = attrKindName(kind);
    if (std::strcmp(name, "undefined") == 0)
      return invalidInput(what, ": unknown attribute type ", ap.type());
    for (AttrKind k : set)
      if (k != kind)
        return invalidInput(what, ": declared type ", name, " but sets a ",
                            attrKindName(k), " value");
    bool scalar = kind == AttrKind::Float || kind == AttrKind::Int ||
                  kind == AttrKind::String || kind == AttrKind::Tensor ||
                  kind == AttrKind::Graph || kind == AttrKind::SparseTensor ||
                  kind == AttrKind::TypeProto;
    // proto3 cannot tell i=0 / f=0 / s="" from unset, so only messages count.
    bool messageScalar = kind == AttrKind::Tensor || kind == AttrKind::Graph ||
                         kind == AttrKind::SparseTensor ||
                         kind == AttrKind::TypeProto;
    if (scalar && messageScalar && set.empty() && !refOnly)
      return invalidInput(what, ": declared type ", name, " but has no value");
  }
  Attribute a(ap.name(), kind);
  a.refAttrName = ap.ref_attr_name();
  a.docString = ap.doc_string();
  a.f = ap.f();
  a.i = ap.i();
  a.s = ap.s();
  a.floats.assign(ap.floats().begin(), ap.floats().end());
  a.ints.assign(ap.ints().begin(), ap.ints().end());
  a.strings.assign(ap.strings().begin(), ap.strings().end());
  if (ap.has_t()) {
    ONNXOPT_ASSIGN_OR_RETURN(auto t, importTensor(ap.t(), what));
    a.tensors.push_back(t);
  }
  for (const auto &t : ap.tensors()) {
    ONNXOPT_ASSIGN_OR_RETURN(auto tt, importTensor(t, what));
    a.tensors.push_back(tt);
  }
  if (ap.has_sparse_tensor()) {
    ONNXOPT_ASSIGN_OR_RETURN(auto s, importSparse(ap.sparse_tensor(), what));
    a.sparseTensors.push_back(s);
  }
  for (const auto &s : ap.sparse_tensors()) {
    ONNXOPT_ASSIGN_OR_RETURN(auto ss, importSparse(s, what));
    a.sparseTensors.push_back(ss);
  }
  if (ap.has_tp()) {
    ONNXOPT_ASSIGN_OR_RETURN(Type t, importType(ap.tp(), what));
    a.types.push_back(std::move(t));
  }
  for (const auto &tp : ap.type_protos()) {
    ONNXOPT_ASSIGN_OR_RETURN(Type t, importType(tp, what));
    a.types.push_back(std::move(t));
  }
  auto addGraph = [&](const onnx::GraphProto &gp) -> absl::Status {
    if (depth + 1 > opts_.maxGraphDepth)
      return limitExceeded(what, ": subgraphs are nested more than ",
                           opts_.maxGraphDepth, " levels deep");
    auto g = std::make_unique<Graph>();
    ONNXOPT_RETURN_IF_ERROR(importGraph(gp, *g, scope, depth + 1));
    a.graphs.push_back(std::move(g));
    return absl::OkStatus();
  };
  if (ap.has_g())
    ONNXOPT_RETURN_IF_ERROR(addGraph(ap.g()));
  for (const auto &gp : ap.graphs())
    ONNXOPT_RETURN_IF_ERROR(addGraph(gp));
  return a;
}

// ------------------------------------------------------------------ node
// checks

/// Checks that ONNX's checker and shape inference do not, and that kernels
/// would otherwise trip over (onnx#8036): attribute values in range for their
/// rank.
absl::Status Importer::checkNode(const onnx::NodeProto &np, const Node &n,
                                 const std::string &what) {
  if (n.op().isOpaque())
    return absl::OkStatus();
  try {
    n.op().schema->Verify(np);
  } catch (const std::exception &e) {
    return invalidInput(what, ": ", e.what());
  }
  auto intAttr = [&](std::string_view name) -> const Attribute * {
    const Attribute *a = n.attr(name);
    return a && a->kind == AttrKind::Int ? a : nullptr;
  };
  auto inputRank = [&](size_t i) -> std::optional<int64_t> {
    if (i >= n.numInputs() || !n.input(i))
      return std::nullopt;
    const auto &shape = n.input(i)->type().shape();
    if (!n.input(i)->type().isTensor() || !shape)
      return std::nullopt;
    return static_cast<int64_t>(shape->size());
  };
  if (n.is("Gemm"))
    for (const char *flag : {"transA", "transB"})
      if (const Attribute *a = intAttr(flag); a && a->i != 0 && a->i != 1)
        return invalidInput(what, ": attribute '", flag,
                            "' must be 0 or 1, not ", a->i);
  static const char *kSpatial[] = {
      "Conv",    "ConvTranspose", "ConvInteger", "QLinearConv",
      "MaxPool", "AveragePool",   "LpPool"};
  for (const char *op : kSpatial) {
    if (!n.is(op))
      continue;
    const Attribute *ks = n.attr("kernel_shape");
    std::optional<int64_t> spatial;
    if (ks)
      spatial = static_cast<int64_t>(ks->ints.size());
    else if (size_t w = n.is("QLinearConv") ? 3 : 1;
             !n.is("MaxPool") && !n.is("AveragePool") && !n.is("LpPool"))
      if (auto r = inputRank(w))
        spatial = *r - 2;
    if (auto r = inputRank(0)) {
      if (*r < 3)
        return invalidInput(what, ": input rank ", *r, " is below 3");
      if (spatial && *spatial != *r - 2)
        return invalidInput(what, ": kernel has ", *spatial,
                            " spatial dims but the input has ", *r - 2);
      if (!spatial)
        spatial = *r - 2;
    }
    if (!spatial)
      break;
    auto checkLen = [&](const char *name, int64_t want) -> absl::Status {
      const Attribute *a = n.attr(name);
      if (a && a->kind == AttrKind::Ints &&
          static_cast<int64_t>(a->ints.size()) != want)
        return invalidInput(what, ": attribute '", name, "' has ",
                            a->ints.size(), " values, expected ", want);
      return absl::OkStatus();
    };
    ONNXOPT_RETURN_IF_ERROR(checkLen("pads", 2 * *spatial));
    ONNXOPT_RETURN_IF_ERROR(checkLen("strides", *spatial));
    ONNXOPT_RETURN_IF_ERROR(checkLen("dilations", *spatial));
    if (const Attribute *k = n.attr("kernel_shape"))
      for (int64_t v : k->ints)
        if (v <= 0)
          return invalidInput(what, ": kernel_shape entry ", v,
                              " is not positive");
    break;
  }
  // Axis attributes against the input rank, where the rank is declared.
  struct AxisRule {
    const char *op;
    int extra; // 1 where axis == rank is allowed (Flatten).
  };
  static const AxisRule kAxisOps[] = {
      {"Concat", 0},     {"Gather", 0},  {"GatherElements", 0}, {"Softmax", 0},
      {"LogSoftmax", 0}, {"Hardmax", 0}, {"Split", 0},          {"ArgMax", 0},
      {"ArgMin", 0},     {"Flatten", 1}, {"ScatterElements", 0}};
  for (const AxisRule &rule : kAxisOps) {
    if (!n.is(rule.op))
      continue;
    const Attribute *axis = intAttr("axis");
    auto r = inputRank(0);
    if (axis && r && (axis->i < -*r || axis->i >= *r + rule.extra))
      return invalidInput(what, ": axis ", axis->i,
                          " is out of range for rank ", *r);
    break;
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------ graphs

/// Names a subgraph reads from enclosing scopes (used but not defined inside).
void collectFreeNames(const onnx::GraphProto &gp,
                      absl::flat_hash_set<std::string> &defined,
                      std::vector<std::string> &out, unsigned depth) {
  if (depth > 256)
    return; // The importer reports the depth error itself.
  absl::flat_hash_set<std::string> local = defined;
  for (const auto &i : gp.input())
    local.insert(i.name());
  for (const auto &t : gp.initializer())
    local.insert(t.name());
  for (const auto &s : gp.sparse_initializer())
    local.insert(s.values().name());
  for (const auto &np : gp.node()) {
    for (const auto &in : np.input())
      if (!in.empty() && !local.contains(in))
        out.push_back(in);
    for (const auto &a : np.attribute()) {
      if (a.has_g())
        collectFreeNames(a.g(), local, out, depth + 1);
      for (const auto &g : a.graphs())
        collectFreeNames(g, local, out, depth + 1);
    }
    for (const auto &o : np.output())
      local.insert(o);
  }
  for (const auto &o : gp.output())
    if (!local.contains(o.name()))
      out.push_back(o.name());
}

absl::Status Importer::importGraph(const onnx::GraphProto &gp, Graph &g,
                                   const Scope *parent, unsigned depth) {
  g.name = gp.name();
  g.docString = gp.doc_string();
  std::string gwhat = absl::StrCat("graph '", gp.name(), "'");
  Scope scope;
  scope.parent = parent;

  // Initializers by name (graph-input defaults are matched below).
  absl::flat_hash_map<std::string, std::shared_ptr<const Tensor>> inits;
  std::vector<std::string> initOrder;
  for (int i = 0; i < gp.initializer_size(); ++i) {
    const auto &tp = gp.initializer(i);
    std::string what = absl::StrCat(gwhat, " initializer '", tp.name(), "'");
    if (tp.name().empty())
      return invalidInput(gwhat, ": initializer ", i, " has no name");
    ONNXOPT_ASSIGN_OR_RETURN(auto t, importTensor(tp, what));
    if (!inits.emplace(tp.name(), t).second)
      return invalidInput(gwhat, ": initializer '", tp.name(),
                          "' is defined more than once");
    initOrder.push_back(tp.name());
  }
  absl::flat_hash_set<std::string> inputNames;
  for (const auto &vi : gp.input()) {
    if (vi.name().empty())
      return invalidInput(gwhat, ": a graph input has no name");
    if (!inputNames.insert(vi.name()).second)
      return invalidInput(gwhat, ": graph input '", vi.name(),
                          "' is listed more than once");
    ONNXOPT_ASSIGN_OR_RETURN(
        Type t,
        importType(vi.type(), absl::StrCat(gwhat, " input '", vi.name(), "'")));
    Value *v = g.addInput(vi.name(), std::move(t));
    v->docString = vi.doc_string();
    if (auto it = inits.find(vi.name()); it != inits.end())
      v->setTensor(it->second); // An overridable default, not a constant.
    scope.values[vi.name()] = v;
  }
  for (const std::string &name : initOrder) {
    if (inputNames.contains(name))
      continue;
    scope.values[name] = g.addInitializer(name, inits[name]);
  }
  for (int i = 0; i < gp.sparse_initializer_size(); ++i) {
    const auto &sp = gp.sparse_initializer(i);
    const std::string &name = sp.values().name();
    std::string what = absl::StrCat(gwhat, " sparse initializer '", name, "'");
    if (name.empty())
      return invalidInput(gwhat, ": sparse initializer ", i, " has no name");
    if (scope.values.contains(name))
      return invalidInput(what, ": the name is defined more than once");
    ONNXOPT_ASSIGN_OR_RETURN(auto s, importSparse(sp, what));
    scope.values[name] = g.addSparseInitializer(name, s);
  }

  // Order nodes topologically (stable: original order where already valid).
  int numNodes = gp.node_size();
  absl::flat_hash_map<std::string, int> producer;
  for (int i = 0; i < numNodes; ++i)
    for (const auto &o : gp.node(i).output()) {
      if (o.empty())
        continue;
      if (scope.values.contains(o) || !producer.emplace(o, i).second)
        return invalidInput(gwhat, ": value '", o,
                            "' is defined more than once");
    }
  std::vector<std::vector<int>> users(numNodes);
  std::vector<int> pending(numNodes, 0);
  for (int i = 0; i < numNodes; ++i) {
    const auto &np = gp.node(i);
    std::vector<std::string> reads(np.input().begin(), np.input().end());
    for (const auto &a : np.attribute()) {
      absl::flat_hash_set<std::string> none;
      if (a.has_g())
        collectFreeNames(a.g(), none, reads, depth + 1);
      for (const auto &sub : a.graphs())
        collectFreeNames(sub, none, reads, depth + 1);
    }
    absl::flat_hash_set<int> deps;
    for (const auto &r : reads) {
      if (r.empty())
        continue;
      auto it = producer.find(r);
      if (it != producer.end() && deps.insert(it->second).second) {
        if (it->second == i)
          return invalidInput(gwhat, ": ", nodeWhat(np, i),
                              " uses its own output '", r, "' (a cycle)");
        users[it->second].push_back(i);
        ++pending[i];
      }
    }
  }
  std::vector<int> order;
  order.reserve(numNodes);
  {
    // Min-heap on the original index keeps the file's order where it is valid.
    std::vector<int> ready;
    for (int i = 0; i < numNodes; ++i)
      if (pending[i] == 0)
        ready.push_back(i);
    std::make_heap(ready.begin(), ready.end(), std::greater<int>());
    while (!ready.empty()) {
      std::pop_heap(ready.begin(), ready.end(), std::greater<int>());
      int i = ready.back();
      ready.pop_back();
      order.push_back(i);
      for (int u : users[i])
        if (--pending[u] == 0) {
          ready.push_back(u);
          std::push_heap(ready.begin(), ready.end(), std::greater<int>());
        }
    }
  }
  if (static_cast<int>(order.size()) != numNodes) {
    for (int i = 0; i < numNodes; ++i)
      if (pending[i] > 0)
        return invalidInput(gwhat, ": the graph has a cycle through ",
                            nodeWhat(gp.node(i), i));
  }

  for (int idx : order) {
    const auto &np = gp.node(idx);
    std::string what = absl::StrCat(gwhat, " ", nodeWhat(np, idx));
    if (np.op_type().empty())
      return invalidInput(what, ": op_type is empty");
    auto version = model_->opsetVersion(np.domain());
    if (!version)
      return invalidInput(what, ": domain '",
                          isDefaultDomain(np.domain()) ? "ai.onnx"
                                                       : np.domain(),
                          "' has no opset_import");
    ONNXOPT_ASSIGN_OR_RETURN(OpId op,
                             resolveOp(np.domain(), np.op_type(), *version));
    if (op.isOpaque() && isDefaultDomain(np.domain()))
      op.domain = np.domain();
    std::vector<Value *> inputs;
    for (const auto &in : np.input()) {
      if (in.empty()) {
        inputs.push_back(nullptr);
        continue;
      }
      Value *v = scope.lookup(in);
      if (!v)
        return invalidInput(what, ": input '", in, "' is not defined");
      inputs.push_back(v);
    }
    Node *n = g.createNode(std::move(op), inputs, 0);
    n->name = np.name();
    n->docString = np.doc_string();
    for (const auto &ap : np.attribute()) {
      if (n->attr(ap.name()))
        return invalidInput(what, ": attribute '", ap.name(),
                            "' is set more than once");
      ONNXOPT_ASSIGN_OR_RETURN(Attribute a,
                               importAttribute(ap, what, &scope, depth));
      n->setAttr(std::move(a));
    }
    for (const auto &o : np.output()) {
      Value *v = n->addOutput(!o.empty());
      if (v) {
        v->setName(o);
        scope.values[o] = v;
      }
    }
    ONNXOPT_RETURN_IF_ERROR(checkNode(np, *n, what));
  }

  for (const auto &vi : gp.output()) {
    Value *v = scope.lookup(vi.name());
    if (!v)
      return invalidInput(gwhat, ": output '", vi.name(), "' is not defined");
    ONNXOPT_ASSIGN_OR_RETURN(
        Type t, importType(vi.type(),
                           absl::StrCat(gwhat, " output '", vi.name(), "'")));
    if (v->type().isUnknown() || v->kind() == Value::Kind::NodeOutput)
      v->setType(std::move(t));
    if (v->docString.empty())
      v->docString = vi.doc_string();
    g.addOutput(v, vi.name());
  }
  for (const auto &vi : gp.value_info()) {
    auto it = scope.values.find(vi.name());
    if (it == scope.values.end())
      continue; // Type hints for values that do not exist carry no meaning.
    ONNXOPT_ASSIGN_OR_RETURN(
        Type t, importType(vi.type(), absl::StrCat(gwhat, " value_info '",
                                                   vi.name(), "'")));
    if (it->second->type().isUnknown())
      it->second->setType(std::move(t));
    it->second->typeDeclared = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Model>>
Importer::importModel(const onnx::ModelProto &p) {
  if (opts_.inlineLocalFunctions && p.functions_size() > 0) {
    // The skeleton (weights are slots) or a parsed text model: a cheap copy.
    onnx::ModelProto inlined = p;
    ONNXOPT_RETURN_IF_ERROR(inlineLocalFunctions(inlined));
    return importModel(inlined);
  }
  auto m = std::make_unique<Model>();
  model_ = m.get();
  if (!p.has_ir_version() || p.ir_version() == 0)
    return invalidInput("ir_version is missing or 0");
  if (p.ir_version() < kMinIrVersion)
    return unsupported("ir_version ", p.ir_version(), " is older than ",
                       kMinIrVersion, ", the oldest supported");
  if (p.ir_version() > kMaxIrVersion)
    return unsupported("ir_version ", p.ir_version(), " is newer than ",
                       kMaxIrVersion, ", the newest supported");
  m->irVersion = p.ir_version();
  if (p.opset_import_size() == 0)
    return invalidInput("opset_import is missing");
  for (const auto &imp : p.opset_import()) {
    if (m->opsetVersion(imp.domain()))
      return invalidInput("opset_import lists domain '", imp.domain(),
                          "' more than once");
    if (imp.version() < 1)
      return invalidInput("opset_import for domain '", imp.domain(),
                          "' has version ", imp.version());
    m->opsetImports.push_back({imp.domain(), imp.version()});
  }
  m->producerName = p.producer_name();
  m->producerVersion = p.producer_version();
  m->domain = p.domain();
  m->modelVersion = p.model_version();
  m->docString = p.doc_string();
  absl::flat_hash_set<std::string> keys;
  for (const auto &kv : p.metadata_props()) {
    if (!keys.insert(kv.key()).second)
      return invalidInput("metadata key '", kv.key(),
                          "' appears more than once");
    m->metadata.emplace_back(kv.key(), kv.value());
  }
  for (const auto &f : p.functions()) {
    m->functionIds.emplace_back(f.domain(), f.name());
    m->functionBlobs.push_back(f.SerializeAsString());
  }
  for (const auto &t : p.training_info())
    m->trainingInfoBlobs.push_back(t.SerializeAsString());
  if (!p.has_graph())
    return invalidInput("the model has no graph");
  m->graph = std::make_unique<Graph>();
  ONNXOPT_RETURN_IF_ERROR(importGraph(p.graph(), *m->graph, nullptr, 0));
  m->externalDataFiles = external_.openedFiles();
  return m;
}

} // namespace

absl::StatusOr<std::unique_ptr<Model>>
importModelProto(const onnx::ModelProto &proto, const std::string &baseDir,
                 const ImportOptions &opts) {
  Importer imp(opts, baseDir, nullptr, {});
  return imp.importModel(proto);
}

absl::StatusOr<std::unique_ptr<Model>>
importModelText(std::string_view text, const std::string &baseDir,
                const ImportOptions &opts) {
  onnx::ModelProto proto;
  ONNXOPT_RETURN_IF_ERROR(parseModelText(text, proto));
  return importModelProto(proto, baseDir, opts);
}

namespace {

/// Standard input, read whole (it cannot be mapped).
absl::StatusOr<std::shared_ptr<const Buffer>> readStdin() {
  std::string bytes;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    bytes.append(buf, n);
    if (bytes.size() >= kProtobufLimit)
      return invalidInput("<stdin>: input is over protobuf's 2 GiB limit");
  }
  return std::shared_ptr<const Buffer>(
      std::make_shared<OwnedBuffer>(std::move(bytes)));
}

/// Text starts with '<' (the model header) after optional blanks and comments.
bool looksLikeText(std::string_view b) {
  size_t i = 0;
  while (i < b.size()) {
    if (std::isspace(static_cast<unsigned char>(b[i]))) {
      ++i;
    } else if (b[i] == '#') {
      while (i < b.size() && b[i] != '\n')
        ++i;
    } else {
      return b[i] == '<';
    }
  }
  return false;
}

} // namespace

absl::StatusOr<std::shared_ptr<const Buffer>>
readModelSource(const std::string &path) {
  if (path == "-")
    return readStdin();
  return MappedFile::open(path);
}

absl::StatusOr<std::unique_ptr<Model>>
importModelFile(const std::string &path, const ImportOptions &opts) {
  ONNXOPT_ASSIGN_OR_RETURN(auto file, readModelSource(path));
  return importModelBuffer(file, path, opts);
}

absl::StatusOr<std::unique_ptr<Model>>
importModelBuffer(const std::shared_ptr<const Buffer> &file,
                  const std::string &path, const ImportOptions &opts) {
  // Text or protobuf by content, whatever the name says: a text model starts
  // with its '<' header, which no ModelProto's first byte can be.
  bool text = looksLikeText(std::string_view(file->data(), file->size()));
  auto prefix = [&](absl::Status st) {
    return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  };
  if (file->size() == 0)
    return invalidInput(path, ": the file is empty");
  // Standard input resolves external data against the working directory.
  std::string dir = path == "-" ? "." : dirOf(path);
  if (text) {
    auto m = importModelText(std::string_view(file->data(), file->size()), dir,
                             opts);
    if (!m.ok())
      return prefix(m.status());
    return m;
  }
  if (file->size() >= kProtobufLimit)
    return invalidInput(
        path, ": the file is ", file->size(),
        " bytes, over protobuf's 2 GiB limit; store the weights "
        "as external data");
  std::string skeleton;
  std::vector<wire::Slot> slots;
  wire::WalkLimits limits;
  limits.maxGraphDepth = opts.maxGraphDepth;
  absl::Status st =
      wire::extractSkeleton(std::string_view(file->data(), file->size()),
                            opts.mapThreshold, skeleton, slots, limits);
  if (!st.ok())
    return prefix(st);
  // On an arena: the parsed messages are allocated by bumping and freed at
  // once, where a heap parse of a large graph spends as long in malloc and
  // free as in importing.
  google::protobuf::Arena arena;
  auto *proto =
      google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
  if (!proto->ParseFromString(skeleton))
    return invalidInput(path,
                        ": not a valid ONNX model (protobuf parsing failed)");
  Importer imp(opts, dir, file, std::move(slots));
  auto m = imp.importModel(*proto);
  if (!m.ok())
    return prefix(m.status());
  return m;
}

absl::StatusOr<std::shared_ptr<const Tensor>>
importTensorProto(const onnx::TensorProto &tp, const std::string &baseDir,
                  const std::string &what) {
  ImportOptions opts;
  Importer imp(opts, baseDir, nullptr, {});
  return imp.importStandaloneTensor(tp, what);
}

absl::StatusOr<std::shared_ptr<const Tensor>>
importTensorFile(const std::string &path) {
  ONNXOPT_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  if (file->size() >= kProtobufLimit)
    return invalidInput(path, ": the tensor file passes 2 GiB");
  onnx::TensorProto tp;
  if (!tp.ParseFromArray(file->data(), static_cast<int>(file->size())))
    return invalidInput(path, ": not a TensorProto (protobuf parsing failed)");
  ImportOptions opts;
  Importer imp(opts, dirOf(path), nullptr, {});
  return imp.importStandaloneTensor(tp, path);
}

} // namespace onnxopt
