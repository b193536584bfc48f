// The TorchScript lowering: operands, node building, blocks, control flow and
// the scalar/list ops of scripted code. Tensor ops: LowerOps.cpp; recurrent
// layers and attention: LowerSequence.cpp.
#include "frontends/torchscript/Lowering.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <torch/csrc/jit/ir/constants.h>

#include <cstring>
#include <iostream>

namespace onnxopt::torchscript {

std::optional<DataType> dataTypeOf(c10::ScalarType t) {
  switch (t) {
  case c10::kFloat:
    return DataType::Float;
  case c10::kDouble:
    return DataType::Double;
  case c10::kHalf:
    return DataType::Float16;
  case c10::kBFloat16:
    return DataType::BFloat16;
  case c10::kLong:
    return DataType::Int64;
  case c10::kInt:
    return DataType::Int32;
  case c10::kShort:
    return DataType::Int16;
  case c10::kChar:
    return DataType::Int8;
  case c10::kByte:
    return DataType::UInt8;
  case c10::kBool:
    return DataType::Bool;
  default:
    return std::nullopt;
  }
}

std::optional<c10::ScalarType> scalarTypeOf(DataType dt) {
  for (int i = 0; i < int(c10::ScalarType::NumOptions); ++i) {
    auto st = static_cast<c10::ScalarType>(i);
    if (dataTypeOf(st) == dt)
      return st;
  }
  return std::nullopt;
}

bool isFloating(DataType dt) {
  return dt == DataType::Float || dt == DataType::Double ||
         dt == DataType::Float16 || dt == DataType::BFloat16;
}

namespace {

/// The element type of `op`'s first result when it follows from the op and
/// its operands (for intermediate values the lowering builds).
std::optional<DataType> resultType(std::string_view op,
                                   const std::vector<Value *> &inputs,
                                   const std::vector<Attribute> &attrs) {
  if (op == "Shape" || op == "Size" || op == "NonZero" || op == "ArgMax" ||
      op == "ArgMin" || op == "NonMaxSuppression")
    return DataType::Int64;
  if (op == "Equal" || op == "Less" || op == "LessOrEqual" || op == "Greater" ||
      op == "GreaterOrEqual" || op == "Not" || op == "And" || op == "Or" ||
      op == "Xor" || op == "IsNaN" || op == "IsInf")
    return DataType::Bool;
  if (op == "Cast")
    for (const Attribute &a : attrs)
      if (a.name == "to")
        return DataType(a.i);
  if (op == "Where" && inputs.size() > 1 && inputs[1] &&
      inputs[1]->type().isTensor())
    return inputs[1]->type().elemType();
  if (!inputs.empty() && inputs[0] && inputs[0]->type().isTensor())
    return inputs[0]->type().elemType();
  return std::nullopt;
}

/// A constant dict key as text (str or int keys).
std::optional<std::string> dictKey(const std::optional<c10::IValue> &k) {
  if (!k)
    return std::nullopt;
  if (k->isString())
    return k->toStringRef();
  if (k->isInt())
    return std::to_string(k->toInt());
  return std::nullopt;
}

/// d[key] = v: replaces the entry in place, else appends (a Python dict's
/// order).
void setEntry(std::vector<std::pair<std::string, Value *>> &d,
              const std::string &key, Value *v) {
  for (auto &[k, old] : d)
    if (k == key) {
      old = v;
      return;
    }
  d.emplace_back(key, v);
}

} // namespace

bool makesFreshTensor(const jit::Node &n) {
  static const absl::flat_hash_set<std::string> kFresh = {
      "aten::zeros",     "aten::zeros_like", "aten::ones",
      "aten::ones_like", "aten::full",       "aten::full_like",
      "aten::empty",     "aten::empty_like", "aten::clone"};
  return kFresh.count(n.kind().toQualString()) > 0;
}

// ---- operands ---------------------------------------------------------------

std::optional<c10::IValue> Lowering::constant(const jit::Value *v) {
  if (auto it = consts_.find(v); it != consts_.end())
    return it->second;
  // Not `return jit::toIValue(v)`: IValue converts from an empty
  // c10::optional to None, which would make every run-time value a None.
  if (auto c = jit::toIValue(v))
    return *c;
  // A number the lowering holds as a 0-d initializer (a static dim from
  // x.size(), an item of a partly static size list) is known too.
  auto kind = v->type()->kind();
  if (kind != c10::TypeKind::IntType && kind != c10::TypeKind::FloatType &&
      kind != c10::TypeKind::BoolType)
    return std::nullopt;
  auto it = tensors_.find(v);
  if (it == tensors_.end() || !it->second->isConstant() ||
      !it->second->tensor() || it->second->tensor()->numElements() != 1)
    return std::nullopt;
  const Tensor &t = *it->second->tensor();
  std::string_view b = t.bytes();
  switch (t.dtype()) {
  case DataType::Int64: {
    int64_t x;
    std::memcpy(&x, b.data(), 8);
    return kind == c10::TypeKind::FloatType ? c10::IValue(double(x))
                                            : c10::IValue(x);
  }
  case DataType::Double: {
    double x;
    std::memcpy(&x, b.data(), 8);
    return c10::IValue(x);
  }
  case DataType::Bool:
    return c10::IValue(b[0] != 0);
  default:
    return std::nullopt;
  }
}

absl::StatusOr<Value *> Lowering::tensor(const jit::Value *v,
                                         DataType numberType) {
  if (auto it = tensors_.find(v); it != tensors_.end())
    return it->second;
  if (auto it = lists_.find(v); it != lists_.end()) {
    if (v->type()->kind() == c10::TypeKind::ListType &&
        v->type()->containedType(0)->kind() == c10::TypeKind::TensorType)
      return absl::InvalidArgumentError(absl::StrCat(
          "value '", v->debugName(), "' is a list of tensors, not a tensor"));
    // A list of computed ints used as a tensor: a 1-D int64 tensor.
    std::vector<Value *> parts;
    for (Value *item : it->second) {
      ONNXOPT_ASSIGN_OR_RETURN(auto p, asVector(item));
      parts.push_back(p);
    }
    if (parts.empty())
      return ints({});
    ONNXOPT_ASSIGN_OR_RETURN(
        auto t, step("Concat", parts, attrList(Attribute::makeInt("axis", 0))));
    // Kept for later uses only where every later use can see it: a value
    // made inside a run-time branch or loop body is not defined outside it.
    if (runtimeDepth_ == 0)
      tensors_[v] = t;
    return t;
  }
  auto c = constant(v);
  if (!c)
    return absl::InvalidArgumentError(absl::StrCat(
        "value '", v->debugName(), "' is not a tensor the lowering knows"));
  if (c->isTensor()) {
    // A constant tensor becomes an initializer as it is at this point of the
    // program: one mutated in place since (folded ops on views), or another
    // tensor for the same value (an unrolled loop), is taken again.
    const at::Tensor &t = c->toTensor();
    auto [it, fresh] = constTensors_.try_emplace(v);
    if (fresh || it->second.impl != t.unsafeGetTensorImpl() ||
        it->second.version != t._version())
      it->second = {initializer(nameOf(v), t), t.unsafeGetTensorImpl(),
                    t._version()};
    return it->second.value;
  }
  if (c->isInt() || c->isDouble() || c->isBool()) {
    double x = c->isInt()    ? double(c->toInt())
               : c->isBool() ? double(c->toBool())
                             : c->toDouble();
    DataType dt = c->isBool() ? DataType::Bool
                  : isFloating(numberType)
                      ? numberType
                      : (c->isDouble() ? DataType::Double : DataType::Int64);
    return scalar(x, dt);
  }
  if (c->isIntList())
    return ints(c->toIntVector());
  if (c->isDoubleList()) {
    auto d = c->toDoubleVector();
    return initializer(nameOfText("c"), at::tensor(d, at::kDouble));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("value '", v->debugName(), "' is not a tensor"));
}

absl::StatusOr<Value *> Lowering::intList(const jit::Value *v) {
  if (auto s = intsOf(v))
    return ints(*s);
  return tensor(v, DataType::Int64);
}

absl::StatusOr<std::vector<Value *>>
Lowering::items(const jit::Value *v, std::optional<size_t> count) {
  if (auto it = lists_.find(v); it != lists_.end())
    return it->second;
  if (auto c = constant(v); c && c->isList()) {
    std::vector<Value *> out;
    for (const c10::IValue &e : c->toListRef()) {
      if (e.isTensor())
        out.push_back(initializer(nameOfText("c"), e.toTensor()));
      else if (e.isInt())
        out.push_back(scalar(double(e.toInt()), DataType::Int64));
      else if (e.isDouble())
        out.push_back(scalar(e.toDouble(), DataType::Double));
      else
        return absl::InvalidArgumentError(
            absl::StrCat("list '", v->debugName(), "' has non-tensor items"));
    }
    return out;
  }
  auto it = tensors_.find(v);
  if (it == tensors_.end() || !count)
    return absl::InvalidArgumentError(absl::StrCat(
        "list '", v->debugName(), "' has a length only known at run time"));
  std::vector<Value *> out;
  for (size_t i = 0; i < *count; ++i) {
    ONNXOPT_ASSIGN_OR_RETURN(
        auto item, step("Gather", {it->second, ints({int64_t(i)}, true)},
                        attrList(Attribute::makeInt("axis", 0))));
    out.push_back(item);
  }
  if (runtimeDepth_ == 0) // as in tensor(): visible to every later use
    lists_[v] = out;
  return out;
}

std::optional<int64_t> Lowering::intOf(const jit::Value *v) {
  auto c = constant(v);
  if (c && c->isInt())
    return c->toInt();
  return std::nullopt;
}

std::optional<double> Lowering::numberOf(const jit::Value *v) {
  auto c = constant(v);
  if (c && (c->isDouble() || c->isInt()))
    return c->isDouble() ? c->toDouble() : double(c->toInt());
  return std::nullopt;
}

std::optional<bool> Lowering::boolOf(const jit::Value *v) {
  auto c = constant(v);
  if (c && c->isBool())
    return c->toBool();
  return std::nullopt;
}

std::optional<std::vector<int64_t>> Lowering::intsOf(const jit::Value *v) {
  auto c = constant(v);
  if (c && c->isIntList())
    return c->toIntVector();
  if (c && c->isInt())
    return std::vector<int64_t>{c->toInt()};
  return std::nullopt;
}

bool Lowering::isNone(const jit::Value *v) {
  auto c = constant(v);
  return c && c->isNone();
}

std::optional<int64_t> Lowering::rankOf(const jit::Value *v) {
  if (auto tt = v->type()->cast<c10::TensorType>())
    if (auto d = tt->dim())
      return int64_t(*d);
  if (auto it = tensors_.find(v); it != tensors_.end())
    if (it->second->type().shape())
      return int64_t(it->second->type().shape()->size());
  if (auto c = constant(v); c && c->isTensor())
    return int64_t(c->toTensor().dim());
  return std::nullopt;
}

std::optional<DataType> Lowering::elementTypeOf(const jit::Value *v) {
  if (auto tt = v->type()->cast<c10::TensorType>())
    if (auto st = tt->scalarType())
      return dataTypeOf(*st);
  if (v->type()->kind() == c10::TypeKind::IntType)
    return DataType::Int64;
  if (v->type()->kind() == c10::TypeKind::FloatType)
    return DataType::Double;
  if (v->type()->kind() == c10::TypeKind::BoolType)
    return DataType::Bool;
  return std::nullopt;
}

std::optional<DataType> Lowering::dtypeArg(const jit::Value *v,
                                           DataType fallback) {
  if (isNone(v))
    return fallback;
  auto i = intOf(v);
  if (!i || *i < 0 || *i >= int64_t(c10::ScalarType::NumOptions))
    return std::nullopt;
  return dataTypeOf(static_cast<c10::ScalarType>(*i));
}

// ---- building
// -----------------------------------------------------------------

Value *Lowering::initializer(std::string name, const at::Tensor &t0) {
  at::Tensor t = t0.contiguous().cpu();
  DataType dt = dataTypeOf(t.scalar_type()).value_or(DataType::Float);
  if (!dataTypeOf(t.scalar_type()))
    t = t.to(at::kFloat);
  std::vector<int64_t> dims(t.sizes().begin(), t.sizes().end());
  std::string bytes(size_t(t.numel()) * elementSize(dt), '\0');
  if (!bytes.empty())
    std::memcpy(bytes.data(), t.data_ptr(), bytes.size());
  return main_.constant(std::move(name),
                        std::make_shared<Tensor>(Tensor::fromBytes(
                            dt, std::move(dims), std::move(bytes))));
}

Value *Lowering::scalar(double x, DataType dt) {
  at::Tensor t;
  switch (dt) {
  case DataType::Int64:
    t = at::scalar_tensor(int64_t(x), at::kLong);
    break;
  case DataType::Int32:
    t = at::scalar_tensor(int64_t(x), at::kInt);
    break;
  case DataType::Bool:
    t = at::scalar_tensor(x != 0, at::kBool);
    break;
  case DataType::Double:
    t = at::scalar_tensor(x, at::kDouble);
    break;
  case DataType::Float16:
    t = at::scalar_tensor(x, at::kHalf);
    break;
  default:
    t = at::scalar_tensor(x, at::kFloat);
  }
  return initializer(nameOfText("c"), t);
}

Value *Lowering::ints(const std::vector<int64_t> &v, bool asScalar) {
  at::Tensor t = asScalar ? at::scalar_tensor(v.at(0), at::kLong)
                          : at::tensor(v, at::kLong);
  return initializer(nameOfText("ints"), t);
}

std::string Lowering::nameOf(const jit::Value *v) {
  std::string base = v->debugName();
  if (base.empty() || std::isdigit(static_cast<unsigned char>(base[0])))
    base = "t" + base;
  return nameOfText(base);
}

std::string Lowering::nameOfText(const std::string &base) {
  std::string name = base;
  for (int k = 1; !names_.insert(name).second; ++k)
    name = absl::StrCat(base, "_", k);
  return name;
}

absl::Status Lowering::unsupported(const jit::Node &n, const std::string &why) {
  std::string where;
  if (auto flc = n.sourceRange().file_line_col()) {
    where = absl::StrCat(" at ", std::get<0>(*flc), ":", std::get<1>(*flc));
  } else {
    // Nodes the compiler made (prim::GetAttr of a module attribute) carry
    // no source: the first use that does says where.
    for (const jit::Value *out : n.outputs())
      for (const jit::Use &u : out->uses())
        if (auto ul = u.user->sourceRange().file_line_col();
            ul && where.empty())
          where = absl::StrCat(" (used at ", std::get<0>(*ul), ":",
                               std::get<1>(*ul), ")");
    // A node without results (prim::SetAttr): where its operands come from.
    for (const jit::Value *in : n.inputs())
      if (auto il = in->node()->sourceRange().file_line_col();
          il && where.empty() && n.outputs().empty())
        where = absl::StrCat(" (set from ", std::get<0>(*il), ":",
                             std::get<1>(*il), ")");
    // Else the op that reads it (a method call libtorch did not inline).
    for (const jit::Value *out : n.outputs())
      for (const jit::Use &u : out->uses())
        if (where.empty())
          where =
              absl::StrCat(" (read by ", u.user->kind().toQualString(), ")");
  }
  std::string what = n.kind().toQualString();
  if (n.kind() == c10::prim::GetAttr && n.hasAttribute(c10::attr::name))
    what += absl::StrCat(" '", n.s(c10::attr::name), "'");
  return absl::UnimplementedError(
      absl::StrCat("TorchScript op ", what, why.empty() ? "" : " (", why,
                   why.empty() ? "" : ")", " has no ONNX lowering", where));
}

absl::StatusOr<Node *> Lowering::emit(std::string_view op,
                                      const std::vector<Value *> &inputs,
                                      const jit::Node &n, size_t outs) {
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, cur_->create(op, inputs, outs));
  for (size_t i = 0; i < outs && i < n.outputs().size(); ++i) {
    node->output(i)->setName(nameOf(n.outputs()[i]));
    if (auto dt = elementTypeOf(n.outputs()[i]))
      node->output(i)->setType(Type::tensor(*dt));
  }
  for (size_t i = n.outputs().size(); i < outs; ++i)
    node->output(i)->setName(nameOfText("t"));
  return node;
}

absl::StatusOr<Value *> Lowering::step(std::string_view op,
                                       const std::vector<Value *> &inputs,
                                       std::vector<Attribute> attrs) {
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, cur_->create(op, inputs, 1));
  if (auto dt = resultType(op, inputs, attrs))
    node->output(0)->setType(Type::tensor(*dt));
  for (Attribute &a : attrs)
    node->setAttr(std::move(a));
  node->output(0)->setName(nameOfText("t"));
  finish(node);
  return node->output(0);
}

absl::Status Lowering::result(const jit::Node &n, std::string_view op,
                              const std::vector<Value *> &inputs,
                              std::vector<Attribute> attrs) {
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, emit(op, inputs, n));
  if (!node->output(0)->type().isTensor())
    if (auto dt = resultType(op, inputs, attrs))
      node->output(0)->setType(Type::tensor(*dt));
  for (Attribute &a : attrs)
    node->setAttr(std::move(a));
  finish(node);
  tensors_[n.output(0)] = node->output(0);
  return absl::OkStatus();
}

absl::StatusOr<Value *> Lowering::cast(Value *v, DataType to) {
  if (v->type().isTensor() && v->type().elemType() == to)
    return v;
  return step("Cast", {v}, attrList(Attribute::makeInt("to", int64_t(to))));
}

absl::Status Lowering::promote(Value *&a, Value *&b, const jit::Value *ja,
                               const jit::Value *jb) {
  DataType ta = typeOf(a), tb = typeOf(b);
  if (ta == tb)
    return absl::OkStatus();
  auto category = [](DataType t) {
    return t == DataType::Bool ? 0 : isFloating(t) ? 2 : 1;
  };
  auto priority = [&](Value *v, const jit::Value *j) {
    if (j->type()->kind() != c10::TypeKind::TensorType)
      return 0;
    const auto &shape = v->type().shape();
    return shape && shape->empty() ? 1 : 2;
  };
  int ca = category(ta), cb = category(tb), pa = priority(a, ja),
      pb = priority(b, jb);
  DataType to;
  if (ca != cb) {
    bool aWins = ca > cb;
    DataType w = aWins ? ta : tb;
    bool fromLower = aWins ? pa < pb : pb < pa;
    to = !fromLower           ? w
         : ca == 2 || cb == 2 ? DataType::Float
                              : DataType::Int64;
  } else if (pa != pb) {
    to = pa > pb ? ta : tb;
  } else {
    to = elementSize(ta) >= elementSize(tb) ? ta : tb;
  }
  ONNXOPT_ASSIGN_OR_RETURN(a, cast(a, to));
  ONNXOPT_ASSIGN_OR_RETURN(b, cast(b, to));
  return absl::OkStatus();
}

absl::StatusOr<Value *> Lowering::asVector(Value *v) {
  if (v->type().shape() && v->type().shape()->size() == 1)
    return v;
  return step("Unsqueeze", {v, ints({0})});
}

// ---- graphs, blocks and control flow
// --------------------------------------------

absl::Status Lowering::run(jit::Graph &graph) {
  Graph &g = *model_.graph;
  auto inputs = graph.inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const jit::Value *v = inputs[i];
    if (v->type()->kind() == c10::TypeKind::ClassType) {
      if (i == 0 && self_)
        modules_[v] = self_; // read only for attributes forward() sets
      continue;
    }
    auto tt = v->type()->cast<c10::TensorType>();
    std::string name = i < argNames_.size() ? argNames_[i] : v->debugNameBase();
    if (!tt)
      return absl::InvalidArgumentError(
          absl::StrCat("forward() argument '", name, "' is not a tensor (",
                       v->type()->str(), ")"));
    DataType dt = DataType::Float;
    if (auto st = tt->scalarType())
      if (auto d = dataTypeOf(*st))
        dt = *d;
    Type type = Type::tensor(dt);
    for (const TorchInput &in : inputs_)
      if (in.name == name)
        type = Type::tensor(dt, in.dims);
    names_.insert(name);
    tensors_[v] = g.addInput(name, std::move(type));
  }
  ONNXOPT_RETURN_IF_ERROR(lowerBlock(*graph.block()));
  for (const jit::Value *out : graph.outputs()) {
    std::vector<Value *> outs;
    if (auto it = dicts_.find(out); it != dicts_.end()) {
      // A returned dict: one output per entry, named by its key, in the
      // dict's order.
      for (const auto &[key, v] : it->second->entries) {
        if (!v)
          return absl::UnimplementedError(absl::StrCat(
              "forward() returns a dict whose entry '", key,
              "' is a list of tensors (no ONNX output has that form)"));
        ONNXOPT_ASSIGN_OR_RETURN(auto id, step("Identity", {v}));
        id->setName(nameOfText(key));
        g.addOutput(id, id->name());
      }
      continue;
    }
    if (auto it = lists_.find(out); it != lists_.end()) {
      outs = it->second;
    } else if (isNone(out)) {
      continue;
    } else {
      ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(out));
      outs.push_back(t);
    }
    for (Value *v : outs) {
      if (!v)
        continue; // None in a returned tuple: no output
      // An output must be a node result with a name of its own.
      if (v->kind() != Value::Kind::NodeOutput || v->isGraphOutput()) {
        ONNXOPT_ASSIGN_OR_RETURN(v, step("Identity", {v}));
      }
      g.addOutput(v, v->name());
    }
  }
  return absl::OkStatus();
}

absl::Status Lowering::lowerBlock(jit::Block &block) {
  for (jit::Node *n : block.nodes()) {
    absl::Status st = lower(*n);
    if (st.ok())
      continue;
    if (absl::StartsWith(st.message(), "TorchScript op"))
      return st;
    // An operand problem: say which op it was in, and where.
    std::string where;
    if (auto flc = n->sourceRange().file_line_col())
      where = absl::StrCat(" at ", std::get<0>(*flc), ":", std::get<1>(*flc));
    return absl::Status(st.code(),
                        absl::StrCat(st.message(), " (operand of ",
                                     n->kind().toQualString(), where, ")"));
  }
  return absl::OkStatus();
}

namespace {

/// Carries what one jit value lowered to in `map` over to another.
template <class M>
void forward(M &map, const jit::Value *from, const jit::Value *to) {
  // A copy first: inserting `to` may move the map's entries.
  if (auto it = map.find(from); it != map.end()) {
    auto value = it->second;
    map[to] = std::move(value);
  }
}

} // namespace

void Lowering::forget(const jit::Value *v) {
  tensors_.erase(v);
  lists_.erase(v);
  consts_.erase(v);
  constTensors_.erase(v);
  objects_.erase(v);
  modules_.erase(v);
  dicts_.erase(v);
  dictLists_.erase(v);
  listLists_.erase(v);
  listed_.erase(v);
  pairs_.erase(v);
  pairLists_.erase(v);
}

void Lowering::bind(const jit::Value *to, const jit::Value *from) {
  if (to == from)
    return;
  forget(to);
  // Every kind of value the lowering holds, so that a container or object
  // passes through a constant branch's or an unrolled loop's outputs too.
  forward(tensors_, from, to);
  forward(lists_, from, to);
  forward(objects_, from, to);
  forward(modules_, from, to);
  forward(dicts_, from, to);
  forward(dictLists_, from, to);
  forward(listLists_, from, to);
  forward(pairs_, from, to);
  forward(pairLists_, from, to);
  if (!tensors_.count(to) && !lists_.count(to) && !dicts_.count(to) &&
      !dictLists_.count(to) && !listLists_.count(to) && !pairLists_.count(to))
    if (auto k = constant(from))
      consts_[to] = *k;
}

absl::Status Lowering::lowerIf(jit::Node &n) {
  // A condition known at import time (after specialization): the taken
  // branch is lowered in place.
  if (auto c = boolOf(n.input(0))) {
    jit::Block &taken = *n.blocks()[*c ? 0 : 1];
    inline_.insert(&taken);
    ONNXOPT_RETURN_IF_ERROR(lowerBlock(taken));
    for (size_t i = 0; i < n.outputs().size(); ++i)
      bind(n.output(i), taken.outputs()[i]);
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto cond, tensor(n.input(0)));
  ONNXOPT_ASSIGN_OR_RETURN(cond, cast(cond, DataType::Bool));
  if (n.outputs().empty()) {
    bool empty =
        n.blocks()[0]->nodes().begin() == n.blocks()[0]->nodes().end() &&
        n.blocks()[1]->nodes().begin() == n.blocks()[1]->nodes().end();
    if (empty)
      return absl::OkStatus();
    return unsupported(n, "a branch on a run-time condition with effects only");
  }
  ONNXOPT_ASSIGN_OR_RETURN(Node * node,
                           emit("If", {cond}, n, n.outputs().size()));
  static const char *kBranches[] = {"then_branch", "else_branch"};
  std::vector<Value *> results[2];
  for (size_t b = 0; b < 2; ++b) {
    auto body = std::make_unique<Graph>();
    body->name = nameOfText(kBranches[b]);
    Graph *g = body.get();
    node->setAttr(Attribute::makeGraph(kBranches[b], std::move(body)));
    Builder inner(model_, *g);
    Builder *outer = cur_;
    cur_ = &inner;
    ++runtimeDepth_;
    absl::Status st = lowerBlock(*n.blocks()[b]);
    for (size_t i = 0; st.ok() && i < n.outputs().size(); ++i) {
      const jit::Value *out = n.blocks()[b]->outputs()[i];
      if (lists_.count(out)) {
        st = unsupported(n, "a branch yielding a list");
        break;
      }
      auto v =
          tensor(out, elementTypeOf(n.output(i)).value_or(DataType::Float));
      if (!v.ok()) {
        st = v.status();
        break;
      }
      // A branch result must be produced inside the branch.
      auto id = step("Identity", {*v});
      if (!id.ok()) {
        st = id.status();
        break;
      }
      g->addOutput(*id, (*id)->name());
      results[b].push_back(*id);
      if (!node->output(i)->type().isTensor() && (*id)->type().isTensor())
        node->output(i)->setType(Type::tensor((*id)->type().elemType()));
    }
    cur_ = outer;
    --runtimeDepth_;
    ONNXOPT_RETURN_IF_ERROR(st);
  }
  for (size_t i = 0; i < n.outputs().size(); ++i) {
    // Both branches of one rank: the result has it (and the dims both
    // agree on). Of two ranks (torchvision's box decoding: `if n > 0: x =
    // x.reshape(n, -1, 4)`), an ONNX value has none: what follows the `if`
    // is lowered once in each branch (importWithLibtorch moves it there).
    const auto &a = results[0][i]->type().shape();
    const auto &b = results[1][i]->type().shape();
    if (a && b && a->size() == b->size() &&
        node->output(i)->type().isTensor()) {
      std::vector<Dim> dims;
      for (size_t d = 0; d < a->size(); ++d)
        dims.push_back((*a)[d] == (*b)[d] ? (*a)[d] : Dim());
      node->output(i)->setType(
          Type::tensor(node->output(i)->type().elemType(), std::move(dims)));
    } else if (a && b && a->size() != b->size() &&
               n.owningBlock() == n.owningGraph()->block()) {
      rankSplit_ = &n;
      return absl::AbortedError(
          absl::StrCat("the branches of a run-time if give ranks ", a->size(),
                       " and ", b->size()));
    }
    tensors_[n.output(i)] = node->output(i);
  }
  return absl::OkStatus();
}

absl::Status Lowering::lowerLoop(jit::Node &n) {
  // prim::Loop(max_trip_count, start_condition, carried...) with a body
  // block(i, carried...) -> (condition, carried...): ONNX Loop has the same
  // structure, with the condition also an input of the body.
  jit::Block &blk = *n.blocks()[0];
  size_t carried = n.inputs().size() - 2;
  // A `for` loop with a trip count known at import time (interpolate's
  // per-dim loops, `for i in range(3)`): unrolled, so that list appends and
  // other constant code in it fold.
  auto trip = intOf(n.input(0));
  auto start = boolOf(n.input(1));
  auto again = boolOf(blk.outputs()[0]);
  auto unroll = [&] {
    if (!trip || !start || !*start || !again || !*again)
      return false;
    if (*trip <= kMaxUnroll)
      return true;
    int64_t nodes = 0;
    std::vector<const jit::Block *> todo = {&blk};
    while (!todo.empty()) {
      const jit::Block *b = todo.back();
      todo.pop_back();
      for (const jit::Node *m : b->nodes()) {
        ++nodes;
        todo.insert(todo.end(), m->blocks().begin(), m->blocks().end());
      }
    }
    return *trip * nodes <= kMaxUnrolledNodes;
  };
  if (unroll()) {
    std::vector<const jit::Value *> state(n.inputs().begin() + 2,
                                          n.inputs().end());
    inline_.insert(&blk);
    for (int64_t i = 0; i < *trip; ++i) {
      consts_[blk.inputs()[0]] = i;
      for (size_t j = 0; j < carried; ++j)
        bind(blk.inputs()[1 + j], state[j]);
      ONNXOPT_RETURN_IF_ERROR(lowerBlock(blk));
      for (size_t j = 0; j < carried; ++j)
        state[j] = blk.outputs()[1 + j];
      // Copies: the block's values are rebound in the next iteration.
      for (size_t j = 0; j < carried; ++j)
        bind(n.output(j), state[j]);
      state.assign(n.outputs().begin(), n.outputs().end());
    }
    for (size_t j = 0; j < carried && *trip == 0; ++j)
      bind(n.output(j), n.input(2 + j));
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto trips, tensor(n.input(0), DataType::Int64));
  ONNXOPT_ASSIGN_OR_RETURN(trips, cast(trips, DataType::Int64));
  ONNXOPT_ASSIGN_OR_RETURN(auto cond, tensor(n.input(1)));
  ONNXOPT_ASSIGN_OR_RETURN(cond, cast(cond, DataType::Bool));
  std::vector<Value *> ins = {trips, cond};
  for (size_t i = 0; i < carried; ++i) {
    const jit::Value *init = n.input(2 + i);
    if (lists_.count(init) || init->type()->kind() == c10::TypeKind::ListType)
      return unsupported(n, "a list carried through the loop");
    ONNXOPT_ASSIGN_OR_RETURN(
        auto v, tensor(init, elementTypeOf(init).value_or(DataType::Float)));
    ins.push_back(v);
  }
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, emit("Loop", ins, n, carried));
  auto body = std::make_unique<Graph>();
  body->name = nameOfText("loop_body");
  Graph *g = body.get();
  node->setAttr(Attribute::makeGraph("body", std::move(body)));
  tensors_[blk.inputs()[0]] =
      g->addInput(nameOfText("iteration"), Type::tensor(DataType::Int64, {}));
  g->addInput(nameOfText("cond_in"), Type::tensor(DataType::Bool, {}));
  for (size_t i = 0; i < carried; ++i) {
    Type t = ins[2 + i]->type().isTensor()
                 ? Type::tensor(ins[2 + i]->type().elemType())
                 : Type();
    // The rank libtorch's propagation found the same on every iteration.
    auto tt = blk.inputs()[1 + i]->type()->cast<c10::TensorType>();
    if (t.isTensor() && tt && tt->dim())
      t.setShape(std::vector<Dim>(*tt->dim()));
    tensors_[blk.inputs()[1 + i]] = g->addInput(nameOf(blk.inputs()[1 + i]), t);
    if (t.isTensor())
      node->output(i)->setType(Type::tensor(t.elemType()));
  }
  Builder inner(model_, *g);
  Builder *outer = cur_;
  cur_ = &inner;
  ++runtimeDepth_;
  absl::Status st = [&]() -> absl::Status {
    ONNXOPT_RETURN_IF_ERROR(lowerBlock(blk));
    for (size_t i = 0; i < blk.outputs().size(); ++i) {
      const jit::Value *out = blk.outputs()[i];
      if (lists_.count(out))
        return unsupported(n, "a list carried through the loop");
      DataType want = i == 0 ? DataType::Bool : typeOf(ins[1 + i]);
      ONNXOPT_ASSIGN_OR_RETURN(auto v, tensor(out, want));
      ONNXOPT_ASSIGN_OR_RETURN(v, cast(v, want));
      ONNXOPT_ASSIGN_OR_RETURN(auto id, step("Identity", {v}));
      g->addOutput(id, id->name());
      // A carried tensor of one rank before and after an iteration keeps
      // it (and the dims both agree on) after the loop.
      const auto &before = ins[1 + i]->type().shape();
      const auto &after = v->type().shape();
      if (i > 0 && before && after && before->size() == after->size()) {
        std::vector<Dim> dims;
        for (size_t d = 0; d < before->size(); ++d)
          dims.push_back((*before)[d] == (*after)[d] ? (*before)[d] : Dim());
        node->output(i - 1)->setType(Type::tensor(want, std::move(dims)));
      }
    }
    return absl::OkStatus();
  }();
  cur_ = outer;
  --runtimeDepth_;
  ONNXOPT_RETURN_IF_ERROR(st);
  for (size_t i = 0; i < carried; ++i)
    tensors_[n.output(i)] = node->output(i);
  return absl::OkStatus();
}

// ---- prim ops, lists and scalars
// ---------------------------------------------------

bool Lowering::foldConstant(jit::Node &n) {
  // Ops on tensors fold too when every operand is a constant (masks built
  // from static sizes, in place on views as eager mode runs them), except
  // random ones.
  std::string kind = n.kind().toQualString();
  static const absl::flat_hash_set<std::string> kStructural = {
      "prim::ListUnpack",     "prim::TupleUnpack", "prim::Uninitialized",
      "prim::RaiseException", "prim::PythonOp",    "prim::Print"};
  if (!n.blocks().empty() || (!n.kind().is_aten() && !n.kind().is_prim()) ||
      kStructural.contains(kind) || kind.find("rand") != std::string::npos ||
      kind.find("normal") != std::string::npos ||
      kind.find("bernoulli") != std::string::npos ||
      kind.find("dropout") != std::string::npos)
    return false;
  if (runtimeDepth_ > 0)
    if (const c10::FunctionSchema *schema = n.maybeSchema())
      for (const c10::Argument &a : schema->arguments())
        if (a.alias_info() && a.alias_info()->isWrite())
          return false; // mutating a constant only on some run-time path
  if (kind == "prim::ListConstruct" && n.inputs().empty()) {
    // An empty list to append constants to.
    consts_[n.output(0)] = c10::IValue(
        c10::impl::GenericList(n.output(0)->type()->containedType(0)));
    return true;
  }
  jit::Stack stack;
  for (const jit::Value *v : n.inputs()) {
    if (lists_.count(v) || dicts_.count(v) || dictLists_.count(v) ||
        listLists_.count(v) || pairLists_.count(v) || objects_.count(v) ||
        modules_.count(v))
      return false;
    auto c = constant(v);
    if (!c)
      return false;
    stack.push_back(*c);
  }
  // A vararg op (format, ...) takes its operand count on the stack, as the
  // interpreter passes it.
  if (const c10::FunctionSchema *schema = n.maybeSchema();
      schema && schema->is_vararg())
    stack.push_back(int64_t(n.inputs().size()));
  try {
    n.getOperation()(stack);
  } catch (const std::exception &e) {
    if (std::getenv("ONNXOPT_TORCHSCRIPT_DUMP"))
      std::cerr << "not folded: " << kind << ": " << e.what() << "\n";
    return false;
  }
  if (stack.size() != n.outputs().size())
    return false;
  for (const c10::IValue &v : stack)
    if (v.isTensor() && v.toTensor().numel() > (int64_t(1) << 24))
      return false; // large: left to the lowering (and constant-fold)
  for (size_t i = 0; i < stack.size(); ++i)
    consts_[n.output(i)] = stack[i];
  return true;
}

absl::Status Lowering::lower(jit::Node &n) {
  std::string kind = n.kind().toQualString();
  // An unrolled loop's body is lowered once per iteration: what its values
  // stood for in the previous one must not be read again.
  for (const jit::Value *out : n.outputs())
    forget(out);
  if (kind == "prim::Constant") {
    if (auto c = jit::toIValue(n.output(0)))
      consts_[n.output(0)] = *c;
    return absl::OkStatus();
  }
  if (foldConstant(n))
    return absl::OkStatus();
  // Every lowering of this kind, in order, until one takes the node (a
  // lowering declines a node whose form it does not handle).
  for (LoweringFn fn : loweringsOf(kind))
    if (std::optional<absl::Status> done = (this->*fn)(n, kind))
      return *done;
  return unsupported(n);
}

// prim::If
std::optional<absl::Status> Lowering::lowerPrimIf(jit::Node &n,
                                                  const std::string &) {
  return lowerIf(n);
}

// prim::Loop
std::optional<absl::Status> Lowering::lowerPrimLoop(jit::Node &n,
                                                    const std::string &) {
  return lowerLoop(n);
}

// prim::Uninitialized
std::optional<absl::Status>
Lowering::lowerPrimUninitialized(jit::Node &, const std::string &) {
  return absl::OkStatus(); // a placeholder only dead branches yield
}

// prim::RaiseException, aten::warn, prim::PythonOp
std::optional<absl::Status>
Lowering::lowerRaiseOrWarn(jit::Node &n, const std::string &kind) {
  return kind == "aten::warn" ? absl::OkStatus() : unsupported(n);
}

// prim::ListConstruct, prim::TupleConstruct
std::optional<absl::Status>
Lowering::lowerListConstruct(jit::Node &n, const std::string &kind) {
  // A (constant key, tensor) pair, to be appended to a list a dict is made
  // of.
  if (kind == "prim::TupleConstruct" && n.inputs().size() == 2 &&
      n.input(1)->type()->kind() == c10::TypeKind::TensorType) {
    auto c = constant(n.input(0));
    if (c && c->isString()) {
      ONNXOPT_ASSIGN_OR_RETURN(auto v, tensor(n.input(1)));
      pairs_[n.output(0)] = {c->toStringRef(), v};
      return absl::OkStatus();
    }
  }
  // A list of tensor lists (empty: filled by appends).
  if (kind == "prim::ListConstruct" && !n.inputs().empty()) {
    const c10::TypePtr &item = n.output(0)->type()->containedTypes()[0];
    if (item->kind() == c10::TypeKind::ListType &&
        item->containedType(0)->kind() == c10::TypeKind::TensorType) {
      std::vector<std::vector<Value *>> lists;
      for (const jit::Value *v : n.inputs()) {
        ONNXOPT_ASSIGN_OR_RETURN(auto parts, items(v, std::nullopt));
        lists.push_back(std::move(parts));
        listed_.insert(v);
      }
      listLists_[n.output(0)] = std::move(lists);
      return absl::OkStatus();
    }
  }
  // A list of pairs (empty: filled by appends).
  if (kind == "prim::ListConstruct" &&
      n.output(0)->type()->containedTypes()[0]->kind() ==
          c10::TypeKind::TupleType &&
      std::all_of(n.inputs().begin(), n.inputs().end(),
                  [&](const jit::Value *v) { return pairs_.count(v) > 0; })) {
    DictEntries entries;
    for (const jit::Value *v : n.inputs())
      entries.push_back(pairs_[v]);
    pairLists_[n.output(0)] = std::move(entries);
    return absl::OkStatus();
  }
  // A list of constant ints stays a constant; a list with computed ints
  // becomes a 1-D int64 tensor (shape arithmetic); a list of tensors is
  // kept for cat/stack/outputs.
  std::vector<int64_t> values;
  bool allInts = true;
  for (const jit::Value *v : n.inputs()) {
    auto i = intOf(v);
    allInts &= i.has_value();
    if (i)
      values.push_back(*i);
  }
  if (allInts && !n.inputs().empty() && kind == "prim::ListConstruct") {
    consts_[n.output(0)] = c10::IValue(values);
    return absl::OkStatus();
  }
  bool intList = n.output(0)->type()->kind() == c10::TypeKind::ListType &&
                 n.output(0)->type()->containedTypes()[0]->kind() ==
                     c10::TypeKind::IntType;
  std::vector<Value *> items;
  for (const jit::Value *v : n.inputs()) {
    if (isNone(v)) {
      items.push_back(nullptr); // a None in a tuple (an absent output)
      continue;
    }
    ONNXOPT_ASSIGN_OR_RETURN(
        auto t, tensor(v, intList ? DataType::Int64 : DataType::Float));
    if (intList) {
      ONNXOPT_ASSIGN_OR_RETURN(t, cast(t, DataType::Int64));
    }
    items.push_back(t);
  }
  lists_[n.output(0)] = items;
  return absl::OkStatus();
}

// prim::ListUnpack, prim::TupleUnpack
std::optional<absl::Status> Lowering::lowerUnpack(jit::Node &n,
                                                  const std::string &) {
  if (auto p = pairs_.find(n.input(0));
      p != pairs_.end() && n.outputs().size() == 2) {
    consts_[n.output(0)] = p->second.first;
    tensors_[n.output(1)] = p->second.second;
    return absl::OkStatus();
  }
  if (auto c = constant(n.input(0)); c && (c->isList() || c->isTuple())) {
    auto list = c->isList() ? c->toListRef() : c->toTupleRef().elements();
    if (list.size() != n.outputs().size())
      return unsupported(n, "unpacking a list of another length");
    for (size_t i = 0; i < list.size(); ++i)
      consts_[n.output(i)] = list[i];
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto parts, items(n.input(0), n.outputs().size()));
  if (parts.size() != n.outputs().size())
    return unsupported(n, "unpacking a list of another length");
  for (size_t i = 0; i < n.outputs().size(); ++i) {
    if (parts[i])
      tensors_[n.output(i)] = parts[i];
    else
      consts_[n.output(i)] = c10::IValue();
  }
  return absl::OkStatus();
}

// aten::list, aten::copy
std::optional<absl::Status> Lowering::lowerListCopy(jit::Node &n,
                                                    const std::string &kind) {
  if (!((kind == "aten::list" || kind == "aten::copy") &&
        n.inputs().size() == 1 &&
        n.input(0)->type()->kind() == c10::TypeKind::ListType))
    return std::nullopt;
  // A copy of a list the lowering holds (constant ones fold).
  bind(n.output(0), n.input(0));
  return absl::OkStatus();
}

// aten::append
std::optional<absl::Status> Lowering::lowerAppend(jit::Node &n,
                                                  const std::string &) {
  // Appending to a list of tensors built in the same block: the list's
  // contents at each use are what program order gives.
  ONNXOPT_RETURN_IF_ERROR(listMayChange(n, "appending"));
  if (n.input(1)->type()->kind() == c10::TypeKind::ListType &&
      n.input(1)->type()->containedType(0)->kind() ==
          c10::TypeKind::TensorType) {
    if (lists_.count(n.input(0)) || pairLists_.count(n.input(0)))
      return unsupported(n, "a list appended to a list of other items");
    ONNXOPT_ASSIGN_OR_RETURN(auto item, items(n.input(1), std::nullopt));
    std::vector<std::vector<Value *>> list = listLists_[n.input(0)];
    consts_.erase(n.input(0)); // an empty constant list until now
    list.push_back(item);
    listed_.insert(n.input(1));
    listLists_[n.input(0)] = list;
    listLists_[n.output(0)] = list;
    return absl::OkStatus();
  }
  if (n.input(1)->type()->kind() == c10::TypeKind::DictType) {
    if (lists_.count(n.input(0)) || pairLists_.count(n.input(0)))
      return unsupported(n, "a dict appended to a list of other items");
    ONNXOPT_ASSIGN_OR_RETURN(auto d, dictOf(n.input(1)));
    std::vector<std::shared_ptr<Dict>> list = dictLists_[n.input(0)];
    consts_.erase(n.input(0)); // an empty constant list until now
    list.push_back(d);
    dictLists_[n.input(0)] = list;
    dictLists_[n.output(0)] = list;
    return absl::OkStatus();
  }
  if (auto p = pairs_.find(n.input(1)); p != pairs_.end()) {
    if (lists_.count(n.input(0)))
      return unsupported(n, "a pair appended to a list of tensors");
    DictEntries entries = pairLists_[n.input(0)];
    entries.push_back(p->second);
    consts_.erase(n.input(0)); // an empty constant list until now
    pairLists_[n.input(0)] = entries;
    pairLists_[n.output(0)] = entries;
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto parts, items(n.input(0), std::nullopt));
  ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(n.input(1)));
  parts.push_back(t);
  consts_.erase(n.input(0)); // a constant list until now
  lists_[n.input(0)] = parts;
  lists_[n.output(0)] = parts;
  return absl::OkStatus();
}

absl::Status Lowering::listMayChange(const jit::Node &n,
                                     const std::string &doing) {
  if (!inPlaceOf(n, n.input(0)))
    return unsupported(n, absl::StrCat(doing, " inside a branch or loop"));
  if (listed_.count(n.input(0)))
    return unsupported(n, "a list changed after it was put in another list");
  return absl::OkStatus();
}

// aten::insert (xs.insert(i, x) with a constant i, as Python clamps it)
std::optional<absl::Status> Lowering::lowerInsert(jit::Node &n,
                                                  const std::string &) {
  ONNXOPT_RETURN_IF_ERROR(listMayChange(n, "inserting"));
  ONNXOPT_ASSIGN_OR_RETURN(auto parts, items(n.input(0), std::nullopt));
  auto i = intOf(n.input(1));
  if (!i)
    return unsupported(n, "an index computed at run time");
  int64_t size = int64_t(parts.size());
  int64_t at = std::clamp<int64_t>(*i < 0 ? *i + size : *i, 0, size);
  ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(n.input(2)));
  parts.insert(parts.begin() + at, t);
  consts_.erase(n.input(0)); // an empty constant list until now
  lists_[n.input(0)] = parts;
  return absl::OkStatus();
}

// aten::extend (xs.extend(ys), in the block that made xs or in place of it)
std::optional<absl::Status> Lowering::lowerExtend(jit::Node &n,
                                                  const std::string &) {
  ONNXOPT_RETURN_IF_ERROR(listMayChange(n, "extending"));
  ONNXOPT_ASSIGN_OR_RETURN(auto parts, items(n.input(0), std::nullopt));
  ONNXOPT_ASSIGN_OR_RETURN(auto more, items(n.input(1), std::nullopt));
  parts.insert(parts.end(), more.begin(), more.end());
  consts_.erase(n.input(0)); // an empty constant list until now
  lists_[n.input(0)] = parts;
  return absl::OkStatus();
}

// prim::TupleIndex, aten::__getitem__, aten::select
std::optional<absl::Status> Lowering::lowerItemAccess(jit::Node &n,
                                                      const std::string &kind) {
  if (!(kind == "prim::TupleIndex" || kind == "aten::__getitem__" ||
        (kind == "aten::select" &&
         n.input(0)->type()->kind() == c10::TypeKind::ListType)))
    return std::nullopt;
  auto i = intOf(n.input(1));
  // The item a constant index picks from a container of `size` items (a
  // negative index counts from the end).
  auto position = [&](size_t size) -> std::optional<size_t> {
    int64_t k = i && *i < 0 ? *i + int64_t(size) : i.value_or(-1);
    if (k < 0 || k >= int64_t(size))
      return std::nullopt;
    return size_t(k);
  };
  const char *const kNoPosition =
      "an index computed at run time or out of range";
  if (auto p = pairLists_.find(n.input(0)); p != pairLists_.end()) {
    // An item of a dict's items() or of a list of pairs.
    auto k = position(p->second.size());
    if (!k)
      return unsupported(n, kNoPosition);
    pairs_[n.output(0)] = p->second[*k];
    return absl::OkStatus();
  }
  if (auto p = pairs_.find(n.input(0)); p != pairs_.end()) {
    if (!i || (*i != 0 && *i != 1))
      return unsupported(n, kNoPosition);
    if (*i == 0)
      consts_[n.output(0)] = p->second.first;
    else
      tensors_[n.output(0)] = p->second.second;
    return absl::OkStatus();
  }
  if (n.input(0)->type()->kind() == c10::TypeKind::DictType) {
    ONNXOPT_ASSIGN_OR_RETURN(auto d, dictOf(n.input(0)));
    auto key = dictKey(constant(n.input(1)));
    if (!key)
      return unsupported(n, "a key computed at run time");
    for (const auto &[k, v] : d->entries)
      if (k == *key) {
        if (!v) {
          // A copy: changing it must not pass for changing the entry.
          lists_[n.output(0)] = d->lists.at(k);
          listed_.insert(n.output(0));
          return absl::OkStatus();
        }
        alias(n, v);
        return absl::OkStatus();
      }
    return unsupported(
        n, absl::StrCat("a key the dict does not hold ('", *key, "')"));
  }
  if (auto it = listLists_.find(n.input(0)); it != listLists_.end()) {
    auto k = position(it->second.size());
    if (!k)
      return unsupported(n, kNoPosition);
    lists_[n.output(0)] = it->second[*k];
    listed_.insert(n.output(0));
    return absl::OkStatus();
  }
  if (auto it = dictLists_.find(n.input(0)); it != dictLists_.end()) {
    auto k = position(it->second.size());
    if (!k)
      return unsupported(n, kNoPosition);
    dicts_[n.output(0)] = it->second[*k];
    return absl::OkStatus();
  }
  if (auto it = lists_.find(n.input(0)); it != lists_.end() && i) {
    auto k = position(it->second.size());
    if (!k)
      return unsupported(n, "an index out of range");
    alias(n, it->second[*k]);
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto list, tensor(n.input(0), DataType::Int64));
  ONNXOPT_ASSIGN_OR_RETURN(auto idx, tensor(n.input(1), DataType::Int64));
  return result(n, "Gather", {list, idx},
                attrList(Attribute::makeInt("axis", 0)));
}

// aten::dict, prim::DictConstruct
std::optional<absl::Status> Lowering::lowerDict(jit::Node &n,
                                                const std::string &) {
  if (n.inputs().size() == 1) {
    // dict(pairs): a list of (constant key, tensor) tuples
    // (OrderedDict([(str(i), v) for i, v in enumerate(output)])).
    auto it = pairLists_.find(n.input(0));
    if (it == pairLists_.end())
      return unsupported(n,
                         "a list that is not of (constant key, tensor) pairs");
    DictEntries entries;
    for (const auto &[k, v] : it->second)
      setEntry(entries, k, v);
    dicts_[n.output(0)] =
        std::make_shared<Dict>(Dict{std::move(entries), n.output(0)});
    return absl::OkStatus();
  }
  if (n.inputs().size() % 2 != 0)
    return std::nullopt;
  DictEntries entries;
  for (size_t i = 0; i < n.inputs().size(); i += 2) {
    auto key = dictKey(constant(n.input(i)));
    if (!key)
      return unsupported(n, "a key computed at run time");
    ONNXOPT_ASSIGN_OR_RETURN(auto v, tensor(n.input(i + 1)));
    setEntry(entries, *key, v);
  }
  dicts_[n.output(0)] =
      std::make_shared<Dict>(Dict{std::move(entries), n.output(0)});
  return absl::OkStatus();
}

// aten::keys, aten::values, aten::items, aten::__contains__ of a dict with
// constant keys: the keys a constant list, the values a tensor list, the
// items a list of pairs (in insertion order, as Python's), `key in d` a
// constant.
std::optional<absl::Status> Lowering::lowerDictView(jit::Node &n,
                                                    const std::string &kind) {
  if (n.input(0)->type()->kind() != c10::TypeKind::DictType)
    return std::nullopt;
  ONNXOPT_ASSIGN_OR_RETURN(auto d, dictOf(n.input(0)));
  if (kind == "aten::__contains__") {
    auto key = dictKey(constant(n.input(1)));
    if (!key)
      return unsupported(n, "a key computed at run time");
    consts_[n.output(0)] =
        std::any_of(d->entries.begin(), d->entries.end(),
                    [&](const auto &e) { return e.first == *key; });
    return absl::OkStatus();
  }
  if (kind == "aten::keys") {
    c10::List<std::string> keys;
    for (const auto &[k, v] : d->entries)
      keys.push_back(k);
    consts_[n.output(0)] = keys;
    return absl::OkStatus();
  }
  for (const auto &[k, v] : d->entries)
    if (!v)
      return unsupported(
          n, absl::StrCat("a dict whose entry '", k, "' is a list of tensors"));
  if (kind == "aten::values") {
    std::vector<Value *> values;
    for (const auto &[k, v] : d->entries)
      values.push_back(v);
    lists_[n.output(0)] = values;
    return absl::OkStatus();
  }
  pairLists_[n.output(0)] = d->entries;
  return absl::OkStatus();
}

// aten::_set_item (d[key] = value)
std::optional<absl::Status> Lowering::lowerSetItem(jit::Node &n,
                                                   const std::string &) {
  if (n.input(0)->type()->kind() == c10::TypeKind::ListType) {
    // list[i] = tensor, i known at import time.
    ONNXOPT_RETURN_IF_ERROR(listMayChange(n, "setting a list item"));
    ONNXOPT_ASSIGN_OR_RETURN(auto parts, items(n.input(0), std::nullopt));
    auto i = intOf(n.input(1));
    if (!i)
      return unsupported(n, "an index computed at run time");
    int64_t at = *i < 0 ? *i + int64_t(parts.size()) : *i;
    if (at < 0 || at >= int64_t(parts.size()))
      return unsupported(n, "an index outside the list");
    ONNXOPT_ASSIGN_OR_RETURN(parts[size_t(at)], tensor(n.input(2)));
    lists_[n.input(0)] = parts;
    return absl::OkStatus();
  }
  if (n.input(0)->type()->kind() != c10::TypeKind::DictType)
    return std::nullopt;
  // As for lists: the contents at each use are what program order gives,
  // which holds only when the dict is filled in the block that made it.
  ONNXOPT_ASSIGN_OR_RETURN(auto d, dictOf(n.input(0)));
  if (!inPlaceOf(n, n.input(0)) || !inPlaceOf(n, d->madeBy))
    return unsupported(n, "setting a dict item inside a branch or loop");
  auto key = dictKey(constant(n.input(1)));
  if (!key)
    return unsupported(n, "a key computed at run time");
  if (n.input(2)->type()->kind() == c10::TypeKind::ListType) {
    ONNXOPT_ASSIGN_OR_RETURN(d->lists[*key], items(n.input(2), std::nullopt));
    listed_.insert(n.input(2));
    setEntry(d->entries, *key, nullptr);
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto v, tensor(n.input(2)));
  d->lists.erase(*key);
  setEntry(d->entries, *key, v);
  return absl::OkStatus();
}

// prim::CreateObject, prim::SetAttr, prim::GetAttr: objects of TorchScript
// classes made in forward() (torchvision's ImageList) are records of the
// values their fields were set to. A module's attributes (read by GetAttr on
// `self` after freezing only when the module changes them) are not.
std::optional<absl::Status> Lowering::lowerObject(jit::Node &n,
                                                  const std::string &kind) {
  if (kind == "prim::CreateObject") {
    objects_[n.output(0)] = {};
    return absl::OkStatus();
  }
  const std::string &field = n.s(c10::attr::name);
  if (auto m = modules_.find(n.input(0)); m != modules_.end()) {
    c10::intrusive_ptr<c10::ivalue::Object> obj = m->second;
    auto slot = obj->type()->findAttributeSlot(field);
    if (!slot)
      return unsupported(n, "an attribute the module does not have");
    c10::IValue held = obj->getSlot(*slot);
    auto written = moduleWrites_.find({obj.get(), field});
    if (kind == "prim::SetAttr") {
      // What the attribute holds again: nothing changes. Set where it holds
      // None (a cache made on the first call: MultiScaleRoIAlign's scales):
      // the first call's value, read from here on. Anything else is state
      // carried from one call to the next.
      if (written == moduleWrites_.end() && holds(n.input(1), held))
        return absl::OkStatus();
      if (!held.isNone())
        return unsupported(
            n, absl::StrCat("module state that changes outputs: forward() "
                            "sets '",
                            field, "' to other than what it holds"));
      if (!inPlaceOf(n, n.owningGraph()->inputs()[0]))
        return unsupported(n, "setting a module attribute inside a branch "
                              "or loop taken at run time");
      moduleWrites_[{obj.get(), field}] = n.input(1);
      return absl::OkStatus();
    }
    if (written != moduleWrites_.end()) {
      bind(n.output(0), written->second);
      return absl::OkStatus();
    }
    if (held.isObject())
      modules_[n.output(0)] = held.toObject();
    else
      consts_[n.output(0)] = held;
    return absl::OkStatus();
  }
  auto it = objects_.find(n.input(0));
  if (it == objects_.end())
    return unsupported(n);
  if (kind == "prim::SetAttr") {
    if (!inPlaceOf(n, n.input(0)))
      return unsupported(n, "setting a field inside a branch or loop");
    it->second[field] = n.input(1);
    return absl::OkStatus();
  }
  auto f = it->second.find(field);
  if (f == it->second.end())
    return unsupported(n, "a field that was not set");
  bind(n.output(0), f->second);
  return absl::OkStatus();
}

bool Lowering::holds(const jit::Value *v, const c10::IValue &held) {
  auto same = [](const at::Tensor &a, const at::Tensor &b) {
    return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() &&
           a.device() == b.device() && at::equal(a, b);
  };
  // A tensor the lowering made an initializer of: its bytes.
  auto sameValue = [&](const Value *x, const at::Tensor &t) {
    if (!x->isConstant() || !x->tensor())
      return false;
    at::Tensor c = t.contiguous();
    std::string_view bytes = x->tensor()->bytes();
    return dataTypeOf(c.scalar_type()) == x->tensor()->dtype() &&
           size_t(c.nbytes()) == bytes.size() &&
           std::memcmp(c.data_ptr(), bytes.data(), bytes.size()) == 0;
  };
  if (auto c = constant(v)) {
    if (c->isTensor() && held.isTensor())
      return same(c->toTensor(), held.toTensor());
    if (c->isTensorList() && held.isTensorList()) {
      auto a = c->toTensorVector(), b = held.toTensorVector();
      if (a.size() != b.size())
        return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i]))
          return false;
      return true;
    }
    if (c->isTensor() || held.isTensor() || c->isTensorList() ||
        held.isTensorList())
      return false;
    return *c == held;
  }
  if (auto it = tensors_.find(v); it != tensors_.end())
    return held.isTensor() && sameValue(it->second, held.toTensor());
  if (auto it = lists_.find(v); it != lists_.end() && held.isTensorList()) {
    auto b = held.toTensorVector();
    if (it->second.size() != b.size())
      return false;
    for (size_t i = 0; i < b.size(); ++i)
      if (!sameValue(it->second[i], b[i]))
        return false;
    return true;
  }
  return false;
}

bool Lowering::inPlaceOf(const jit::Node &n, const jit::Value *container) {
  // From n up to a block the container's block lies in (the one that made
  // it, or where a dict made in an unrolled loop's body was kept in a list),
  // every block is lowered in place.
  absl::flat_hash_set<const jit::Block *> around;
  for (const jit::Block *b = container->node()->owningBlock(); b;) {
    around.insert(b);
    const jit::Node *owner = b->owningNode();
    b = owner ? owner->owningBlock() : nullptr;
  }
  for (const jit::Block *b = n.owningBlock(); !around.count(b);) {
    const jit::Node *owner = b->owningNode();
    if (!inline_.count(b) || !owner)
      return false;
    b = owner->owningBlock();
  }
  return true;
}

absl::StatusOr<std::shared_ptr<Lowering::Dict>>
Lowering::dictOf(const jit::Value *v) {
  if (auto it = dicts_.find(v); it != dicts_.end())
    return it->second;
  // A dict folded while it held only constants (an empty `{}` first): its
  // entries become initializers, and from here on the lowering holds it.
  auto c = constant(v);
  if (!c || !c->isGenericDict())
    return absl::InvalidArgumentError(absl::StrCat(
        "dict '", v->debugName(), "' is not one the lowering knows"));
  DictEntries entries;
  for (const auto &e : c->toGenericDict()) {
    auto key = dictKey(e.key());
    if (!key || !e.value().isTensor())
      return absl::InvalidArgumentError(
          absl::StrCat("dict '", v->debugName(),
                       "' holds a key or value that is not a string or int "
                       "and a tensor"));
    setEntry(entries, *key,
             initializer(nameOfText(*key), e.value().toTensor()));
  }
  consts_.erase(v);
  return dicts_[v] = std::make_shared<Dict>(Dict{std::move(entries), v});
}

// aten::len
std::optional<absl::Status> Lowering::lowerLen(jit::Node &n,
                                               const std::string &) {
  if (n.input(0)->type()->kind() == c10::TypeKind::DictType) {
    ONNXOPT_ASSIGN_OR_RETURN(auto d, dictOf(n.input(0)));
    consts_[n.output(0)] = int64_t(d->entries.size());
    return absl::OkStatus();
  }
  // A list the lowering holds, of whatever items.
  std::optional<size_t> held;
  auto lengthIn = [&](const auto &lists) {
    if (auto it = lists.find(n.input(0)); it != lists.end() && !held)
      held = it->second.size();
  };
  lengthIn(lists_);
  lengthIn(pairLists_);
  lengthIn(dictLists_);
  lengthIn(listLists_);
  if (held) {
    consts_[n.output(0)] = int64_t(*held);
    return absl::OkStatus();
  }
  if (n.input(0)->type()->kind() == c10::TypeKind::TensorType) {
    // len(tensor): its first dim (a number when static).
    ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0)));
    if (const auto &sh = x->type().shape();
        sh && !sh->empty() && (*sh)[0].isConstant()) {
      consts_[n.output(0)] = (*sh)[0].value();
      return absl::OkStatus();
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto s, step("Shape", {x}));
    return result(n, "Gather", {s, ints({0}, true)},
                  attrList(Attribute::makeInt("axis", 0)));
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto list, tensor(n.input(0), DataType::Int64));
  const auto &shape = list->type().shape();
  if (shape && shape->size() == 1 && (*shape)[0].isConstant()) {
    consts_[n.output(0)] = (*shape)[0].value();
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto s, step("Shape", {list}));
  return result(n, "Squeeze", {s, ints({0})});
}

// prim::dtype, prim::device, aten::is_floating_point, aten::__is__,
// aten::__isnot__
std::optional<absl::Status> Lowering::lowerTypeQuery(jit::Node &n,
                                                     const std::string &kind) {
  // What the lowering knows of a run-time tensor: its dtype, the CPU, and
  // that it is not None.
  if (kind == "prim::isinstance") {
    // The value's static type decides, or for an Optional what the lowering
    // holds (None, or a value).
    const jit::Value *v = n.input(0);
    bool none = isNone(v);
    bool known = !v->type()->cast<c10::OptionalType>() || none ||
                 tensors_.count(v) || lists_.count(v);
    if (!known)
      return unsupported(n, "an Optional the lowering cannot tell");
    bool is = false;
    for (const c10::TypePtr &t : n.tys(c10::attr::types)) {
      c10::TypePtr vt = v->type();
      if (auto opt = vt->cast<c10::OptionalType>())
        vt = none ? c10::NoneType::get() : opt->getElementType();
      is |= vt->isSubtypeOf(*t);
    }
    consts_[n.output(0)] = is;
    return absl::OkStatus();
  }
  if (kind == "aten::is_floating_point") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0)));
    consts_[n.output(0)] = isFloating(typeOf(x));
    return absl::OkStatus();
  }
  if (kind == "prim::dtype") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0)));
    auto st = scalarTypeOf(typeOf(x));
    if (!st)
      return unsupported(n, "an element type libtorch lacks");
    consts_[n.output(0)] = int64_t(*st);
    return absl::OkStatus();
  }
  if (kind == "prim::device") {
    consts_[n.output(0)] = c10::IValue(c10::Device(c10::kCPU));
    return absl::OkStatus();
  }
  // `a is b` on two run-time tensors: the same object when they lower to
  // the same value (aliases such as contiguous() included).
  bool noneA = isNone(n.input(0)), noneB = isNone(n.input(1));
  bool same = noneA && noneB;
  if (!noneA && !noneB) {
    auto a = tensors_.find(n.input(0)), b = tensors_.find(n.input(1));
    if (a == tensors_.end() || b == tensors_.end())
      return unsupported(n, "identity of values the lowering does not know");
    same = a->second == b->second;
  }
  consts_[n.output(0)] = (kind == "aten::__is__") == same;
  return absl::OkStatus();
}

// aten::dim
std::optional<absl::Status> Lowering::lowerDim(jit::Node &n,
                                               const std::string &) {
  auto r = rankOf(n.input(0));
  if (r) {
    consts_[n.output(0)] = *r;
    return absl::OkStatus();
  }
  // A run-time `if` whose branches give the tensor different ranks
  // (torchvision's box decoding: `if n > 0: x = x.reshape(n, -1, 4)`): ONNX
  // gives a value one rank, so code that depends on it has no lowering.
  // (Found through the ops that pass it on: split, items, unchecked casts.)
  const jit::Value *from = n.input(0);
  for (int depth = 0; depth < 8 && from->node()->kind() != c10::prim::If &&
                      !from->node()->inputs().empty();
       ++depth)
    from = from->node()->input(0);
  const jit::Node *def = from->node();
  if (def->kind() == c10::prim::If) {
    size_t k = 0;
    while (def->outputs()[k] != from)
      ++k;
    std::vector<std::string> ranks;
    for (const jit::Block *b : def->blocks()) {
      auto r = rankOf(b->outputs()[k]);
      ranks.push_back(r ? absl::StrCat(*r) : "unknown");
    }
    std::string where;
    if (auto flc = def->sourceRange().file_line_col())
      where = absl::StrCat(" at ", std::get<0>(*flc), ":", std::get<1>(*flc));
    return unsupported(
        n, absl::StrCat("the rank of a tensor that the run-time if", where,
                        " gives rank ", absl::StrJoin(ranks, " or "),
                        ": an ONNX value has one rank"));
  }
  return unsupported(n, "unknown rank");
}

// prim::NumToTensor, aten::ScalarImplicit, aten::contiguous, aten::clone,
// aten::detach, aten::dropout, aten::feature_dropout, aten::alpha_dropout,
// aten::dropout_, aten::lift_fresh, prim::unchecked_cast
std::optional<absl::Status>
Lowering::lowerPassThrough(jit::Node &n, const std::string &kind) {
  // An Optional refined to its value (`x is not None` checked): whatever x
  // stands for, a tensor, a list, a dict or an object.
  if (kind == "prim::unchecked_cast") {
    bind(n.output(0), n.input(0));
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0), DataType::Int64));
  alias(n, x);
  return absl::OkStatus();
}

// aten::Int, aten::Float, aten::Bool
std::optional<absl::Status>
Lowering::lowerScalarConversion(jit::Node &n, const std::string &kind) {
  DataType to = kind == "aten::Int"    ? DataType::Int64
                : kind == "aten::Bool" ? DataType::Bool
                                       : DataType::Double;
  ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0), to));
  if (kind == "aten::Int" && isFloating(typeOf(x))) {
    // int() truncates toward zero; Cast from float does the same.
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto c, cast(x, to));
  alias(n, c);
  return absl::OkStatus();
}

// aten::__not__
std::optional<absl::Status> Lowering::lowerNot(jit::Node &n,
                                               const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0)));
  ONNXOPT_ASSIGN_OR_RETURN(x, cast(x, DataType::Bool));
  return result(n, "Not", {x});
}

// aten::__and__, aten::__or__, aten::__xor__, aten::bitwise_and,
// aten::bitwise_or, aten::logical_and, aten::logical_or
std::optional<absl::Status> Lowering::lowerLogical(jit::Node &n,
                                                   const std::string &kind) {
  ONNXOPT_ASSIGN_OR_RETURN(auto a, tensor(n.input(0), DataType::Int64));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), DataType::Int64));
  bool logical = kind.find("logical") != std::string::npos;
  if (logical || (typeOf(a) == DataType::Bool && typeOf(b) == DataType::Bool)) {
    ONNXOPT_ASSIGN_OR_RETURN(a, cast(a, DataType::Bool));
    ONNXOPT_ASSIGN_OR_RETURN(b, cast(b, DataType::Bool));
    const char *op = kind.find("and") != std::string::npos   ? "And"
                     : kind.find("xor") != std::string::npos ? "Xor"
                                                             : "Or";
    return result(n, op, {a, b});
  }
  return unsupported(n, "bitwise ops on integers");
}

// aten::eq, aten::ne, aten::lt, aten::le, aten::gt, aten::ge
std::optional<absl::Status> Lowering::lowerComparison(jit::Node &n,
                                                      const std::string &kind) {
  ONNXOPT_ASSIGN_OR_RETURN(auto a, tensor(n.input(0), DataType::Int64));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
  ONNXOPT_RETURN_IF_ERROR(promote(a, b, n.input(0), n.input(1)));
  std::string op = kind.substr(6);
  if (op == "ne") {
    ONNXOPT_ASSIGN_OR_RETURN(auto e, step("Equal", {a, b}));
    return result(n, "Not", {e});
  }
  const char *onnx = op == "eq"   ? "Equal"
                     : op == "lt" ? "Less"
                     : op == "le" ? "LessOrEqual"
                     : op == "gt" ? "Greater"
                                  : "GreaterOrEqual";
  return result(n, onnx, {a, b});
}

} // namespace onnxopt::torchscript
