// fuse-attention-scale: the 1/sqrt(d) scale of attention, applied to the
// query or to the scores, moves into the columns of the query projection's
// weight and bias.
//
// Before (ViT, nn.MultiheadAttention; GPT-style scores; Swin):
//   p = Add (MatMul (X, W), b)                 # packed Q|K|V projection
//   q = Transpose (Reshape (Slice (p, 0, C)))  # or Split, or Gather of a
//   Y = Div (q, c)                             #   Reshape/Transpose of p
//   ---
//   s = MatMul (q, k);  Y = Mul (s, c)         # the scores scaled
// After:
//   p = Add (MatMul (X, W'), b')               # columns of q scaled by 1/c
//   Y = q                                      # (or Y = s)
//
// The walk from the scaled value back to the projection goes through
// Transpose, Reshape, Squeeze and Unsqueeze (data movement: a scalar factor
// commutes with them) and at most one selection: a Slice, Split or Gather
// along one axis with constant bounds, of the projection itself (the last
// axis) or of a Reshape splitting its last axis into trailing static dims
// (Swin's [.., 3, heads, d]), through Transposes. The selected columns get
// the factor, the others 1.
//
// Preconditions: the factor a one-element float constant of the
// projection's type; W a 2-D float constant, b a 1-D constant of W's width;
// every value on the walk private (one user, not a graph output) up to the
// selection; the selection's source read only by selections of the same
// axis whose indices do not meet this one's (a Split: its only user).
//
// Numeric: W * f is rounded once, (X W) / c was rounded twice.

#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

/// The projection a value's elements come from, and which of its columns.
struct Source {
  Node *matmul = nullptr;
  Node *add = nullptr;
  std::vector<bool> columns; // W's columns the value reads
};

/// `v`'s producer when it is the projection Add (MatMul by a constant plus
/// a 1-D constant bias) or the MatMul itself; fills `s` (all columns).
bool projectionOf(const Value *v, Source &s) {
  Node *n = v ? v->definingNode() : nullptr;
  if (isOp(n, "Add") && n->numInputs() == 2)
    for (Value *in : {n->input(0), n->input(1)})
      if (in && isPrivateResult(in))
        if (Node *mm = matmulByConstant(in->definingNode())) {
          const Value *b = otherConstant(*n, in);
          int64_t width = mm->input(1)->tensor()->dims()[1];
          if (!b || b->tensor()->dims() != std::vector<int64_t>{width} ||
              b->tensor()->dtype() != mm->input(1)->tensor()->dtype())
            return false;
          s = {mm, n, std::vector<bool>(size_t(width), true)};
          return true;
        }
  if (Node *mm = matmulByConstant(n)) {
    s = {mm, nullptr,
         std::vector<bool>(size_t(mm->input(1)->tensor()->dims()[1]), true)};
    return true;
  }
  return false;
}

bool isMovement(const Node *n) {
  return isOp(n, "Transpose") || isOp(n, "Reshape") || isOp(n, "Squeeze") ||
         isOp(n, "Unsqueeze");
}

/// The indices a selection node reads along its axis (normalized against
/// its input's rank), for result `result`; nullopt when not a constant
/// selection.
struct Selection {
  int64_t axis = 0;
  std::vector<int64_t> indices;
};
std::optional<Selection> selectionOf(const Node &n, unsigned result) {
  auto rank = rankOf(n.input(0));
  if (!rank)
    return std::nullopt;
  Selection s;
  if (isOp(&n, "Gather")) {
    auto idx = constantInts(n.input(1));
    auto dim = staticDim(n.input(0), intAttr(n, "axis", 0) < 0
                                         ? intAttr(n, "axis", 0) + *rank
                                         : intAttr(n, "axis", 0));
    if (!idx || !dim)
      return std::nullopt;
    s.axis = intAttr(n, "axis", 0);
    for (int64_t i : *idx)
      s.indices.push_back(i < 0 ? i + *dim : i);
  } else if (isOp(&n, "Slice") && n.numInputs() >= 3) {
    // (Slice before opset 10 holds its bounds as attributes: not matched.)
    auto starts = constantInts(n.input(1)), ends = constantInts(n.input(2));
    std::optional<std::vector<int64_t>> axes = std::vector<int64_t>{0};
    if (n.numInputs() > 3 && n.input(3))
      axes = constantInts(n.input(3));
    if (n.numInputs() > 4 && n.input(4)) {
      auto steps = constantInts(n.input(4));
      if (!steps || steps->size() != 1 || (*steps)[0] != 1)
        return std::nullopt;
    }
    if (!starts || !ends || !axes || starts->size() != 1 || ends->size() != 1 ||
        axes->size() != 1)
      return std::nullopt;
    s.axis = (*axes)[0] < 0 ? (*axes)[0] + *rank : (*axes)[0];
    auto dim = staticDim(n.input(0), s.axis);
    if (!dim)
      return std::nullopt;
    auto clamp = [&](int64_t i) {
      return std::clamp<int64_t>(i < 0 ? i + *dim : i, 0, *dim);
    };
    for (int64_t i = clamp((*starts)[0]); i < clamp((*ends)[0]); ++i)
      s.indices.push_back(i);
  } else if (isOp(&n, "Split")) {
    IntsOperand split = intsOperand(n, "split", 1, 13);
    if (!split.values)
      return std::nullopt;
    s.axis = intAttr(n, "axis", 0);
    int64_t start = 0;
    for (unsigned i = 0; i < result && i < split.values->size(); ++i)
      start += (*split.values)[i];
    if (result >= split.values->size())
      return std::nullopt;
    for (int64_t i = 0; i < (*split.values)[result]; ++i)
      s.indices.push_back(start + i);
  } else {
    return std::nullopt;
  }
  if (s.axis < 0)
    s.axis += *rank;
  return s;
}

/// True when every other user of `src` is a selection along `axis` that
/// reads none of `mine`'s indices.
bool othersDisjoint(const Value &src, const Node &self, int64_t axis,
                    const std::vector<int64_t> &mine) {
  if (src.isGraphOutput())
    return false;
  for (const Use *u : src.uses()) {
    const Node *o = u->user();
    if (o == &self)
      continue;
    if (isOp(o, "Split") || o->numOutputs() != 1)
      return false;
    auto sel = selectionOf(*o, 0);
    if (!sel || sel->axis != axis)
      return false;
    for (int64_t i : sel->indices)
      if (std::find(mine.begin(), mine.end(), i) != mine.end())
        return false;
  }
  return true;
}

/// The projection `v`'s elements come from: through private movement ops,
/// at most one selection, then Transposes and a Reshape of the projection.
std::optional<Source> trace(Value *v) {
  while (isPrivateResult(v) && isMovement(v->definingNode()))
    v = v->definingNode()->input(0);
  Source s;
  if (!isPrivateResult(v))
    return std::nullopt;
  if (projectionOf(v, s))
    return s;
  Node *sel = v->definingNode();
  if (!sel ||
      (!isOp(sel, "Gather") && !isOp(sel, "Slice") && !isOp(sel, "Split")))
    return std::nullopt;
  auto selection = selectionOf(*sel, v->resultIndex());
  Value *src = sel->input(0);
  if (!selection || selection->indices.empty() || !src ||
      (isOp(sel, "Split")
           ? !isPrivateResult(src)
           : !othersDisjoint(*src, *sel, selection->axis, selection->indices)))
    return std::nullopt;
  // Back through Transposes (the axis moves) to a Reshape or the projection.
  int64_t axis = selection->axis;
  Value *t = src;
  while (isOp(t->definingNode(), "Transpose")) {
    const Attribute *perm = t->definingNode()->attr("perm");
    if (!perm || axis >= int64_t(perm->ints.size()))
      return std::nullopt;
    axis = perm->ints[size_t(axis)];
    t = t->definingNode()->input(0);
    if (!isPrivateResult(t))
      return std::nullopt;
  }
  std::vector<int64_t> trailing; // the dims the projection's columns fill
  if (Node *reshape = t->definingNode();
      isOp(reshape, "Reshape") && reshape->numInputs() >= 2) {
    auto shape = constantInts(reshape->input(1));
    t = reshape->input(0);
    if (!shape || !isPrivateResult(t) || !projectionOf(t, s))
      return std::nullopt;
    // The longest static suffix whose product is the projection's width.
    int64_t width = int64_t(s.columns.size()), prod = 1;
    size_t j = shape->size();
    while (j > 0 && (*shape)[j - 1] > 0 && prod < width)
      prod *= (*shape)[--j];
    if (prod != width || axis < int64_t(j))
      return std::nullopt;
    trailing.assign(shape->begin() + int64_t(j), shape->end());
    axis -= int64_t(j);
  } else {
    auto rank = rankOf(t);
    if (!projectionOf(t, s) || !rank || axis != *rank - 1)
      return std::nullopt;
    trailing = {int64_t(s.columns.size())};
    axis = 0;
  }
  // Column c's index along the selected axis, in the mixed radix `trailing`.
  int64_t stride = 1;
  for (size_t i = size_t(axis) + 1; i < trailing.size(); ++i)
    stride *= trailing[i];
  for (size_t c = 0; c < s.columns.size(); ++c) {
    int64_t digit = (int64_t(c) / stride) % trailing[size_t(axis)];
    s.columns[c] =
        std::find(selection->indices.begin(), selection->indices.end(),
                  digit) != selection->indices.end();
  }
  return s;
}

class ScaleIntoProjection final : public SimplePattern {
public:
  ScaleIntoProjection(std::string op, SimplePatternPass &pass)
      : SimplePattern(std::move(op), pass) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() != 2 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    bool div = n.is("Div");
    for (unsigned side = 0; side < (div ? 1u : 2u); ++side) {
      Value *t = n.input(side), *c = n.input(1 - side);
      auto factor = scalarConstant(c);
      auto rt = rankOf(t);
      if (!factor || *factor == 0 || !t || !rt ||
          int64_t(c->tensor()->dims().size()) > *rt)
        continue;
      double f = div ? 1.0 / *factor : *factor;
      // The value itself, or one operand of the scores MatMul.
      std::optional<Source> s = trace(t);
      Node *mm = t->definingNode();
      if (!s && isOp(mm, "MatMul") && isPrivateResult(t))
        for (Value *in : {mm->input(0), mm->input(1)})
          if (!s && in)
            s = trace(in);
      if (!s || s->matmul->input(1)->tensor()->dtype() != c->tensor()->dtype())
        continue;
      if (!canForwardResult(*n.output(0), *t, r.graph()))
        return r.notifyMatchFailure(n, "a graph output needs the node");
      std::vector<double> scale(s->columns.size());
      for (size_t i = 0; i < scale.size(); ++i)
        scale[i] = s->columns[i] ? f : 1.0;
      scaleColumns(*s->matmul, s->add, scale, r);
      r.replaceNode(n, {t});
      ++pass().counter();
      return true;
    }
    return r.notifyMatchFailure(n, "not a scalar scale of a value traced to "
                                   "a projection's columns");
  }
};

} // namespace

std::unique_ptr<Pass> createFuseAttentionScalePass() {
  auto p = makeSimplePatternPass<ScaleIntoProjection>(
      "fuse-attention-scale",
      "Move attention's scalar scale (of the query or of the scores) into "
      "the query columns of the projection weights",
      "num-fused", "Scales moved into projection columns", {"Mul", "Div"});
  p->numeric();
  return p;
}

} // namespace onnxopt
