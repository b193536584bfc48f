// The TorchScript lowering of creation ops (zeros, ones, full, arange and
// their _like/new_ forms) and of shape and indexing ops (expand, pad,
// split, stack, roll, masked_fill, where, triu/tril, index ops, type
// conversions, interpolate).
#include "frontends/torchscript/Lowering.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <limits>

namespace onnxopt::torchscript {

absl::StatusOr<Value *> Lowering::filled(Value *shape, Value *fill) {
  return step("Expand", {fill, shape});
}

absl::Status Lowering::lowerCreation(jit::Node &n, const std::string &kind) {
  // zeros/ones(size, dtype, ...), full(size, fill, dtype, ...),
  // *_like(x, [fill,] dtype, ...), new_*(x, size, [fill,] dtype, ...),
  // arange([start,] end, [step,] dtype, ...).
  bool like = kind.size() > 5 && kind.substr(kind.size() - 5) == "_like";
  bool fresh = kind.rfind("aten::new_", 0) == 0;
  bool full = kind.find("full") != std::string::npos;
  if (kind == "aten::arange") {
    // Overloads by arity: (end, dtype, layout, device, pin) = 5,
    // (start, end, dtype, ...) = 6, (start, end, step, dtype, ...) = 7.
    size_t args = n.inputs().size() == 5 ? 1 : n.inputs().size() == 6 ? 2 : 3;
    if (n.inputs().size() < 5 || n.inputs().size() > 7)
      return unsupported(n, "an unknown overload");
    bool floating = false;
    for (size_t i = 0; i < args; ++i)
      floating |= n.input(i)->type()->kind() == c10::TypeKind::FloatType ||
                  (numberOf(n.input(i)) && !intOf(n.input(i)));
    auto dt =
        dtypeArg(n.input(args), floating ? DataType::Float : DataType::Int64);
    if (!dt)
      return unsupported(n, "an unknown dtype");
    std::vector<Value *> bounds;
    if (args == 1)
      bounds.push_back(scalar(0, *dt));
    for (size_t i = 0; i < args; ++i) {
      ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(i), *dt));
      ONNXOPT_ASSIGN_OR_RETURN(b, cast(b, *dt));
      bounds.push_back(b);
    }
    if (args < 3)
      bounds.push_back(scalar(1, *dt));
    return result(n, "Range", bounds);
  }
  Value *like0 = nullptr;
  if (like || fresh) {
    ONNXOPT_ASSIGN_OR_RETURN(like0, tensor(n.input(0)));
  }
  size_t next = like || fresh ? 1 : 0;
  const jit::Value *sizeArg = like ? nullptr : n.input(next++);
  const jit::Value *fillArg = full ? n.input(next++) : nullptr;
  DataType fallback = like0 ? typeOf(like0) : DataType::Float;
  if (fillArg && !like0 && intOf(fillArg))
    fallback = DataType::Int64;
  if (fillArg && !like0 && boolOf(fillArg))
    fallback = DataType::Bool;
  auto dt = dtypeArg(n.input(next), fallback);
  if (!dt)
    return unsupported(n, "an unknown dtype");
  // Static size, constant fill: a constant tensor at import time, so that
  // masks built in place from it (swin's shifted windows) fold.
  std::optional<std::vector<int64_t>> sizes;
  if (sizeArg) {
    sizes = intsOf(sizeArg);
  } else if (const auto &sh = like0->type().shape();
             sh && std::all_of(sh->begin(), sh->end(),
                               [](const Dim &d) { return d.isConstant(); })) {
    sizes.emplace();
    for (const Dim &d : *sh)
      sizes->push_back(d.value());
  }
  double ones = kind.find("ones") != std::string::npos ? 1 : 0;
  auto fillValue = fillArg ? numberOf(fillArg) : std::optional<double>(ones);
  if (fillArg && boolOf(fillArg))
    fillValue = *boolOf(fillArg) ? 1 : 0;
  auto st = scalarTypeOf(*dt);
  constexpr int64_t kMaxFolded = int64_t(1) << 20;
  if (sizes && fillValue && st) {
    int64_t count = 1;
    for (int64_t d : *sizes)
      count = d < 0 || (d > 0 && count > kMaxFolded / d) ? kMaxFolded + 1
                                                         : count * d;
    if (count <= kMaxFolded) {
      consts_[n.output(0)] =
          at::full(*sizes, *fillValue, at::TensorOptions(*st));
      return absl::OkStatus();
    }
  }
  Value *shape = nullptr;
  if (sizeArg) {
    ONNXOPT_ASSIGN_OR_RETURN(shape, intList(sizeArg));
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(shape, step("Shape", {like0}));
  }
  Value *fill = nullptr;
  if (fillArg) {
    ONNXOPT_ASSIGN_OR_RETURN(fill, tensor(fillArg, *dt));
    ONNXOPT_ASSIGN_OR_RETURN(fill, cast(fill, *dt));
  } else {
    fill = scalar(ones, *dt);
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto out, filled(shape, fill));
  alias(n, out);
  return absl::OkStatus();
}

namespace {

bool startsWith(const std::string &s, const char *prefix) {
  return s.rfind(prefix, 0) == 0;
}

} // namespace

// aten::zeros, aten::ones, aten::full, aten::zeros_like, aten::ones_like,
// aten::full_like, aten::new_zeros, aten::new_ones, aten::new_full,
// aten::arange; aten::empty as zeros (its contents are unspecified).
std::optional<absl::Status> Lowering::lowerCreationOp(jit::Node &n,
                                                      const std::string &kind) {
  return lowerCreation(n, kind == "aten::empty" ? "aten::zeros" : kind);
}

// aten::tensor of a number, or a list of ints, computed at run time (a
// constant one folds): the 0-d or 1-D tensor of the value, in the dtype
// asked for, else torch's (int64, float32, bool).
std::optional<absl::Status> Lowering::lowerTensorOf(jit::Node &n,
                                                    const std::string &) {
  const jit::Value *data = n.input(0);
  auto natural = [](const c10::TypePtr &t) -> std::optional<DataType> {
    switch (t->kind()) {
    case c10::TypeKind::IntType:
      return DataType::Int64;
    case c10::TypeKind::FloatType:
      return DataType::Float;
    case c10::TypeKind::BoolType:
      return DataType::Bool;
    default:
      return std::nullopt;
    }
  };
  Value *v = nullptr;
  std::optional<DataType> dt = natural(data->type());
  if (dt) {
    ONNXOPT_ASSIGN_OR_RETURN(v, tensor(data, *dt));
  } else if (data->type()->kind() == c10::TypeKind::ListType &&
             data->type()->containedType(0)->kind() == c10::TypeKind::IntType) {
    dt = DataType::Int64;
    ONNXOPT_ASSIGN_OR_RETURN(v, intList(data));
  } else {
    return unsupported(n, "data other than a number or a list of ints");
  }
  auto to = dtypeArg(n.input(1), *dt);
  if (!to)
    return unsupported(n, "a dtype computed at run time");
  ONNXOPT_ASSIGN_OR_RETURN(v, cast(v, *to));
  alias(n, v);
  return absl::OkStatus();
}

// aten::fill (what libtorch's mutation removal makes of x.fill_(v))
std::optional<absl::Status> Lowering::lowerFill(jit::Node &n,
                                                const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto v, tensor(n.input(1), typeOf(x)));
  ONNXOPT_ASSIGN_OR_RETURN(v, cast(v, typeOf(x)));
  ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {x}));
  return result(n, "Expand", {v, shape});
}

// aten::expand, aten::expand_as, aten::broadcast_to
std::optional<absl::Status> Lowering::lowerExpand(jit::Node &n,
                                                  const std::string &kind) {
  // A -1 keeps the input's dim: ONNX Expand broadcasts a target 1 the
  // same way.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  Value *shape = nullptr;
  if (kind == "aten::expand_as") {
    ONNXOPT_ASSIGN_OR_RETURN(auto other, operand(n, 1));
    ONNXOPT_ASSIGN_OR_RETURN(shape, step("Shape", {other}));
  } else if (auto s = intsOf(n.input(1))) {
    for (int64_t &d : *s)
      if (d == -1)
        d = 1;
    shape = ints(*s);
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(shape, intList(n.input(1)));
    // Computed sizes may hold -1 too.
    ONNXOPT_ASSIGN_OR_RETURN(auto neg,
                             step("Equal", {shape, ints({-1}, true)}));
    ONNXOPT_ASSIGN_OR_RETURN(shape,
                             step("Where", {neg, ints({1}, true), shape}));
  }
  return result(n, "Expand", {x, shape});
}

// aten::pad, aten::constant_pad_nd, aten::reflection_pad1d,
// aten::reflection_pad2d, aten::reflection_pad3d, aten::replication_pad1d,
// aten::replication_pad2d, aten::replication_pad3d
std::optional<absl::Status> Lowering::lowerPad(jit::Node &n,
                                               const std::string &kind) {
  if (!(kind == "aten::pad" || kind == "aten::constant_pad_nd" ||
        startsWith(kind, "aten::reflection_pad") ||
        startsWith(kind, "aten::replication_pad")))
    return std::nullopt;
  // torch's pad list runs from the last dim backwards, (begin, end) pairs;
  // ONNX wants all begins then all ends, first dim first.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto rank = rankOf(n.input(0));
  if (!rank)
    return unsupported(n, "unknown rank");
  std::string mode = "constant";
  if (startsWith(kind, "aten::reflection_pad"))
    mode = "reflect";
  else if (startsWith(kind, "aten::replication_pad"))
    mode = "edge";
  else if (kind == "aten::pad") {
    auto m = constant(n.input(2));
    if (m && m->isString())
      mode = m->toStringRef() == "replicate"  ? "edge"
             : m->toStringRef() == "reflect"  ? "reflect"
             : m->toStringRef() == "circular" ? "circular"
                                              : m->toStringRef();
    if (mode != "constant" && mode != "reflect" && mode != "edge")
      return unsupported(n, "mode '" + mode + "'");
  }
  Value *pads = nullptr;
  if (auto p = intsOf(n.input(1))) {
    if (p->size() % 2 || int64_t(p->size() / 2) > *rank)
      return unsupported(n, "a pad list longer than the rank");
    std::vector<int64_t> onnx(size_t(2 * *rank), 0);
    for (size_t i = 0; i < p->size() / 2; ++i) {
      size_t dim = size_t(*rank) - 1 - i;
      onnx[dim] = (*p)[2 * i];
      onnx[dim + size_t(*rank)] = (*p)[2 * i + 1];
    }
    pads = ints(onnx);
  } else {
    auto node = n.input(1)->node();
    size_t count =
        node->kind().toQualString() == std::string("prim::ListConstruct")
            ? node->inputs().size()
            : 0;
    if (count == 0 || count % 2 || int64_t(count / 2) > *rank)
      return unsupported(n, "a pad list of unknown length");
    ONNXOPT_ASSIGN_OR_RETURN(auto list, intList(n.input(1)));
    int64_t k = int64_t(count / 2), lead = *rank - k;
    std::vector<int64_t> begins, ends;
    for (int64_t i = k - 1; i >= 0; --i) {
      begins.push_back(2 * i);
      ends.push_back(2 * i + 1);
    }
    std::vector<Value *> parts;
    std::vector<int64_t> zeros(size_t(lead), 0);
    for (auto *order : {&begins, &ends}) {
      if (lead)
        parts.push_back(ints(zeros));
      ONNXOPT_ASSIGN_OR_RETURN(auto g,
                               step("Gather", {list, ints(*order)},
                                    attrList(Attribute::makeInt("axis", 0))));
      parts.push_back(g);
    }
    ONNXOPT_ASSIGN_OR_RETURN(
        pads, step("Concat", parts, attrList(Attribute::makeInt("axis", 0))));
  }
  std::vector<Value *> ins = {x, pads};
  const jit::Value *value = kind == "aten::pad"               ? n.input(3)
                            : kind == "aten::constant_pad_nd" ? n.input(2)
                                                              : nullptr;
  if (mode == "constant" && value && !isNone(value)) {
    ONNXOPT_ASSIGN_OR_RETURN(auto c, tensor(value, typeOf(x)));
    ONNXOPT_ASSIGN_OR_RETURN(c, cast(c, typeOf(x)));
    ins.push_back(c);
  }
  return result(n, "Pad", ins, attrList(Attribute::makeString("mode", mode)));
}

// aten::masked_fill, aten::masked_fill_
std::optional<absl::Status> Lowering::lowerMaskedFill(jit::Node &n,
                                                      const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto mask, operand(n, 1));
  ONNXOPT_ASSIGN_OR_RETURN(mask, cast(mask, DataType::Bool));
  ONNXOPT_ASSIGN_OR_RETURN(auto v, tensor(n.input(2), typeOf(x)));
  ONNXOPT_ASSIGN_OR_RETURN(v, cast(v, typeOf(x)));
  return result(n, "Where", {mask, v, x});
}

// aten::where
std::optional<absl::Status> Lowering::lowerWhere(jit::Node &n,
                                                 const std::string &) {
  if (n.inputs().size() == 1) {
    // where(cond): the indices of the true entries, one 1-D tensor per dim
    // (as torch.nonzero(cond, as_tuple=True)).
    auto rank = rankOf(n.input(0));
    if (!rank) {
      // The dims the program reads (x[0], unpacking) must exist.
      for (const jit::Use &u : n.output(0)->uses()) {
        std::string k = u.user->kind().toQualString();
        int64_t need = -1;
        if (k == "prim::ListUnpack")
          need = int64_t(u.user->outputs().size());
        else if (k == "aten::__getitem__")
          if (auto i = intOf(u.user->input(1)); i && *i >= 0)
            need = *i + 1;
        if (need < 0) {
          rank.reset();
          break;
        }
        rank = std::max(rank.value_or(0), need);
      }
    }
    if (!rank)
      return unsupported(n, "a condition of unknown rank");
    ONNXOPT_ASSIGN_OR_RETURN(auto c, operand(n, 0));
    ONNXOPT_ASSIGN_OR_RETURN(auto nz, step("NonZero", {c}));
    std::vector<Value *> parts;
    for (int64_t d = 0; d < *rank; ++d) {
      ONNXOPT_ASSIGN_OR_RETURN(auto p,
                               step("Gather", {nz, ints({d}, true)},
                                    attrList(Attribute::makeInt("axis", 0))));
      parts.push_back(p);
    }
    lists_[n.output(0)] = parts;
    return absl::OkStatus();
  }
  if (n.inputs().size() != 3)
    return std::nullopt;
  ONNXOPT_ASSIGN_OR_RETURN(auto c, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(c, cast(c, DataType::Bool));
  ONNXOPT_ASSIGN_OR_RETURN(auto a, operand(n, 1));
  ONNXOPT_ASSIGN_OR_RETURN(auto b, tensor(n.input(2), typeOf(a)));
  if (typeOf(a) != typeOf(b)) {
    DataType to = elementTypeOf(n.output(0)).value_or(typeOf(a));
    ONNXOPT_ASSIGN_OR_RETURN(a, cast(a, to));
    ONNXOPT_ASSIGN_OR_RETURN(b, cast(b, to));
  }
  return result(n, "Where", {c, a, b});
}

// aten::triu, aten::tril
std::optional<absl::Status> Lowering::lowerTriu(jit::Node &n,
                                                const std::string &kind) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto k, tensor(n.input(1), DataType::Int64));
  return result(n, "Trilu", {x, k},
                attrList(Attribute::makeInt("upper", kind == "aten::triu")));
}

// aten::split, aten::split_with_sizes, aten::unsafe_split, aten::unbind,
// aten::tensor_split
std::optional<absl::Status> Lowering::lowerSplit(jit::Node &n,
                                                 const std::string &kind) {
  // Results: a list whose length the outputs' unpacking gives.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  bool unbind = kind == "aten::unbind";
  auto dim = intOf(n.input(unbind ? 1 : 2));
  if (!dim)
    return unsupported(n, "a computed dim");
  size_t count = 0;
  for (const jit::Use &u : n.output(0)->uses())
    if (u.user->kind().toQualString() == std::string("prim::ListUnpack"))
      count = u.user->outputs().size();
  Value *sizes = nullptr;
  if (!unbind) {
    auto s = intsOf(n.input(1));
    const jit::Node *list = n.input(1)->node();
    if (auto held = lists_.find(n.input(1)); !s && held != lists_.end()) {
      // Computed sizes the lowering holds (appended one per image).
      count = held->second.size();
      ONNXOPT_ASSIGN_OR_RETURN(sizes, intList(n.input(1)));
    } else if (!s && list->kind() == c10::prim::ListConstruct) {
      // Computed sizes (one per item of a list built here).
      count = list->inputs().size();
      ONNXOPT_ASSIGN_OR_RETURN(sizes, intList(n.input(1)));
    } else if (!s) {
      return unsupported(n, "computed split sizes");
    } else if (s->size() > 1 || kind == "aten::split_with_sizes" ||
               n.input(1)->type()->kind() == c10::TypeKind::ListType) {
      count = s->size();
      sizes = ints(*s);
    } else {
      // Equal parts of (*s)[0]; the last may be smaller.
      if (!count)
        return unsupported(n, "a split whose parts are not unpacked");
      ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {x}));
      ONNXOPT_ASSIGN_OR_RETURN(auto len,
                               step("Gather", {shape, ints({*dim})},
                                    attrList(Attribute::makeInt("axis", 0))));
      std::vector<int64_t> first(count - 1, (*s)[0]);
      ONNXOPT_ASSIGN_OR_RETURN(
          auto rest, step("Sub", {len, ints({int64_t(count - 1) * (*s)[0]})}));
      ONNXOPT_ASSIGN_OR_RETURN(sizes,
                               step("Concat", {ints(first), rest},
                                    attrList(Attribute::makeInt("axis", 0))));
    }
  }
  if (!count)
    return unsupported(n, "a split whose parts are not unpacked");
  std::vector<Value *> ins = {x};
  if (sizes)
    ins.push_back(sizes);
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, cur_->create("Split", ins, count));
  node->setAttr(Attribute::makeInt("axis", *dim));
  finish(node);
  std::vector<Value *> parts;
  for (size_t i = 0; i < count; ++i) {
    Value *p = node->output(i);
    p->setName(nameOfText("part"));
    if (unbind) {
      ONNXOPT_ASSIGN_OR_RETURN(p, step("Squeeze", {p, ints({*dim})}));
    }
    parts.push_back(p);
  }
  lists_[n.output(0)] = parts;
  return absl::OkStatus();
}

// aten::stack
std::optional<absl::Status> Lowering::lowerStack(jit::Node &n,
                                                 const std::string &) {
  auto dim = intOf(n.input(1));
  if (!dim)
    return unsupported(n, "a computed dim");
  ONNXOPT_ASSIGN_OR_RETURN(auto parts, items(n.input(0), std::nullopt));
  std::vector<Value *> us;
  for (Value *p : parts) {
    ONNXOPT_ASSIGN_OR_RETURN(auto u, step("Unsqueeze", {p, ints({*dim})}));
    us.push_back(u);
  }
  return result(n, "Concat", us, attrList(Attribute::makeInt("axis", *dim)));
}

// aten::roll
std::optional<absl::Status> Lowering::lowerRoll(jit::Node &n,
                                                const std::string &) {
  // (x, shifts, dims): per dim, the last `shift` entries move to the front.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto shifts = intsOf(n.input(1)), dims = intsOf(n.input(2));
  if (!shifts || !dims || shifts->size() != dims->size() || dims->empty())
    return unsupported(n, "computed shifts or a flattening roll");
  for (size_t i = 0; i < dims->size(); ++i) {
    int64_t d = (*dims)[i], s = (*shifts)[i];
    const auto &sh = x->type().shape();
    int64_t k = sh && d < int64_t(sh->size()) ? d : -1;
    if (sh && d < 0)
      k = d + int64_t(sh->size());
    if (k >= 0 && (*sh)[size_t(k)].isConstant() &&
        (*sh)[size_t(k)].value() > 0) {
      // A static length: the split point is a number.
      int64_t len = (*sh)[size_t(k)].value();
      int64_t p = ((len - s % len) % len + len) % len;
      ONNXOPT_ASSIGN_OR_RETURN(
          auto tail, step("Slice", {x, ints({p}),
                                    ints({std::numeric_limits<int64_t>::max()}),
                                    ints({d})}));
      ONNXOPT_ASSIGN_OR_RETURN(
          auto head, step("Slice", {x, ints({0}), ints({p}), ints({d})}));
      ONNXOPT_ASSIGN_OR_RETURN(x,
                               step("Concat", {tail, head},
                                    attrList(Attribute::makeInt("axis", d))));
      continue;
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {x}));
    ONNXOPT_ASSIGN_OR_RETURN(auto len,
                             step("Gather", {shape, ints({d})},
                                  attrList(Attribute::makeInt("axis", 0))));
    // split point p = (len - s mod len) mod len, s taken mod len first.
    ONNXOPT_ASSIGN_OR_RETURN(auto sm, step("Mod", {ints({s}), len}));
    ONNXOPT_ASSIGN_OR_RETURN(auto p, step("Sub", {len, sm}));
    ONNXOPT_ASSIGN_OR_RETURN(p, step("Mod", {p, len}));
    ONNXOPT_ASSIGN_OR_RETURN(
        auto tail,
        step("Slice",
             {x, p, ints({std::numeric_limits<int64_t>::max()}), ints({d})}));
    ONNXOPT_ASSIGN_OR_RETURN(auto head,
                             step("Slice", {x, ints({0}), p, ints({d})}));
    ONNXOPT_ASSIGN_OR_RETURN(x, step("Concat", {tail, head},
                                     attrList(Attribute::makeInt("axis", d))));
  }
  alias(n, x);
  return absl::OkStatus();
}

// aten::to, aten::type_as, aten::float, aten::long, aten::int, aten::bool,
// aten::half, aten::double
std::optional<absl::Status> Lowering::lowerConversion(jit::Node &n,
                                                      const std::string &kind) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  std::optional<DataType> to;
  if (kind == "aten::type_as") {
    ONNXOPT_ASSIGN_OR_RETURN(auto other, operand(n, 1));
    to = typeOf(other);
  } else if (kind != "aten::to") {
    std::string t = kind.substr(6);
    to = t == "float"  ? DataType::Float
         : t == "long" ? DataType::Int64
         : t == "int"  ? DataType::Int32
         : t == "bool" ? DataType::Bool
         : t == "half" ? DataType::Float16
                       : DataType::Double;
  } else if (n.input(1)->type()->kind() == c10::TypeKind::TensorType) {
    ONNXOPT_ASSIGN_OR_RETURN(auto other, operand(n, 1));
    to = typeOf(other);
  } else {
    // to(dtype, ...) or to(device, dtype, ...): the first int argument.
    for (size_t i = 1; i < n.inputs().size() && i < 3; ++i)
      if (auto k = intOf(n.input(i));
          k && n.input(i)->type()->kind() != c10::TypeKind::BoolType) {
        to = dtypeArg(n.input(i), typeOf(x));
        break;
      }
    if (!to)
      to = elementTypeOf(n.output(0)).value_or(typeOf(x));
  }
  if (!to)
    return unsupported(n, "an unknown dtype");
  ONNXOPT_ASSIGN_OR_RETURN(auto y, cast(x, *to));
  alias(n, y);
  return absl::OkStatus();
}

// aten::index_select
std::optional<absl::Status> Lowering::lowerIndexSelect(jit::Node &n,
                                                       const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dim = intOf(n.input(1));
  ONNXOPT_ASSIGN_OR_RETURN(auto idx, tensor(n.input(2), DataType::Int64));
  if (!dim)
    return unsupported(n, "a computed dim");
  return result(n, "Gather", {x, idx},
                attrList(Attribute::makeInt("axis", *dim)));
}

// torchvision::nms(boxes [N, 4] as x1 y1 x2 y2, scores [N], iou_threshold):
// the kept boxes' indices by decreasing score. ONNX NonMaxSuppression on one
// batch and one class (boxes [1, N, 4], scores [1, 1, N], every box may be
// kept, no score threshold) selects (batch, class, box) rows in the same
// order; their box column is the result.
std::optional<absl::Status> Lowering::lowerNms(jit::Node &n,
                                               const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto boxes, tensor(n.input(0), DataType::Float));
  ONNXOPT_ASSIGN_OR_RETURN(auto scores, tensor(n.input(1), DataType::Float));
  auto iou = numberOf(n.input(2));
  if (!iou)
    return unsupported(n, "a computed IoU threshold");
  ONNXOPT_ASSIGN_OR_RETURN(auto b, step("Unsqueeze", {boxes, ints({0})}));
  ONNXOPT_ASSIGN_OR_RETURN(auto s, step("Unsqueeze", {scores, ints({0, 1})}));
  ONNXOPT_ASSIGN_OR_RETURN(
      auto sel, step("NonMaxSuppression",
                     {b, s, ints({std::numeric_limits<int64_t>::max()}),
                      scalar(*iou, DataType::Float)}));
  return result(n, "Gather", {sel, ints({2}, true)},
                attrList(Attribute::makeInt("axis", 1)));
}

// torchvision::roi_align(x, rois [K, 5] as batch x1 y1 x2 y2, spatial_scale,
// pooled_height, pooled_width, sampling_ratio, aligned): ONNX RoiAlign
// (average mode) with the batch column apart; `aligned` shifts the box by
// half a pixel, which is RoiAlign's half_pixel transformation.
std::optional<absl::Status> Lowering::lowerRoiAlign(jit::Node &n,
                                                    const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(auto rois, tensor(n.input(1), typeOf(x)));
  auto scale = numberOf(n.input(2));
  auto h = intOf(n.input(3)), w = intOf(n.input(4));
  auto ratio = intOf(n.input(5));
  auto aligned = boolOf(n.input(6));
  if (!scale || !h || !w || !ratio || !aligned)
    return unsupported(n, "computed pooling parameters");
  ONNXOPT_ASSIGN_OR_RETURN(auto batch,
                           step("Gather", {rois, ints({0}, true)},
                                attrList(Attribute::makeInt("axis", 1))));
  ONNXOPT_ASSIGN_OR_RETURN(batch, cast(batch, DataType::Int64));
  ONNXOPT_ASSIGN_OR_RETURN(
      auto boxes, step("Slice", {rois, ints({1}), ints({5}), ints({1})}));
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, emit("RoiAlign", {x, boxes, batch}, n));
  node->setAttr(
      Attribute::makeString("coordinate_transformation_mode",
                            *aligned ? "half_pixel" : "output_half_pixel"));
  node->setAttr(Attribute::makeString("mode", "avg"));
  node->setAttr(Attribute::makeInt("output_height", *h));
  node->setAttr(Attribute::makeInt("output_width", *w));
  node->setAttr(
      Attribute::makeInt("sampling_ratio", std::max<int64_t>(*ratio, 0)));
  node->setAttr(Attribute::makeFloat("spatial_scale", float(*scale)));
  finish(node);
  tensors_[n.output(0)] = node->output(0);
  return absl::OkStatus();
}

// aten::copy_(view, src) where the view is a chain of select/slice (step 1)
// of a tensor the lowering holds: `base[i, :h, :w] = src` (torchvision's
// batch_images). The base becomes Where(region, src padded to its shape,
// base); the region is a padded block of ones.
std::optional<absl::Status> Lowering::lowerCopyInto(jit::Node &n,
                                                    const std::string &) {
  // The chain, from the view back to its base.
  std::vector<const jit::Node *> chain;
  const jit::Value *base = n.input(0);
  while (base->node()->kind() == c10::aten::select ||
         base->node()->kind() == c10::aten::slice) {
    if (base->uses().size() != 1)
      return unsupported(n, "a view that is also read elsewhere");
    chain.push_back(base->node());
    base = base->node()->input(0);
  }
  if (chain.empty())
    return unsupported(n,
                       "a copy into a tensor that is not a select/slice view");
  if (!inPlaceOf(n, base))
    return unsupported(n,
                       "a copy into a view of a tensor made on another path");
  ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(base));
  auto rank = rankOf(base);
  if (!rank && x->type().shape())
    rank = int64_t(x->type().shape()->size());
  if (!rank)
    return unsupported(n, "a view of a tensor of unknown rank");
  // Per dim of the base: the region's start and end (unset: the whole dim),
  // folded where known at import time so that the merged tensor keeps a
  // static shape (a batch made by filling a constant of zeros).
  struct Int {
    std::optional<int64_t> known;
    Value *computed = nullptr;
  };
  auto valueOf = [&](const Int &i) {
    return i.computed ? i.computed : ints({*i.known});
  };
  auto binary = [&](std::string_view op, const Int &a,
                    const Int &b) -> absl::StatusOr<Int> {
    if (a.known && b.known)
      return Int{op == "Min"   ? std::min(*a.known, *b.known)
                 : op == "Sub" ? *a.known - *b.known
                               : *a.known + *b.known};
    ONNXOPT_ASSIGN_OR_RETURN(auto v, step(op, {valueOf(a), valueOf(b)}));
    return Int{std::nullopt, v};
  };
  Value *shape = nullptr;
  auto length = [&](int64_t d) -> absl::StatusOr<Int> {
    const auto &dims = x->type().shape();
    if (dims && (*dims)[size_t(d)].isConstant())
      return Int{(*dims)[size_t(d)].value()};
    if (!shape) {
      ONNXOPT_ASSIGN_OR_RETURN(shape, step("Shape", {x}));
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto v,
                             step("Gather", {shape, ints({d})},
                                  attrList(Attribute::makeInt("axis", 0))));
    return Int{std::nullopt, v};
  };
  std::vector<std::optional<Int>> starts(static_cast<size_t>(*rank)),
      ends(static_cast<size_t>(*rank));
  std::vector<int64_t> selected;
  std::vector<int64_t> viewDims;
  for (int64_t d = 0; d < *rank; ++d)
    viewDims.push_back(d);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const jit::Node *v = *it;
    auto dim = intOf(v->input(1));
    int64_t vr = int64_t(viewDims.size());
    if (!dim || *dim < -vr || *dim >= vr)
      return unsupported(n, "a view on a computed or out-of-range dim");
    int64_t bd = viewDims[size_t(*dim < 0 ? *dim + vr : *dim)];
    if (starts[size_t(bd)])
      return unsupported(n, "two views of one dim");
    auto index = [&](const jit::Value *i, int64_t dflt) -> absl::StatusOr<Int> {
      if (isNone(i))
        return Int{dflt};
      if (auto c = intOf(i)) {
        if (*c < 0)
          return absl::InvalidArgumentError("negative");
        return Int{*c};
      }
      ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(i, DataType::Int64));
      ONNXOPT_ASSIGN_OR_RETURN(t, cast(t, DataType::Int64));
      ONNXOPT_ASSIGN_OR_RETURN(t, asVector(t));
      return Int{std::nullopt, t};
    };
    if (v->kind() == c10::aten::select) {
      auto s = index(v->input(2), 0);
      if (!s.ok())
        return unsupported(n, "a negative select index");
      starts[size_t(bd)] = *s;
      ONNXOPT_ASSIGN_OR_RETURN(ends[size_t(bd)], binary("Add", *s, Int{1}));
      selected.push_back(bd);
      viewDims.erase(viewDims.begin() + (*dim < 0 ? *dim + vr : *dim));
      continue;
    }
    if (intOf(v->input(4)) != 1)
      return unsupported(n, "a strided slice view");
    auto s = index(v->input(2), 0);
    auto e = index(v->input(3), std::numeric_limits<int64_t>::max());
    if (!s.ok() || !e.ok())
      return unsupported(n, "a slice view with negative bounds");
    ONNXOPT_ASSIGN_OR_RETURN(auto len, length(bd));
    // As torch clamps: end to the dim's length, start to the end.
    ONNXOPT_ASSIGN_OR_RETURN(ends[size_t(bd)], binary("Min", *e, len));
    ONNXOPT_ASSIGN_OR_RETURN(starts[size_t(bd)],
                             binary("Min", *s, *ends[size_t(bd)]));
  }
  // The region's shape, src broadcast to it, and the pads around it.
  std::vector<Int> sizes, before, after;
  for (int64_t d = 0; d < *rank; ++d) {
    ONNXOPT_ASSIGN_OR_RETURN(auto len, length(d));
    if (!starts[size_t(d)]) {
      sizes.push_back(len);
      before.push_back(Int{0});
      after.push_back(Int{0});
      continue;
    }
    ONNXOPT_ASSIGN_OR_RETURN(
        auto size, binary("Sub", *ends[size_t(d)], *starts[size_t(d)]));
    ONNXOPT_ASSIGN_OR_RETURN(auto rest, binary("Sub", len, *ends[size_t(d)]));
    sizes.push_back(size);
    before.push_back(*starts[size_t(d)]);
    after.push_back(rest);
  }
  auto concat = [&](const std::vector<Int> &parts) -> absl::StatusOr<Value *> {
    std::vector<int64_t> known;
    for (const Int &p : parts)
      if (p.known)
        known.push_back(*p.known);
    if (known.size() == parts.size())
      return ints(known);
    std::vector<Value *> values;
    for (const Int &p : parts)
      values.push_back(valueOf(p));
    return step("Concat", values, attrList(Attribute::makeInt("axis", 0)));
  };
  ONNXOPT_ASSIGN_OR_RETURN(auto regionShape, concat(sizes));
  std::vector<Int> padParts = before;
  padParts.insert(padParts.end(), after.begin(), after.end());
  ONNXOPT_ASSIGN_OR_RETURN(auto pads, concat(padParts));
  ONNXOPT_ASSIGN_OR_RETURN(auto src, tensor(n.input(1), typeOf(x)));
  ONNXOPT_ASSIGN_OR_RETURN(src, cast(src, typeOf(x)));
  if (!selected.empty()) {
    std::sort(selected.begin(), selected.end());
    ONNXOPT_ASSIGN_OR_RETURN(src, step("Unsqueeze", {src, ints(selected)}));
  }
  ONNXOPT_ASSIGN_OR_RETURN(src, step("Expand", {src, regionShape}));
  ONNXOPT_ASSIGN_OR_RETURN(auto padded, step("Pad", {src, pads}));
  ONNXOPT_ASSIGN_OR_RETURN(auto ones,
                           filled(regionShape, scalar(1, DataType::Float)));
  ONNXOPT_ASSIGN_OR_RETURN(auto region, step("Pad", {ones, pads}));
  ONNXOPT_ASSIGN_OR_RETURN(region, cast(region, DataType::Bool));
  ONNXOPT_ASSIGN_OR_RETURN(auto merged, step("Where", {region, padded, x}));
  // From here on the base is the merged tensor (also when it was a constant).
  consts_.erase(base);
  constTensors_.erase(base);
  tensors_[base] = merged;
  alias(n, src);
  return absl::OkStatus();
}

// aten::scatter(x, dim, index, src | value)
std::optional<absl::Status> Lowering::lowerScatter(jit::Node &n,
                                                   const std::string &) {
  if (n.inputs().size() != 4)
    return unsupported(n, "a reducing scatter");
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dim = intOf(n.input(1));
  if (!dim)
    return unsupported(n, "a computed dim");
  ONNXOPT_ASSIGN_OR_RETURN(auto idx, tensor(n.input(2), DataType::Int64));
  ONNXOPT_ASSIGN_OR_RETURN(idx, cast(idx, DataType::Int64));
  ONNXOPT_ASSIGN_OR_RETURN(auto src, tensor(n.input(3), typeOf(x)));
  ONNXOPT_ASSIGN_OR_RETURN(src, cast(src, typeOf(x)));
  if (n.input(3)->type()->kind() != c10::TypeKind::TensorType) {
    ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {idx}));
    ONNXOPT_ASSIGN_OR_RETURN(src, step("Expand", {src, shape}));
  }
  return result(n, "ScatterElements", {x, idx, src},
                attrList(Attribute::makeInt("axis", *dim)));
}

// aten::gather
std::optional<absl::Status> Lowering::lowerGather(jit::Node &n,
                                                  const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dim = intOf(n.input(1));
  ONNXOPT_ASSIGN_OR_RETURN(auto idx, operand(n, 2));
  if (!dim)
    return unsupported(n, "a computed dim");
  return result(n, "GatherElements", {x, idx},
                attrList(Attribute::makeInt("axis", *dim)));
}

// aten::index
std::optional<absl::Status> Lowering::lowerIndex(jit::Node &n,
                                                 const std::string &) {
  // x[i0, i1, ...] with one index tensor (None skips a dim): integer indices
  // are a Gather on their dim; a 1-D bool mask a Compress on its dim; a bool
  // mask over all of x's dims (x[mask]) the GatherND of its NonZero rows.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  // The index list: a constant list (None or tensors), or one the
  // lowering holds (items nullptr for None).
  std::vector<Value *> idxs;
  if (auto c = constant(n.input(1)); c && c->isList()) {
    for (const c10::IValue &e : c->toListRef())
      idxs.push_back(e.isNone()
                         ? nullptr
                         : initializer(nameOfText("index"), e.toTensor()));
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(idxs, items(n.input(1), std::nullopt));
  }
  std::optional<size_t> dim;
  size_t count = 0;
  for (size_t i = 0; i < idxs.size(); ++i)
    if (idxs[i]) {
      dim = dim ? dim : i;
      ++count;
    }
  if (!dim)
    return unsupported(n, "no index tensor");
  if (count > 1) {
    // x[i0, i1, ...] on the leading dims: the indices broadcast together
    // and stacked on a last axis pick GatherND's slices.
    if (*dim != 0 || count != idxs.size())
      return unsupported(n, "index tensors that are not the leading dims");
    Value *any = nullptr;
    for (Value *&i : idxs) {
      if (typeOf(i) == DataType::Bool || typeOf(i) == DataType::UInt8)
        return unsupported(n, "a boolean mask among several indices");
      ONNXOPT_ASSIGN_OR_RETURN(i, cast(i, DataType::Int64));
      if (any) {
        ONNXOPT_ASSIGN_OR_RETURN(any, step("Add", {any, i}));
      } else {
        any = i;
      }
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {any}));
    std::vector<Value *> cols;
    for (Value *i : idxs) {
      ONNXOPT_ASSIGN_OR_RETURN(auto e, step("Expand", {i, shape}));
      ONNXOPT_ASSIGN_OR_RETURN(e, step("Unsqueeze", {e, ints({-1})}));
      cols.push_back(e);
    }
    ONNXOPT_ASSIGN_OR_RETURN(
        auto at,
        step("Concat", cols, attrList(Attribute::makeInt("axis", -1))));
    return result(n, "GatherND", {x, at});
  }
  Value *idx = idxs[*dim];
  DataType it = typeOf(idx);
  if (it == DataType::Bool || it == DataType::UInt8) {
    const auto &ms = idx->type().shape();
    if (!ms)
      return unsupported(n, "a boolean mask of unknown rank");
    ONNXOPT_ASSIGN_OR_RETURN(idx, cast(idx, DataType::Bool));
    if (ms->size() == 1)
      return result(n, "Compress", {x, idx},
                    attrList(Attribute::makeInt("axis", int64_t(*dim))));
    auto rank = rankOf(n.input(0));
    if (*dim != 0 || !rank || int64_t(ms->size()) != *rank)
      return unsupported(n, "a boolean mask over some of the dims");
    ONNXOPT_ASSIGN_OR_RETURN(auto nz, step("NonZero", {idx}));
    ONNXOPT_ASSIGN_OR_RETURN(auto rows, step("Transpose", {nz}));
    return result(n, "GatherND", {x, rows});
  }
  ONNXOPT_ASSIGN_OR_RETURN(idx, cast(idx, DataType::Int64));
  return result(n, "Gather", {x, idx},
                attrList(Attribute::makeInt("axis", int64_t(*dim))));
}

// aten::repeat
std::optional<absl::Status> Lowering::lowerRepeat(jit::Node &n,
                                                  const std::string &) {
  // Repeats longer than the rank repeat new leading dims of size 1.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto rank = rankOf(n.input(0));
  std::optional<int64_t> count;
  if (auto r = intsOf(n.input(1)))
    count = int64_t(r->size());
  else if (const jit::Node *p = n.input(1)->node();
           p->kind() == c10::prim::ListConstruct)
    count = int64_t(p->inputs().size());
  if (!rank || !count || *count < *rank)
    return unsupported(n, "repeats shorter than the rank or of unknown length");
  ONNXOPT_ASSIGN_OR_RETURN(auto reps, intList(n.input(1)));
  if (*count > *rank) {
    std::vector<int64_t> lead;
    for (int64_t i = 0; i < *count - *rank; ++i)
      lead.push_back(i);
    ONNXOPT_ASSIGN_OR_RETURN(x, step("Unsqueeze", {x, ints(lead)}));
  }
  return result(n, "Tile", {x, reps});
}

// aten::_shape_as_tensor (traced x.shape read as a tensor)
std::optional<absl::Status> Lowering::lowerShapeAsTensor(jit::Node &n,
                                                         const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  return result(n, "Shape", {x});
}

// aten::meshgrid
std::optional<absl::Status> Lowering::lowerMeshgrid(jit::Node &n,
                                                    const std::string &) {
  // Result i: 1-D input i reshaped to have its length on dim i (dims 0 and
  // 1 swapped for indexing="xy") and 1 elsewhere, expanded to the lengths
  // of all inputs.
  ONNXOPT_ASSIGN_OR_RETURN(auto parts, items(n.input(0), std::nullopt));
  bool xy = false;
  if (n.inputs().size() > 1) {
    auto c = constant(n.input(1));
    if (!c || !c->isString())
      return unsupported(n, "a computed indexing");
    if (c->toStringRef() != "ij" && c->toStringRef() != "xy")
      return unsupported(n, "indexing '" + c->toStringRef() + "'");
    xy = c->toStringRef() == "xy" && parts.size() > 1;
  }
  std::vector<Value *> lengths;
  for (Value *p : parts) {
    if (!p->type().shape() || p->type().shape()->size() > 1)
      return unsupported(n, "an operand that is not 1-D or 0-d");
    ONNXOPT_ASSIGN_OR_RETURN(auto s, step("Shape", {p}));
    if (p->type().shape()->empty())
      s = ints({1});
    lengths.push_back(s);
  }
  if (xy)
    std::swap(lengths[0], lengths[1]);
  ONNXOPT_ASSIGN_OR_RETURN(
      auto full,
      step("Concat", lengths, attrList(Attribute::makeInt("axis", 0))));
  std::vector<Value *> outs;
  for (size_t i = 0; i < parts.size(); ++i) {
    size_t at = xy && i < 2 ? 1 - i : i;
    std::vector<int64_t> shape(parts.size(), 1);
    shape[at] = -1;
    ONNXOPT_ASSIGN_OR_RETURN(auto r, step("Reshape", {parts[i], ints(shape)}));
    ONNXOPT_ASSIGN_OR_RETURN(auto e, step("Expand", {r, full}));
    outs.push_back(e);
  }
  lists_[n.output(0)] = outs;
  return absl::OkStatus();
}

// aten::topk
std::optional<absl::Status> Lowering::lowerTopk(jit::Node &n,
                                                const std::string &) {
  // (x, k, dim, largest, sorted) -> (values, indices); k may be computed.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dim = intOf(n.input(2));
  auto largest = boolOf(n.input(3)), sorted = boolOf(n.input(4));
  if (!dim || !largest || !sorted)
    return unsupported(n, "a computed dim, largest or sorted");
  Value *k = nullptr;
  if (auto kc = intOf(n.input(1))) {
    k = ints({*kc});
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(auto kt, tensor(n.input(1), DataType::Int64));
    ONNXOPT_ASSIGN_OR_RETURN(kt, cast(kt, DataType::Int64));
    ONNXOPT_ASSIGN_OR_RETURN(k, step("Reshape", {kt, ints({1})}));
  }
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, emit("TopK", {x, k}, n, 2));
  node->setAttr(Attribute::makeInt("axis", *dim));
  node->setAttr(Attribute::makeInt("largest", *largest));
  node->setAttr(Attribute::makeInt("sorted", *sorted));
  node->output(1)->setType(Type::tensor(DataType::Int64));
  finish(node);
  tensors_[n.output(0)] = node->output(0);
  tensors_[n.output(1)] = node->output(1);
  return absl::OkStatus();
}

// aten::sort, aten::argsort: TopK over the whole dim (ties keep their
// order, which torch's unstable sort leaves open).
std::optional<absl::Status> Lowering::lowerSort(jit::Node &n,
                                                const std::string &kind) {
  // sort(x, dim, descending), sort.stable(x, stable, dim, descending),
  // argsort(x, dim, descending).
  size_t first = n.inputs().size() == 4 ? 2 : 1;
  if (n.inputs().size() < first + 2)
    return std::nullopt;
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dim = intOf(n.input(first));
  auto descending = boolOf(n.input(first + 1));
  auto rank = rankOf(n.input(0));
  if (!rank && x->type().shape())
    rank = int64_t(x->type().shape()->size());
  if (!dim || !descending || !rank)
    return unsupported(n, "a computed dim or order, or an unknown rank");
  int64_t d = *dim < 0 ? *dim + *rank : *dim;
  if (d < 0 || d >= std::max<int64_t>(*rank, 1))
    return unsupported(n, "a dim out of range");
  Value *k = nullptr;
  const auto &dims = x->type().shape();
  if (*rank == 0) {
    k = ints({1});
  } else if (dims && (*dims)[size_t(d)].isConstant()) {
    k = ints({(*dims)[size_t(d)].value()});
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {x}));
    ONNXOPT_ASSIGN_OR_RETURN(k, step("Gather", {shape, ints({d})},
                                     attrList(Attribute::makeInt("axis", 0))));
  }
  if (*rank == 0) {
    // A 0-d tensor sorts to itself; its index is 0.
    if (kind == "aten::argsort")
      return result(n, "Identity", {ints({0}, true)});
    tensors_[n.output(0)] = x;
    tensors_[n.output(1)] = ints({0}, true);
    return absl::OkStatus();
  }
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, cur_->create("TopK", {x, k}, 2));
  node->setAttr(Attribute::makeInt("axis", d));
  node->setAttr(Attribute::makeInt("largest", *descending));
  node->setAttr(Attribute::makeInt("sorted", 1));
  node->output(0)->setName(nameOfText("sorted"));
  node->output(1)->setName(nameOfText("order"));
  node->output(1)->setType(Type::tensor(DataType::Int64));
  finish(node);
  if (kind == "aten::argsort") {
    alias(n, node->output(1));
    return absl::OkStatus();
  }
  tensors_[n.output(0)] = node->output(0);
  tensors_[n.output(1)] = node->output(1);
  return absl::OkStatus();
}

// aten::_unique2(x, sorted, return_inverse, return_counts): ONNX Unique of
// the flattened tensor, sorted (torch leaves an unsorted result's order
// open), the inverse indices in x's shape.
std::optional<absl::Status> Lowering::lowerUnique(jit::Node &n,
                                                  const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  ONNXOPT_ASSIGN_OR_RETURN(Node * node, cur_->create("Unique", {x}, 4));
  node->setAttr(Attribute::makeInt("sorted", 1));
  const char *names[] = {"unique", "first", "inverse", "counts"};
  for (size_t i = 0; i < 4; ++i)
    node->output(i)->setName(nameOfText(names[i]));
  finish(node);
  tensors_[n.output(0)] = node->output(0);
  ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {x}));
  ONNXOPT_ASSIGN_OR_RETURN(auto inverse,
                           step("Reshape", {node->output(2), shape}));
  tensors_[n.output(1)] = inverse;
  tensors_[n.output(2)] = node->output(3);
  return absl::OkStatus();
}

// aten::index_put_, aten::index_put (x[idx] = v, written into a fresh tensor
// or one a loop carries: carryLoopWrites): integer indices on dim 0 scatter
// (ScatterND, adding with accumulate); a bool mask of x's shape selects
// (Where).
std::optional<absl::Status> Lowering::lowerIndexPut(jit::Node &n,
                                                    const std::string &kind) {
  // The lowering makes a new tensor: a write in place is that only when
  // nothing reads the old one after it (what carryLoopWrites and libtorch's
  // mutation removal arrange) and no other view shares its storage (a fresh
  // tensor, or one a loop carries).
  if (kind == "aten::index_put_") {
    const jit::Value *x = n.input(0);
    // (A loop-carried value, or the previous write's result: carryLoopWrites.)
    bool fresh = x->node()->kind() == c10::prim::Param ||
                 x->node()->kind() == c10::aten::index_put_ ||
                 makesFreshTensor(*x->node());
    bool readAfter =
        std::any_of(x->uses().begin(), x->uses().end(), [&](const jit::Use &u) {
          return u.user != &n && u.user->isAfter(&n);
        });
    if (!fresh || readAfter)
      return unsupported(n, "a write into a tensor that is read again or "
                            "shares storage with another view");
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  std::vector<Value *> idxs;
  ONNXOPT_ASSIGN_OR_RETURN(idxs, items(n.input(1), std::nullopt));
  auto accumulate = boolOf(n.input(3));
  if (idxs.size() != 1 || !idxs[0] || !accumulate)
    return unsupported(n, "indices other than one tensor for dim 0");
  ONNXOPT_ASSIGN_OR_RETURN(auto v, tensor(n.input(2), typeOf(x)));
  ONNXOPT_ASSIGN_OR_RETURN(v, cast(v, typeOf(x)));
  Value *idx = idxs[0];
  DataType it = typeOf(idx);
  if (it == DataType::Bool || it == DataType::UInt8) {
    auto xr = rankOf(n.input(0));
    const auto &ms = idx->type().shape();
    if (*accumulate || !xr || !ms || int64_t(ms->size()) != *xr)
      return unsupported(n, "a bool mask not of the tensor's rank");
    const auto &vs = v->type().shape();
    if (!vs || std::any_of(vs->begin(), vs->end(), [](const Dim &d) {
          return !d.isConstant() || d.value() != 1;
        }))
      return unsupported(n, "a bool mask with more than one value");
    ONNXOPT_ASSIGN_OR_RETURN(idx, cast(idx, DataType::Bool));
    ONNXOPT_ASSIGN_OR_RETURN(v, step("Reshape", {v, ints({})}));
    return result(n, "Where", {idx, v, x});
  }
  ONNXOPT_ASSIGN_OR_RETURN(idx, cast(idx, DataType::Int64));
  // Negative indices count from the end, as torch reads them.
  ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {x}));
  ONNXOPT_ASSIGN_OR_RETURN(auto len,
                           step("Gather", {shape, ints({0}, true)},
                                attrList(Attribute::makeInt("axis", 0))));
  ONNXOPT_ASSIGN_OR_RETURN(auto neg, step("Less", {idx, ints({0}, true)}));
  ONNXOPT_ASSIGN_OR_RETURN(auto wrapped, step("Add", {idx, len}));
  ONNXOPT_ASSIGN_OR_RETURN(idx, step("Where", {neg, wrapped, idx}));
  // Updates: v broadcast to idx's shape followed by x's trailing dims.
  ONNXOPT_ASSIGN_OR_RETURN(auto idxShape, step("Shape", {idx}));
  ONNXOPT_ASSIGN_OR_RETURN(
      auto rest, step("Slice", {shape, ints({1}), ints({INT64_MAX})}));
  ONNXOPT_ASSIGN_OR_RETURN(auto updShape,
                           step("Concat", {idxShape, rest},
                                attrList(Attribute::makeInt("axis", 0))));
  ONNXOPT_ASSIGN_OR_RETURN(auto upd, step("Expand", {v, updShape}));
  ONNXOPT_ASSIGN_OR_RETURN(auto at, step("Unsqueeze", {idx, ints({-1})}));
  std::vector<Attribute> attrs;
  if (*accumulate)
    attrs.push_back(Attribute::makeString("reduction", "add"));
  return result(n, "ScatterND", {x, at, upd}, std::move(attrs));
}

// aten::flip
std::optional<absl::Status> Lowering::lowerFlip(jit::Node &n,
                                                const std::string &) {
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  auto dims = intsOf(n.input(1));
  if (!dims)
    return unsupported(n, "computed dims");
  std::vector<int64_t> starts(dims->size(), -1),
      ends(dims->size(), std::numeric_limits<int64_t>::min()),
      steps(dims->size(), -1);
  return result(n, "Slice",
                {x, ints(starts), ints(ends), ints(*dims), ints(steps)});
}

// aten::upsample_nearest2d, aten::upsample_bilinear2d,
// aten::upsample_nearest1d, aten::upsample_linear1d, aten::upsample_bicubic2d
std::optional<absl::Status> Lowering::lowerUpsample(jit::Node &n,
                                                    const std::string &kind) {
  // .vec overloads: (x, output_size?, [align_corners,] scale_factors?).
  ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
  bool nearest = kind.find("nearest") != std::string::npos;
  bool cubic = kind.find("bicubic") != std::string::npos;
  bool align = !nearest && boolOf(n.input(2)).value_or(false);
  const jit::Value *scales = n.input(nearest ? 2 : 3);
  auto rank = rankOf(n.input(0));
  if (!rank)
    return unsupported(n, "unknown rank");
  std::vector<Value *> ins = {x, nullptr};
  if (!isNone(n.input(1))) {
    ONNXOPT_ASSIGN_OR_RETURN(auto size, intList(n.input(1)));
    ONNXOPT_ASSIGN_OR_RETURN(auto shape, step("Shape", {x}));
    ONNXOPT_ASSIGN_OR_RETURN(auto lead,
                             step("Slice", {shape, ints({0}), ints({2})}));
    ONNXOPT_ASSIGN_OR_RETURN(
        auto full,
        step("Concat", {lead, size}, attrList(Attribute::makeInt("axis", 0))));
    ins.push_back(nullptr);
    ins.push_back(full);
  } else {
    auto c = constant(scales);
    if (!c || !c->isDoubleList())
      return unsupported(n, "computed scale factors");
    std::vector<float> f = {1.0f, 1.0f};
    for (double d : c->toDoubleVector())
      f.push_back(float(d));
    ins.push_back(initializer(nameOfText("scales"), at::tensor(f, at::kFloat)));
  }
  std::string mode = nearest ? "nearest" : cubic ? "cubic" : "linear";
  std::vector<Attribute> attrs =
      attrList(Attribute::makeString("mode", mode),
               Attribute::makeString("coordinate_transformation_mode",
                                     nearest ? "asymmetric"
                                     : align ? "align_corners"
                                             : "pytorch_half_pixel"));
  if (nearest)
    attrs.push_back(Attribute::makeString("nearest_mode", "floor"));
  if (cubic)
    attrs.push_back(Attribute::makeFloat("cubic_coeff_a", -0.75f));
  return result(n, "Resize", ins, std::move(attrs));
}

} // namespace onnxopt::torchscript
