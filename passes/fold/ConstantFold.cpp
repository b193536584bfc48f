// constant-fold: evaluates nodes whose inputs are all constants.
//
// Before:
//   <ir_version: 8, opset_import: ["" : 17]>
//   g (float[2] X) => (float[2] Y)
//   <float[2] a = {1, 2}, float[2] b = {3, 4}>
//   { s = Add (a, b)
//     Y = Mul (X, s) }
// After:
//   g (float[2] X) => (float[2] Y)
//   <float[2] a = {1, 2}, float[2] b = {3, 4}, float[2] s = {4, 6}>
//   { Y = Mul (X, s) }
// (the dead a and b go with eliminate-unused-initializers.)
//
// A node is folded when it has a reference kernel (backends/reference), every
// present input is a constant (an initializer that is not a graph input: an
// overridable default is not a constant), it is deterministic (never
// Random*, Multinomial, Bernoulli), it is not opaque or in a custom domain,
// it owns no subgraph, and its results grow the model by at most `max-size`
// bytes, counting the bytes of inputs the fold leaves unused. Views that
// partition one constant (the Q, K and V Slices of a packed in_proj_weight)
// fold whatever their size: when every reader of the constant is a view of
// constants and their results together are no larger than it, folding them
// all frees it, so the model does not grow. A node the
// interpreter cannot evaluate (an error, an unsupported type) stays as it is.
// Constant nodes become initializers. Exact: the folded values are what the
// reference interpreter computes for the original model.

#include "backends/reference/Evaluator.h"
#include "passes/Pass.h"
#include "passes/PatternRewriter.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <optional>

namespace onnxopt {

namespace {

/// The default domain and ai.onnx.ml (a Scaler or LabelEncoder of a
/// constant); contrib ops are lowered forms this pass leaves to their
/// runtime.
bool foldableDomain(std::string_view domain) {
  return isDefaultDomain(domain) || domain == "ai.onnx.ml";
}

bool isNonDeterministic(const Node &n) {
  static const char *const kRandom[] = {"RandomNormal",  "RandomNormalLike",
                                        "RandomUniform", "RandomUniformLike",
                                        "Multinomial",   "Bernoulli"};
  for (const char *op : kRandom)
    if (n.is(op))
      return true;
  return false;
}

/// Every present operand is a dense constant.
bool presentInputsConstant(const Node &n) {
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (const Value *v = n.input(i); v && (!v->isConstant() || !v->tensor()))
      return false;
  return true;
}

uint64_t tensorBytes(const Tensor &t) {
  if (t.dtype() != DataType::String)
    return t.byteSize();
  uint64_t b = 0;
  for (const std::string &s : t.strings())
    b += s.size();
  return b;
}

/// Ops whose results select or rearrange operand 0's elements.
bool isView(const Node &n) {
  static const char *const kViews[] = {"Slice",   "Split",     "Gather",
                                       "Squeeze", "Unsqueeze", "Reshape",
                                       "Flatten", "Transpose", "Identity"};
  for (const char *op : kViews)
    if (n.is(op))
      return true;
  return false;
}

/// The statically known bytes of `v` (a typed tensor of static dims).
std::optional<uint64_t> staticBytes(const Value *v) {
  const Type &t = v->type();
  if (!t.isTensor() || !t.shape() || t.elemType() == DataType::String ||
      t.elemType() == DataType::Undefined)
    return std::nullopt;
  uint64_t n = 1;
  for (const Dim &d : *t.shape()) {
    if (!d.isConstant() || d.value() < 0)
      return std::nullopt;
    n *= uint64_t(d.value());
  }
  return n * elementSize(t.elemType());
}

/// The bytes of `n`'s operand 0 when `n` is one of the views that partition
/// it: every reader is a view of constant operands (this pass folds each)
/// whose results, statically typed, add up to no more than the operand.
uint64_t partitionedBytes(const Node &n) {
  const Value *data = n.numInputs() ? n.input(0) : nullptr;
  if (!isView(n) || !data || !data->isConstant() || !data->tensor())
    return 0;
  uint64_t total = 0;
  for (const Use *u = data->firstUse(); u; u = u->nextUse()) {
    const Node *r = u->user();
    if (!isView(*r) || r->op().isOpaque() || !presentInputsConstant(*r) ||
        r->input(0) != data)
      return 0;
    for (size_t i = 0; i < r->numOutputs(); ++i)
      if (const Value *out = r->output(i)) {
        auto b = staticBytes(out);
        if (!b)
          return 0;
        total += *b;
      }
  }
  uint64_t size = tensorBytes(*data->tensor());
  return total <= size ? size : 0;
}

class ConstantFoldPass final : public Pass {
public:
  std::string_view argument() const override { return "constant-fold"; }
  std::string_view description() const override {
    return "Evaluate nodes whose inputs are all constants with the reference "
           "interpreter";
  }

  absl::StatusOr<bool> run(Graph &g, PassContext &ctx) override {
    bool changed = false;
    std::optional<NameGenerator> names; // built on first need: it walks g
    uint64_t maxBytes = uint64_t(maxSize.intValue());
    for (Node *n : g.nodes()) {
      // Most nodes read a computed value: that test is the cheapest and the
      // most selective, so it goes first.
      if (!presentInputsConstant(*n) || !n->hasUses() || n->op().isOpaque() ||
          !foldableDomain(n->op().domain) || !n->subgraphs().empty() ||
          isNonDeterministic(*n) || !ref::findKernel(*n))
        continue;
      // Inputs (all present ones constant, tested above); count the bytes
      // the fold frees.
      std::vector<ref::RefValue> values;
      values.reserve(n->numInputs());
      std::vector<const ref::RefValue *> ins;
      uint64_t freed = 0;
      for (size_t i = 0; i < n->numInputs(); ++i) {
        Value *v = n->input(i);
        if (!v) {
          ins.push_back(nullptr);
          continue;
        }
        bool onlyHere = true;
        for (Use *u = v->firstUse(); u; u = u->nextUse())
          onlyHere &= u->user() == n;
        if (onlyHere)
          freed += tensorBytes(*v->tensor());
        values.push_back(ref::RefValue::of(v->tensor()));
        ins.push_back(&values.back());
      }
      // Identity of a constant into a graph output is how a folded output is
      // kept; folding it again would loop.
      if (n->is("Identity") && n->output(0) && n->output(0)->isGraphOutput())
        continue;

      // Views that partition a constant free it once all are folded.
      freed = std::max(freed, partitionedBytes(*n));
      // The size guard is also the evaluator's allocation limit, so an
      // Expand or Tile to a huge shape fails fast instead of allocating.
      ref::EvalLimits limits;
      limits.maxTensorBytes = maxBytes + freed;
      ref::Evaluator ev(limits);
      auto outs = ev.runNode(*n, ins);
      if (!outs.ok()) {
        if (absl::IsResourceExhausted(outs.status()))
          ++numTooLarge;
        else
          ++numNotEvaluated;
        continue;
      }
      uint64_t produced = 0;
      bool allTensors = true;
      for (size_t i = 0; i < n->numOutputs(); ++i)
        if (n->output(i)) {
          const ref::RefValue &r = (*outs)[i];
          allTensors &= r.isTensor();
          if (r.isTensor())
            produced += tensorBytes(*r.tensor);
        }
      if (!allTensors) {
        ++numNotEvaluated;
        continue;
      }
      if (produced > maxBytes + freed) {
        ++numTooLarge;
        continue;
      }
      for (size_t i = 0; i < n->numOutputs(); ++i) {
        Value *out = n->output(i);
        if (!out)
          continue;
        // A graph output's name stays on the carrier Identity below.
        bool keepsName = !out->isGraphOutput();
        if (!keepsName && !names)
          names.emplace(g);
        Value *init = g.addInitializer(
            keepsName ? out->name() : names->fresh(out->name() + "_folded"),
            (*outs)[i].tensor);
        Value *replacement = init;
        if (!canForwardResult(*out, *init, g)) {
          // A graph output keeps its name through an Identity of the
          // constant.
          auto id = ctx.model.resolveOp("Identity");
          if (!id.ok())
            return id.status();
          Node *carrier = g.createNode(*id, {init}, 1, n);
          carrier->output(0)->setName(out->name());
          carrier->output(0)->setType(init->type());
          replacement = carrier->output(0);
        }
        out->replaceAllUsesWith(replacement);
      }
      std::vector<Value *> operands;
      for (size_t i = 0; i < n->numInputs(); ++i)
        operands.push_back(n->input(i));
      n->erase();
      values.clear();
      // Weights only this node read (a Transpose of a mapped weight, ...)
      // can give their pages back now rather than at the end.
      for (Value *v : operands)
        releaseIfDead(v);
      ++numFolded;
      changed = true;
    }
    return changed;
  }

private:
  PassOption maxSize{this, "max-size",
                     "Largest growth of the model, in bytes, one fold may "
                     "cause (counting the inputs it frees)",
                     PassOption::Kind::Size, "1M"};
  Statistic numFolded{this, "num-folded", "Nodes folded into constants"};
  Statistic numTooLarge{this, "num-too-large",
                        "Nodes left because the result passes max-size"};
  Statistic numNotEvaluated{this, "num-not-evaluated",
                            "Nodes the interpreter could not evaluate"};
};

} // namespace

std::unique_ptr<Pass> createConstantFoldPass() {
  return std::make_unique<ConstantFoldPass>();
}

} // namespace onnxopt
