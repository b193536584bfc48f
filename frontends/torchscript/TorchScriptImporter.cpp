// The TorchScript frontend: libtorch loads, freezes and inlines the module;
// each aten/prim op of forward() is lowered to ONNX ops.
#include "frontends/torchscript/TorchScriptImporter.h"

#include "ir/Builder.h"
#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/lower_tuples.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/passes/shape_analysis.h>
#include <torch/csrc/jit/serialization/import.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

namespace onnxopt {

namespace {

namespace jit = torch::jit;

constexpr int64_t kOpset = 17;

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

/// Move-only attributes gathered into a vector.
template <class... A> std::vector<Attribute> attrList(A... a) {
  std::vector<Attribute> v;
  (v.push_back(std::move(a)), ...);
  return v;
}

/// Lowers one frozen, inlined forward() graph into `model`.
class Lowering {
public:
  Lowering(Model &model, const std::vector<TorchInput> &inputs)
      : g_(*model.graph), b_(model, g_), inputs_(inputs) {}

  absl::Status run(jit::Graph &graph) {
    auto inputs = graph.inputs();
    for (size_t i = 0; i < inputs.size(); ++i) {
      const jit::Value *v = inputs[i];
      if (v->type()->kind() == c10::TypeKind::ClassType)
        continue; // `self`, unused once frozen
      auto tt = v->type()->cast<c10::TensorType>();
      if (!tt)
        return absl::InvalidArgumentError(
            absl::StrCat("forward() argument '", v->debugName(),
                         "' is not a tensor (", v->type()->str(), ")"));
      DataType dt = DataType::Float;
      if (auto st = tt->scalarType())
        if (auto d = dataTypeOf(*st))
          dt = *d;
      Type type = Type::tensor(dt);
      for (const TorchInput &in : inputs_)
        if (in.name == v->debugNameBase())
          type = Type::tensor(dt, in.dims);
      // forward()'s argument name (debugName adds a ".1"-style suffix).
      tensors_[v] =
          g_.addInput(nameOfText(v->debugNameBase()), std::move(type));
    }
    for (jit::Node *n : graph.nodes())
      if (absl::Status st = lower(*n); !st.ok())
        return st;
    for (const jit::Value *out : graph.outputs()) {
      auto outs = flatten(out);
      if (!outs.ok())
        return outs.status();
      for (Value *v : *outs)
        g_.addOutput(v, v->name());
    }
    return absl::OkStatus();
  }

private:
  std::string nameOf(const jit::Value *v) {
    std::string base = v->debugName();
    if (base.empty() || std::isdigit(static_cast<unsigned char>(base[0])))
      base = "t" + base;
    return nameOfText(base);
  }

  absl::Status unsupported(const jit::Node &n, const std::string &why = "") {
    std::string where;
    if (auto flc = n.sourceRange().file_line_col())
      where = absl::StrCat(" at ", std::get<0>(*flc), ":", std::get<1>(*flc));
    return absl::UnimplementedError(absl::StrCat(
        "TorchScript op ", n.kind().toQualString(), why.empty() ? "" : " (",
        why, why.empty() ? "" : ")", " has no ONNX lowering", where));
  }

  /// The outputs a graph output stands for (tuples flattened).
  absl::StatusOr<std::vector<Value *>> flatten(const jit::Value *v) {
    if (auto it = lists_.find(v); it != lists_.end())
      return it->second;
    auto t = tensor(v);
    if (!t.ok())
      return t.status();
    return std::vector<Value *>{*t};
  }

  // ---- operands -----------------------------------------------------------

  std::optional<c10::IValue> constant(const jit::Value *v) {
    if (auto it = consts_.find(v); it != consts_.end())
      return it->second;
    return jit::toIValue(v);
  }

  /// A tensor operand: a lowered value, or a constant tensor/number made an
  /// initializer.
  absl::StatusOr<Value *> tensor(const jit::Value *v,
                                 DataType numberType = DataType::Float) {
    if (auto it = tensors_.find(v); it != tensors_.end())
      return it->second;
    auto c = constant(v);
    if (!c)
      return absl::InvalidArgumentError(absl::StrCat(
          "value '", v->debugName(), "' is not a tensor the lowering knows"));
    if (c->isTensor())
      return tensors_[v] = initializer(nameOf(v), c->toTensor());
    if (c->isInt() || c->isDouble() || c->isBool()) {
      double x = c->isInt()    ? double(c->toInt())
                 : c->isBool() ? double(c->toBool())
                               : c->toDouble();
      return scalar(x, c->isDouble() ? numberType
                       : c->isBool() ? DataType::Bool
                                     : (numberType == DataType::Float ||
                                                numberType == DataType::Double
                                            ? numberType
                                            : DataType::Int64));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("value '", v->debugName(), "' is not a tensor"));
  }

  Value *initializer(std::string name, const at::Tensor &t0) {
    at::Tensor t = t0.contiguous().cpu();
    DataType dt = dataTypeOf(t.scalar_type()).value_or(DataType::Float);
    if (!dataTypeOf(t.scalar_type()))
      t = t.to(at::kFloat);
    std::vector<int64_t> dims(t.sizes().begin(), t.sizes().end());
    std::string bytes(size_t(t.numel()) * elementSize(dt), '\0');
    if (!bytes.empty())
      std::memcpy(bytes.data(), t.data_ptr(), bytes.size());
    return b_.constant(std::move(name),
                       std::make_shared<Tensor>(Tensor::fromBytes(
                           dt, std::move(dims), std::move(bytes))));
  }

  Value *scalar(double x, DataType dt) {
    at::Tensor t;
    switch (dt) {
    case DataType::Int64:
      t = at::scalar_tensor(int64_t(x), at::kLong);
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

  std::string nameOfText(const std::string &base) {
    std::string name = base;
    for (int k = 1; !names_.insert(name).second; ++k)
      name = absl::StrCat(base, "_", k);
    return name;
  }

  Value *ints(const std::vector<int64_t> &v, bool asScalar = false) {
    at::Tensor t = asScalar ? at::scalar_tensor(v.at(0), at::kLong)
                            : at::tensor(v, at::kLong);
    return initializer(nameOfText("ints"), t);
  }

  std::optional<int64_t> intOf(const jit::Value *v) {
    auto c = constant(v);
    if (c && c->isInt())
      return c->toInt();
    return std::nullopt;
  }
  std::optional<double> numberOf(const jit::Value *v) {
    auto c = constant(v);
    if (c && (c->isDouble() || c->isInt()))
      return c->isDouble() ? c->toDouble() : double(c->toInt());
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>> intsOf(const jit::Value *v) {
    auto c = constant(v);
    if (c && c->isIntList())
      return c->toIntVector();
    if (c && c->isInt())
      return std::vector<int64_t>{c->toInt()};
    return std::nullopt;
  }
  bool isNone(const jit::Value *v) {
    auto c = constant(v);
    return c && c->isNone();
  }
  std::optional<int64_t> rankOf(const jit::Value *v) {
    if (auto tt = v->type()->cast<c10::TensorType>())
      if (auto d = tt->dim())
        return int64_t(*d);
    if (auto it = tensors_.find(v); it != tensors_.end())
      if (it->second->type().shape())
        return int64_t(it->second->type().shape()->size());
    return std::nullopt;
  }
  /// The element type libtorch knows for a value (ints from sizes are
  /// int64, Python floats double).
  static std::optional<DataType> elementTypeOf(const jit::Value *v) {
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
  DataType typeOf(Value *v) {
    return v->type().isTensor() ? v->type().elemType() : DataType::Float;
  }

  // ---- building -----------------------------------------------------------

  absl::StatusOr<Node *> emit(std::string_view op,
                              const std::vector<Value *> &inputs,
                              const jit::Node &n, size_t outs = 1) {
    auto node = b_.create(op, inputs, outs);
    if (!node.ok())
      return node.status();
    for (size_t i = 0; i < outs && i < n.outputs().size(); ++i) {
      (*node)->output(i)->setName(nameOf(n.outputs()[i]));
      if (auto dt = elementTypeOf(n.outputs()[i]))
        (*node)->output(i)->setType(Type::tensor(*dt));
    }
    for (size_t i = n.outputs().size(); i < outs; ++i)
      (*node)->output(i)->setName(nameOfText("t"));
    return *node;
  }
  /// An intermediate node (its result named afresh).
  absl::StatusOr<Value *> step(std::string_view op,
                               const std::vector<Value *> &inputs,
                               std::vector<Attribute> attrs = attrList()) {
    auto node = b_.create(op, inputs, 1);
    if (!node.ok())
      return node.status();
    for (Attribute &a : attrs)
      (*node)->setAttr(std::move(a));
    (*node)->output(0)->setName(nameOfText("t"));
    return (*node)->output(0);
  }
  absl::Status result(const jit::Node &n, std::string_view op,
                      const std::vector<Value *> &inputs,
                      std::vector<Attribute> attrs = attrList()) {
    auto node = emit(op, inputs, n);
    if (!node.ok())
      return node.status();
    for (Attribute &a : attrs)
      (*node)->setAttr(std::move(a));
    tensors_[n.output(0)] = (*node)->output(0);
    return absl::OkStatus();
  }
  void alias(const jit::Node &n, Value *v) { tensors_[n.output(0)] = v; }

  // ---- the lowering --------------------------------------------------------

  absl::Status lower(jit::Node &n);
  absl::Status lowerConvolution(jit::Node &n);
  absl::Status lowerArithmetic(jit::Node &n, std::string_view op);

  Graph &g_;
  Builder b_;
  const std::vector<TorchInput> &inputs_;
  absl::flat_hash_map<const jit::Value *, Value *> tensors_;
  absl::flat_hash_map<const jit::Value *, std::vector<Value *>> lists_;
  absl::flat_hash_map<const jit::Value *, c10::IValue> consts_;
  absl::flat_hash_set<std::string> names_;
};

absl::Status Lowering::lowerConvolution(jit::Node &n) {
  // aten::_convolution(input, weight, bias, stride, padding, dilation,
  //   transposed, output_padding, groups, ...) and aten::conv{1,2,3}d(input,
  //   weight, bias, stride, padding, dilation, groups).
  bool general = n.kind().toQualString() == std::string("aten::_convolution");
  ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0)));
  ONNXOPT_ASSIGN_OR_RETURN(auto w, tensor(n.input(1)));
  std::vector<Value *> ins = {x, w};
  if (!isNone(n.input(2))) {
    ONNXOPT_ASSIGN_OR_RETURN(auto bias, tensor(n.input(2)));
    ins.push_back(bias);
  }
  auto stride = intsOf(n.input(3)), padding = intsOf(n.input(4)),
       dilation = intsOf(n.input(5));
  auto groups = intOf(n.input(general ? 8 : 6));
  bool transposed = false;
  std::optional<std::vector<int64_t>> outputPadding;
  if (general) {
    auto t = constant(n.input(6));
    transposed = t && t->isBool() && t->toBool();
    outputPadding = intsOf(n.input(7));
  }
  if (!stride || !padding || !dilation || !groups)
    return unsupported(n, "non-constant or string padding/stride");
  auto wr = rankOf(n.input(1));
  size_t spatial = wr ? size_t(*wr - 2) : padding->size();
  auto expand = [&](std::vector<int64_t> v) {
    if (v.size() == 1 && spatial > 1)
      v.assign(spatial, v[0]);
    return v;
  };
  std::vector<int64_t> pads = expand(*padding);
  std::vector<int64_t> both = pads;
  both.insert(both.end(), pads.begin(), pads.end());
  std::vector<Attribute> attrs =
      attrList(Attribute::makeInts("strides", expand(*stride)),
               Attribute::makeInts("pads", both),
               Attribute::makeInts("dilations", expand(*dilation)),
               Attribute::makeInt("group", *groups));
  if (transposed && outputPadding)
    attrs.push_back(
        Attribute::makeInts("output_padding", expand(*outputPadding)));
  return result(n, transposed ? "ConvTranspose" : "Conv", ins,
                std::move(attrs));
}

absl::Status Lowering::lowerArithmetic(jit::Node &n, std::string_view op) {
  // aten::add(a, b, alpha), aten::sub(a, b, alpha), aten::mul(a, b),
  // aten::div(a, b); b may be a number. rsub(a, b, alpha) is b - alpha * a.
  bool rsub = op == "RSub";
  ONNXOPT_ASSIGN_OR_RETURN(auto a, tensor(n.input(0)));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
  if ((op == "Add" || op == "Sub" || rsub) && n.inputs().size() > 2) {
    auto alpha = numberOf(n.input(2));
    if (!alpha)
      return unsupported(n, "non-constant alpha");
    if (*alpha != 1) {
      Value *s = scalar(*alpha, typeOf(a));
      ONNXOPT_ASSIGN_OR_RETURN(auto scaled, step("Mul", {rsub ? a : b, s}));
      (rsub ? a : b) = scaled;
    }
  }
  if (rsub)
    return result(n, "Sub", {b, a});
  return result(n, op, {a, b});
}

absl::Status Lowering::lower(jit::Node &n) {
  std::string kind = n.kind().toQualString();
  auto in = [&](size_t i) { return tensor(n.input(i)); };
  auto same = [&](std::string_view op) -> absl::Status {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    return result(n, op, {x});
  };

  if (kind == "prim::Constant") {
    if (auto c = jit::toIValue(n.output(0)))
      consts_[n.output(0)] = *c;
    return absl::OkStatus();
  }
  if (kind == "prim::ListConstruct" || kind == "prim::TupleConstruct") {
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
      ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(v, DataType::Int64));
      if (intList) {
        ONNXOPT_ASSIGN_OR_RETURN(auto u, step("Unsqueeze", {t, ints({0})}));
        t = u;
      }
      items.push_back(t);
    }
    if (intList) {
      auto node = emit("Concat", items, n);
      if (!node.ok())
        return node.status();
      (*node)->setAttr(Attribute::makeInt("axis", 0));
      alias(n, (*node)->output(0));
      return absl::OkStatus();
    }
    lists_[n.output(0)] = items;
    return absl::OkStatus();
  }
  if (kind == "prim::ListUnpack" || kind == "prim::TupleUnpack") {
    auto it = lists_.find(n.input(0));
    if (it == lists_.end() || it->second.size() != n.outputs().size())
      return unsupported(n, "unpacking an unknown list");
    for (size_t i = 0; i < n.outputs().size(); ++i)
      tensors_[n.output(i)] = it->second[i];
    return absl::OkStatus();
  }
  if (kind == "prim::NumToTensor" || kind == "aten::Int" ||
      kind == "aten::ScalarImplicit" || kind == "aten::contiguous" ||
      kind == "aten::clone" || kind == "aten::detach" ||
      kind == "aten::dropout" || kind == "aten::feature_dropout" ||
      kind == "aten::alpha_dropout" || kind == "aten::dropout_") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0), DataType::Int64));
    alias(n, x);
    return absl::OkStatus();
  }
  if (kind == "aten::_convolution" || kind == "aten::conv1d" ||
      kind == "aten::conv2d" || kind == "aten::conv3d")
    return lowerConvolution(n);
  if (kind == "aten::batch_norm") {
    // (input, weight?, bias?, running_mean, running_var, training, momentum,
    //  eps, cudnn)
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto mean, in(3));
    ONNXOPT_ASSIGN_OR_RETURN(auto var, in(4));
    auto training = constant(n.input(5));
    if (training && training->isBool() && training->toBool())
      return unsupported(n, "training mode");
    auto c = constant(n.input(3));
    int64_t channels = c && c->isTensor() ? c->toTensor().numel() : -1;
    auto affine = [&](size_t i, float fill) -> absl::StatusOr<Value *> {
      if (!isNone(n.input(i)))
        return in(i);
      if (channels < 0)
        return absl::InvalidArgumentError("batch_norm without statistics");
      return initializer(nameOfText("bn_affine"),
                         at::full({channels}, fill, at::kFloat));
    };
    ONNXOPT_ASSIGN_OR_RETURN(auto scale, affine(1, 1.0f));
    ONNXOPT_ASSIGN_OR_RETURN(auto bias, affine(2, 0.0f));
    return result(n, "BatchNormalization", {x, scale, bias, mean, var},
                  attrList(Attribute::makeFloat(
                      "epsilon", float(numberOf(n.input(7)).value_or(1e-5)))));
  }
  if (kind == "aten::relu" || kind == "aten::relu_")
    return same("Relu");
  if (kind == "aten::sigmoid" || kind == "aten::sigmoid_")
    return same("Sigmoid");
  if (kind == "aten::tanh" || kind == "aten::tanh_")
    return same("Tanh");
  if (kind == "aten::exp")
    return same("Exp");
  if (kind == "aten::sqrt")
    return same("Sqrt");
  if (kind == "aten::neg")
    return same("Neg");
  if (kind == "aten::hardswish" || kind == "aten::hardswish_")
    return same("HardSwish");
  if (kind == "aten::hardsigmoid" || kind == "aten::hardsigmoid_") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    return result(n, "HardSigmoid", {x},
                  attrList(Attribute::makeFloat("alpha", 1.0f / 6),
                           Attribute::makeFloat("beta", 0.5f)));
  }
  if (kind == "aten::silu" || kind == "aten::silu_") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto s, step("Sigmoid", {x}));
    return result(n, "Mul", {x, s});
  }
  if (kind == "aten::gelu") {
    // 0.5 x (1 + erf(x / sqrt 2)), as torch.onnx exports it; tanh form for
    // approximate = "tanh".
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto approx = n.inputs().size() > 1 ? constant(n.input(1)) : std::nullopt;
    if (approx && approx->isString() && approx->toStringRef() == "tanh")
      return unsupported(n, "approximate='tanh'");
    DataType dt = typeOf(x);
    ONNXOPT_ASSIGN_OR_RETURN(auto d,
                             step("Div", {x, scalar(std::sqrt(2.0), dt)}));
    ONNXOPT_ASSIGN_OR_RETURN(auto e, step("Erf", {d}));
    ONNXOPT_ASSIGN_OR_RETURN(auto a, step("Add", {e, scalar(1.0, dt)}));
    ONNXOPT_ASSIGN_OR_RETURN(auto m, step("Mul", {x, a}));
    return result(n, "Mul", {m, scalar(0.5, dt)});
  }
  if (kind == "aten::hardtanh" || kind == "aten::hardtanh_" ||
      kind == "aten::clamp" || kind == "aten::clamp_" ||
      kind == "aten::relu6") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    DataType dt = typeOf(x);
    std::vector<Value *> ins = {x};
    if (kind == "aten::relu6") {
      ins.push_back(scalar(0, dt));
      ins.push_back(scalar(6, dt));
    } else {
      for (size_t i = 1; i < 3; ++i) {
        if (isNone(n.input(i))) {
          ins.push_back(nullptr);
          continue;
        }
        auto v = numberOf(n.input(i));
        if (!v)
          return unsupported(n, "non-constant bounds");
        ins.push_back(scalar(*v, dt));
      }
    }
    return result(n, "Clip", ins);
  }
  if (kind == "aten::add" || kind == "aten::add_")
    return lowerArithmetic(n, "Add");
  if (kind == "aten::sub" || kind == "aten::sub_")
    return lowerArithmetic(n, "Sub");
  if (kind == "aten::rsub")
    return lowerArithmetic(n, "RSub");
  if (kind == "aten::mul" || kind == "aten::mul_")
    return lowerArithmetic(n, "Mul");
  if ((kind == "aten::div" || kind == "aten::div_") && n.inputs().size() == 2)
    return lowerArithmetic(n, "Div");
  if (kind == "aten::floor_divide" ||
      (kind == "aten::div" && n.inputs().size() == 3)) {
    // floor(a / b); div(a, b, rounding_mode) also "trunc" (integers go
    // through double, exact below 2^53).
    std::string mode = "floor";
    if (kind == "aten::div") {
      auto m = constant(n.input(2));
      if (m && m->isString())
        mode = m->toStringRef();
      else if (m && m->isNone())
        return lowerArithmetic(n, "Div");
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto a, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
    DataType dt = typeOf(a);
    bool integral = !(dt == DataType::Float || dt == DataType::Double ||
                      dt == DataType::Float16 || dt == DataType::BFloat16);
    if (integral) {
      ONNXOPT_ASSIGN_OR_RETURN(
          auto ad,
          step("Cast", {a},
               attrList(Attribute::makeInt("to", int64_t(DataType::Double)))));
      ONNXOPT_ASSIGN_OR_RETURN(
          auto bd,
          step("Cast", {b},
               attrList(Attribute::makeInt("to", int64_t(DataType::Double)))));
      a = ad;
      b = bd;
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto q, step("Div", {a, b}));
    ONNXOPT_ASSIGN_OR_RETURN(auto r,
                             step(mode == "trunc" ? "Identity" : "Floor", {q}));
    if (!integral) {
      if (mode == "trunc")
        return unsupported(n, "float trunc division");
      alias(n, r);
      return absl::OkStatus();
    }
    return result(n, "Cast", {r},
                  attrList(Attribute::makeInt("to", int64_t(dt))));
  }
  if (kind == "aten::remainder") {
    // Python's modulo (the divisor's sign): ONNX Mod with fmod = 0 for
    // integers; a - floor(a / b) * b for floats.
    ONNXOPT_ASSIGN_OR_RETURN(auto a, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
    DataType dt = typeOf(a);
    if (!(dt == DataType::Float || dt == DataType::Double ||
          dt == DataType::Float16 || dt == DataType::BFloat16))
      return result(n, "Mod", {a, b});
    ONNXOPT_ASSIGN_OR_RETURN(auto q, step("Div", {a, b}));
    ONNXOPT_ASSIGN_OR_RETURN(auto f, step("Floor", {q}));
    ONNXOPT_ASSIGN_OR_RETURN(auto m, step("Mul", {f, b}));
    return result(n, "Sub", {a, m});
  }
  if (kind == "aten::max_pool2d" || kind == "aten::max_pool1d" ||
      kind == "aten::avg_pool2d" || kind == "aten::avg_pool1d") {
    // max: (x, kernel, stride, padding, dilation, ceil_mode)
    // avg: (x, kernel, stride, padding, ceil_mode, count_include_pad, div)
    bool max = kind.find("max") != std::string::npos;
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto kernel = intsOf(n.input(1)), stride = intsOf(n.input(2)),
         padding = intsOf(n.input(3));
    auto ceil = constant(n.input(max ? 5 : 4));
    if (!kernel || !stride || !padding)
      return unsupported(n, "non-constant window");
    size_t k = kernel->size();
    if (stride->empty())
      stride = kernel;
    auto expand = [&](std::vector<int64_t> v) {
      if (v.size() == 1 && k > 1)
        v.assign(k, v[0]);
      return v;
    };
    std::vector<int64_t> pads = expand(*padding), both = pads;
    both.insert(both.end(), pads.begin(), pads.end());
    std::vector<Attribute> attrs =
        attrList(Attribute::makeInts("kernel_shape", *kernel),
                 Attribute::makeInts("strides", expand(*stride)),
                 Attribute::makeInts("pads", both),
                 Attribute::makeInt("ceil_mode",
                                    ceil && ceil->isBool() && ceil->toBool()));
    if (max) {
      auto dil = intsOf(n.input(4));
      if (dil)
        attrs.push_back(Attribute::makeInts("dilations", expand(*dil)));
    } else {
      auto cip = constant(n.input(5));
      attrs.push_back(Attribute::makeInt(
          "count_include_pad", cip && cip->isBool() && cip->toBool()));
      if (n.inputs().size() > 6 && !isNone(n.input(6)))
        return unsupported(n, "divisor_override");
    }
    return result(n, max ? "MaxPool" : "AveragePool", {x}, std::move(attrs));
  }
  if (kind == "aten::adaptive_avg_pool2d" ||
      kind == "aten::adaptive_avg_pool1d") {
    auto size = intsOf(n.input(1));
    bool global = size && std::all_of(size->begin(), size->end(),
                                      [](int64_t s) { return s == 1; });
    if (!global)
      return unsupported(n, "output size other than 1");
    return same("GlobalAveragePool");
  }
  if (kind == "aten::flatten") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto start = intOf(n.input(1)), end = intOf(n.input(2));
    auto rank = rankOf(n.input(0));
    if (!start || !end)
      return unsupported(n, "non-constant dims");
    int64_t s = *start < 0 && rank ? *start + *rank : *start;
    int64_t e = *end < 0 && rank ? *end + *rank : *end;
    if (rank && e == *rank - 1)
      return s == 0 ? result(n, "Reshape", {x, ints({-1})})
                    : result(n, "Flatten", {x},
                             attrList(Attribute::makeInt("axis", s)));
    if (*end == -1 && s == 1)
      return result(n, "Flatten", {x}, attrList(Attribute::makeInt("axis", 1)));
    return unsupported(n, "a partial flatten");
  }
  if (kind == "aten::linear") {
    // y = x W^T + b.
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto w, in(1));
    ONNXOPT_ASSIGN_OR_RETURN(
        auto wt,
        step("Transpose", {w}, attrList(Attribute::makeInts("perm", {1, 0}))));
    if (isNone(n.input(2)))
      return result(n, "MatMul", {x, wt});
    ONNXOPT_ASSIGN_OR_RETURN(auto bias, in(2));
    ONNXOPT_ASSIGN_OR_RETURN(auto y, step("MatMul", {x, wt}));
    return result(n, "Add", {y, bias});
  }
  if (kind == "aten::addmm") {
    // beta * bias + alpha * (a @ b)
    ONNXOPT_ASSIGN_OR_RETURN(auto bias, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto a, in(1));
    ONNXOPT_ASSIGN_OR_RETURN(auto b, in(2));
    auto beta = numberOf(n.input(3)), alpha = numberOf(n.input(4));
    return result(
        n, "Gemm", {a, b, bias},
        attrList(Attribute::makeFloat("alpha", float(alpha.value_or(1))),
                 Attribute::makeFloat("beta", float(beta.value_or(1)))));
  }
  if (kind == "aten::t") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    return result(n, "Transpose", {x},
                  attrList(Attribute::makeInts("perm", {1, 0})));
  }
  if (kind == "aten::matmul" || kind == "aten::bmm" || kind == "aten::mm") {
    ONNXOPT_ASSIGN_OR_RETURN(auto a, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto b, in(1));
    return result(n, "MatMul", {a, b});
  }
  if (kind == "aten::cat" || kind == "aten::concat") {
    auto it = lists_.find(n.input(0));
    auto dim = intOf(n.input(1));
    if (it == lists_.end() || !dim)
      return unsupported(n, "a computed tensor list or dim");
    return result(n, "Concat", it->second,
                  attrList(Attribute::makeInt("axis", *dim)));
  }
  if (kind == "aten::view" || kind == "aten::reshape") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    Value *shape = nullptr;
    if (auto s = intsOf(n.input(1)))
      shape = ints(*s);
    else {
      ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(n.input(1), DataType::Int64));
      shape = t;
    }
    return result(n, "Reshape", {x, shape});
  }
  if (kind == "aten::size") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    if (n.inputs().size() == 1)
      return result(n, "Shape", {x});
    auto dim = intOf(n.input(1));
    if (!dim)
      return unsupported(n, "a computed dim");
    ONNXOPT_ASSIGN_OR_RETURN(auto s, step("Shape", {x}));
    return result(n, "Gather", {s, ints({*dim}, true)},
                  attrList(Attribute::makeInt("axis", 0)));
  }
  if (kind == "aten::permute") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto perm = intsOf(n.input(1));
    auto rank = rankOf(n.input(0));
    if (!perm)
      return unsupported(n, "a computed permutation");
    for (int64_t &p : *perm)
      if (p < 0 && rank)
        p += *rank;
    return result(n, "Transpose", {x},
                  attrList(Attribute::makeInts("perm", *perm)));
  }
  if (kind == "aten::transpose") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto rank = rankOf(n.input(0));
    auto d0 = intOf(n.input(1)), d1 = intOf(n.input(2));
    if (!rank || !d0 || !d1)
      return unsupported(n, "unknown rank");
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < *rank; ++i)
      perm.push_back(i);
    int64_t a = *d0 < 0 ? *d0 + *rank : *d0, b = *d1 < 0 ? *d1 + *rank : *d1;
    std::swap(perm[size_t(a)], perm[size_t(b)]);
    return result(n, "Transpose", {x},
                  attrList(Attribute::makeInts("perm", perm)));
  }
  if (kind == "aten::chunk") {
    // Equal parts along dim (Split without sizes at opset 13+).
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto chunks = intOf(n.input(1)), dim = intOf(n.input(2));
    if (!chunks || !dim || *chunks < 1)
      return unsupported(n, "non-constant or non-positive chunks");
    auto node = b_.create("Split", {x}, size_t(*chunks));
    if (!node.ok())
      return node.status();
    (*node)->setAttr(Attribute::makeInt("axis", *dim));
    std::vector<Value *> parts;
    for (size_t i = 0; i < size_t(*chunks); ++i) {
      (*node)->output(i)->setName(nameOfText("chunk"));
      parts.push_back((*node)->output(i));
    }
    lists_[n.output(0)] = parts;
    return absl::OkStatus();
  }
  if (kind == "aten::mean") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto dims = intsOf(n.input(1));
    auto keep = constant(n.input(2));
    if (!dims)
      return unsupported(n, "computed dims");
    return result(
        n, "ReduceMean", {x},
        attrList(Attribute::makeInts("axes", *dims),
                 Attribute::makeInt("keepdims",
                                    keep && keep->isBool() && keep->toBool())));
  }
  if (kind == "aten::softmax" || kind == "aten::log_softmax") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto dim = intOf(n.input(1));
    if (!dim)
      return unsupported(n, "a computed dim");
    return result(n, kind == "aten::softmax" ? "Softmax" : "LogSoftmax", {x},
                  attrList(Attribute::makeInt("axis", *dim)));
  }
  if (kind == "aten::layer_norm") {
    // (input, normalized_shape, weight?, bias?, eps, cudnn)
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto shape = intsOf(n.input(1));
    if (!shape)
      return unsupported(n, "a computed normalized_shape");
    std::vector<Value *> ins = {x};
    for (size_t i = 2; i < 4; ++i) {
      if (isNone(n.input(i))) {
        ins.push_back(
            initializer(nameOfText("ln_affine"),
                        at::full(*shape, i == 2 ? 1.0 : 0.0, at::kFloat)));
      } else {
        ONNXOPT_ASSIGN_OR_RETURN(auto p, in(i));
        ins.push_back(p);
      }
    }
    return result(
        n, "LayerNormalization", ins,
        attrList(Attribute::makeInt("axis", -int64_t(shape->size())),
                 Attribute::makeFloat(
                     "epsilon", float(numberOf(n.input(4)).value_or(1e-5)))));
  }
  if (kind == "aten::unsqueeze" || kind == "aten::squeeze") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    if (n.inputs().size() < 2)
      return same("Squeeze");
    auto dim = intOf(n.input(1));
    if (!dim)
      return unsupported(n, "a computed dim");
    return result(n, kind == "aten::unsqueeze" ? "Unsqueeze" : "Squeeze",
                  {x, ints({*dim})});
  }
  if (kind == "aten::embedding") {
    ONNXOPT_ASSIGN_OR_RETURN(auto w, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto ids, in(1));
    return result(n, "Gather", {w, ids},
                  attrList(Attribute::makeInt("axis", 0)));
  }
  if (kind == "aten::select") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto dim = intOf(n.input(1));
    if (!dim)
      return unsupported(n, "a computed dim");
    ONNXOPT_ASSIGN_OR_RETURN(auto idx, tensor(n.input(2), DataType::Int64));
    return result(n, "Gather", {x, idx},
                  attrList(Attribute::makeInt("axis", *dim)));
  }
  if (kind == "aten::slice") {
    // (x, dim, start?, end?, step)
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto dim = intOf(n.input(1));
    auto start =
        isNone(n.input(2)) ? std::optional<int64_t>(0) : intOf(n.input(2));
    auto end = isNone(n.input(3))
                   ? std::optional<int64_t>(std::numeric_limits<int64_t>::max())
                   : intOf(n.input(3));
    auto stepSize = intOf(n.input(4));
    if (!dim || !start || !end || !stepSize)
      return unsupported(n, "computed bounds");
    return result(
        n, "Slice",
        {x, ints({*start}), ints({*end}), ints({*dim}), ints({*stepSize})});
  }
  return unsupported(n);
}

} // namespace

namespace {

absl::StatusOr<std::unique_ptr<Model>>
importWithLibtorch(const std::string &path,
                   const std::vector<TorchInput> &inputs) {
  jit::Module module;
  std::shared_ptr<jit::Graph> graph;
  try {
    module = jit::load(path);
    module.eval();
    jit::Module frozen = jit::freeze(module);
    graph = frozen.get_method("forward").graph()->copy();
    jit::Inline(*graph);
    jit::LowerSimpleTuples(graph);
    jit::RemoveTensorMutation(graph);
    jit::ConstantPropagation(graph);
    jit::EliminateDeadCode(graph);
    // Example shapes for libtorch's shape propagation (symbols as 1): ranks
    // for transpose, flatten, ...
    for (size_t i = 0; i < graph->inputs().size(); ++i) {
      jit::Value *v = graph->inputs()[i];
      if (v->type()->kind() == c10::TypeKind::ClassType)
        continue;
      auto it = std::find_if(inputs.begin(), inputs.end(), [&](const auto &in) {
        return in.name == v->debugNameBase();
      });
      if (it == inputs.end())
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": forward() argument '", v->debugNameBase(),
            "' needs a shape: give --input-shape ", v->debugNameBase(),
            "=DIMS (a TorchScript file records none)"));
      std::vector<int64_t> sizes;
      for (const Dim &d : it->dims)
        sizes.push_back(d.isConstant() ? d.value() : 1);
      v->setType(c10::TensorType::create(at::empty(sizes, at::kFloat)));
    }
    jit::PropagateInputShapes(graph);
  } catch (const std::exception &e) {
    std::string what = e.what();
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a TorchScript module libtorch can load: ",
                     what.substr(0, what.find('\n'))));
  }
  auto model = std::make_unique<Model>();
  model->irVersion = 8;
  model->opsetImports.push_back({"", kOpset});
  model->producerName = "onnx-opt (TorchScript)";
  model->graph = std::make_unique<Graph>();
  model->graph->name = "forward";
  Lowering lowering(*model, inputs);
  try {
    if (absl::Status st = lowering.run(*graph); !st.ok())
      return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  } catch (const std::exception &e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": lowering failed: ", e.what()));
  }
  return model;
}

} // namespace

} // namespace onnxopt

/// The module's entry point, found with dlsym by the driver
/// (TorchScriptLoader.cpp): libtorch is loaded only for TorchScript input.
extern "C" __attribute__((visibility("default"))) int
onnxoptTorchScriptImport(const std::string *path,
                         const std::vector<onnxopt::TorchInput> *inputs,
                         absl::StatusOr<std::unique_ptr<onnxopt::Model>> *out) {
  *out = onnxopt::importWithLibtorch(*path, *inputs);
  return 0;
}
