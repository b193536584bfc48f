// The TorchScript lowering of tensor ops (aten::*): elementwise math,
// convolution and pooling, shapes and indexing, reductions, normalization,
// creation ops.
#include "frontends/torchscript/Lowering.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <limits>

namespace onnxopt::torchscript {

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

absl::StatusOr<Value *> Lowering::gelu(Value *x, bool tanh) {
  // 0.5 x (1 + erf(x / sqrt 2)), as torch.onnx exports it; approximate =
  // "tanh": 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
  DataType dt = typeOf(x);
  Value *inner = nullptr;
  if (tanh) {
    ONNXOPT_ASSIGN_OR_RETURN(auto x3, step("Mul", {x, x}));
    ONNXOPT_ASSIGN_OR_RETURN(x3, step("Mul", {x3, x}));
    ONNXOPT_ASSIGN_OR_RETURN(auto c, step("Mul", {x3, scalar(0.044715, dt)}));
    ONNXOPT_ASSIGN_OR_RETURN(c, step("Add", {x, c}));
    ONNXOPT_ASSIGN_OR_RETURN(
        c, step("Mul", {c, scalar(std::sqrt(2.0 / M_PI), dt)}));
    ONNXOPT_ASSIGN_OR_RETURN(inner, step("Tanh", {c}));
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(auto d,
                             step("Div", {x, scalar(std::sqrt(2.0), dt)}));
    ONNXOPT_ASSIGN_OR_RETURN(inner, step("Erf", {d}));
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto a, step("Add", {inner, scalar(1.0, dt)}));
  ONNXOPT_ASSIGN_OR_RETURN(auto m, step("Mul", {x, a}));
  return step("Mul", {m, scalar(0.5, dt)});
}

absl::Status Lowering::lowerArithmetic(jit::Node &n, std::string_view op) {
  // aten::add(a, b, alpha), aten::sub(a, b, alpha), aten::mul(a, b),
  // aten::div(a, b); b may be a number. rsub(a, b, alpha) is b - alpha * a.
  bool rsub = op == "RSub";
  ONNXOPT_ASSIGN_OR_RETURN(
      auto a,
      tensor(n.input(0), elementTypeOf(n.input(0)).value_or(DataType::Float)));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
  ONNXOPT_RETURN_IF_ERROR(promote(a, b, n.input(0), n.input(1)));
  if (op == "Div" && !isFloating(typeOf(a))) {
    // True division: float32 for tensors, a Python float for numbers.
    DataType to = n.output(0)->type()->kind() == c10::TypeKind::FloatType
                      ? DataType::Double
                      : DataType::Float;
    ONNXOPT_ASSIGN_OR_RETURN(a, cast(a, to));
    ONNXOPT_ASSIGN_OR_RETURN(b, cast(b, to));
  }
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

absl::Status Lowering::lowerTensorOps(jit::Node &n, const std::string &kind) {
  auto in = [&](size_t i) { return tensor(n.input(i)); };
  auto same = [&](std::string_view op) -> absl::Status {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    return result(n, op, {x});
  };

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
  if (kind == "aten::sqrt" &&
      n.input(0)->type()->kind() == c10::TypeKind::TensorType)
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
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto approx = n.inputs().size() > 1 ? constant(n.input(1)) : std::nullopt;
    ONNXOPT_ASSIGN_OR_RETURN(auto y,
                             gelu(x, approx && approx->isString() &&
                                         approx->toStringRef() == "tanh"));
    alias(n, y);
    return absl::OkStatus();
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
  if (kind == "aten::floor_divide" || kind == "aten::floordiv" ||
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
    ONNXOPT_ASSIGN_OR_RETURN(
        auto a, tensor(n.input(0),
                       elementTypeOf(n.input(0)).value_or(DataType::Float)));
    ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
    ONNXOPT_RETURN_IF_ERROR(promote(a, b, n.input(0), n.input(1)));
    DataType dt = typeOf(a);
    bool integral = !isFloating(dt);
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
    // Static dims (from the input shapes) are numbers at import time, so
    // the shape arithmetic on them folds; symbolic dims stay computed.
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    const auto &shape = x->type().shape();
    if (n.inputs().size() == 1) {
      if (shape && std::all_of(shape->begin(), shape->end(),
                               [](const Dim &d) { return d.isConstant(); })) {
        std::vector<int64_t> dims;
        for (const Dim &d : *shape)
          dims.push_back(d.value());
        consts_[n.output(0)] = c10::IValue(dims);
        return absl::OkStatus();
      }
      if (!shape)
        return result(n, "Shape", {x});
      // Partly static: a list whose static items are numbers.
      ONNXOPT_ASSIGN_OR_RETURN(auto all, step("Shape", {x}));
      std::vector<Value *> items;
      for (size_t i = 0; i < shape->size(); ++i) {
        if ((*shape)[i].isConstant()) {
          items.push_back(ints({(*shape)[i].value()}, true));
          continue;
        }
        ONNXOPT_ASSIGN_OR_RETURN(auto d,
                                 step("Gather", {all, ints({int64_t(i)}, true)},
                                      attrList(Attribute::makeInt("axis", 0))));
        items.push_back(d);
      }
      lists_[n.output(0)] = items;
      return absl::OkStatus();
    }
    auto dim = intOf(n.input(1));
    if (!dim)
      return unsupported(n, "a computed dim");
    if (shape) {
      int64_t d = *dim < 0 ? *dim + int64_t(shape->size()) : *dim;
      if (d >= 0 && d < int64_t(shape->size()) &&
          (*shape)[size_t(d)].isConstant()) {
        consts_[n.output(0)] = (*shape)[size_t(d)].value();
        return absl::OkStatus();
      }
    }
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
    auto node = cur_->create("Split", {x}, size_t(*chunks));
    if (!node.ok())
      return node.status();
    (*node)->setAttr(Attribute::makeInt("axis", *dim));
    finish(*node);
    std::vector<Value *> parts;
    for (size_t i = 0; i < size_t(*chunks); ++i) {
      (*node)->output(i)->setName(nameOfText("chunk"));
      parts.push_back((*node)->output(i));
    }
    lists_[n.output(0)] = parts;
    return absl::OkStatus();
  }
  if (kind == "aten::mean" && n.inputs().size() >= 3 && !isNone(n.input(1))) {
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
  if (kind == "aten::slice" &&
      n.input(0)->type()->kind() == c10::TypeKind::ListType) {
    // list[start:end:step] on a list of tensors or of computed ints.
    auto start =
        isNone(n.input(1)) ? std::optional<int64_t>(0) : intOf(n.input(1));
    auto end = isNone(n.input(2))
                   ? std::optional<int64_t>(std::numeric_limits<int64_t>::max())
                   : intOf(n.input(2));
    auto stepSize = intOf(n.input(3));
    if (!start || !end || !stepSize || *stepSize <= 0)
      return unsupported(n, "computed bounds");
    if (auto it = lists_.find(n.input(0)); it != lists_.end()) {
      int64_t len = int64_t(it->second.size());
      auto clamp = [&](int64_t i) {
        return std::clamp<int64_t>(i < 0 ? i + len : i, 0, len);
      };
      std::vector<Value *> out;
      for (int64_t i = clamp(*start); i < clamp(*end); i += *stepSize)
        out.push_back(it->second[size_t(i)]);
      lists_[n.output(0)] = out;
      return absl::OkStatus();
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto list, intList(n.input(0)));
    return result(
        n, "Slice",
        {list, ints({*start}), ints({*end}), ints({0}), ints({*stepSize})});
  }
  if (kind == "aten::slice") {
    // (x, dim, start?, end?, step); bounds may be computed.
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto dim = intOf(n.input(1));
    auto stepSize = intOf(n.input(4));
    if (!dim || !stepSize)
      return unsupported(n, "a computed dim or step");
    auto bound = [&](size_t i, int64_t none) -> absl::StatusOr<Value *> {
      if (isNone(n.input(i)))
        return ints({none});
      if (auto c = intOf(n.input(i)))
        return ints({*c});
      ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(n.input(i), DataType::Int64));
      ONNXOPT_ASSIGN_OR_RETURN(t, cast(t, DataType::Int64));
      return asVector(t);
    };
    ONNXOPT_ASSIGN_OR_RETURN(auto start, bound(2, 0));
    ONNXOPT_ASSIGN_OR_RETURN(auto end,
                             bound(3, std::numeric_limits<int64_t>::max()));
    return result(n, "Slice", {x, start, end, ints({*dim}), ints({*stepSize})});
  }
  if (kind == "aten::lstm" || kind == "aten::gru")
    return lowerRnn(n, kind == "aten::lstm");
  if (kind == "aten::_native_multi_head_attention")
    return lowerAttention(n);
  if (kind == "aten::_transformer_encoder_layer_fwd")
    return lowerEncoderLayer(n);
  static const std::pair<const char *, const char *> kUnary[] = {
      {"aten::abs", "Abs"},     {"aten::log", "Log"},
      {"aten::erf", "Erf"},     {"aten::cos", "Cos"},
      {"aten::sin", "Sin"},     {"aten::reciprocal", "Reciprocal"},
      {"aten::floor", "Floor"}, {"aten::ceil", "Ceil"},
      {"aten::sign", "Sign"},   {"aten::logical_not", "Not"},
      {"aten::isnan", "IsNaN"}, {"aten::softplus", "Softplus"},
      {"aten::elu", "Elu"},     {"aten::mish", "Mish"}};
  for (const auto &[aten, onnx] : kUnary)
    if (kind == aten)
      return same(onnx);
  if (kind == "aten::rsqrt") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto r, step("Sqrt", {x}));
    return result(n, "Reciprocal", {r});
  }
  if (kind == "aten::pow") {
    ONNXOPT_ASSIGN_OR_RETURN(auto a, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
    return result(n, "Pow", {a, b});
  }
  if (kind == "aten::leaky_relu") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    return result(n, "LeakyRelu", {x},
                  attrList(Attribute::makeFloat(
                      "alpha", float(numberOf(n.input(1)).value_or(0.01)))));
  }
  if (kind == "aten::sum" || kind == "aten::amax" || kind == "aten::amin" ||
      (kind == "aten::mean" && n.inputs().size() == 2)) {
    // (x, dims?, keepdim, dtype?); sum(x, dtype) and mean(x, dtype) reduce
    // everything.
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    const char *op = kind == "aten::sum"    ? "ReduceSum"
                     : kind == "aten::amax" ? "ReduceMax"
                     : kind == "aten::amin" ? "ReduceMin"
                                            : "ReduceMean";
    bool all = n.inputs().size() <= 2 || isNone(n.input(1));
    auto dims =
        all ? std::optional<std::vector<int64_t>>(std::vector<int64_t>{})
            : intsOf(n.input(1));
    if (!dims)
      return unsupported(n, "computed dims");
    bool keep = !all && boolOf(n.input(2)).value_or(false);
    // sum of bools and smaller ints is int64 in torch (ONNX has no bool
    // sum); a dtype argument casts first.
    const jit::Value *dtype = n.inputs().size() == 2  ? n.input(1)
                              : n.inputs().size() > 3 ? n.input(3)
                                                      : nullptr;
    if (dtype && !isNone(dtype) &&
        dtype->type()->kind() == c10::TypeKind::IntType) {
      auto dt = dtypeArg(dtype, typeOf(x));
      if (!dt)
        return unsupported(n, "an unknown dtype");
      ONNXOPT_ASSIGN_OR_RETURN(x, cast(x, *dt));
    } else if (kind == "aten::sum" && !isFloating(typeOf(x))) {
      ONNXOPT_ASSIGN_OR_RETURN(x, cast(x, DataType::Int64));
    }
    std::vector<Value *> ins = {x};
    std::vector<Attribute> attrs =
        attrList(Attribute::makeInt("keepdims", keep));
    if (!dims->empty()) {
      if (kind == "aten::sum")
        ins.push_back(ints(*dims));
      else
        attrs.push_back(Attribute::makeInts("axes", *dims));
    }
    return result(n, op, ins, std::move(attrs));
  }
  if ((kind == "aten::max" || kind == "aten::min") && n.inputs().size() == 3 &&
      n.outputs().size() == 2) {
    // max(x, dim, keepdim) -> (values, indices)
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto dim = intOf(n.input(1));
    auto keep = boolOf(n.input(2));
    if (!dim || !keep)
      return unsupported(n, "a computed dim");
    bool max = kind == "aten::max";
    ONNXOPT_ASSIGN_OR_RETURN(
        auto v, step(max ? "ReduceMax" : "ReduceMin", {x},
                     attrList(Attribute::makeInts("axes", {*dim}),
                              Attribute::makeInt("keepdims", *keep))));
    ONNXOPT_ASSIGN_OR_RETURN(
        auto i, step(max ? "ArgMax" : "ArgMin", {x},
                     attrList(Attribute::makeInt("axis", *dim),
                              Attribute::makeInt("keepdims", *keep),
                              Attribute::makeInt("select_last_index", 0))));
    tensors_[n.output(0)] = v;
    tensors_[n.output(1)] = i;
    return absl::OkStatus();
  }
  if ((kind == "aten::maximum" || kind == "aten::minimum") ||
      ((kind == "aten::max" || kind == "aten::min") && n.inputs().size() == 2 &&
       n.input(1)->type()->kind() == c10::TypeKind::TensorType)) {
    ONNXOPT_ASSIGN_OR_RETURN(auto a, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto b, in(1));
    return result(n, kind.find("max") != std::string::npos ? "Max" : "Min",
                  {a, b});
  }
  if (kind == "aten::argmax" || kind == "aten::argmin") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto dim = intOf(n.input(1));
    if (!dim)
      return unsupported(n, "argmax over all elements");
    return result(
        n, kind == "aten::argmax" ? "ArgMax" : "ArgMin", {x},
        attrList(Attribute::makeInt("axis", *dim),
                 Attribute::makeInt("keepdims",
                                    boolOf(n.input(2)).value_or(false))));
  }
  if (kind == "aten::cumsum") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto dim, tensor(n.input(1), DataType::Int64));
    return result(n, "CumSum", {x, dim});
  }
  if (kind == "aten::einsum") {
    auto eq = constant(n.input(0));
    if (!eq || !eq->isString())
      return unsupported(n, "a computed equation");
    ONNXOPT_ASSIGN_OR_RETURN(auto ops, items(n.input(1), std::nullopt));
    return result(
        n, "Einsum", ops,
        attrList(Attribute::makeString("equation", eq->toStringRef())));
  }
  if (kind == "aten::baddbmm") {
    // beta * input + alpha * (b1 @ b2)
    ONNXOPT_ASSIGN_OR_RETURN(auto bias, in(0));
    ONNXOPT_ASSIGN_OR_RETURN(auto a, in(1));
    ONNXOPT_ASSIGN_OR_RETURN(auto b, in(2));
    auto beta = numberOf(n.input(3)), alpha = numberOf(n.input(4));
    if (!beta || !alpha)
      return unsupported(n, "computed beta or alpha");
    ONNXOPT_ASSIGN_OR_RETURN(auto p, step("MatMul", {a, b}));
    DataType dt = typeOf(p);
    if (*alpha != 1) {
      ONNXOPT_ASSIGN_OR_RETURN(p, step("Mul", {p, scalar(*alpha, dt)}));
    }
    if (*beta == 0) {
      alias(n, p);
      return absl::OkStatus();
    }
    if (*beta != 1) {
      ONNXOPT_ASSIGN_OR_RETURN(bias, step("Mul", {bias, scalar(*beta, dt)}));
    }
    return result(n, "Add", {bias, p});
  }
  if (kind == "aten::group_norm") {
    // (x, groups, weight?, bias?, eps, cudnn): normalize [N, G, -1] by
    // InstanceNormalization (unit scale), then the per-channel affine.
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    auto groups = intOf(n.input(1));
    auto rank = rankOf(n.input(0));
    if (!groups || !rank)
      return unsupported(n, "computed groups or unknown rank");
    DataType dt = typeOf(x);
    ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {x}));
    ONNXOPT_ASSIGN_OR_RETURN(auto g,
                             step("Reshape", {x, ints({0, *groups, -1})}));
    at::ScalarType st = dt == DataType::Double ? at::kDouble : at::kFloat;
    ONNXOPT_ASSIGN_OR_RETURN(
        auto norm,
        step("InstanceNormalization",
             {g, initializer(nameOfText("gn_scale"), at::ones({*groups}, st)),
              initializer(nameOfText("gn_bias"), at::zeros({*groups}, st))},
             attrList(Attribute::makeFloat(
                 "epsilon", float(numberOf(n.input(4)).value_or(1e-5))))));
    ONNXOPT_ASSIGN_OR_RETURN(auto y, step("Reshape", {norm, shape}));
    std::vector<int64_t> affine = {-1};
    for (int64_t i = 2; i < *rank; ++i)
      affine.push_back(1);
    for (size_t i = 2; i < 4; ++i) {
      if (isNone(n.input(i)))
        continue;
      ONNXOPT_ASSIGN_OR_RETURN(auto p, in(i));
      ONNXOPT_ASSIGN_OR_RETURN(p, step("Reshape", {p, ints(affine)}));
      ONNXOPT_ASSIGN_OR_RETURN(y, step(i == 2 ? "Mul" : "Add", {y, p}));
    }
    alias(n, y);
    return absl::OkStatus();
  }
  if (kind == "aten::numel") {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, in(0));
    return result(n, "Size", {x});
  }
  if (kind == "aten::sqrt" &&
      n.input(0)->type()->kind() != c10::TypeKind::TensorType) {
    // math.sqrt on a number: a double.
    ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0), DataType::Double));
    ONNXOPT_ASSIGN_OR_RETURN(x, cast(x, DataType::Double));
    return result(n, "Sqrt", {x});
  }
  return lowerShapeOps(n, kind);
}

} // namespace onnxopt::torchscript
