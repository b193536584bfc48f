// Two ops in a row computed by one (see ChainFusions.h for each rule).
#include "passes/fusion/ChainFusions.h"

#include "passes/cleanup/CleanupUtils.h"

#include "absl/strings/match.h"

#include <algorithm>

namespace onnxopt {

namespace {

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

// --- eliminate-consecutive-idempotent-ops ------------------------------------

class IdempotentPair final : public CleanupPattern {
public:
  IdempotentPair(std::string op, CleanupPass &pass)
      : CleanupPattern(std::move(op), pass) {}

  bool matchAndRewrite(Node &outer, Rewriter &r) override {
    if (outer.op().isOpaque() || !outer.output(0) || outer.numInputs() != 1)
      return r.notifyMatchFailure(outer, "opaque or malformed");
    Node *inner = producer(outer, outer.op().type);
    if (!inner || !inner->output(0))
      return r.notifyMatchFailure(outer, "not fed by the same op");
    return forward(outer, inner->output(0), r);
  }
};

// --- fuse-consecutive-reduce-unsqueeze ---------------------------------------

class ReduceUnsqueeze final : public CleanupPattern {
public:
  explicit ReduceUnsqueeze(CleanupPass &pass)
      : CleanupPattern("Unsqueeze", pass) {}

  bool matchAndRewrite(Node &unsq, Rewriter &r) override {
    if (unsq.op().isOpaque() || !unsq.input(0) || !unsq.output(0))
      return r.notifyMatchFailure(unsq, "opaque or malformed");
    Node *red = unsq.input(0)->definingNode();
    if (!red || red->op().isOpaque() ||
        !absl::StartsWith(red->op().type, "Reduce") ||
        !isDefaultDomain(red->op().domain) || !red->input(0) ||
        red->numOutputs() != 1)
      return r.notifyMatchFailure(unsq, "not fed by a Reduce");
    if (!isPrivateResult(red->output(0)))
      return r.notifyMatchFailure(
          unsq, "the reduction has other users or is a graph output");
    if (intAttr(*red, "keepdims", 1) != 0)
      return r.notifyMatchFailure(unsq, "the reduction keeps its dims");
    int inputSince = red->is("ReduceSum") ? 13 : 18;
    auto ra = intsOperand(*red, "axes", 1, inputSince);
    auto ua = intsOperand(unsq, "axes", 1, 13);
    auto rank = rankOf(red->input(0));
    if (ra.absent || !ra.values || !ua.values)
      return r.notifyMatchFailure(unsq, "axes unknown");
    auto a = normalizeAxes(*ra.values, rank);
    auto b = normalizeAxes(*ua.values, rank);
    if (!a || !b || *a != *b)
      return r.notifyMatchFailure(unsq, "the axes differ");
    if (!canForwardResult(*unsq.output(0), *red->output(0), r.graph()))
      return r.notifyMatchFailure(unsq, "a graph output needs the node");
    r.setAttr(*red, Attribute::makeInt("keepdims", 1));
    r.setType(red->output(0), unsq.output(0)->type());
    r.replaceNode(unsq, {red->output(0)});
    ++pass().counter();
    return true;
  }
};

// --- fuse-consecutive-concats
// -------------------------------------------------

class ConcatOfConcat final : public CleanupPattern {
public:
  explicit ConcatOfConcat(CleanupPass &pass) : CleanupPattern("Concat", pass) {}

  bool matchAndRewrite(Node &outer, Rewriter &r) override {
    if (outer.op().isOpaque() || !outer.output(0))
      return r.notifyMatchFailure(outer, "opaque or malformed");
    auto axis = axisOf(outer, 0, concatRank(outer));
    std::vector<Value *> inputs;
    std::vector<Node *> merged;
    for (size_t i = 0; i < outer.numInputs(); ++i) {
      Value *v = outer.input(i);
      Node *inner = v ? v->definingNode() : nullptr;
      std::optional<int64_t> innerAxis;
      if (isOp(inner, "Concat") && isPrivateResult(v))
        innerAxis = axisOf(*inner, 0, concatRank(*inner));
      if (axis && innerAxis && *innerAxis == *axis &&
          std::find(merged.begin(), merged.end(), inner) == merged.end()) {
        for (size_t j = 0; j < inner->numInputs(); ++j)
          inputs.push_back(inner->input(j));
        merged.push_back(inner);
      } else {
        inputs.push_back(v);
      }
    }
    if (merged.empty())
      return r.notifyMatchFailure(outer, "no private Concat on the same axis");
    r.setOperands(outer, inputs);
    for (Node *inner : merged)
      if (!inner->hasUses())
        r.eraseNode(*inner);
    ++pass().counter();
    return true;
  }
};

// --- fuse-consecutive-slices
// ---------------------------------------------------

/// A Slice's operands as constants (opset 10+): starts, ends, axes
/// (normalized), steps.
struct SliceParams {
  std::vector<int64_t> starts, ends, axes, steps;
};

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

class SliceOfSlice final : public CleanupPattern {
public:
  explicit SliceOfSlice(CleanupPass &pass) : CleanupPattern("Slice", pass) {}

  bool matchAndRewrite(Node &outer, Rewriter &r) override {
    if (outer.op().isOpaque() || !outer.input(0) || !outer.output(0))
      return r.notifyMatchFailure(outer, "opaque or malformed");
    Node *inner = producer(outer, "Slice");
    if (!inner || !inner->input(0) || !isPrivateResult(outer.input(0)))
      return r.notifyMatchFailure(outer, "not fed by a private Slice");
    // Slicing keeps the rank: X's tells both.
    auto rank = rankOf(inner->input(0));
    auto a = sliceParams(*inner, rank), b = sliceParams(outer, rank);
    if (!a || !b)
      return r.notifyMatchFailure(outer,
                                  "operands not constant (or opset < 10)");
    for (int64_t axis : b->axes)
      if (std::find(a->axes.begin(), a->axes.end(), axis) != a->axes.end())
        return r.notifyMatchFailure(outer, "both slice the same axis");
    auto join = [](std::vector<int64_t> x, const std::vector<int64_t> &y) {
      x.insert(x.end(), y.begin(), y.end());
      return x;
    };
    std::vector<Value *> operands = {inner->input(0)};
    using Field = std::vector<int64_t> SliceParams::*;
    for (Field f : {&SliceParams::starts, &SliceParams::ends,
                    &SliceParams::axes, &SliceParams::steps})
      operands.push_back(r.createInitializer(
          "slice", makeInt64Tensor(join((*a).*f, (*b).*f))));
    r.setOperands(outer, operands);
    if (!inner->hasUses())
      r.eraseNode(*inner);
    ++pass().counter();
    return true;
  }
};

// --- eliminate-slice-of-concat
// ------------------------------------------------

class SliceOfConcat final : public CleanupPattern {
public:
  explicit SliceOfConcat(CleanupPass &pass) : CleanupPattern("Slice", pass) {}

  bool matchAndRewrite(Node &slice, Rewriter &r) override {
    if (slice.op().isOpaque() || !slice.input(0) || !slice.output(0))
      return r.notifyMatchFailure(slice, "opaque or malformed");
    Node *concat = producer(slice, "Concat");
    if (!concat || concat->op().isOpaque())
      return r.notifyMatchFailure(slice, "not fed by a Concat");
    auto rank = concatRank(*concat);
    auto axis = axisOf(*concat, 0, rank);
    auto p = sliceParams(slice, rank);
    if (!axis || !p)
      return r.notifyMatchFailure(slice,
                                  "operands not constant (or opset < 10)");
    if (p->axes.size() != 1 || p->axes[0] != *axis || p->steps[0] != 1)
      return r.notifyMatchFailure(
          slice, "not a unit-step slice of the Concat axis alone");
    // Where each input sits along the axis: every extent must be static.
    std::vector<int64_t> offsets = {0};
    for (size_t i = 0; i < concat->numInputs(); ++i) {
      auto d =
          concat->input(i) ? staticDim(concat->input(i), *axis) : std::nullopt;
      if (!d)
        return r.notifyMatchFailure(slice, "an input's extent is not static");
      offsets.push_back(offsets.back() + *d);
    }
    // ONNX's clamping of starts and ends (step 1).
    int64_t total = offsets.back();
    auto clampIndex = [&](int64_t x) {
      return std::clamp<int64_t>(x < 0 ? x + total : x, 0, total);
    };
    int64_t b = clampIndex(p->starts[0]), e = clampIndex(p->ends[0]);
    if (e <= b)
      return r.notifyMatchFailure(slice, "an empty slice");
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      if (b < offsets[i] || e > offsets[i + 1])
        continue;
      Value *x = concat->input(i);
      if (b == offsets[i] && e == offsets[i + 1])
        return forward(slice, x, r);
      // Inside one input: slice that input instead (the Concat may die).
      r.setOperand(slice, 0, x);
      r.setOperand(
          slice, 1,
          r.createInitializer("slice", makeInt64Tensor({b - offsets[i]})));
      r.setOperand(
          slice, 2,
          r.createInitializer("slice", makeInt64Tensor({e - offsets[i]})));
      ++pass().counter();
      return true;
    }
    return r.notifyMatchFailure(slice, "the range spans several inputs");
  }
};

// --- fuse-consecutive-log-softmax
// ------------------------------------------------

class LogOfSoftmax final : public CleanupPattern {
public:
  explicit LogOfSoftmax(CleanupPass &pass) : CleanupPattern("Log", pass) {}

  bool matchAndRewrite(Node &log, Rewriter &r) override {
    if (log.op().isOpaque() || !log.input(0) || !log.output(0))
      return r.notifyMatchFailure(log, "opaque or malformed");
    Node *sm = producer(log, "Softmax");
    if (!sm || !sm->input(0) || !isPrivateResult(log.input(0)))
      return r.notifyMatchFailure(log, "not fed by a private Softmax");
    auto op = r.resolve("LogSoftmax");
    if (!op.ok())
      return r.notifyMatchFailure(log, "no LogSoftmax at this opset");
    Node *ls = r.create(*op, {sm->input(0)}, 1, &log);
    if (const Attribute *axis = sm->attr("axis"))
      r.setAttr(*ls, Attribute::makeInt("axis", axis->i));
    ls->name = log.name;
    r.takeNameAndType(ls->output(0), *log.output(0));
    r.replaceNode(log, {ls->output(0)});
    r.eraseNode(*sm);
    ++pass().counter();
    return true;
  }
};

// --- eliminate-nop-monotone-argmax
// --------------------------------------------------

class MonotoneArg final : public CleanupPattern {
public:
  MonotoneArg(std::string op, CleanupPass &pass)
      : CleanupPattern(std::move(op), pass) {}

  bool matchAndRewrite(Node &arg, Rewriter &r) override {
    if (arg.op().isOpaque() || !arg.input(0) || !arg.output(0))
      return r.notifyMatchFailure(arg, "opaque or malformed");
    Node *f = arg.input(0)->definingNode();
    if (!f || f->op().isOpaque() || !isDefaultDomain(f->op().domain) ||
        !f->input(0) || !isPrivateResult(arg.input(0)))
      return r.notifyMatchFailure(arg, "not fed by a private op");
    Value *x = f->input(0);
    if (f->is("Cast")) {
      const Attribute *to = f->attr("to");
      if (!to || !x->type().isTensor() ||
          !isLossless(x->type().elemType(), DataType(to->i)) ||
          x->type().elemType() == DataType::Bool)
        return r.notifyMatchFailure(arg, "the Cast may round");
    } else if (!pass().flag()) {
      return r.notifyMatchFailure(arg, "ties possible (allow-ties=false)");
    } else if (f->is("Softmax") || f->is("LogSoftmax")) {
      auto rank = rankOf(x);
      auto fa = axisOf(*f, f->op().sinceVersion >= 13 ? -1 : 1, rank);
      auto aa = axisOf(arg, 0, rank);
      if (f->op().sinceVersion < 13 || !fa || !aa || *fa != *aa)
        return r.notifyMatchFailure(arg, "softmax over another axis");
    } else if (!(f->is("Exp") || f->is("Log") || f->is("Sigmoid") ||
                 f->is("Tanh"))) {
      return r.notifyMatchFailure(arg, "not a monotone op");
    }
    r.setOperand(arg, 0, x);
    r.eraseNode(*f);
    ++pass().counter();
    return true;
  }
};

// --- fuse-not-into-where ---------------------------------------------------

class NotIntoWhere final : public CleanupPattern {
public:
  explicit NotIntoWhere(CleanupPass &pass) : CleanupPattern("Where", pass) {}

  bool matchAndRewrite(Node &where, Rewriter &r) override {
    if (where.op().isOpaque() || where.numInputs() != 3 || !where.input(0) ||
        !where.output(0))
      return r.notifyMatchFailure(where, "opaque or malformed");
    Node *no = producer(where, "Not");
    if (!no || !no->input(0) || !isPrivateResult(where.input(0)))
      return r.notifyMatchFailure(where, "not fed by a private Not");
    Value *x = where.input(1), *y = where.input(2);
    r.setOperand(where, 0, no->input(0));
    r.setOperand(where, 1, y);
    r.setOperand(where, 2, x);
    r.eraseNode(*no);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createEliminateConsecutiveIdempotentOpsPass() {
  return makeCleanupPass<IdempotentPair>(
      "eliminate-consecutive-idempotent-ops",
      "Replace f(f(x)) by f(x) for Relu, Abs, Ceil, Floor, Round, Sign",
      "num-removed", "Repeated idempotent ops removed",
      {"Relu", "Abs", "Ceil", "Floor", "Round", "Sign"});
}
std::unique_ptr<Pass> createFuseConsecutiveReduceUnsqueezePass() {
  return makeCleanupPass<ReduceUnsqueeze>(
      "fuse-consecutive-reduce-unsqueeze",
      "Turn Unsqueeze of a keepdims=0 reduction on the same axes into "
      "keepdims=1",
      "num-fused", "Reduce+Unsqueeze pairs fused");
}
std::unique_ptr<Pass> createFuseConsecutiveConcatsPass() {
  return makeCleanupPass<ConcatOfConcat>(
      "fuse-consecutive-concats",
      "Splice a private Concat on the same axis into "
      "its user",
      "num-fused", "Concats spliced");
}
std::unique_ptr<Pass> createFuseNotIntoWherePass() {
  return makeCleanupPass<NotIntoWhere>(
      "fuse-not-into-where", "Turn Where(Not(c), x, y) into Where(c, y, x)",
      "num-fused", "Nots folded into Where");
}
std::unique_ptr<Pass> createFuseConsecutiveSlicesPass() {
  return makeCleanupPass<SliceOfSlice>(
      "fuse-consecutive-slices", "Merge a Slice of a Slice over disjoint axes",
      "num-fused", "Slice pairs merged");
}
std::unique_ptr<Pass> createEliminateSliceOfConcatPass() {
  return makeCleanupPass<SliceOfConcat>(
      "eliminate-slice-of-concat",
      "Read a Slice of a Concat along its axis from the one input it covers",
      "num-rewired", "Slices reading a Concat input directly");
}
std::unique_ptr<Pass> createFuseConsecutiveLogSoftmaxPass() {
  auto p = makeCleanupPass<LogOfSoftmax>(
      "fuse-consecutive-log-softmax", "Turn Log(Softmax(x)) into LogSoftmax(x)",
      "num-fused", "Log+Softmax pairs fused");
  p->numeric();
  return p;
}
std::unique_ptr<Pass> createEliminateNopMonotoneArgmaxPass() {
  auto p = makeCleanupPass<MonotoneArg>(
      "eliminate-nop-monotone-argmax",
      "Remove a lossless Cast (with allow-ties, any increasing op) before "
      "ArgMax/ArgMin",
      "num-removed", "Monotone ops removed before ArgMax/ArgMin",
      {"ArgMax", "ArgMin"});
  p->boolOption("allow-ties",
                "Also Exp, Log, Sigmoid, Tanh, Softmax, LogSoftmax: they can "
                "round two inputs to one value and change which index wins");
  return p;
}

} // namespace onnxopt
