// The self-attention matcher (see AttentionMatch.h).
#include "passes/AttentionMatch.h"

#include "passes/PatternUtils.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace onnxopt {

namespace {

/// A dim as a product: an integer times symbols (`8*batch` is {8, {batch}}).
struct DimExpr {
  int64_t coef = 1;
  std::vector<std::string> syms; // sorted

  static std::optional<DimExpr> of(const Dim &d) {
    DimExpr e;
    if (d.isConstant()) {
      e.coef = d.value();
      return e;
    }
    if (!d.isSymbol())
      return std::nullopt;
    for (absl::string_view part : absl::StrSplit(d.symbol(), '*')) {
      int64_t v = 0;
      if (absl::SimpleAtoi(part, &v))
        e.coef *= v;
      else
        e.syms.emplace_back(part);
    }
    std::sort(e.syms.begin(), e.syms.end());
    return e;
  }
  DimExpr operator*(const DimExpr &o) const {
    DimExpr e{coef * o.coef, syms};
    e.syms.insert(e.syms.end(), o.syms.begin(), o.syms.end());
    std::sort(e.syms.begin(), e.syms.end());
    return e;
  }
  bool operator==(const DimExpr &o) const {
    return coef == o.coef && syms == o.syms;
  }
  /// this / o when it is a plain integer, else nullopt.
  std::optional<int64_t> constQuotient(const DimExpr &o) const {
    if (syms != o.syms || o.coef == 0 || coef % o.coef != 0)
      return std::nullopt;
    return coef / o.coef;
  }
};

/// Logical axes: P's two leading axes, its channel before the head split,
/// and the heads and head size after it.
enum Axis : uint8_t { kX0, kX1, kC, kH, kK };
using Group = std::vector<Axis>;
using AxisView = std::vector<Group>;

std::optional<std::vector<DimExpr>> dimsOf(const Value *v) {
  if (!v || !v->type().isTensor() || !v->type().shape())
    return std::nullopt;
  std::vector<DimExpr> out;
  for (const Dim &d : *v->type().shape()) {
    auto e = DimExpr::of(d);
    if (!e)
      return std::nullopt;
    out.push_back(*e);
  }
  return out;
}

/// The state of one match: the logical axes' sizes, the roles seen.
struct Block {
  DimExpr dim[5];
  std::optional<int64_t> heads;
  int64_t channels = 0; // D
  double scale = 1.0;
};

/// Applies a Reshape to `view` (the flattened axis order is kept; a group of
/// the result is the run of axes whose sizes multiply to its dim). Splits
/// the channel into heads when a dim needs part of it.
bool reshapeView(AxisView &view, const std::vector<DimExpr> &out, Block &b) {
  std::vector<Axis> flat;
  for (const Group &g : view)
    flat.insert(flat.end(), g.begin(), g.end());
  AxisView result;
  size_t i = 0;
  for (const DimExpr &e : out) {
    Group g;
    DimExpr p;
    while (!(p == e)) {
      if (i == flat.size())
        return false;
      if (flat[i] == kC && !((p * b.dim[kC]) == e)) {
        // Only part of the channel belongs to this dim: the heads.
        auto h = e.constQuotient(p);
        if (!h || *h <= 1 || b.channels % *h != 0 ||
            (b.heads && *b.heads != *h))
          return false;
        b.heads = *h;
        b.dim[kH] = DimExpr{*h, {}};
        b.dim[kK] = DimExpr{b.channels / *h, {}};
        flat[i] = kK;
        flat.insert(flat.begin() + static_cast<long>(i), kH);
      }
      p = p * b.dim[flat[i]];
      g.push_back(flat[i++]);
      if (p.coef > e.coef && p.syms == e.syms && e.coef > 0)
        return false;
    }
    result.push_back(std::move(g));
  }
  if (i != flat.size())
    return false;
  view = std::move(result);
  return true;
}

/// Applies a Transpose or Reshape node to `view`, or says why it cannot.
const char *applyView(const Node &n, AxisView &view, Block &b) {
  if (n.is("Transpose")) {
    auto perm = permOf(n);
    if (!perm || perm->size() != view.size())
      return "a Transpose's perm is unknown";
    AxisView t;
    for (int64_t a : *perm)
      t.push_back(view[static_cast<size_t>(a)]);
    view = std::move(t);
    return nullptr;
  }
  auto out = dimsOf(n.output(0));
  if (!out || intAttr(n, "allowzero", 0) != 0 || !reshapeView(view, *out, b))
    return "a Reshape does not split or merge whole axes (or its dims are "
           "not inferred)";
  return nullptr;
}

/// The one element of the constant a ConstantOfShape fills with (its value
/// attribute) or an Expand broadcasts (how torch.full lowers from
/// TorchScript), or nullptr.
const Tensor *fillOf(const Node *n) {
  const Tensor *t = nullptr;
  if (isOp(n, "ConstantOfShape")) {
    const Attribute *value = n->attr("value");
    t = value && value->tensors.size() == 1 ? value->tensors[0].get() : nullptr;
  } else if (isOp(n, "Expand") && isConstantTensor(n->input(0))) {
    t = n->input(0)->tensor().get();
  }
  return t && t->numElements() == 1 ? t : nullptr;
}

/// A fill's value when it is a float, else NaN.
double fillValue(const Tensor &t) {
  return isFloatType(t.dtype()) ? toDoubles(t)[0] : std::nan("");
}

/// Whether `n` only feeds dims to shape computations: a Shape, or a
/// Transpose/Reshape whose results only Shape ops read (exporters take the
/// dims of K's transpose, say), up to a few levels.
bool onlyShapeReaders(const Node *n, int depth = 0) {
  if (isOp(n, "Shape"))
    return true;
  if (depth > 2 || !(isOp(n, "Transpose") || isOp(n, "Reshape")))
    return false;
  const Value *r = n->output(0);
  if (!r || r->isGraphOutput())
    return false;
  for (const Use *u = r->firstUse(); u; u = u->nextUse())
    if (!onlyShapeReaders(u->user(), depth + 1))
      return false;
  return true;
}

/// Every use of `v` is by `next` or only reads its dims: once the block is
/// replaced, nothing needs its values.
bool onlyFeeds(const Value *v, const Node *next) {
  if (!v || v->isGraphOutput())
    return false;
  for (const Use *u = v->firstUse(); u; u = u->nextUse())
    if (u->user() != next && !onlyShapeReaders(u->user()))
      return false;
  return true;
}

/// One match's state: the roles found on the way from the Softmax.
struct Matcher {
  // Filled by match().
  Node *scores_ = nullptr, *context_ = nullptr;
  Value *x_ = nullptr, *w_ = nullptr, *bias_ = nullptr, *packed_ = nullptr;
  Value *result_ = nullptr;
  std::vector<Node *> cuts_; // the Slices/Split of P
  AxisView resultView_;
  Axis batch_ = kX0, seq_ = kX1;
  bool causal_ = false;
  std::optional<DimExpr> maskDim_; // the causal mask's size
  Value *padMask_ = nullptr;       // bool [B, S], true: padding
  std::vector<Node *> padChain_;   // its views, in order

  /// Walks from `v` (read by `consumer`) back to a Slice/Split of the
  /// packed projection; returns `v`'s view and role (0 q, 1 k, 2 v), or why
  /// not.
  const char *trace(Value *v, const Node *consumer, Block &b, AxisView &view,
                    int &role, bool scalesAllowed) {
    // chain[0] produces v; chain.back() reads the cut.
    std::vector<Node *> chain;
    Value *cur = v;
    const Node *reader = consumer;
    Node *n = nullptr;
    for (int depth = 0;; ++depth) {
      n = cur ? cur->definingNode() : nullptr;
      if (!n || n->op().isOpaque() || depth > 8)
        return "Q, K or V is not a view of one packed projection";
      if (!onlyFeeds(cur, reader))
        return "a value inside the block has other users";
      if (n->is("Slice") || n->is("Split"))
        break;
      if (!(n->is("Reshape") || n->is("Transpose") ||
            (scalesAllowed && (n->is("Mul") || n->is("Div")))))
        return "Q, K or V is not a view of one packed projection";
      chain.push_back(n);
      reader = n;
      cur = n->input(0);
    }
    Node *cut = n;
    Value *p = cut->input(0);
    if (packed_ && p != packed_)
      return "Q, K and V come from different projections";
    if (!packed_)
      if (const char *why = matchProjection(p, b))
        return why;
    int64_t d = b.channels;
    if (cut->is("Slice")) {
      auto sp = sliceParams(*cut, 3);
      if (!sp || sp->axes.size() != 1 || sp->axes[0] != 2 ||
          sp->steps[0] != 1 || sp->starts[0] % d != 0 ||
          sp->ends[0] != sp->starts[0] + d || sp->starts[0] > 2 * d)
        return "a Slice does not cut a third of the packed channels";
      role = static_cast<int>(sp->starts[0] / d);
    } else {
      auto axis = axisOf(*cut, 0, 3);
      if (!axis || *axis != 2 || cut->numOutputs() != 3)
        return "the Split does not cut the channels in three";
      IntsOperand split = intsOperand(*cut, "split", 1, 13);
      if (!split.absent &&
          (!split.values || *split.values != std::vector<int64_t>{d, d, d}))
        return "the Split's parts are not equal thirds";
      role = static_cast<int>(cur->resultIndex());
    }
    cuts_.push_back(cut);
    view = AxisView{{kX0}, {kX1}, {kC}};
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      Node *c = *it;
      if (c->is("Transpose") || c->is("Reshape")) {
        if (const char *why = applyView(*c, view, b))
          return why;
      } else {
        auto sc = scalarConstant(c->input(1));
        if (!sc || *sc == 0 || rankOf(c->input(0)) < rankOf(c->input(1)))
          return "a scale is not a scalar constant";
        b.scale *= c->is("Mul") ? *sc : 1.0 / *sc;
      }
    }
    return nullptr;
  }

  /// P = Add (MatMul (X, W), bias) or MatMul (X, W): W and bias constant.
  const char *matchProjection(Value *p, Block &b) {
    Node *add = p ? p->definingNode() : nullptr;
    Node *mm = add;
    bias_ = nullptr;
    if (isOp(add, "Add")) {
      for (unsigned i = 0; i < 2; ++i)
        if (add->input(i) && isOp(add->input(i)->definingNode(), "MatMul") &&
            isConstantTensor(add->input(1 - i))) {
          mm = add->input(i)->definingNode();
          bias_ = add->input(1 - i);
        }
      if (!bias_)
        return "the packed projection's bias is not a constant";
      if (!mm->output(0)->hasOneUse())
        return "the projection MatMul has other users";
    }
    if (!isOp(mm, "MatMul"))
      return "Q, K and V are not cut from a MatMul";
    x_ = mm->input(0);
    w_ = mm->input(1);
    if (!isConstantTensor(w_) || w_->tensor()->dims().size() != 2 ||
        w_->tensor()->dtype() != DataType::Float)
      return "the projection's weight is not a constant float [Din, 3D]";
    int64_t n3 = w_->tensor()->dims()[1];
    if (n3 % 3 != 0)
      return "the projection's width is not 3D";
    b.channels = n3 / 3;
    if (bias_ && (bias_->tensor()->dims() != std::vector<int64_t>{n3} ||
                  bias_->tensor()->dtype() != DataType::Float))
      return "the projection's bias is not [3D] float";
    auto xd = dimsOf(x_);
    if (!xd || xd->size() != 3)
      return "X is not a 3-D tensor of inferred dims";
    b.dim[kX0] = (*xd)[0];
    b.dim[kX1] = (*xd)[1];
    b.dim[kC] = DimExpr{b.channels, {}};
    packed_ = p;
    return nullptr;
  }

  const char *match(Node &softmax, Block &b) {
    scores_ = context_ = nullptr;
    x_ = w_ = bias_ = packed_ = result_ = nullptr;
    cuts_.clear();
    causal_ = false;
    maskDim_.reset();
    padMask_ = nullptr;
    padChain_.clear();
    if (softmax.op().isOpaque() || !softmax.output(0))
      return "opaque or malformed";
    auto rank = rankOf(softmax.input(0));
    auto axis = axisOf(softmax, softmax.op().sinceVersion >= 13 ? -1 : 1, rank);
    if (!rank || !axis || *axis != *rank - 1)
      return "Softmax is not over the last axis";
    Value *probs = softmax.output(0);
    if (!probs->hasOneUse() || probs->isGraphOutput() ||
        !isOp(probs->firstUse()->user(), "MatMul") ||
        probs->firstUse()->index() != 0)
      return "Softmax does not feed one MatMul's left operand";
    context_ = probs->firstUse()->user();
    // Back from the Softmax to the scores MatMul: scales and a causal mask.
    const Node *reader = &softmax;
    Value *s = softmax.input(0);
    for (int depth = 0;; ++depth) {
      Node *n = s ? s->definingNode() : nullptr;
      if (!n || n->op().isOpaque() || depth > 4)
        return "the scores are not a MatMul";
      if (!onlyFeeds(s, reader))
        return "a value inside the block has other users";
      reader = n;
      if (n->is("MatMul")) {
        scores_ = n;
        break;
      }
      if (n->is("Mul") || n->is("Div")) {
        auto c = scalarConstant(n->input(1));
        if (!c || *c == 0)
          return "a scale of the scores is not a scalar constant";
        b.scale *= n->is("Mul") ? *c : 1.0 / *c;
        s = n->input(0);
      } else if (n->is("Where")) {
        // Where (mask, fill, scores), fill -inf or at most -1e4: a causal
        // Trilu, or a key-padding mask (masked_fill, as the TorchScript
        // frontend lowers it).
        auto fill = scalarConstant(n->input(1));
        if (!fill || *fill > -1e4)
          return "the mask's fill is not -inf or at most -1e4";
        const char *why = "a mask on the scores is not a causal Trilu or a "
                          "key-padding mask";
        if (!causal_ && !matchCausalTrilu(n->input(0), false)) {
          causal_ = true;
          why = nullptr;
        } else if (!padMask_ && !matchPaddingCond(n->input(0))) {
          why = nullptr;
        }
        if (why)
          return why;
        s = n->input(2);
      } else if (n->is("Add")) {
        // Add (scores, mask) or Add (mask, scores): a causal mask, or a
        // key-padding mask.
        const char *why = "an Add on the scores is not a causal or "
                          "key-padding mask";
        for (unsigned i = 0; i < 2 && why; ++i) {
          if (!causal_ && !matchCausalTrilu(n->input(1 - i), true)) {
            causal_ = true;
          } else if (!padMask_ && !matchPadding(n->input(1 - i))) {
          } else {
            continue;
          }
          why = nullptr;
          s = n->input(i);
        }
        if (why)
          return why;
      } else {
        return "the scores pass an op other than a scale or a causal mask";
      }
    }
    AxisView qv, kv, vv;
    int qr = -1, kr = -1, vr = -1;
    if (const char *why = trace(scores_->input(0), scores_, b, qv, qr, true))
      return why;
    if (const char *why = trace(scores_->input(1), scores_, b, kv, kr, true))
      return why;
    if (const char *why = trace(context_->input(1), context_, b, vv, vr, false))
      return why;
    // The packed projection feeds these cuts (and Shape ops) only.
    for (const Use *u = packed_->firstUse(); u; u = u->nextUse())
      if (std::find(cuts_.begin(), cuts_.end(), u->user()) == cuts_.end() &&
          !onlyShapeReaders(u->user()))
        return "the packed projection has other users";
    if (qr != 0 || kr != 1 || vr != 2)
      return "Q, K and V are not the packed projection's first, second and "
             "third parts";
    // Q = [G..., [S], [K]], K = [G..., [K], [S]], V = [G..., [S], [K]].
    size_t rk = qv.size();
    if (rk < 3 || kv.size() != rk || vv.size() != rk)
      return "Q, K and V views differ in rank";
    Group batchAxes;
    for (size_t i = 0; i + 2 < rk; ++i) {
      if (qv[i] != kv[i] || qv[i] != vv[i])
        return "Q, K and V do not share their batch axes";
      batchAxes.insert(batchAxes.end(), qv[i].begin(), qv[i].end());
    }
    std::sort(batchAxes.begin(), batchAxes.end());
    if (batchAxes.size() != 2 || batchAxes[1] != kH ||
        (batchAxes[0] != kX0 && batchAxes[0] != kX1))
      return "the batch axes are not (batch, heads)";
    batch_ = batchAxes[0];
    seq_ = batch_ == kX0 ? kX1 : kX0;
    if (causal_ && !(*maskDim_ == b.dim[seq_]))
      return "the causal mask is not [S, S] for the sequence length";
    if (padMask_)
      if (const char *why = checkPadding(b, qv))
        return why;
    Group sq{seq_}, hk{kK};
    if (qv[rk - 2] != sq || qv[rk - 1] != hk || kv[rk - 2] != hk ||
        kv[rk - 1] != sq || vv[rk - 2] != sq || vv[rk - 1] != hk)
      return "the MatMuls do not contract the head size over the sequence";
    // Forward from the context to a [B, S, D]-like value.
    AxisView view = qv;
    Value *y = context_->output(0);
    for (int depth = 0;; ++depth) {
      if (outputLayout(view)) {
        result_ = y;
        resultView_ = view;
        break;
      }
      if (!y || !y->hasOneUse() || y->isGraphOutput() || depth > 4)
        return "the context never reaches a [batch, seq, D] layout";
      Node *n = y->firstUse()->user();
      if (!isOp(n, "Transpose") && !isOp(n, "Reshape"))
        return "the context passes an op other than Reshape or Transpose";
      if (const char *why = applyView(*n, view, b))
        return why;
      y = n->output(0);
    }
    if (result_->isGraphOutput())
      return "the attention result is a graph output";
    return nullptr;
  }

  /// [B][S][H K], [S][B][H K], [S B][H K] or [B S][H K].
  bool outputLayout(const AxisView &v) const {
    Group hk{kH, kK};
    if (v.size() == 3)
      return v[2] == hk && ((v[0] == Group{batch_} && v[1] == Group{seq_}) ||
                            (v[0] == Group{seq_} && v[1] == Group{batch_}));
    if (v.size() == 2)
      return v[1] == hk &&
             (v[0] == Group{batch_, seq_} || v[0] == Group{seq_, batch_});
    return false;
  }

  /// A key-padding mask: Where (cond, fill, 0) with fill -inf or at most
  /// -1e4, cond a Reshape/Unsqueeze/Expand view of a bool [B, S] value
  /// (true: padding). Its layout is checked by checkPadding once the batch
  /// and sequence axes are known.
  const char *matchPadding(const Value *mask) {
    Node *where = mask ? mask->definingNode() : nullptr;
    if (!isOp(where, "Where") || !mask->hasOneUse() || mask->isGraphOutput())
      return "not a Where";
    auto fill = scalarConstant(where->input(1));
    if (!fill || *fill > -1e4)
      return "the mask's fill is not -inf or at most -1e4";
    Value *zero = where->input(2);
    const Tensor *zeros = zero ? fillOf(zero->definingNode()) : nullptr;
    if (!zeros && isConstantTensor(zero) &&
        zero->tensor()->numElements() <= (1 << 16) &&
        isFloatType(zero->tensor()->dtype())) {
      // A folded ConstantOfShape: all zeros.
      auto v = toDoubles(*zero->tensor());
      if (std::all_of(v.begin(), v.end(), [](double x) { return x == 0; }))
        zeros = zero->tensor().get();
    }
    if (scalarConstant(zero) != 0.0 && !(zeros && fillValue(*zeros) == 0))
      return "the mask's other branch is not 0";
    return matchPaddingCond(where->input(0));
  }

  /// The condition of a key-padding mask: a Reshape/Unsqueeze/Expand view of
  /// a bool [B, S] value (true: padding).
  const char *matchPaddingCond(Value *cond) {
    std::vector<Node *> chain;
    Value *v = cond;
    for (int depth = 0; v && v->definingNode(); ++depth) {
      Node *n = v->definingNode();
      if (depth > 6 ||
          !(isOp(n, "Reshape") || isOp(n, "Unsqueeze") || isOp(n, "Expand")))
        return "the padding mask is not a view of a [B, S] input";
      chain.push_back(n);
      v = n->input(0);
    }
    if (!v || !v->type().isTensor() || v->type().elemType() != DataType::Bool ||
        rankOf(v) != 2)
      return "the padding mask is not a bool [B, S] value";
    padMask_ = v;
    padChain_.assign(chain.rbegin(), chain.rend());
    return nullptr;
  }

  /// The key-padding mask, followed from [B][S] to the scores' layout, must
  /// be constant along the queries and broadcast or match every other axis.
  const char *checkPadding(Block &b, const AxisView &q) {
    auto kd = dimsOf(padMask_);
    if (!kd || !((*kd)[0] == b.dim[batch_]) || !((*kd)[1] == b.dim[seq_]))
      return "the padding mask is not [batch, seq]";
    // The key axis is a separate id (kC) so that it cannot be confused with
    // the query axis: the scores are [G..., [S], [kC]] here.
    b.dim[kC] = b.dim[seq_];
    AxisView view{{batch_}, {kC}};
    for (Node *n : padChain_) {
      auto out = dimsOf(n->output(0));
      if (!out)
        return "the padding mask's dims are not inferred";
      if (n->is("Unsqueeze")) {
        auto axes = unsqueezeAxes(*n, static_cast<int64_t>(view.size()));
        if (!axes)
          return "the padding mask's Unsqueeze axes are unknown";
        for (int64_t a : *axes)
          view.insert(view.begin() + a, Group{});
      } else if (n->is("Expand")) {
        while (view.size() < out->size())
          view.insert(view.begin(), Group{});
        for (size_t i = 0; i < view.size(); ++i)
          if (view[i].empty() && !((*out)[i] == DimExpr{}))
            view[i] = {kH}; // copies along the heads, the only axis it may
        if (view.size() != out->size())
          return "the padding mask's Expand lowers the rank";
      } else if (!reshapeView(view, *out, b)) {
        return "a Reshape of the padding mask does not merge whole axes";
      }
    }
    AxisView scores(q.begin(), q.end() - 2);
    scores.push_back({seq_});
    scores.push_back({kC});
    if (view.size() > scores.size())
      return "the padding mask has more axes than the scores";
    view.insert(view.begin(), scores.size() - view.size(), Group{});
    bool hasBatch = false;
    for (size_t i = 0; i < view.size(); ++i) {
      if (view[i].empty())
        continue;
      if (view[i] != scores[i] || i == view.size() - 2)
        return "the padding mask does not broadcast to the scores as [B, 1, "
               "S] per head";
      hasBatch |= std::count(view[i].begin(), view[i].end(), batch_) > 0;
    }
    if (view.back() != Group{kC} || !hasBatch)
      return "the padding mask does not vary along the batch and the keys";
    return nullptr;
  }

  /// A causal mask: Trilu <upper = 1> (ConstantOfShape ([S, S]), k = 1)
  /// of all-true (`additive` false: a Where's condition) or of -inf or at
  /// most -1e4 (`additive`: added to the scores, maybe under Unsqueezes).
  const char *matchCausalTrilu(const Value *mask, bool additive) {
    Node *tri = mask ? mask->definingNode() : nullptr;
    while (additive && isOp(tri, "Unsqueeze"))
      tri = tri->input(0) ? tri->input(0)->definingNode() : nullptr;
    if (!isOp(tri, "Trilu") || intAttr(*tri, "upper", 1) != 1)
      return "a mask on the scores is not a causal Trilu";
    auto k = tri->numInputs() > 1 ? constantInts(tri->input(1))
                                  : std::optional<std::vector<int64_t>>{};
    if (!k || k->size() != 1 || (*k)[0] != 1)
      return "the causal Trilu's diagonal is not k = 1";
    const Tensor *t =
        tri->input(0) ? fillOf(tri->input(0)->definingNode()) : nullptr;
    if (!t)
      return "the causal Trilu is not of a filled constant";
    if (!additive && (t->dtype() != DataType::Bool || t->bytes()[0] == 0))
      return "the causal mask is not a Trilu of all-true";
    if (additive && !(fillValue(*t) <= -1e4))
      return "the additive causal mask is not -inf or at most -1e4";
    auto md = dimsOf(tri->output(0));
    if (!md || md->size() != 2 || !((*md)[0] == (*md)[1]))
      return "the causal mask is not [S, S]";
    maskDim_ = (*md)[0];
    return nullptr;
  }
};

} // namespace

const char *matchAttentionBlock(Node &softmax, AttentionBlock &out) {
  Matcher m;
  Block b;
  if (const char *why = m.match(softmax, b))
    return why;
  out.x = m.x_;
  out.w = m.w_;
  out.bias = m.bias_;
  out.packed = m.packed_;
  out.result = m.result_;
  out.heads = *b.heads;
  out.channels = b.channels;
  out.scale = b.scale;
  out.seqFirst = m.batch_ == kX1;
  out.resultSeqFirst = m.resultView_[0].front() == m.seq_;
  out.resultRows = m.resultView_.size() == 2;
  out.causal = m.causal_;
  out.padMask = m.padMask_;
  return nullptr;
}

} // namespace onnxopt
