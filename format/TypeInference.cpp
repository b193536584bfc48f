// Schema-driven type and shape inference on the IR: ONNX's per-operator
// inference and data-propagation functions through adapters (no round trip
// through a ModelProto), the symbolic refinements ONNX lacks, and the type
// check run before a model is written.
#include "format/TypeInference.h"

#include "format/ProtoConversion.h"
#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"
#include "onnx/onnx_pb.h"

#include <google/protobuf/arena.h>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace onnxopt {

namespace {

/// Largest rank inference may produce before we stop trusting it (bad models
/// must not make us allocate per dim).
constexpr int kMaxRank = 64;
/// Largest constant handed to inference functions as data (shape-like inputs:
/// Reshape's shape, Slice's starts, ...); weights are never converted.
constexpr int64_t kMaxDataElements = 1024;

/// Domains whose schemas' inference functions we run: the default one and
/// ai.onnx.ml (classic ML graphs); contrib domains have no schemas here.
bool hasInference(std::string_view domain) {
  return isDefaultDomain(domain) || domain == "ai.onnx.ml";
}

/// The tensor part of an inferred TypeProto as our Type; Unknown otherwise.
Type fromTypeProto(const onnx::TypeProto &tp) {
  if (tp.value_case() != onnx::TypeProto::kTensorType)
    return Type();
  const auto &tt = tp.tensor_type();
  int32_t et = tt.elem_type();
  if (!isKnownDataType(et) || et == 0)
    return Type();
  Type t = Type::tensor(DataType(et));
  if (tt.has_shape() && tt.shape().dim_size() <= kMaxRank) {
    std::vector<Dim> dims;
    for (const auto &d : tt.shape().dim()) {
      if (d.has_dim_value() && d.dim_value() >= 0)
        dims.push_back(Dim::constant(d.dim_value()));
      else if (d.has_dim_param() && !d.dim_param().empty())
        dims.push_back(Dim::symbol(d.dim_param()));
      else
        dims.push_back(Dim());
    }
    t.setShape(std::move(dims));
  }
  return t;
}

/// An attribute as ONNX's inference functions see it: small tensors only
/// (shape-like data), no graphs.
bool inferenceAttribute(const Attribute &a, onnx::AttributeProto &ap) {
  // Built once: this runs for every attribute of every node inferred.
  static const AttributeEncoders kEncoders = [] {
    AttributeEncoders enc;
    enc.tensor = [](const Tensor &t, onnx::TensorProto &tp) {
      if (t.numElements() > kMaxDataElements)
        return false;
      toTensorProto(t, "", tp);
      return true;
    };
    return enc;
  }();
  return toAttributeProto(a, ap, kEncoders);
}

/// Protos keyed by value, on an arena: addresses stay put (inference
/// functions hold pointers into the table while later lookups insert). The
/// graph's own values are found by id in a vector (program order, so the
/// walk reads it in sequence); values of enclosing graphs, few, in a map.
/// Looked up, never iterated.
template <class T> class ProtoTable {
public:
  ProtoTable(google::protobuf::Arena &arena, const Graph &g)
      : arena_(arena), graph_(g), local_(g.valueIdBound(), nullptr) {}
  T *find(const Value *v) const {
    if (v->graph() == &graph_)
      return v->id() < local_.size() ? local_[v->id()] : nullptr;
    auto it = outer_.find(v);
    return it == outer_.end() ? nullptr : it->second;
  }
  /// The entry for `v`, made empty when absent (then `fresh` is true).
  std::pair<T *, bool> tryEmplace(const Value *v) {
    T **slot;
    if (v->graph() == &graph_) {
      // Values created after the table (incremental inference) grow it.
      if (v->id() >= local_.size())
        local_.resize(std::max<size_t>(v->id() + 1, local_.size() * 2),
                      nullptr);
      slot = &local_[v->id()];
    } else {
      slot = &outer_.try_emplace(v, nullptr).first->second;
    }
    bool fresh = *slot == nullptr;
    if (fresh)
      *slot = google::protobuf::Arena::CreateMessage<T>(&arena_);
    return {*slot, fresh};
  }
  T &operator[](const Value *v) { return *tryEmplace(v).first; }

private:
  google::protobuf::Arena &arena_;
  const Graph &graph_;
  std::vector<T *> local_;
  absl::flat_hash_map<const Value *, T *> outer_;
};

/// Runs ONNX's inference and data-propagation functions over one graph in
/// program order, keeping what they produce on the side.
class Inferencer {
public:
  /// With `trustDeclared`, node results start from their declared types;
  /// without, only graph inputs and initializers do (the model's contract).
  Inferencer(const Graph &g, int64_t opset, bool trustDeclared)
      : graph_(g), opset_(opset), trustDeclared_(trustDeclared) {}

  void run() {
    for (const Node *n : graph_.nodes())
      inferNode(*n);
  }
  /// The inferred type of a node result (Unknown when inference said nothing).
  Type inferred(const Value *v) const {
    const onnx::TypeProto *t = types_.find(v);
    return t ? fromTypeProto(*t) : Type();
  }
  /// The statically known value of an int64 shape computation, if any.
  const onnx::TensorShapeProto *data(const Value *v) const {
    return data_.find(v);
  }
  uint64_t failed = 0;

  /// Runs `n`'s inference function as a check: false, with ONNX's message,
  /// when it rejects the node's operands. Nodes with an untyped operand are
  /// not checked (ONNX's functions fail on a missing type by design), nor
  /// nodes with bodies (their inference needs a graph inferencer; the bodies
  /// are checked node by node).
  bool check(const Node &n, std::string &why);
  bool checkChannels(const Node &n, std::string &why);

private:
  friend class NodeContext;
  friend class onnxopt::IncrementalShapeInference;
  friend class PropagationContext;

  const onnx::TypeProto *typeOf(const Value *v) {
    if (!v)
      return nullptr;
    if (const onnx::TypeProto *t = types_.find(v))
      return t;
    bool contract = v->kind() != Value::Kind::NodeOutput ||
                    v->graph() != &graph_ || trustDeclared_;
    // Sparse tensors are left unknown: no inference function reads them.
    if (!contract || v->type().isUnknown() ||
        v->type().kind() == Type::Kind::SparseTensor)
      return nullptr;
    onnx::TypeProto &tp = types_[v];
    toTypeProto(v->type(), tp);
    return &tp;
  }

  /// A small constant int tensor as a TensorProto (Reshape's shape, ...):
  /// an initializer, or a computed shape value whose propagated data is
  /// fully static (so Slice, Reshape, Expand, ... infer from computed shapes
  /// in the same sweep that folds them).
  const onnx::TensorProto *constantOf(const Value *v) {
    if (v && !v->isConstant())
      return staticDataOf(v);
    if (!v || !v->isConstant() || !v->tensor() ||
        v->tensor()->numElements() > kMaxDataElements ||
        v->tensor()->dtype() == DataType::String)
      return nullptr;
    auto [t, fresh] = tensors_.tryEmplace(v);
    if (fresh)
      toTensorProto(*v->tensor(), v->name(), *t);
    return t;
  }

  const onnx::TensorProto *staticDataOf(const Value *v) {
    const onnx::TensorShapeProto *d = data_.find(v);
    const onnx::TypeProto *t = typeOf(v);
    if (!d || !t || !t->has_tensor_type() ||
        t->tensor_type().elem_type() != onnx::TensorProto::INT64 ||
        !t->tensor_type().has_shape() ||
        t->tensor_type().shape().dim_size() > 1)
      return nullptr;
    bool scalar = t->tensor_type().shape().dim_size() == 0;
    if (scalar && d->dim_size() != 1)
      return nullptr;
    for (const auto &dim : d->dim())
      if (!dim.has_dim_value())
        return nullptr;
    auto [t2, fresh] = tensors_.tryEmplace(v);
    if (fresh) {
      onnx::TensorProto &tp = *t2;
      tp.set_data_type(onnx::TensorProto::INT64);
      if (!scalar)
        tp.add_dims(d->dim_size());
      for (const auto &dim : d->dim())
        tp.add_int64_data(dim.dim_value());
    }
    return t2;
  }

  /// Shape data of an input: propagated, or a 0-/1-D int constant.
  const onnx::TensorShapeProto *shapeDataOf(const Value *v) {
    if (!v)
      return nullptr;
    if (const onnx::TensorShapeProto *d = data_.find(v))
      return d;
    if (!v->isConstant() || !v->tensor())
      return nullptr;
    const Tensor &t = *v->tensor();
    if ((t.dtype() != DataType::Int64 && t.dtype() != DataType::Int32) ||
        t.dims().size() > 1 || t.numElements() > kMaxDataElements)
      return nullptr;
    onnx::TensorShapeProto &sp = data_[v];
    std::string_view b = t.bytes();
    for (int64_t i = 0; i < t.numElements(); ++i) {
      int64_t x = 0;
      if (t.dtype() == DataType::Int64) {
        std::memcpy(&x, b.data() + i * 8, 8);
      } else {
        int32_t y;
        std::memcpy(&y, b.data() + i * 4, 4);
        x = y;
      }
      sp.add_dim()->set_dim_value(x);
    }
    return &sp;
  }

  void inferNode(const Node &n);
  void propagateDiv(const Node &n);
  void refineReshape(const Node &n);
  void refineAlongAxis(const Node &n);
  void refineOldVariadic(const Node &n);
  void refineData(const Node &n);
  void refineSelect(const Node &n);
  void refineExpand(const Node &n);
  void refineSlice(const Node &n);

  const Graph &graph_;
  int64_t opset_;
  bool trustDeclared_;
  // One arena for every proto made while inferring: no malloc and free per
  // value (which dominated on large graphs), all released at once.
  google::protobuf::Arena arena_;
  ProtoTable<onnx::TypeProto> types_{arena_, graph_};
  ProtoTable<onnx::TensorProto> tensors_{arena_, graph_};
  ProtoTable<onnx::TensorShapeProto> data_{arena_, graph_};
};

class NodeContext final : public onnx::InferenceContext {
public:
  NodeContext(Inferencer &inf, const Node &n) : inf_(inf), n_(n) {
    outputs_.resize(n.numOutputs());
  }
  /// Converted when the inference function asks: a tree ensemble's node
  /// lists (millions of entries) are attributes no inference function reads.
  const onnx::AttributeProto *
  getAttribute(const std::string &name) const override {
    auto it = attrs_.find(name);
    if (it != attrs_.end())
      return it->second ? &*it->second : nullptr;
    std::optional<onnx::AttributeProto> &slot = attrs_[name];
    if (const Attribute *a = n_.attr(name)) {
      onnx::AttributeProto ap;
      if (inferenceAttribute(*a, ap))
        slot = std::move(ap);
    }
    return slot ? &*slot : nullptr;
  }
  size_t getNumInputs() const override { return n_.numInputs(); }
  const onnx::TypeProto *getInputType(size_t i) const override {
    return inf_.typeOf(n_.input(i));
  }
  const onnx::TensorProto *getInputData(size_t i) const override {
    return inf_.constantOf(n_.input(i));
  }
  size_t getNumOutputs() const override { return n_.numOutputs(); }
  onnx::TypeProto *getOutputType(size_t i) override { return &outputs_.at(i); }
  onnx::GraphInferencer *
  getGraphAttributeInferencer(const std::string &) override {
    return nullptr; // bodies are inferred when the pass runs on them
  }
  const onnx::SparseTensorProto *getInputSparseData(size_t) const override {
    return nullptr;
  }
  const onnx::TensorShapeProto *getSymbolicInput(size_t i) const override {
    return inf_.shapeDataOf(n_.input(i));
  }
  std::vector<onnx::TypeProto> outputs_;

private:
  Inferencer &inf_;
  const Node &n_;
  mutable std::map<std::string, std::optional<onnx::AttributeProto>> attrs_;
};

class PropagationContext final : public onnx::DataPropagationContext {
public:
  PropagationContext(Inferencer &inf, const Node &n, const NodeContext &types)
      : inf_(inf), n_(n), types_(types) {}
  const onnx::AttributeProto *
  getAttribute(const std::string &name) const override {
    return types_.getAttribute(name);
  }
  size_t getNumInputs() const override { return n_.numInputs(); }
  const onnx::TypeProto *getInputType(size_t i) const override {
    return inf_.typeOf(n_.input(i));
  }
  size_t getNumOutputs() const override { return n_.numOutputs(); }
  const onnx::TypeProto *getOutputType(size_t i) const override {
    return &types_.outputs_.at(i);
  }
  const onnx::TensorShapeProto *getInputData(size_t i) override {
    return inf_.shapeDataOf(n_.input(i));
  }
  void addOutputData(size_t i, onnx::TensorShapeProto &&tp) override {
    if (i < n_.numOutputs() && n_.output(i) &&
        tp.dim_size() <= kMaxDataElements)
      inf_.data_[n_.output(i)] = std::move(tp);
  }

private:
  Inferencer &inf_;
  const Node &n_;
  const NodeContext &types_;
};

bool Inferencer::check(const Node &n, std::string &why) {
  const onnx::OpSchema *schema = n.op().schema;
  if (!schema || !hasInference(n.op().domain) ||
      !schema->has_type_and_shape_inference_function() ||
      !n.subgraphs().empty())
    return true;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    const onnx::TypeProto *t = typeOf(n.input(i));
    if (n.input(i) && (!t || t->value_case() == onnx::TypeProto::VALUE_NOT_SET))
      return true;
    if (t && t->has_tensor_type() &&
        t->tensor_type().elem_type() == onnx::TensorProto::UNDEFINED)
      return true;
  }
  NodeContext ctx(*this, n);
  try {
    schema->GetTypeAndShapeInferenceFunction()(ctx);
  } catch (const std::exception &e) {
    why = e.what();
    return false;
  }
  return checkChannels(n, why);
}

bool Inferencer::checkChannels(const Node &n, std::string &why) {
  // ONNX 1.12's Conv inference does not compare the input's channels with
  // the weight's; ONNX Runtime rejects the model when it runs.
  bool conv = n.op().type == "Conv", deconv = n.op().type == "ConvTranspose";
  if ((!conv && !deconv) || n.numInputs() < 2)
    return true;
  auto staticDim = [&](const Value *v, int i) -> int64_t {
    const onnx::TypeProto *t = typeOf(v);
    if (!t || !t->has_tensor_type() || !t->tensor_type().has_shape() ||
        t->tensor_type().shape().dim_size() <= i ||
        !t->tensor_type().shape().dim(i).has_dim_value())
      return -1;
    return t->tensor_type().shape().dim(i).dim_value();
  };
  int64_t group = 1;
  for (const Attribute &a : n.attrs())
    if (a.name == "group" && a.kind == AttrKind::Int)
      group = a.i;
  int64_t channels = staticDim(n.input(0), 1);
  int64_t weight = staticDim(n.input(1), conv ? 1 : 0);
  if (channels < 0 || weight < 0)
    return true;
  int64_t expected = conv ? weight * group : weight;
  if (channels == expected)
    return true;
  why = absl::StrCat("the input has ", channels,
                     " channels; the weight expects ", expected);
  return false;
}

/// ONNX 1.12 gives ten ai.onnx.ml ops no inference function (Scaler,
/// Imputer, Normalizer, Binarizer, ...): their result types, from the spec,
/// so that what follows them (a Cast of their result, a Scaler feeding a
/// linear model) is typed.
static void inferMlWithoutFunction(const Node &n, onnx::InferenceContext &ctx) {
  if (n.op().domain != "ai.onnx.ml" || n.numInputs() < 1 ||
      n.numOutputs() < 1 || !ctx.getInputType(0) ||
      !ctx.getInputType(0)->has_tensor_type())
    return;
  const std::string &op = n.op().type;
  bool sameShape = op == "Scaler" || op == "Normalizer" || op == "Imputer" ||
                   op == "Binarizer";
  if (op == "Imputer" || op == "Binarizer" || op == "ArrayFeatureExtractor")
    onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  else if (sameShape || op == "LinearRegressor" || op == "SVMRegressor" ||
           op == "FeatureVectorizer" || op == "OneHotEncoder")
    onnx::updateOutputElemType(ctx, 0, onnx::TensorProto::FLOAT);
  else
    return;
  if (sameShape && onnx::hasInputShape(ctx, 0))
    onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
}

void Inferencer::inferNode(const Node &n) {
  const onnx::OpSchema *schema = n.op().schema;
  if (!schema || !hasInference(n.op().domain))
    return;
  NodeContext ctx(*this, n);
  try {
    if (schema->has_type_and_shape_inference_function())
      schema->GetTypeAndShapeInferenceFunction()(ctx);
    else
      inferMlWithoutFunction(n, ctx);
  } catch (const std::exception &) {
    ++failed;
    return;
  }
  for (size_t i = 0; i < n.numOutputs(); ++i)
    if (n.output(i) &&
        ctx.outputs_[i].value_case() != onnx::TypeProto::VALUE_NOT_SET)
      types_[n.output(i)] = ctx.outputs_[i];
  refineReshape(n);
  refineAlongAxis(n);
  refineOldVariadic(n);
  if (!schema->has_data_propagation_function()) {
    propagateDiv(n);
    refineData(n);
    return;
  }
  // ONNX's propagation functions read their inputs' types without checking
  // them (ONNX 1.12's Shape >= 15 dereferences a missing one: a segfault on
  // an untyped value from an If branch or an outer scope), and a missing rank
  // would make Shape's data silently empty: only typed, ranked inputs.
  for (size_t i = 0; i < n.numInputs(); ++i) {
    const Value *in = n.input(i);
    if (!in)
      continue;
    const onnx::TypeProto *t = typeOf(in);
    if (!t || !t->has_tensor_type() || !t->tensor_type().has_shape() ||
        t->tensor_type().elem_type() == onnx::TensorProto::UNDEFINED) {
      refineData(n);
      return;
    }
  }
  PropagationContext dp(*this, n, ctx);
  try {
    schema->GetDataPropagationFunction()(dp);
  } catch (const std::exception &) {
    ++failed;
  }
  refineData(n);
}

void Inferencer::propagateDiv(const Node &n) {
  // ONNX 1.12 propagates shape data through Add, Sub and Mul but not Div,
  // which exporters use for channel splits (C / 2). Static, non-negative
  // operands only, where integer division is unambiguous.
  if (!n.is("Div") || n.numInputs() != 2 || n.numOutputs() == 0 || !n.output(0))
    return;
  const onnx::TensorShapeProto *a = shapeDataOf(n.input(0));
  const onnx::TensorShapeProto *b = shapeDataOf(n.input(1));
  if (!a || !b || (a->dim_size() != b->dim_size() && b->dim_size() != 1))
    return;
  onnx::TensorShapeProto out;
  for (int i = 0; i < a->dim_size(); ++i) {
    const auto &x = a->dim(i);
    const auto &y = b->dim(b->dim_size() == 1 ? 0 : i);
    if (!x.has_dim_value() || !y.has_dim_value() || x.dim_value() < 0 ||
        y.dim_value() <= 0)
      return;
    out.add_dim()->set_dim_value(x.dim_value() / y.dim_value());
  }
  data_[n.output(0)] = std::move(out);
}

namespace {

/// A dim as a product: a number times symbols (`8*batch` is {8, [batch]}).
/// Symbols are dim_params split at '*'; one with '+' or '-' is atomic.
struct Factors {
  int64_t num = 1;
  std::vector<std::string> syms;
};

constexpr int64_t kMaxFactor = int64_t(1) << 40;

std::optional<Factors> factorsOf(const onnx::TensorShapeProto::Dimension &d) {
  Factors f;
  if (d.has_dim_value()) {
    f.num = d.dim_value();
    return f;
  }
  if (!d.has_dim_param() || d.dim_param().empty())
    return std::nullopt;
  for (absl::string_view piece : absl::StrSplit(d.dim_param(), '*')) {
    int64_t v;
    if (absl::SimpleAtoi(piece, &v) && v > 0 && v < kMaxFactor)
      f.num *= v;
    else if (!piece.empty())
      f.syms.emplace_back(piece);
    else
      return std::nullopt;
    if (f.num > kMaxFactor)
      return std::nullopt;
  }
  return f;
}

bool multiplyInto(Factors &into, const Factors &by) {
  if (by.num <= 0 || into.num > kMaxFactor / std::max<int64_t>(by.num, 1))
    return false;
  into.num *= by.num;
  into.syms.insert(into.syms.end(), by.syms.begin(), by.syms.end());
  return true;
}

/// Removes `by`'s factors from `from`; false if they do not divide it.
bool divideInto(Factors &from, const Factors &by) {
  for (const std::string &sym : by.syms) {
    auto it = std::find(from.syms.begin(), from.syms.end(), sym);
    if (it == from.syms.end())
      return false;
    from.syms.erase(it);
  }
  if (by.num <= 0 || from.num % by.num != 0)
    return false;
  from.num /= by.num;
  return true;
}

void setDim(onnx::TensorShapeProto::Dimension *d, Factors f) {
  if (f.syms.empty()) {
    d->set_dim_value(f.num);
    return;
  }
  std::sort(f.syms.begin(), f.syms.end());
  std::string param = f.num == 1 ? "" : std::to_string(f.num) + "*";
  d->set_dim_param(param + absl::StrJoin(f.syms, "*"));
}

bool isKnown(const onnx::TensorShapeProto::Dimension &d) {
  return d.has_dim_value() || (d.has_dim_param() && !d.dim_param().empty());
}

} // namespace

void Inferencer::refineAlongAxis(const Node &n) {
  // ONNX 1.12 gives Compress no shape, nor Split by sizes computed at run
  // time: along `axis` each result is X's shape with that dim unknown (how
  // many entries the condition keeps, the part's size); Compress without an
  // axis is 1-D.
  bool compress = n.is("Compress"), split = n.is("Split");
  if (!(compress || split) || n.op().isOpaque() || n.numInputs() < 1)
    return;
  const onnx::TypeProto *xt = typeOf(n.input(0));
  const Attribute *axis = n.attr("axis");
  for (size_t i = 0; i < n.numOutputs(); ++i) {
    onnx::TypeProto *out = n.output(i) ? types_.find(n.output(i)) : nullptr;
    if (!out || !out->has_tensor_type() || out->tensor_type().has_shape())
      continue;
    auto *dims = out->mutable_tensor_type()->mutable_shape();
    if (compress && !axis) {
      dims->add_dim();
      continue;
    }
    if (!xt || !xt->has_tensor_type() || !xt->tensor_type().has_shape()) {
      out->mutable_tensor_type()->clear_shape();
      continue;
    }
    const auto &in = xt->tensor_type().shape();
    int64_t a0 = axis ? axis->i : 0;
    int64_t a = a0 < 0 ? a0 + in.dim_size() : a0;
    if (a < 0 || a >= in.dim_size()) {
      out->mutable_tensor_type()->clear_shape();
      continue;
    }
    *dims = in;
    dims->mutable_dim(int(a))->Clear();
  }
}

void Inferencer::refineOldVariadic(const Node &n) {
  // Max, Min, Sum and Mean before version 8 are specified without
  // broadcasting, and ONNX 1.12 gives them the first operand's shape; ONNX
  // Runtime broadcasts their operands as version 8 does. Operands of other
  // shapes (exporters wrote Max(scalar, x) at opset 7): the broadcast shape,
  // not the scalar's.
  const std::string &op = n.op().type;
  if (n.op().domain != "" || n.op().sinceVersion >= 8 ||
      !(op == "Max" || op == "Min" || op == "Sum" || op == "Mean") ||
      n.numOutputs() == 0 || !n.output(0))
    return;
  onnx::TypeProto *out = types_.find(n.output(0));
  if (!out || !out->has_tensor_type())
    return;
  std::vector<const onnx::TensorShapeProto *> shapes;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    const onnx::TypeProto *t = n.input(i) ? typeOf(n.input(i)) : nullptr;
    if (!t || !t->has_tensor_type() || !t->tensor_type().has_shape()) {
      out->mutable_tensor_type()->clear_shape();
      return;
    }
    shapes.push_back(&t->tensor_type().shape());
  }
  onnx::TensorShapeProto result;
  try {
    onnx::multidirectionalBroadcastShapeInference(shapes, result);
  } catch (const std::exception &) {
    out->mutable_tensor_type()->clear_shape();
    return;
  }
  *out->mutable_tensor_type()->mutable_shape() = std::move(result);
}

void Inferencer::refineReshape(const Node &n) {
  // ONNX 1.12 leaves a -1 entry unknown unless every input dim is static.
  // Symbolic dims often cancel: [batch, 2, 116, 14, 14] reshaped to
  // [0, -1, 14, 14] is [batch, 232, 14, 14]. The -1 dim is X's element count
  // over the other entries', symbols cancelled as factors (the same symbol is
  // the same size: the dim_param convention fold-shape-ops relies on too).
  if (!n.is("Reshape") || n.op().isOpaque() || n.numInputs() < 2 ||
      n.numOutputs() == 0 || !n.output(0))
    return;
  onnx::TypeProto *out = types_.find(n.output(0));
  const onnx::TypeProto *xt = typeOf(n.input(0));
  const onnx::TensorShapeProto *s = shapeDataOf(n.input(1));
  if (out && out->has_tensor_type() && !out->tensor_type().has_shape()) {
    // ONNX 1.12 gives no rank for a computed shape: the shape operand's
    // length is the rank, and its propagated entries are dims (0 copies
    // X's dim unless allowzero; -1 is resolved below).
    const onnx::TypeProto *st = typeOf(n.input(1));
    const Attribute *az = n.attr("allowzero");
    bool allowZero = az && az->i != 0;
    auto *dims = out->mutable_tensor_type()->mutable_shape();
    if (s) {
      for (int i = 0; i < s->dim_size(); ++i) {
        auto *d = dims->add_dim();
        const auto &e = s->dim(i);
        if (e.has_dim_value() && e.dim_value() > 0)
          d->set_dim_value(e.dim_value());
        else if (e.has_dim_param())
          d->set_dim_param(e.dim_param());
        else if (e.has_dim_value() && e.dim_value() == 0 && !allowZero && xt &&
                 xt->tensor_type().has_shape() &&
                 i < xt->tensor_type().shape().dim_size())
          *d = xt->tensor_type().shape().dim(i);
      }
    } else if (st && st->has_tensor_type() && st->tensor_type().has_shape() &&
               st->tensor_type().shape().dim_size() == 1 &&
               st->tensor_type().shape().dim(0).has_dim_value()) {
      for (int64_t i = 0;
           i < std::min<int64_t>(st->tensor_type().shape().dim(0).dim_value(),
                                 kMaxRank);
           ++i)
        dims->add_dim();
    } else {
      out->mutable_tensor_type()->clear_shape();
    }
  }
  if (!out || !xt || !s || !out->has_tensor_type() ||
      !out->tensor_type().has_shape() || !xt->tensor_type().has_shape() ||
      out->tensor_type().shape().dim_size() != s->dim_size())
    return;
  int inferAt = -1;
  for (int i = 0; i < s->dim_size(); ++i)
    if (s->dim(i).has_dim_value() && s->dim(i).dim_value() == -1)
      inferAt = i;
  auto *dims = out->mutable_tensor_type()->mutable_shape();
  if (inferAt < 0 || isKnown(dims->dim(inferAt)))
    return;
  Factors count;
  for (const auto &d : xt->tensor_type().shape().dim()) {
    auto f = factorsOf(d);
    if (!f || !multiplyInto(count, *f))
      return;
  }
  for (int i = 0; i < dims->dim_size(); ++i) {
    if (i == inferAt)
      continue;
    auto f = factorsOf(dims->dim(i));
    if (!f || !divideInto(count, *f))
      return;
  }
  setDim(dims->mutable_dim(inferAt), count);
}

void Inferencer::refineSelect(const Node &n) {
  // Equal on shape values: a dim is never negative, so `dim == -1` (torch's
  // expand sizes) is false even for a symbolic dim; equal symbols are equal.
  // Where picks the dims its known condition selects.
  bool equal = n.is("Equal");
  if (n.numInputs() != (equal ? 2u : 3u))
    return;
  std::vector<const onnx::TensorShapeProto *> in;
  int size = 1;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    in.push_back(shapeDataOf(n.input(i)));
    if (!in.back() || in.back()->dim_size() == 0)
      return;
    size = std::max(size, in.back()->dim_size());
  }
  for (const auto *d : in)
    if (d->dim_size() != size && d->dim_size() != 1)
      return;
  auto at = [&](size_t k, int i) -> const onnx::TensorShapeProto::Dimension & {
    return in[k]->dim(in[k]->dim_size() == 1 ? 0 : i);
  };
  onnx::TensorShapeProto result;
  bool any = false;
  for (int i = 0; i < size; ++i) {
    auto *r = result.add_dim();
    if (equal) {
      const auto &x = at(0, i), &y = at(1, i);
      if (x.has_dim_value() && y.has_dim_value())
        r->set_dim_value(x.dim_value() == y.dim_value());
      else if (x.has_dim_param() && y.has_dim_param() &&
               x.dim_param() == y.dim_param())
        r->set_dim_value(1);
      else if ((x.has_dim_param() && y.has_dim_value() && y.dim_value() < 0) ||
               (y.has_dim_param() && x.has_dim_value() && x.dim_value() < 0))
        r->set_dim_value(0);
    } else if (at(0, i).has_dim_value()) {
      *r = at(0, i).dim_value() ? at(1, i) : at(2, i);
    }
    any |= isKnown(*r);
  }
  if (any)
    data_[n.output(0)] = std::move(result);
}

void Inferencer::refineExpand(const Node &n) {
  // Expand to a computed shape with symbols: the broadcast of X's dims and
  // the shape's, where one side is 1 or both agree.
  if (n.numInputs() != 2)
    return;
  onnx::TypeProto *out = types_.find(n.output(0));
  const onnx::TypeProto *xt = typeOf(n.input(0));
  const onnx::TensorShapeProto *s = shapeDataOf(n.input(1));
  if (!out || !xt || !s || !out->has_tensor_type() ||
      !xt->tensor_type().has_shape())
    return;
  const auto &xs = xt->tensor_type().shape();
  int rank = std::max(xs.dim_size(), s->dim_size());
  auto *shape = out->mutable_tensor_type()->mutable_shape();
  if (shape->dim_size() == 0)
    for (int i = 0; i < rank; ++i)
      shape->add_dim();
  if (shape->dim_size() != rank)
    return;
  onnx::TensorShapeProto::Dimension one;
  one.set_dim_value(1);
  for (int i = 0; i < rank; ++i) {
    if (isKnown(shape->dim(i)))
      continue;
    int xi = i - (rank - xs.dim_size()), si = i - (rank - s->dim_size());
    const auto &a = xi >= 0 ? xs.dim(xi) : one;
    const auto &b = si >= 0 ? s->dim(si) : one;
    auto isOne = [](const auto &d) {
      return d.has_dim_value() && d.dim_value() == 1;
    };
    if (isOne(b) && isKnown(a))
      *shape->mutable_dim(i) = a;
    else if (isOne(a) && isKnown(b))
      *shape->mutable_dim(i) = b;
    else if (a.has_dim_value() && b.has_dim_value() &&
             a.dim_value() == b.dim_value())
      *shape->mutable_dim(i) = a;
    else if (a.has_dim_param() && b.has_dim_param() &&
             a.dim_param() == b.dim_param())
      *shape->mutable_dim(i) = a;
    else if (a.has_dim_value() && a.dim_value() > 1 && b.has_dim_param())
      *shape->mutable_dim(i) = a; // b must be 1 or a
    else if (b.has_dim_value() && b.dim_value() > 1 && a.has_dim_param())
      *shape->mutable_dim(i) = b;
  }
}

void Inferencer::refineSlice(const Node &n) {
  // ONNX 1.12 infers nothing when starts or ends are computed (torch.roll,
  // pads from sizes): the rank is X's, and the dims the Slice does not
  // touch (constant axes, or the first len(starts) without axes) are X's.
  onnx::TypeProto *out = types_.find(n.output(0));
  const onnx::TypeProto *xt = typeOf(n.input(0));
  if (!xt || !xt->has_tensor_type() || !xt->tensor_type().has_shape() ||
      (out && out->has_tensor_type() && out->tensor_type().has_shape()))
    return;
  const auto &xs = xt->tensor_type().shape();
  int rank = xs.dim_size();
  std::vector<bool> touched(size_t(rank), false);
  bool known = true;
  if (n.numInputs() > 3 && n.input(3)) {
    const onnx::TensorShapeProto *axes = shapeDataOf(n.input(3));
    known = axes != nullptr;
    for (int i = 0; known && i < axes->dim_size(); ++i) {
      if (!axes->dim(i).has_dim_value())
        known = false;
      else {
        int64_t a = axes->dim(i).dim_value();
        a = a < 0 ? a + rank : a;
        if (a < 0 || a >= rank)
          return;
        touched[size_t(a)] = true;
      }
    }
  } else {
    const onnx::TypeProto *st = typeOf(n.input(1));
    known = st && st->has_tensor_type() && st->tensor_type().has_shape() &&
            st->tensor_type().shape().dim_size() == 1 &&
            st->tensor_type().shape().dim(0).has_dim_value();
    for (int64_t i = 0;
         known && i < std::min<int64_t>(
                          rank, st->tensor_type().shape().dim(0).dim_value());
         ++i)
      touched[size_t(i)] = true;
  }
  onnx::TypeProto &t = types_[n.output(0)];
  t.mutable_tensor_type()->set_elem_type(xt->tensor_type().elem_type());
  auto *dims = t.mutable_tensor_type()->mutable_shape();
  dims->clear_dim();
  for (int i = 0; i < rank; ++i) {
    auto *d = dims->add_dim();
    if (known && !touched[size_t(i)])
      *d = xs.dim(i);
  }
}

void Inferencer::refineData(const Node &n) {
  // Shape arithmetic on symbols, where ONNX 1.12 gives up: batch * 8 is
  // `8*batch`, seq + 1 is `seq+1`; Range(0, seq, 1) has seq elements.
  if (n.op().isOpaque() || n.numOutputs() == 0 || !n.output(0))
    return;
  if (n.is("Range") && n.numInputs() == 3) {
    onnx::TypeProto *out = types_.find(n.output(0));
    const auto *start = shapeDataOf(n.input(0));
    const auto *limit = shapeDataOf(n.input(1));
    const auto *delta = shapeDataOf(n.input(2));
    if (!out || !start || !limit || !delta || start->dim_size() != 1 ||
        limit->dim_size() != 1 || delta->dim_size() != 1 ||
        !out->has_tensor_type() || out->tensor_type().shape().dim_size() != 1 ||
        isKnown(out->tensor_type().shape().dim(0)))
      return;
    if (start->dim(0).has_dim_value() && start->dim(0).dim_value() == 0 &&
        delta->dim(0).has_dim_value() && delta->dim(0).dim_value() == 1 &&
        isKnown(limit->dim(0)))
      *out->mutable_tensor_type()->mutable_shape()->mutable_dim(0) =
          limit->dim(0);
    return;
  }
  if (n.is("Equal") || n.is("Where")) {
    refineSelect(n);
    return;
  }
  if (n.is("Expand")) {
    refineExpand(n);
    return;
  }
  if (n.is("Slice") && n.numInputs() >= 3) {
    refineSlice(n);
    return;
  }
  bool mul = n.is("Mul"), add = n.is("Add"), sub = n.is("Sub");
  if (!(mul || add || sub) || n.numInputs() != 2)
    return;
  const auto *a = shapeDataOf(n.input(0));
  const auto *b = shapeDataOf(n.input(1));
  if (!a || !b || a->dim_size() == 0 || b->dim_size() == 0 ||
      (a->dim_size() != b->dim_size() && a->dim_size() != 1 &&
       b->dim_size() != 1))
    return;
  int size = std::max(a->dim_size(), b->dim_size());
  onnx::TensorShapeProto result;
  if (const onnx::TensorShapeProto *d = data_.find(n.output(0));
      d && d->dim_size() == size)
    result = *d;
  else
    for (int i = 0; i < size; ++i)
      result.add_dim();
  for (int i = 0; i < size; ++i) {
    auto *r = result.mutable_dim(i);
    if (isKnown(*r))
      continue;
    const auto &x = a->dim(a->dim_size() == 1 ? 0 : i);
    const auto &y = b->dim(b->dim_size() == 1 ? 0 : i);
    if (mul) {
      auto fx = factorsOf(x), fy = factorsOf(y);
      if (fx && fy && multiplyInto(*fx, *fy))
        setDim(r, *fx);
      continue;
    }
    // sym + k and sym - k with a static k; x + 0 and x - 0 are x.
    const auto &sym = x.has_dim_param() ? x : y;
    const auto &k = x.has_dim_param() ? y : x;
    if (!sym.has_dim_param() || !k.has_dim_value() || (sub && &sym != &x))
      continue;
    int64_t v = sub ? -k.dim_value() : k.dim_value();
    if (v == 0)
      *r = sym;
    else
      r->set_dim_param(sym.dim_param() + (v > 0 ? "+" : "-") +
                       std::to_string(v > 0 ? v : -v));
  }
  data_[n.output(0)] = std::move(result);
}

} // namespace

/// True when mergeInto can add nothing to `t`: a non-tensor type, or a tensor
/// whose element type and every dim are known. Checked before copying types
/// to merge them: on the second inference of a graph every value is settled.
RefineCounts refineTypes(Graph &g, int64_t opset) {
  RefineCounts out;
  TypeInference inf(g, opset, true);
  inf.run();
  out.failed = inf.failed();
  for (Node *n : g.nodes())
    for (size_t i = 0; i < n->numOutputs(); ++i) {
      Value *v = n->output(i);
      if (!v || isSettled(v->type()))
        continue;
      Type t = v->type();
      if (mergeInto(inf.inferred(v), t)) {
        v->setType(std::move(t));
        ++out.refined;
      } else if (v->type().isUnknown()) {
        ++out.unknown;
      }
    }
  return out;
}

bool isSettled(const Type &t) {
  if (t.isUnknown())
    return false;
  if (!t.isTensor())
    return true;
  if (t.elemType() == DataType::Undefined || !t.shape())
    return false;
  return std::none_of(t.shape()->begin(), t.shape()->end(), [](const Dim &d) {
    return d.kind() == Dim::Kind::Unknown;
  });
}

/// Fills what `into` does not know from `from` (same kind): the element type,
/// the rank, unknown dims. Declared dims are never overridden. Returns whether
/// anything changed.
bool mergeInto(const Type &from, Type &into) {
  if (!from.isTensor())
    return false;
  if (into.isUnknown()) {
    into = from;
    return true;
  }
  if (!into.isTensor())
    return false;
  bool changed = false;
  if (into.elemType() == DataType::Undefined) {
    into.setElemType(from.elemType());
    changed = true;
  }
  if (!from.shape())
    return changed;
  if (!into.shape()) {
    into.setShape(from.shape());
    return true;
  }
  if (into.shape()->size() != from.shape()->size())
    return changed;
  std::vector<Dim> dims = *into.shape();
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i].kind() == Dim::Kind::Unknown &&
        (*from.shape())[i].kind() != Dim::Kind::Unknown) {
      dims[i] = (*from.shape())[i];
      changed = true;
    }
  if (changed)
    into.setShape(std::move(dims));
  return changed;
}

struct TypeInference::Impl {
  Impl(const Graph &g, int64_t opset, bool trustDeclared)
      : inf(g, opset, trustDeclared) {}
  Inferencer inf;
};

TypeInference::TypeInference(const Graph &g, int64_t opset, bool trustDeclared)
    : impl_(std::make_unique<Impl>(g, opset, trustDeclared)) {}
TypeInference::~TypeInference() = default;
void TypeInference::run() { impl_->inf.run(); }
Type TypeInference::inferred(const Value *v) const {
  return impl_->inf.inferred(v);
}
const onnx::TensorShapeProto *TypeInference::data(const Value *v) const {
  return impl_->inf.data(v);
}
uint64_t TypeInference::failed() const { return impl_->inf.failed; }

struct IncrementalShapeInference::Impl {
  Impl(const Graph &g, int64_t opset) : inf(g, opset, true) {}
  Inferencer inf;
};

IncrementalShapeInference::IncrementalShapeInference(const Graph &g,
                                                     int64_t opset)
    : impl_(std::make_unique<Impl>(g, opset)) {}

IncrementalShapeInference::~IncrementalShapeInference() = default;

void IncrementalShapeInference::infer(Node &n) {
  impl_->inf.inferNode(n);
  for (size_t i = 0; i < n.numOutputs(); ++i)
    if (Value *v = n.output(i); v && !isSettled(v->type())) {
      Type t = v->type();
      if (mergeInto(impl_->inf.inferred(v), t))
        v->setType(std::move(t));
    }
}

namespace {

absl::Status typeCheckGraph(const Graph &g, int64_t opset) {
  Inferencer inf(g, opset, /*trustDeclared=*/true);
  size_t index = 0;
  for (const Node *n : g.nodes()) {
    for (const Graph *sub : n->subgraphs())
      ONNXOPT_RETURN_IF_ERROR(typeCheckGraph(*sub, opset));
    std::string why;
    if (!inf.check(*n, why))
      return invalidInput(
          "node ", index, n->name.empty() ? "" : " '" + n->name + "'", " (",
          n->op().type, ") of graph '", g.name, "' rejects its inputs: ", why);
    ++index;
  }
  return absl::OkStatus();
}

} // namespace

absl::Status typeCheckModel(const Model &m) {
  return typeCheckGraph(*m.graph, m.onnxOpset());
}

} // namespace onnxopt
