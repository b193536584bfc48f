// Reference kernels for sequences and optionals: Sequence*, SplitToSequence,
// ConcatFromSequence, SequenceMap, Optional*.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

namespace onnxopt::ref {

namespace {

absl::StatusOr<const RefValue *> sequenceInput(KernelContext &ctx, size_t i) {
  const RefValue *v = ctx.value(i);
  if (!v || v->kind != RefValue::Kind::Sequence)
    return ctx.error("input is not a sequence");
  return v;
}

/// A position input: a scalar, negative counting from the end, within
/// [-n, n-1] (or [-n, n] when inserting).
absl::StatusOr<int64_t> position(KernelContext &ctx, size_t i, int64_t n,
                                 int64_t dflt, bool inserting) {
  const Tensor *t = ctx.input(i);
  if (!t)
    return dflt;
  std::vector<int64_t> p = toInt64s(*t);
  if (p.size() != 1)
    return ctx.error("position must be a scalar");
  int64_t v = p[0], hi = inserting ? n : n - 1;
  if (v < -n || v > hi)
    return ctx.error("position out of range");
  return v < 0 ? v + n : v;
}

Type tensorTypeOf(const Tensor &t) { return Type::tensor(t.dtype()); }

absl::Status kSequenceEmpty(KernelContext &ctx) {
  DataType dt = DataType(ctx.attrInt("dtype", int64_t(DataType::Float)));
  ctx.setOutputValue(0, RefValue::ofSequence({}, Type::tensor(dt)));
  return absl::OkStatus();
}

absl::Status kSequenceConstruct(KernelContext &ctx) {
  std::vector<TensorPtr> elems;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    ONNXOPT_RETURN_IF_ERROR(ctx.required(i).status());
    elems.push_back(ctx.inputPtr(i));
  }
  Type t = elems.empty() ? Type() : tensorTypeOf(*elems[0]);
  ctx.setOutputValue(0, RefValue::ofSequence(std::move(elems), t));
  return absl::OkStatus();
}

absl::Status kSequenceAt(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const RefValue *s, sequenceInput(ctx, 0));
  int64_t n = int64_t(s->sequence.size());
  if (!ctx.input(1))
    return ctx.error("position is required");
  ONNXOPT_ASSIGN_OR_RETURN(int64_t p, position(ctx, 1, n, 0, false));
  ctx.setOutput(0, s->sequence[p]);
  return absl::OkStatus();
}

absl::Status kSequenceLength(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const RefValue *s, sequenceInput(ctx, 0));
  ctx.setOutput(0, makeInt64s({int64_t(s->sequence.size())}, {}));
  return absl::OkStatus();
}

absl::Status kSequenceInsert(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const RefValue *s, sequenceInput(ctx, 0));
  ONNXOPT_RETURN_IF_ERROR(ctx.required(1).status());
  int64_t n = int64_t(s->sequence.size());
  ONNXOPT_ASSIGN_OR_RETURN(int64_t p, position(ctx, 2, n, n, true));
  RefValue out = *s;
  out.sequence.insert(out.sequence.begin() + p, ctx.inputPtr(1));
  ctx.setOutputValue(0, std::move(out));
  return absl::OkStatus();
}

absl::Status kSequenceErase(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const RefValue *s, sequenceInput(ctx, 0));
  int64_t n = int64_t(s->sequence.size());
  if (n == 0)
    return ctx.error("cannot erase from an empty sequence");
  ONNXOPT_ASSIGN_OR_RETURN(int64_t p, position(ctx, 1, n, n - 1, false));
  RefValue out = *s;
  out.sequence.erase(out.sequence.begin() + p);
  ctx.setOutputValue(0, std::move(out));
  return absl::OkStatus();
}

absl::Status kConcatFromSequence(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const RefValue *s, sequenceInput(ctx, 0));
  if (s->sequence.empty())
    return ctx.error("cannot concatenate an empty sequence");
  bool newAxis = ctx.attrInt("new_axis", 0);
  int64_t axis = ctx.attrInt("axis", 0);
  std::vector<TensorPtr> holders;
  std::vector<const Tensor *> parts;
  int64_t r = int64_t(s->sequence[0]->dims().size());
  if (newAxis) {
    // Stacking: each element gains a dimension of 1 at `axis`.
    if (!normalizeAxis(axis, r + 1))
      return ctx.error("axis out of range");
    for (const TensorPtr &t : s->sequence) {
      std::vector<int64_t> dims = t->dims();
      if (int64_t(dims.size()) != r)
        return ctx.error("elements differ in rank");
      dims.insert(dims.begin() + axis, 1);
      auto copy = std::make_shared<Tensor>(
          t->dtype() == DataType::String
              ? Tensor::fromStrings(dims, t->strings())
              : Tensor::fromBytes(t->dtype(), dims, std::string(t->bytes())));
      holders.push_back(copy);
      parts.push_back(copy.get());
    }
  } else {
    for (const TensorPtr &t : s->sequence)
      parts.push_back(t.get());
  }
  ONNXOPT_ASSIGN_OR_RETURN(TensorPtr out, concatTensors(ctx, parts, axis));
  ctx.setOutput(0, out);
  return absl::OkStatus();
}

absl::Status kSplitToSequence(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  int64_t r = int64_t(x->dims().size()), axis = ctx.attrInt("axis", 0);
  if (!normalizeAxis(axis, r))
    return ctx.error("axis out of range");
  int64_t len = x->dims()[axis];
  std::vector<int64_t> sizes;
  bool squeeze = false;
  if (const Tensor *sp = ctx.input(1)) {
    std::vector<int64_t> v = toInt64s(*sp);
    if (sp->dims().empty()) { // one chunk size; the last chunk may be smaller
      if (v.at(0) <= 0)
        return ctx.error("split must be positive");
      for (int64_t at = 0; at < len; at += v[0])
        sizes.push_back(std::min(v[0], len - at));
    } else {
      sizes = v;
    }
  } else {
    sizes.assign(size_t(len), 1);
    squeeze = !ctx.attrInt("keepdims", 1);
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto parts, splitTensor(ctx, *x, axis, sizes));
  if (squeeze)
    for (TensorPtr &p : parts) {
      std::vector<int64_t> dims = p->dims();
      dims.erase(dims.begin() + axis);
      p = std::make_shared<Tensor>(
          p->dtype() == DataType::String
              ? Tensor::fromStrings(dims, p->strings())
              : Tensor::fromBytes(p->dtype(), dims, std::string(p->bytes())));
    }
  ctx.setOutputValue(
      0, RefValue::ofSequence(std::move(parts), Type::tensor(x->dtype())));
  return absl::OkStatus();
}

absl::Status kSequenceMap(KernelContext &ctx) {
  const Attribute *a = ctx.node().attr("body");
  if (!a || a->graphs.empty())
    return ctx.error("missing body");
  const Graph &body = *a->graphs[0];
  ONNXOPT_ASSIGN_OR_RETURN(const RefValue *s, sequenceInput(ctx, 0));
  size_t n = s->sequence.size();
  std::vector<std::vector<TensorPtr>> outs(ctx.numOutputs());
  for (size_t i = 0; i < n; ++i) {
    std::vector<RefValue> ins{RefValue::of(s->sequence[i])};
    for (size_t k = 1; k < ctx.numInputs(); ++k) {
      const RefValue *v = ctx.value(k);
      if (!v)
        return ctx.error("an additional input is missing");
      if (v->kind == RefValue::Kind::Sequence) {
        if (v->sequence.size() != n)
          return ctx.error("sequences differ in length");
        ins.push_back(RefValue::of(v->sequence[i]));
      } else {
        ins.push_back(*v);
      }
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto res, ctx.runSubgraph(body, std::move(ins)));
    if (res.size() != outs.size())
      return ctx.error("the body has another number of outputs than the node");
    for (size_t k = 0; k < res.size(); ++k) {
      if (!res[k].isTensor())
        return ctx.error("the body must return tensors");
      outs[k].push_back(res[k].tensor);
    }
  }
  for (size_t k = 0; k < outs.size(); ++k) {
    const Type &t = body.output(k)->type();
    ctx.setOutputValue(k, RefValue::ofSequence(std::move(outs[k]), t));
  }
  return absl::OkStatus();
}

absl::Status kOptional(KernelContext &ctx) {
  RefValue v;
  v.kind = RefValue::Kind::Optional;
  if (const RefValue *in = ctx.value(0))
    v.element = std::make_shared<RefValue>(*in);
  else if (const Attribute *a = ctx.node().attr("type"); a && !a->types.empty())
    v.type = a->types[0];
  ctx.setOutputValue(0, std::move(v));
  return absl::OkStatus();
}

absl::Status kOptionalHasElement(KernelContext &ctx) {
  const RefValue *v = ctx.value(0);
  bool has = v && (v->kind != RefValue::Kind::Optional || v->element);
  NewTensor t(DataType::Bool, {});
  *t.data<uint8_t>() = has ? 1 : 0;
  ctx.setOutput(0, t.finish());
  return absl::OkStatus();
}

absl::Status kOptionalGetElement(KernelContext &ctx) {
  const RefValue *v = ctx.value(0);
  if (!v)
    return ctx.error("input is missing");
  if (v->kind != RefValue::Kind::Optional) {
    ctx.setOutputValue(0, *v);
    return absl::OkStatus();
  }
  if (!v->element)
    return ctx.error("the optional is empty");
  ctx.setOutputValue(0, *v->element);
  return absl::OkStatus();
}

} // namespace

void registerSequenceKernels(KernelMap &m) {
  m["ConcatFromSequence"] = kConcatFromSequence;
  m["Optional"] = kOptional;
  m["OptionalGetElement"] = kOptionalGetElement;
  m["OptionalHasElement"] = kOptionalHasElement;
  m["SequenceAt"] = kSequenceAt;
  m["SequenceConstruct"] = kSequenceConstruct;
  m["SequenceEmpty"] = kSequenceEmpty;
  m["SequenceErase"] = kSequenceErase;
  m["SequenceInsert"] = kSequenceInsert;
  m["SequenceLength"] = kSequenceLength;
  m["SequenceMap"] = kSequenceMap;
  m["SplitToSequence"] = kSplitToSequence;
}

} // namespace onnxopt::ref
