// The TorchScript lowering of tensor ops (aten::*): elementwise math,
// convolution and pooling, shapes and indexing, reductions, normalization,
// creation ops.
#include "frontends/torchscript/Lowering.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <limits>

namespace onnxopt::torchscript {

// aten::_convolution, aten::conv1d, aten::conv2d, aten::conv3d
std::optional<absl::Status>
Lowering::lowerConvolution(jit::Node &n, const std::string &kind) {
  // aten::_convolution(input, weight, bias, stride, padding, dilation,
  //   transposed, output_padding, groups, ...) and aten::conv{1,2,3}d(input,
  //   weight, bias, stride, padding, dilation, groups).
  bool general = kind == "aten::_convolution";
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

// aten::batch_norm
std::optional<absl::Status> Lowering::lowerBatchNorm(jit::Node &n,
                                                     const std::string &) {
  // (input, weight?, bias?, running_mean, running_var, training, momentum,
  //  eps, cudnn)
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto mean, operand(n, 3));
  ONNXOPT_ASSIGN_OR_RETURN(auto var, operand(n, 4));
  auto training = constant(n.input(5));
  if (training && training->isBool() && training->toBool())
    return unsupported(n, "training mode");
  auto c = constant(n.input(3));
  int64_t channels = c && c->isTensor() ? c->toTensor().numel() : -1;
  auto affine = [&](size_t i, float fill) -> absl::StatusOr<Value *> {
    if (!isNone(n.input(i)))
      return operand(n, i);
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

// aten::sqrt
std::optional<absl::Status> Lowering::lowerSqrt(jit::Node &n,
                                                const std::string &kind) {
  if (!(kind == "aten::sqrt" &&
        n.input(0)->type()->kind() == c10::TypeKind::TensorType))
    return std::nullopt;
  return unary(n, "Sqrt");
}

// aten::hardsigmoid, aten::hardsigmoid_
std::optional<absl::Status> Lowering::lowerHardsigmoid(jit::Node &n,
                                                       const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  return result(n, "HardSigmoid", {x},
                attrList(Attribute::makeFloat("alpha", 1.0f / 6),
                         Attribute::makeFloat("beta", 0.5f)));
}

// aten::silu, aten::silu_
std::optional<absl::Status> Lowering::lowerSilu(jit::Node &n,
                                                const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto s, step("Sigmoid", {x}));
  return result(n, "Mul", {x, s});
}

// aten::gelu
std::optional<absl::Status> Lowering::lowerGelu(jit::Node &n,
                                                const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto approx = n.inputs().size() > 1 ? constant(n.input(1)) : std::nullopt;
  ONNXOPT_ASSIGN_OR_RETURN(
      auto y,
      gelu(x, approx && approx->isString() && approx->toStringRef() == "tanh"));
  alias(n, y);
  return absl::OkStatus();
}

// aten::hardtanh, aten::hardtanh_, aten::clamp, aten::clamp_, aten::relu6
std::optional<absl::Status> Lowering::lowerClamp(jit::Node &n,
                                                 const std::string &kind) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  DataType dt = typeOf(x);
  std::vector<Value *> ins = {x};
  if (kind == "aten::relu6") {
    ins.push_back(scalar(0, dt));
    ins.push_back(scalar(6, dt));
  } else {
    bool tensorBounds = false;
    for (size_t i = 1; i < 3; ++i) {
      if (isNone(n.input(i))) {
        ins.push_back(nullptr);
        continue;
      }
      if (auto v = numberOf(n.input(i))) {
        ins.push_back(scalar(*v, dt));
        continue;
      }
      // A bound computed at run time: a number is a 0-d tensor Clip reads;
      // a tensor bound broadcasts (clamp.Tensor), as Max / Min do.
      tensorBounds |= n.input(i)->type()->kind() == c10::TypeKind::TensorType;
      ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(i), dt));
      ONNXOPT_ASSIGN_OR_RETURN(b, cast(b, dt));
      ins.push_back(b);
    }
    if (tensorBounds) {
      Value *y = x;
      if (ins[1]) {
        ONNXOPT_ASSIGN_OR_RETURN(y, step("Max", {y, ins[1]}));
      }
      if (!ins[2]) {
        alias(n, y);
        return absl::OkStatus();
      }
      return result(n, "Min", {y, ins[2]});
    }
  }
  return result(n, "Clip", ins);
}

// aten::add, aten::add_
std::optional<absl::Status> Lowering::lowerAdd(jit::Node &n,
                                               const std::string &) {
  // list + list: the items of both (tensor lists the lowering holds).
  if (n.input(0)->type()->kind() == c10::TypeKind::ListType) {
    auto a = lists_.find(n.input(0)), b = lists_.find(n.input(1));
    if (a == lists_.end() || b == lists_.end())
      return unsupported(n, "a list the lowering does not hold");
    std::vector<Value *> out = a->second;
    out.insert(out.end(), b->second.begin(), b->second.end());
    lists_[n.output(0)] = out;
    return absl::OkStatus();
  }
  return lowerArithmetic(n, "Add");
}

// aten::sub, aten::sub_
std::optional<absl::Status> Lowering::lowerSub(jit::Node &n,
                                               const std::string &) {
  return lowerArithmetic(n, "Sub");
}

// aten::rsub
std::optional<absl::Status> Lowering::lowerRsub(jit::Node &n,
                                                const std::string &) {
  return lowerArithmetic(n, "RSub");
}

// aten::mul, aten::mul_
std::optional<absl::Status> Lowering::lowerMul(jit::Node &n,
                                               const std::string &) {
  // list * n: the items n times (`(shift_x, shift_y) * len(pairs)`).
  if (n.input(0)->type()->kind() == c10::TypeKind::ListType) {
    auto times = intOf(n.input(1));
    auto it = lists_.find(n.input(0));
    if (!times || it == lists_.end())
      return unsupported(n, "a list repeated a computed number of times");
    std::vector<Value *> out;
    for (int64_t k = 0; k < *times; ++k)
      out.insert(out.end(), it->second.begin(), it->second.end());
    lists_[n.output(0)] = out;
    return absl::OkStatus();
  }
  return lowerArithmetic(n, "Mul");
}

// aten::div, aten::div_
std::optional<absl::Status> Lowering::lowerDiv(jit::Node &n,
                                               const std::string &kind) {
  if (!((kind == "aten::div" || kind == "aten::div_") &&
        n.inputs().size() == 2))
    return std::nullopt;
  return lowerArithmetic(n, "Div");
}

// aten::floor_divide, aten::floordiv, aten::div
std::optional<absl::Status>
Lowering::lowerFloorDivide(jit::Node &n, const std::string &kind) {
  if (!(kind == "aten::floor_divide" || kind == "aten::floordiv" ||
        (kind == "aten::div" && n.inputs().size() == 3)))
    return std::nullopt;
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
      auto a,
      tensor(n.input(0), elementTypeOf(n.input(0)).value_or(DataType::Float)));
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

// aten::remainder
std::optional<absl::Status> Lowering::lowerRemainder(jit::Node &n,
                                                     const std::string &) {
  // Python's modulo (the divisor's sign): ONNX Mod with fmod = 0 for
  // integers; a - floor(a / b) * b for floats.
  ONNXOPT_ASSIGN_OR_RETURN(auto a, operand(n, 0));
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

// aten::max_pool2d, aten::max_pool1d, aten::avg_pool2d, aten::avg_pool1d
std::optional<absl::Status> Lowering::lowerPool(jit::Node &n,
                                                const std::string &kind) {
  // max: (x, kernel, stride, padding, dilation, ceil_mode)
  // avg: (x, kernel, stride, padding, ceil_mode, count_include_pad, div)
  bool max = kind.find("max") != std::string::npos;
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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
    attrs.push_back(Attribute::makeInt("count_include_pad",
                                       cip && cip->isBool() && cip->toBool()));
    if (n.inputs().size() > 6 && !isNone(n.input(6)))
      return unsupported(n, "divisor_override");
  }
  return result(n, max ? "MaxPool" : "AveragePool", {x}, std::move(attrs));
}

// aten::adaptive_avg_pool2d, aten::adaptive_avg_pool1d
std::optional<absl::Status>
Lowering::lowerAdaptiveAvgPool(jit::Node &n, const std::string &) {
  auto size = intsOf(n.input(1));
  bool global = size && std::all_of(size->begin(), size->end(),
                                    [](int64_t s) { return s == 1; });
  if (!global)
    return unsupported(n, "output size other than 1");
  return unary(n, "GlobalAveragePool");
}

// aten::flatten
std::optional<absl::Status> Lowering::lowerFlatten(jit::Node &n,
                                                   const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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
  if (!rank || s < 0 || e < s || e >= *rank)
    return unsupported(n, "a partial flatten of unknown rank");
  // Dims s..e merge into their product; the others stay (allowzero: an
  // empty dim stays 0, it is not copied from the input). A static shape is
  // a constant, so that what follows keeps static dims.
  if (const auto &dims = x->type().shape();
      dims && int64_t(dims->size()) == *rank &&
      std::all_of(dims->begin(), dims->end(),
                  [](const Dim &d) { return d.isConstant(); })) {
    std::vector<int64_t> shape;
    for (int64_t d = 0; d < *rank; ++d) {
      int64_t len = (*dims)[size_t(d)].value();
      if (d > s && d <= e)
        shape.back() *= len;
      else
        shape.push_back(len);
    }
    return result(n, "Reshape", {x, ints(shape)},
                  attrList(Attribute::makeInt("allowzero", 1)));
  }
  auto shapeRange = [&](int64_t from, int64_t to) {
    return step("Shape", {x},
                attrList(Attribute::makeInt("start", from),
                         Attribute::makeInt("end", to)));
  };
  ONNXOPT_ASSIGN_OR_RETURN(auto head, shapeRange(0, s));
  ONNXOPT_ASSIGN_OR_RETURN(auto mid, shapeRange(s, e + 1));
  ONNXOPT_ASSIGN_OR_RETURN(auto tail, shapeRange(e + 1, *rank));
  ONNXOPT_ASSIGN_OR_RETURN(
      mid,
      step("ReduceProd", {mid}, attrList(Attribute::makeInt("keepdims", 1))));
  ONNXOPT_ASSIGN_OR_RETURN(auto shape,
                           step("Concat", {head, mid, tail},
                                attrList(Attribute::makeInt("axis", 0))));
  return result(n, "Reshape", {x, shape},
                attrList(Attribute::makeInt("allowzero", 1)));
}

// aten::linear
std::optional<absl::Status> Lowering::lowerLinear(jit::Node &n,
                                                  const std::string &) {
  // y = x W^T + b.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto w, operand(n, 1));
  ONNXOPT_ASSIGN_OR_RETURN(
      auto wt,
      step("Transpose", {w}, attrList(Attribute::makeInts("perm", {1, 0}))));
  if (isNone(n.input(2)))
    return result(n, "MatMul", {x, wt});
  ONNXOPT_ASSIGN_OR_RETURN(auto bias, operand(n, 2));
  ONNXOPT_ASSIGN_OR_RETURN(auto y, step("MatMul", {x, wt}));
  return result(n, "Add", {y, bias});
}

// aten::addmm
std::optional<absl::Status> Lowering::lowerAddmm(jit::Node &n,
                                                 const std::string &) {
  // beta * bias + alpha * (a @ b)
  ONNXOPT_ASSIGN_OR_RETURN(auto bias, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto a, operand(n, 1));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, operand(n, 2));
  auto beta = numberOf(n.input(3)), alpha = numberOf(n.input(4));
  return result(
      n, "Gemm", {a, b, bias},
      attrList(Attribute::makeFloat("alpha", float(alpha.value_or(1))),
               Attribute::makeFloat("beta", float(beta.value_or(1)))));
}

// aten::t
std::optional<absl::Status> Lowering::lowerTranspose2d(jit::Node &n,
                                                       const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  return result(n, "Transpose", {x},
                attrList(Attribute::makeInts("perm", {1, 0})));
}

// aten::matmul, aten::bmm, aten::mm
std::optional<absl::Status> Lowering::lowerMatMul(jit::Node &n,
                                                  const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto a, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, operand(n, 1));
  return result(n, "MatMul", {a, b});
}

// aten::cat, aten::concat
std::optional<absl::Status> Lowering::lowerCat(jit::Node &n,
                                               const std::string &) {
  auto it = lists_.find(n.input(0));
  auto dim = intOf(n.input(1));
  if (it == lists_.end() || !dim)
    return unsupported(n, "a computed tensor list or dim");
  return result(n, "Concat", it->second,
                attrList(Attribute::makeInt("axis", *dim)));
}

// aten::view, aten::reshape
std::optional<absl::Status> Lowering::lowerView(jit::Node &n,
                                                const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  Value *shape = nullptr;
  if (auto s = intsOf(n.input(1)))
    shape = ints(*s);
  else {
    ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(n.input(1), DataType::Int64));
    shape = t;
  }
  return result(n, "Reshape", {x, shape});
}

// aten::size
std::optional<absl::Status> Lowering::lowerSize(jit::Node &n,
                                                const std::string &) {
  // Static dims (from the input shapes) are numbers at import time, so
  // the shape arithmetic on them folds; symbolic dims stay computed.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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

// aten::permute
std::optional<absl::Status> Lowering::lowerPermute(jit::Node &n,
                                                   const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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

// aten::transpose
std::optional<absl::Status> Lowering::lowerTranspose(jit::Node &n,
                                                     const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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

// aten::chunk
std::optional<absl::Status> Lowering::lowerChunk(jit::Node &n,
                                                 const std::string &) {
  // Equal parts along dim (Split without sizes at opset 13+).
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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

// aten::mean
std::optional<absl::Status>
Lowering::lowerMeanOverDims(jit::Node &n, const std::string &kind) {
  if (!(kind == "aten::mean" && n.inputs().size() >= 3 && !isNone(n.input(1))))
    return std::nullopt;
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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

// aten::softmax, aten::log_softmax
std::optional<absl::Status> Lowering::lowerSoftmax(jit::Node &n,
                                                   const std::string &kind) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dim = intOf(n.input(1));
  if (!dim)
    return unsupported(n, "a computed dim");
  return result(n, kind == "aten::softmax" ? "Softmax" : "LogSoftmax", {x},
                attrList(Attribute::makeInt("axis", *dim)));
}

// aten::layer_norm
std::optional<absl::Status> Lowering::lowerLayerNorm(jit::Node &n,
                                                     const std::string &) {
  // (input, normalized_shape, weight?, bias?, eps, cudnn)
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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
      ONNXOPT_ASSIGN_OR_RETURN(auto p, operand(n, i));
      ins.push_back(p);
    }
  }
  return result(
      n, "LayerNormalization", ins,
      attrList(Attribute::makeInt("axis", -int64_t(shape->size())),
               Attribute::makeFloat(
                   "epsilon", float(numberOf(n.input(4)).value_or(1e-5)))));
}

// aten::unsqueeze, aten::squeeze
std::optional<absl::Status> Lowering::lowerUnsqueeze(jit::Node &n,
                                                     const std::string &kind) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  if (n.inputs().size() < 2)
    return unary(n, "Squeeze");
  auto dim = intOf(n.input(1));
  if (!dim)
    return unsupported(n, "a computed dim");
  return result(n, kind == "aten::unsqueeze" ? "Unsqueeze" : "Squeeze",
                {x, ints({*dim})});
}

// aten::embedding
std::optional<absl::Status> Lowering::lowerEmbedding(jit::Node &n,
                                                     const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto w, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto ids, operand(n, 1));
  return result(n, "Gather", {w, ids}, attrList(Attribute::makeInt("axis", 0)));
}

// aten::select
std::optional<absl::Status> Lowering::lowerSelect(jit::Node &n,
                                                  const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dim = intOf(n.input(1));
  if (!dim)
    return unsupported(n, "a computed dim");
  ONNXOPT_ASSIGN_OR_RETURN(auto idx, tensor(n.input(2), DataType::Int64));
  return result(n, "Gather", {x, idx},
                attrList(Attribute::makeInt("axis", *dim)));
}

// aten::slice
std::optional<absl::Status> Lowering::lowerListSlice(jit::Node &n,
                                                     const std::string &kind) {
  if (!(kind == "aten::slice" &&
        n.input(0)->type()->kind() == c10::TypeKind::ListType))
    return std::nullopt;
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

// aten::slice
std::optional<absl::Status> Lowering::lowerSlice(jit::Node &n,
                                                 const std::string &) {
  // (x, dim, start?, end?, step); bounds may be computed.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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

// aten::lstm, aten::gru
std::optional<absl::Status> Lowering::lowerRecurrent(jit::Node &n,
                                                     const std::string &kind) {
  return lowerRnn(n, kind == "aten::lstm");
}

// aten::_native_multi_head_attention
std::optional<absl::Status>
Lowering::lowerNativeMultiHeadAttention(jit::Node &n, const std::string &) {
  return lowerAttention(n);
}

// aten::_transformer_encoder_layer_fwd
std::optional<absl::Status>
Lowering::lowerTransformerEncoderLayerFwd(jit::Node &n, const std::string &) {
  return lowerEncoderLayer(n);
}

// The one-input ops that map to one ONNX op of their operand 0.
std::optional<absl::Status> Lowering::lowerUnaryTable(jit::Node &n,
                                                      const std::string &kind) {
  static const std::pair<const char *, const char *> kUnary[] = {
      {"aten::abs", "Abs"},
      {"aten::ceil", "Ceil"},
      {"aten::cos", "Cos"},
      {"aten::elu", "Elu"},
      {"aten::erf", "Erf"},
      {"aten::exp", "Exp"},
      {"aten::floor", "Floor"},
      {"aten::hardswish", "HardSwish"},
      {"aten::hardswish_", "HardSwish"},
      {"aten::isnan", "IsNaN"},
      {"aten::log", "Log"},
      {"aten::logical_not", "Not"},
      {"aten::mish", "Mish"},
      {"aten::neg", "Neg"},
      {"aten::reciprocal", "Reciprocal"},
      {"aten::relu", "Relu"},
      {"aten::relu_", "Relu"},
      {"aten::sigmoid", "Sigmoid"},
      {"aten::sigmoid_", "Sigmoid"},
      {"aten::sign", "Sign"},
      {"aten::sin", "Sin"},
      {"aten::softplus", "Softplus"},
      {"aten::tanh", "Tanh"},
      {"aten::tanh_", "Tanh"},
  };
  for (const auto &[aten, onnx] : kUnary)
    if (kind == aten)
      return unary(n, onnx);
  return std::nullopt;
}

// aten::rsqrt
std::optional<absl::Status> Lowering::lowerRsqrt(jit::Node &n,
                                                 const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto r, step("Sqrt", {x}));
  return result(n, "Reciprocal", {r});
}

// aten::log2
std::optional<absl::Status> Lowering::lowerLog2(jit::Node &n,
                                                const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto l, step("Log", {x}));
  return result(n, "Div", {l, scalar(std::log(2.0), typeOf(x))});
}

// aten::pow
std::optional<absl::Status> Lowering::lowerPow(jit::Node &n,
                                               const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto a, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
  return result(n, "Pow", {a, b});
}

// aten::leaky_relu
std::optional<absl::Status> Lowering::lowerLeakyRelu(jit::Node &n,
                                                     const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  return result(n, "LeakyRelu", {x},
                attrList(Attribute::makeFloat(
                    "alpha", float(numberOf(n.input(1)).value_or(0.01)))));
}

// aten::sum, aten::amax, aten::amin, aten::mean
std::optional<absl::Status> Lowering::lowerReduce(jit::Node &n,
                                                  const std::string &kind) {
  // max(x) and min(x): every element (torchvision's detection transform
  // takes the largest image side so).
  bool whole = (kind == "aten::max" || kind == "aten::min") &&
               n.inputs().size() == 1 && n.outputs().size() == 1 &&
               n.input(0)->type()->kind() == c10::TypeKind::TensorType;
  if (!(kind == "aten::sum" || kind == "aten::amax" || kind == "aten::amin" ||
        whole || (kind == "aten::mean" && n.inputs().size() == 2)))
    return std::nullopt;
  // (x, dims?, keepdim, dtype?); sum(x, dtype) and mean(x, dtype) reduce
  // everything.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  const char *op = kind == "aten::sum"                           ? "ReduceSum"
                   : kind == "aten::amax" || kind == "aten::max" ? "ReduceMax"
                   : kind == "aten::amin" || kind == "aten::min" ? "ReduceMin"
                                                                 : "ReduceMean";
  bool all = n.inputs().size() <= 2 || isNone(n.input(1));
  auto dims = all ? std::optional<std::vector<int64_t>>(std::vector<int64_t>{})
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
  std::vector<Attribute> attrs = attrList(Attribute::makeInt("keepdims", keep));
  // Dims counted from the front where the rank is known: ONNX Runtime 1.30
  // reduces an empty tensor over a negative axis to the input's shape
  // ([0, 6] summed over -1 stays [0, 6]; over 1 it is [0]).
  if (auto rank = rankOf(n.input(0)))
    for (int64_t &d : *dims)
      if (d < 0)
        d += *rank;
  if (!dims->empty()) {
    if (kind == "aten::sum")
      ins.push_back(ints(*dims));
    else
      attrs.push_back(Attribute::makeInts("axes", *dims));
  }
  return result(n, op, ins, std::move(attrs));
}

// aten::max, aten::min
std::optional<absl::Status>
Lowering::lowerMinMaxAlongDim(jit::Node &n, const std::string &kind) {
  if (!((kind == "aten::max" || kind == "aten::min") &&
        n.inputs().size() == 3 && n.outputs().size() == 2))
    return std::nullopt;
  // max(x, dim, keepdim) -> (values, indices)
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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

// aten::maximum, aten::minimum, aten::max, aten::min
std::optional<absl::Status>
Lowering::lowerElementwiseMinMax(jit::Node &n, const std::string &kind) {
  auto isNumber = [](const jit::Value *v) {
    auto k = v->type()->kind();
    return k == c10::TypeKind::IntType || k == c10::TypeKind::FloatType;
  };
  // prim::min/max: of two numbers (scripted `min(3, int(k))`).
  bool numbers = (kind == "prim::max" || kind == "prim::min") &&
                 n.inputs().size() == 2 && isNumber(n.input(0)) &&
                 isNumber(n.input(1));
  if (!((kind == "aten::maximum" || kind == "aten::minimum") || numbers ||
        ((kind == "aten::max" || kind == "aten::min") &&
         n.inputs().size() == 2 &&
         n.input(1)->type()->kind() == c10::TypeKind::TensorType)))
    return std::nullopt;
  ONNXOPT_ASSIGN_OR_RETURN(
      auto a,
      tensor(n.input(0), elementTypeOf(n.input(0)).value_or(DataType::Float)));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(1), typeOf(a)));
  if (numbers) {
    ONNXOPT_RETURN_IF_ERROR(promote(a, b, n.input(0), n.input(1)));
  }
  return result(n, kind.find("max") != std::string::npos ? "Max" : "Min",
                {a, b});
}

// aten::argmax, aten::argmin
std::optional<absl::Status> Lowering::lowerArgMinMax(jit::Node &n,
                                                     const std::string &kind) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dim = intOf(n.input(1));
  if (!dim)
    return unsupported(n, "argmax over all elements");
  return result(n, kind == "aten::argmax" ? "ArgMax" : "ArgMin", {x},
                attrList(Attribute::makeInt("axis", *dim),
                         Attribute::makeInt(
                             "keepdims", boolOf(n.input(2)).value_or(false))));
}

// aten::cumsum
std::optional<absl::Status> Lowering::lowerCumsum(jit::Node &n,
                                                  const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto dim, tensor(n.input(1), DataType::Int64));
  return result(n, "CumSum", {x, dim});
}

// aten::einsum
std::optional<absl::Status> Lowering::lowerEinsum(jit::Node &n,
                                                  const std::string &) {
  auto eq = constant(n.input(0));
  if (!eq || !eq->isString())
    return unsupported(n, "a computed equation");
  ONNXOPT_ASSIGN_OR_RETURN(auto ops, items(n.input(1), std::nullopt));
  return result(n, "Einsum", ops,
                attrList(Attribute::makeString("equation", eq->toStringRef())));
}

// aten::baddbmm
std::optional<absl::Status> Lowering::lowerBaddbmm(jit::Node &n,
                                                   const std::string &) {
  // beta * input + alpha * (b1 @ b2)
  ONNXOPT_ASSIGN_OR_RETURN(auto bias, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto a, operand(n, 1));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, operand(n, 2));
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

// aten::group_norm
std::optional<absl::Status> Lowering::lowerGroupNorm(jit::Node &n,
                                                     const std::string &) {
  // (x, groups, weight?, bias?, eps, cudnn): normalize [N, G, -1] by
  // InstanceNormalization (unit scale), then the per-channel affine.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
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
    ONNXOPT_ASSIGN_OR_RETURN(auto p, operand(n, i));
    ONNXOPT_ASSIGN_OR_RETURN(p, step("Reshape", {p, ints(affine)}));
    ONNXOPT_ASSIGN_OR_RETURN(y, step(i == 2 ? "Mul" : "Add", {y, p}));
  }
  alias(n, y);
  return absl::OkStatus();
}

// aten::numel
std::optional<absl::Status> Lowering::lowerNumel(jit::Node &n,
                                                 const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  return result(n, "Size", {x});
}

// aten::sqrt
std::optional<absl::Status> Lowering::lowerScalarSqrt(jit::Node &n,
                                                      const std::string &kind) {
  if (!(kind == "aten::sqrt" &&
        n.input(0)->type()->kind() != c10::TypeKind::TensorType))
    return std::nullopt;
  // math.sqrt on a number: a double.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0), DataType::Double));
  ONNXOPT_ASSIGN_OR_RETURN(x, cast(x, DataType::Double));
  return result(n, "Sqrt", {x});
}

} // namespace onnxopt::torchscript
