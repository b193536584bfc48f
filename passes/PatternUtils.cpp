// The helpers rewriting passes share (see PatternUtils.h).
#include "passes/PatternUtils.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace onnxopt {

std::shared_ptr<const Tensor>
makeFloatTensor(DataType dt, std::vector<int64_t> dims,
                const std::vector<double> &values) {
  NewTensor out(dt, std::move(dims));
  switch (dt) {
    REF_FLOATS({
      for (int64_t i = 0; i < out.size(); ++i)
        out.data<T>()[i] = T(Compute<T>(values[i]));
    })
  default:
    break;
  }
  return out.finish();
}

namespace {

template <class T>
void scaleInto(const char *src, T *dst, const std::vector<double> &s,
               int64_t outer, int64_t inner) {
  int64_t channels = int64_t(s.size()), i = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      double f = s[size_t(c)];
      for (int64_t k = 0; k < inner; ++k, ++i) {
        T x;
        std::memcpy(&x, src + size_t(i) * sizeof(T), sizeof(T));
        dst[i] = T(Compute<T>(double(Compute<T>(x)) * f));
      }
    }
}

} // namespace

std::shared_ptr<const Tensor> scaleBlocks(const Tensor &w,
                                          const std::vector<double> &s,
                                          int64_t outer, int64_t inner) {
  NewTensor out(w.dtype(), w.dims());
  const char *src = w.bytes().data();
  switch (w.dtype()) {
    REF_FLOATS({ scaleInto<T>(src, out.data<T>(), s, outer, inner); })
  default:
    break;
  }
  return out.finish();
}

std::vector<double> constantValues(const Value &v) {
  return toDoubles(*v.tensor());
}

std::optional<double> scalarConstant(const Value *v) {
  if (!isConstantTensor(v) || v->tensor()->numElements() != 1 ||
      !isFloatType(v->tensor()->dtype()))
    return std::nullopt;
  return constantValues(*v)[0];
}

std::optional<std::vector<double>> valuesAlongAxis(const Value &c, size_t rank,
                                                   size_t axis, int64_t count) {
  if (!isConstantTensor(&c))
    return std::nullopt;
  const std::vector<int64_t> &d = c.tensor()->dims();
  if (d.size() > rank || axis >= rank)
    return std::nullopt;
  // Right-align against the result: every dim is 1 except possibly `axis`,
  // which must then be `count`.
  size_t off = rank - d.size();
  int64_t along = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == 1)
      continue;
    if (off + i != axis || d[i] != count)
      return std::nullopt;
    along = count;
  }
  std::vector<double> v = constantValues(c);
  if (along == 1)
    return std::vector<double>(size_t(count), v.at(0));
  return v;
}

std::optional<std::vector<double>> channelValues(const Value &c, size_t rank,
                                                 int64_t channels) {
  if (rank < 2)
    return std::nullopt;
  return valuesAlongAxis(c, rank, 1, channels);
}

namespace {

struct NumberKind {
  bool known = false, isFloat = false, isSigned = false;
  int bits = 0;     // integers: width; floats: significand incl. hidden bit
  int exponent = 0; // floats: exponent bits
};

NumberKind numberKind(DataType t) {
  switch (t) {
  case DataType::UInt8:
    return {true, false, false, 8};
  case DataType::Int8:
    return {true, false, true, 8};
  case DataType::UInt16:
    return {true, false, false, 16};
  case DataType::Int16:
    return {true, false, true, 16};
  case DataType::UInt32:
    return {true, false, false, 32};
  case DataType::Int32:
    return {true, false, true, 32};
  case DataType::UInt64:
    return {true, false, false, 64};
  case DataType::Int64:
    return {true, false, true, 64};
  case DataType::Float16:
    return {true, true, true, 11, 5};
  case DataType::BFloat16:
    return {true, true, true, 8, 8};
  case DataType::Float:
    return {true, true, true, 24, 8};
  case DataType::Double:
    return {true, true, true, 53, 11};
  default:
    return {};
  }
}

} // namespace

bool isLossless(DataType from, DataType to) {
  NumberKind t = numberKind(to);
  if (from == DataType::Bool)
    return t.known || to == DataType::Bool;
  NumberKind f = numberKind(from);
  if (!f.known || !t.known)
    return false;
  if (f.isFloat)
    return t.isFloat && t.bits >= f.bits && t.exponent >= f.exponent;
  int valueBits = f.bits - (f.isSigned ? 1 : 0);
  if (t.isFloat)
    return valueBits <= t.bits;
  if (f.isSigned && !t.isSigned)
    return false;
  return valueBits <= t.bits - (t.isSigned ? 1 : 0);
}

// ------------------------------------------- projections by constant weights

Value *otherConstant(const Node &n, const Value *x) {
  if (n.numInputs() != 2)
    return nullptr;
  Value *o = n.input(0) == x ? n.input(1) : n.input(0);
  return isConstantTensor(o) && (n.input(0) == x || n.input(1) == x) ? o
                                                                     : nullptr;
}

Node *matmulByConstant(Node *n) {
  if (!isOp(n, "MatMul") || n->numInputs() != 2 ||
      !isConstantTensor(n->input(1)))
    return nullptr;
  const Tensor &w = *n->input(1)->tensor();
  return w.dims().size() == 2 && isFloatType(w.dtype()) ? n : nullptr;
}

void scaleColumns(Node &mm, Node *add, const std::vector<double> &c,
                  Rewriter &r) {
  Value *w = mm.input(1);
  const Tensor &wt = *w->tensor();
  int64_t n = wt.dims()[1];
  r.setOperand(mm, 1,
               r.createInitializer(w->name() + "_scaled",
                                   scaleBlocks(wt, c, wt.dims()[0], 1)));
  releaseIfDead(w);
  if (!add)
    return;
  Value *b = otherConstant(*add, mm.output(0));
  std::vector<double> bv = constantValues(*b);
  for (size_t j = 0; j < bv.size(); ++j)
    bv[j] *= c[j];
  size_t slot = add->input(0) == b ? 0 : 1;
  r.setOperand(*add, slot,
               r.createInitializer(b->name() + "_scaled",
                                   makeFloatTensor(wt.dtype(), {n}, bv)));
  releaseIfDead(b);
}

std::optional<std::vector<int64_t>> constantInts(const Value *v) {
  if (!isConstantTensor(v) || (v->tensor()->dtype() != DataType::Int64 &&
                               v->tensor()->dtype() != DataType::Int32))
    return std::nullopt;
  return toInt64s(*v->tensor());
}

std::shared_ptr<const Tensor> makeInt64Tensor(const std::vector<int64_t> &v,
                                              bool scalar) {
  std::vector<int64_t> dims;
  if (!scalar)
    dims.push_back(int64_t(v.size()));
  std::string bytes(v.size() * sizeof(int64_t), '\0');
  if (!v.empty())
    std::memcpy(bytes.data(), v.data(), bytes.size());
  return std::make_shared<Tensor>(
      Tensor::fromBytes(DataType::Int64, std::move(dims), std::move(bytes)));
}

std::optional<int64_t> rankOf(const Value *v) {
  if (!v || !v->type().isTensor() || !v->type().shape())
    return std::nullopt;
  return int64_t(v->type().shape()->size());
}

std::optional<int64_t> staticDim(const Value *v, int64_t i) {
  auto rank = rankOf(v);
  if (!rank || i < 0 || i >= *rank)
    return std::nullopt;
  const Dim &d = (*v->type().shape())[size_t(i)];
  if (!d.isConstant())
    return std::nullopt;
  return d.value();
}

int64_t intAttr(const Node &n, std::string_view name, int64_t dflt) {
  const Attribute *a = n.attr(name);
  return a && a->kind == AttrKind::Int ? a->i : dflt;
}

IntsOperand intsOperand(const Node &n, std::string_view attr, size_t index,
                        int inputSince) {
  IntsOperand out;
  if (n.op().sinceVersion >= inputSince) {
    if (n.numInputs() <= index || !n.input(index)) {
      out.absent = true;
      return out;
    }
    out.values = constantInts(n.input(index));
    return out;
  }
  const Attribute *a = n.attr(attr);
  if (!a) {
    out.absent = true;
    return out;
  }
  if (a->kind == AttrKind::Ints)
    out.values = a->ints;
  return out;
}

std::optional<std::vector<int64_t>> normalizeAxes(std::vector<int64_t> axes,
                                                  std::optional<int64_t> rank) {
  for (int64_t &a : axes) {
    if (a < 0) {
      if (!rank)
        return std::nullopt;
      a += *rank;
    }
    if (a < 0 || (rank && a >= *rank))
      return std::nullopt;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return std::nullopt;
  return axes;
}

void setIntsOperand(Node &n, std::string_view attr, size_t index,
                    int inputSince, const std::vector<int64_t> &values,
                    Rewriter &r) {
  if (n.op().sinceVersion < inputSince) {
    r.setAttr(n, Attribute::makeInts(std::string(attr), values));
    return;
  }
  Value *c = r.createInitializer(attr, makeInt64Tensor(values));
  while (n.numInputs() <= index)
    r.appendOperand(n, nullptr);
  r.setOperand(n, index, c);
}

std::unique_ptr<SimplePatternPass>
makeSimplePatternPass(const char *argument, const char *description,
                      const char *stat, const char *statDescription,
                      PatternFactory make, std::vector<std::string> roots) {
  return std::make_unique<SimplePatternPass>(
      argument, description, stat, statDescription,
      [make, roots](SimplePatternPass &pass,
                    std::vector<std::unique_ptr<OpRewritePattern>> &patterns) {
        for (const std::string &root : roots)
          patterns.push_back(make(root, pass));
      });
}

// ------------------------------------------- shared by the eliminate-nop-*

/// True if `s` is Shape(x), whole (no start/end).
bool isShapeOf(const Value *s, const Value *x) {
  const Node *d = s ? s->definingNode() : nullptr;
  return isOp(d, "Shape") && d->numInputs() == 1 && d->input(0) == x &&
         intAttr(*d, "start", 0) == 0 && !d->attr("end");
}

const char *foldsToInput(const Node &n) {
  return foldNode(n) == n.input(0) ? nullptr : "not a no-op";
}

ShapeOperand shapeOperand(const Node &n) {
  ShapeOperand out;
  if (n.numInputs() < 2 || !n.input(1))
    out.why = "no shape operand";
  else if (isShapeOf(n.input(1), n.input(0)))
    out.ownShape = true;
  else if (!(out.values = constantInts(n.input(1))))
    out.why = "the shape is not constant";
  return out;
}

namespace {

class RemoveNop final : public SimplePattern {
public:
  RemoveNop(std::string op, SimplePatternPass &pass, NopCheck check)
      : SimplePattern(std::move(op), pass), check_(check) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() < 1 || !n.input(0) ||
        n.numOutputs() < 1 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    if (const char *why = check_(n))
      return r.notifyMatchFailure(n, why);
    return forward(n, n.input(0), r);
  }

private:
  NopCheck check_;
};

} // namespace

std::unique_ptr<Pass> makeNopPass(const char *argument, const char *description,
                                  std::vector<std::string> ops,
                                  NopCheck check) {
  return std::make_unique<SimplePatternPass>(
      argument, description, "num-removed", "No-op nodes removed",
      [ops, check](SimplePatternPass &pass,
                   std::vector<std::unique_ptr<OpRewritePattern>> &patterns) {
        for (const std::string &op : ops)
          patterns.push_back(std::make_unique<RemoveNop>(op, pass, check));
      });
}

// ---------------------------------------------- Squeeze/Unsqueeze axes

/// The normalized axes of a Squeeze (its input's rank from the type, or
/// `inputRank`); absent axes mean the size-1 dims, which needs a fully static
/// shape.
std::optional<std::vector<int64_t>>
squeezeAxes(const Node &n, std::optional<int64_t> inputRank) {
  const Value *x = n.input(0);
  auto rank = rankOf(x);
  if (!rank)
    rank = inputRank;
  auto axes = intsOperand(n, "axes", 1, 13);
  if (!axes.absent)
    return axes.values ? normalizeAxes(*axes.values, rank) : std::nullopt;
  if (!rank || !rankOf(x))
    return std::nullopt;
  std::vector<int64_t> ones;
  for (int64_t i = 0; i < *rank; ++i) {
    auto d = staticDim(x, i);
    if (!d)
      return std::nullopt;
    if (*d == 1)
      ones.push_back(i);
  }
  return ones;
}

/// The normalized axes of an Unsqueeze (against its output rank; its input's
/// rank from the type, or `inputRank`).
std::optional<std::vector<int64_t>>
unsqueezeAxes(const Node &n, std::optional<int64_t> inputRank) {
  auto axes = intsOperand(n, "axes", 1, 13);
  if (axes.absent || !axes.values)
    return std::nullopt;
  std::optional<int64_t> outRank;
  auto r = rankOf(n.input(0));
  if (!r)
    r = inputRank;
  if (r)
    outRank = *r + int64_t(axes.values->size());
  return normalizeAxes(*axes.values, outRank);
}

/// The `count` smallest non-negative integers not in sorted `taken`.
std::vector<int64_t> complement(const std::vector<int64_t> &taken,
                                size_t count) {
  std::vector<int64_t> out;
  for (int64_t i = 0; out.size() < count; ++i)
    if (!std::binary_search(taken.begin(), taken.end(), i))
      out.push_back(i);
  return out;
}

int64_t maxOr(const std::vector<int64_t> &v, int64_t dflt) {
  return v.empty() ? dflt : *std::max_element(v.begin(), v.end());
}

/// Shared tail of the two chain fusions: `second` now reads `x` with
/// `axes`; `first` goes when nothing else uses it.
bool rewireChain(Node &second, Node &first, Value *x, std::vector<int64_t> axes,
                 SimplePatternPass &pass, Rewriter &r) {
  std::sort(axes.begin(), axes.end());
  r.setOperand(second, 0, x);
  setIntsOperand(second, "axes", 1, 13, axes, r);
  if (!first.hasUses())
    r.eraseNode(first);
  ++pass.counter();
  return true;
}

// ------------------------------------- shape computations read syntactically

int64_t clampIndex(int64_t i, int64_t n) {
  if (i < 0)
    i += n;
  return std::clamp<int64_t>(i, 0, n);
}

/// The dims `v` holds: v = Shape(X) (start/end included; X's rank known),
/// Gather(<dims>, constant indices), Slice(<dims>) with one unit-step range
/// on axis 0, or Unsqueeze(<scalar dim>, [0]).
std::optional<DimsRef> dimsRef(const Value *v) {
  const Node *n = v ? v->definingNode() : nullptr;
  if (!n || n->op().isOpaque() || n->numInputs() < 1 || !n->input(0))
    return std::nullopt;
  if (n->is("Shape")) {
    auto rank = rankOf(n->input(0));
    if (!rank)
      return std::nullopt;
    DimsRef out;
    out.x = n->input(0);
    int64_t start = clampIndex(intAttr(*n, "start", 0), *rank);
    int64_t end = clampIndex(intAttr(*n, "end", *rank), *rank);
    for (int64_t i = start; i < end; ++i)
      out.dims.push_back(i);
    return out;
  }
  if (n->is("Gather") && n->numInputs() == 2 && intAttr(*n, "axis", 0) == 0) {
    auto base = dimsRef(n->input(0));
    auto idx = constantInts(n->input(1));
    if (!base || base->scalar || !idx ||
        n->input(1)->tensor()->dims().size() > 1)
      return std::nullopt;
    DimsRef out;
    out.x = base->x;
    out.scalar = n->input(1)->tensor()->dims().empty();
    int64_t len = int64_t(base->dims.size());
    for (int64_t i : *idx) {
      if (i < 0)
        i += len;
      if (i < 0 || i >= len)
        return std::nullopt;
      out.dims.push_back(base->dims[size_t(i)]);
    }
    return out;
  }
  if (n->is("Slice")) {
    auto base = dimsRef(n->input(0));
    auto starts = intsOperand(*n, "starts", 1, 10);
    auto ends = intsOperand(*n, "ends", 2, 10);
    auto axes = intsOperand(*n, "axes", 3, 10);
    auto steps = intsOperand(*n, "steps", 4, 10);
    if (!base || base->scalar || !starts.values || !ends.values ||
        starts.values->size() != 1 || ends.values->size() != 1 ||
        !(axes.absent ||
          (axes.values && axes.values->size() == 1 &&
           (axes.values->front() == 0 || axes.values->front() == -1))) ||
        !(steps.absent ||
          (steps.values && *steps.values == std::vector<int64_t>{1})))
      return std::nullopt;
    int64_t len = int64_t(base->dims.size());
    int64_t start = clampIndex(starts.values->front(), len);
    int64_t end = clampIndex(ends.values->front(), len);
    DimsRef out;
    out.x = base->x;
    for (int64_t i = start; i < end; ++i)
      out.dims.push_back(base->dims[size_t(i)]);
    return out;
  }
  if (n->is("Unsqueeze")) {
    auto base = dimsRef(n->input(0));
    auto axes = intsOperand(*n, "axes", 1, 13);
    if (!base || !base->scalar || !axes.values ||
        !(*axes.values == std::vector<int64_t>{0} ||
          *axes.values == std::vector<int64_t>{-1}))
      return std::nullopt;
    base->scalar = false;
    return base;
  }
  return std::nullopt;
}

/// The static values of `ref`'s dims, or nullopt if one is dynamic.
std::optional<std::vector<int64_t>> staticDims(const DimsRef &ref) {
  std::vector<int64_t> out;
  for (int64_t i : ref.dims) {
    auto d = staticDim(ref.x, i);
    if (!d)
      return std::nullopt;
    out.push_back(*d);
  }
  return out;
}

namespace {

/// Replaces a Gather or Slice of a Shape with constant dims, or from opset
/// 15 with one Shape <start, end> over a contiguous run.
class ShapeSubset final : public SimplePattern {
public:
  ShapeSubset(std::string op, SimplePatternPass &pass)
      : SimplePattern(std::move(op), pass) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numOutputs() != 1 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    auto ref = dimsRef(n.output(0));
    if (!ref)
      return r.notifyMatchFailure(n, "not a constant subset of a Shape");
    if (auto values = staticDims(*ref)) {
      if (n.output(0)->isGraphOutput())
        return r.notifyMatchFailure(n, "a graph output needs the node");
      Value *c = r.createInitializer(n.output(0)->name(),
                                     makeInt64Tensor(*values, ref->scalar));
      return forward(n, c, r);
    }
    if (ref->scalar || ref->dims.empty())
      return r.notifyMatchFailure(n, "a dynamic scalar dim");
    for (size_t k = 1; k < ref->dims.size(); ++k)
      if (ref->dims[k] != ref->dims[0] + int64_t(k))
        return r.notifyMatchFailure(n, "the dims are not a contiguous run");
    auto shape = r.resolve("Shape");
    if (!shape.ok() || shape->sinceVersion < 15)
      return r.notifyMatchFailure(n, "Shape has no start/end before opset 15");
    Node *s = r.create(*shape, {ref->x}, 1, &n);
    r.setAttr(*s, Attribute::makeInt("start", ref->dims.front()));
    r.setAttr(*s, Attribute::makeInt("end", ref->dims.back() + 1));
    r.takeNameAndType(s->output(0), *n.output(0));
    r.replaceNode(n, {s->output(0)});
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<OpRewritePattern>
makeShapeSubsetPattern(std::string root, SimplePatternPass &pass) {
  return std::make_unique<ShapeSubset>(std::move(root), pass);
}

// ------------------------------------------------------ two ops in a row

/// The node producing `n`'s input 0 if it is a default-domain `type`.
Node *producer(const Node &n, std::string_view type) {
  Value *x = n.numInputs() > 0 ? n.input(0) : nullptr;
  Node *p = x ? x->definingNode() : nullptr;
  return isOp(p, type) ? p : nullptr;
}

/// The rank of a Concat's result: from its type or any input's.
std::optional<int64_t> concatRank(const Node &n) {
  if (auto r = rankOf(n.output(0)))
    return r;
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (auto r = rankOf(n.input(i)))
      return r;
  return std::nullopt;
}

/// `n`'s axis attribute normalized against `rank`, or nullopt.
std::optional<int64_t> axisOf(const Node &n, int64_t dflt,
                              std::optional<int64_t> rank) {
  int64_t axis = intAttr(n, "axis", dflt);
  if (axis < 0) {
    if (!rank)
      return std::nullopt;
    axis += *rank;
  }
  return axis;
}

std::optional<SliceParams> sliceParams(const Node &n,
                                       std::optional<int64_t> rank) {
  if (n.op().sinceVersion < 10 || n.numInputs() < 3)
    return std::nullopt;
  SliceParams p;
  auto starts = constantInts(n.input(1)), ends = constantInts(n.input(2));
  if (!starts || !ends || starts->size() != ends->size())
    return std::nullopt;
  p.starts = *starts;
  p.ends = *ends;
  size_t k = p.starts.size();
  if (n.numInputs() > 3 && n.input(3)) {
    auto axes = constantInts(n.input(3));
    if (!axes || axes->size() != k)
      return std::nullopt;
    for (int64_t a : *axes) {
      if (a < 0 && !rank)
        return std::nullopt;
      p.axes.push_back(a < 0 ? a + *rank : a);
    }
  } else {
    for (size_t i = 0; i < k; ++i)
      p.axes.push_back(int64_t(i));
  }
  if (n.numInputs() > 4 && n.input(4)) {
    auto steps = constantInts(n.input(4));
    if (!steps || steps->size() != k)
      return std::nullopt;
    p.steps = *steps;
  } else {
    p.steps.assign(k, 1);
  }
  return p;
}

// ------------------------------------------------------------- fusions

/// The perm of a Transpose of known rank, or nullopt.
std::optional<std::vector<int64_t>> permOf(const Node &t) {
  if (const Attribute *p = t.attr("perm"))
    return p->ints;
  auto r = rankOf(t.input(0));
  if (!r)
    return std::nullopt;
  std::vector<int64_t> perm;
  for (int64_t i = *r; i-- > 0;)
    perm.push_back(i);
  return perm;
}

std::optional<SpatialPad> spatialPad(Node &pad, const char *&why) {
  auto no = [&](const char *reason) -> std::optional<SpatialPad> {
    why = reason;
    return std::nullopt;
  };
  if (!isOp(&pad, "Pad") || !pad.input(0))
    return no("not fed by a Pad");
  if (!isPrivateResult(pad.output(0)))
    return no("the Pad result has other users or is a graph output");
  if (const Attribute *m = pad.attr("mode"); m && m->s != "constant")
    return no("the Pad is not constant mode");
  std::vector<int64_t> pads;
  SpatialPad sp;
  sp.input = pad.input(0);
  if (pad.op().sinceVersion < 11) {
    const Attribute *p =
        pad.attr(pad.op().sinceVersion < 2 ? "paddings" : "pads");
    if (!p)
      return no("the Pad has no pads");
    pads = p->ints;
    if (const Attribute *v = pad.attr("value"))
      sp.value = v->f;
  } else {
    if (pad.numInputs() < 2 || !isConstantTensor(pad.input(1)))
      return no("the pads are not constant");
    for (double d : constantValues(*pad.input(1)))
      pads.push_back(int64_t(d));
    if (pad.numInputs() > 2 && pad.input(2)) {
      if (!isConstantTensor(pad.input(2)) ||
          pad.input(2)->tensor()->numElements() != 1)
        return no("the pad value is not a one-element constant");
      sp.value = constantValues(*pad.input(2))[0];
    }
    if (pad.numInputs() > 3 && pad.input(3))
      return no("the Pad has axes (opset 18), not handled");
  }
  size_t rank = pads.size() / 2;
  if (pads.size() % 2 || rank < 3)
    return no("the pads do not cover a rank-3 or higher input");
  for (int64_t p : pads)
    if (p < 0)
      return no("a pad is negative (a crop)");
  if (pads[0] || pads[1] || pads[rank] || pads[rank + 1])
    return no("the batch or channel dims are padded");
  sp.begin.assign(pads.begin() + 2, pads.begin() + rank);
  sp.end.assign(pads.begin() + rank + 2, pads.end());
  return sp;
}

/// The consumer's pads attribute (zeros when absent), if auto_pad allows.
std::optional<std::vector<int64_t>> consumerPads(const Node &n,
                                                 size_t spatial) {
  if (const Attribute *a = n.attr("auto_pad"); a && a->s != "NOTSET")
    return std::nullopt;
  std::vector<int64_t> pads(2 * spatial, 0);
  if (const Attribute *p = n.attr("pads")) {
    if (p->ints.size() != 2 * spatial)
      return std::nullopt;
    pads = p->ints;
  }
  return pads;
}

namespace {

class PadInto final : public OpRewritePattern {
public:
  PadInto(std::string op, Statistic &fused)
      : OpRewritePattern(std::move(op)), fused_(fused) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || !n.input(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    Node *pad = n.input(0)->definingNode();
    const char *why = "not fed by a Pad";
    auto sp = pad ? spatialPad(*pad, why) : std::nullopt;
    if (!sp)
      return r.notifyMatchFailure(n, why);
    size_t spatial = sp->begin.size();
    auto pads = consumerPads(n, spatial);
    if (!pads)
      return r.notifyMatchFailure(n, "auto_pad or pads do not fit");
    bool countPads = false;
    if (n.is("Conv")) {
      if (sp->value != 0)
        return r.notifyMatchFailure(n, "the Pad value is not 0");
    } else if (n.is("AveragePool")) {
      if (sp->value != 0)
        return r.notifyMatchFailure(n, "the Pad value is not 0");
      const Attribute *cip = n.attr("count_include_pad");
      bool counts = cip && cip->i;
      bool ownPads = false;
      for (int64_t p : *pads)
        ownPads |= p != 0;
      if (!counts && ownPads)
        return r.notifyMatchFailure(n, "mixes counted and uncounted pads");
      countPads = true;
    } else { // MaxPool
      if (!(std::isinf(sp->value) && sp->value < 0))
        return r.notifyMatchFailure(n, "the Pad value could win a max");
      if (n.numOutputs() > 1 && n.output(1) && !n.output(1)->useEmpty())
        return r.notifyMatchFailure(n, "Indices are used");
    }
    for (size_t i = 0; i < spatial; ++i) {
      (*pads)[i] += sp->begin[i];
      (*pads)[i + spatial] += sp->end[i];
    }
    r.setAttr(n, Attribute::makeInts("pads", *pads));
    if (countPads)
      r.setAttr(n, Attribute::makeInt("count_include_pad", 1));
    r.setOperand(n, 0, sp->input);
    r.eraseNode(*pad);
    ++fused_;
    return true;
  }

private:
  Statistic &fused_;
};

} // namespace

namespace {

/// Matches `Add`/`Mul (Conv(...), constant)` in either operand order.
class ChannelOpIntoConv final : public OpRewritePattern {
public:
  ChannelOpIntoConv(std::string op, Statistic &fused)
      : OpRewritePattern(op), isMul_(op == "Mul"), fused_(fused) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() != 2 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    Node *conv = nullptr;
    Value *k = nullptr;
    for (size_t i = 0; i < 2 && !conv; ++i) {
      Value *v = n.input(i);
      if (v && isOp(v->definingNode(), "Conv") &&
          isConstantTensor(n.input(1 - i))) {
        conv = v->definingNode();
        k = n.input(1 - i);
      }
    }
    if (!conv)
      return r.notifyMatchFailure(n, "not Conv and a constant");
    Value *c = conv->output(0);
    if (!isPrivateResult(c))
      return r.notifyMatchFailure(
          n, "the Conv result has other users or is a graph output");
    Value *w = conv->numInputs() > 1 ? conv->input(1) : nullptr;
    Value *b = conv->numInputs() > 2 ? conv->input(2) : nullptr;
    if (!isConstantTensor(w) || (b && !isConstantTensor(b)))
      return r.notifyMatchFailure(n, "Conv weights are not constants");
    const Tensor &wt = *w->tensor();
    DataType dt = wt.dtype();
    if (!isFloatType(dt) || k->tensor()->dtype() != dt ||
        (b && b->tensor()->dtype() != dt) || wt.dims().size() < 3)
      return r.notifyMatchFailure(n, "not one float type, or rank < 3");
    int64_t m = wt.dims()[0];
    auto per = channelValues(*k, wt.dims().size(), m);
    if (!per)
      return r.notifyMatchFailure(n, "the constant is not per channel");
    if (!canForwardResult(*n.output(0), *c, r.graph()))
      return r.notifyMatchFailure(n, "a graph output needs the node");

    std::vector<double> bv =
        b ? constantValues(*b) : std::vector<double>(size_t(m), 0.0);
    for (int64_t j = 0; j < m; ++j)
      bv[j] = isMul_ ? bv[j] * (*per)[j] : bv[j] + (*per)[j];
    if (isMul_) {
      int64_t each = wt.numElements() / m;
      r.setOperand(*conv, 1,
                   r.createInitializer(w->name() + "_mul",
                                       scaleBlocks(wt, *per, 1, each)));
    }
    // Without a bias, Mul leaves none: B' = 0 * S adds nothing.
    if (b || !isMul_) {
      Value *nb =
          r.createInitializer(n.name + "_bias", makeFloatTensor(dt, {m}, bv));
      if (conv->numInputs() > 2)
        r.setOperand(*conv, 2, nb);
      else
        r.appendOperand(*conv, nb);
    }
    r.replaceNode(n, {c});
    ++fused_;
    return true;
  }

private:
  bool isMul_;
  Statistic &fused_;
};

} // namespace

const char *bnAffine(const Node &bn, int64_t channels, BnAffine &out) {
  if (bn.op().isOpaque() || bn.op().sinceVersion < 9 || bn.numInputs() < 5)
    return "opaque, before opset 9, or short";
  if (const Attribute *t = bn.attr("training_mode"); t && t->i != 0)
    return "training mode";
  for (size_t i = 1; i < bn.numOutputs(); ++i)
    if (bn.output(i) && !bn.output(i)->useEmpty())
      return "a running statistic is used";
  for (size_t i = 1; i < 5; ++i)
    if (!isConstantTensor(bn.input(i)))
      return "a BatchNormalization parameter is not a constant";
  std::vector<double> gamma = constantValues(*bn.input(1)),
                      var = constantValues(*bn.input(4));
  out.bias = constantValues(*bn.input(2));
  out.mean = constantValues(*bn.input(3));
  if (int64_t(gamma.size()) != channels ||
      int64_t(out.bias.size()) != channels ||
      int64_t(out.mean.size()) != channels || int64_t(var.size()) != channels)
    return "parameter lengths differ from the output channels";
  double eps = 1e-5;
  if (const Attribute *e = bn.attr("epsilon"))
    eps = e->f;
  out.scale.resize(size_t(channels));
  for (int64_t k = 0; k < channels; ++k)
    out.scale[k] = gamma[k] / std::sqrt(var[k] + eps);
  return nullptr;
}

std::unique_ptr<OpRewritePattern> makePadIntoPattern(std::string op,
                                                     Statistic &fused) {
  return std::make_unique<PadInto>(std::move(op), fused);
}

std::unique_ptr<OpRewritePattern>
makeChannelOpIntoConvPattern(std::string op, Statistic &fused) {
  return std::make_unique<ChannelOpIntoConv>(std::move(op), fused);
}

} // namespace onnxopt
