// The helpers rewriting passes share, in one place: guards (what a fusion
// checks before it rewrites), reading constant operands and axes (opset-aware),
// building constant tensors, the simple pattern pass that counts into one
// statistic, and the patterns and analyses more than one pass uses (each names
// the passes that use it). A pass's own rule, guards and pattern live in its
// file: passes/<folder>/<Pass>.cpp, named after the pass.
#pragma once

#include "ir/ElementTypes.h"
#include "ir/Graph.h"
#include "passes/Folding.h"
#include "passes/PatternPass.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace onnxopt {

// ---------------------------------------------------------------- guards

/// A constant operand: an initializer that is not a graph input (so not
/// overridable), dense.
inline bool isConstantTensor(const Value *v) {
  return v && v->isConstant() && v->tensor() != nullptr;
}

/// The intermediate value of a fusion: produced for exactly one user and not
/// a graph output (STYLE.md's fusion guards).
inline bool isPrivateResult(const Value *v) {
  return v && v->hasOneUse() && !v->isGraphOutput();
}

/// A default-domain op with a schema (not opaque) of one of the given
/// types.
inline bool isOp(const Node *n, std::string_view type) {
  return n && !n->op().isOpaque() && n->is(type);
}

/// A tensor of float type `dt` holding `values` (rounded once from double).
std::shared_ptr<const Tensor>
makeFloatTensor(DataType dt, std::vector<int64_t> dims,
                const std::vector<double> &values);

/// W' = W * s[c] with W read as [outer, C, inner] (C = s.size()): element
/// ((o * C) + c) * inner + k is scaled by s[c]. Each product is taken in
/// double and rounded once to W's float type. Streams the weights (an
/// unaligned mapped weight is read element by element, not copied first) and
/// computes no index division per element.
std::shared_ptr<const Tensor> scaleBlocks(const Tensor &w,
                                          const std::vector<double> &s,
                                          int64_t outer, int64_t inner);

/// The constant's elements as doubles.
std::vector<double> constantValues(const Value &v);

/// The value of a one-element float constant (not overridable), or nullopt:
/// the scalar operand of a scale, a fill, a bound.
std::optional<double> scalarConstant(const Value *v);

/// Values of a constant `c` combined elementwise with a result of `rank`
/// dims: `c` must broadcast to it without enlarging it and vary at most along
/// `axis`, of `count` entries. Returns `count` values, or nullopt.
std::optional<std::vector<double>> valuesAlongAxis(const Value &c, size_t rank,
                                                   size_t axis, int64_t count);

/// Per-output-channel values of a constant `c` combined with a Conv whose
/// output has `rank` dims and `channels` channels: `c` must broadcast to the
/// output without enlarging it and vary at most along the channel axis
/// ([M,1,1], [1,M,1,1], a scalar, ...). Returns M values, or nullopt.
std::optional<std::vector<double>> channelValues(const Value &c, size_t rank,
                                                 int64_t channels);

// ------------------------------------------- projections by constant weights

/// The constant operand of a two-input node other than `x`, or nullptr.
Value *otherConstant(const Node &n, const Value *x);

/// `n` if it is a MatMul by a 2-D float constant weight, else nullptr.
Node *matmulByConstant(Node *n);

/// Scales the weight's columns (and the bias `add` adds, when given) by `c`
/// (one factor per column), pointing the MatMul (and Add) at new constants.
/// Used by fuse-mul-into-matmul and fuse-attention-scale.
void scaleColumns(Node &mm, Node *add, const std::vector<double> &c,
                  Rewriter &r);

// ------------------------------------------------- constant int operands

/// The elements of a constant int32/int64 operand (not overridable), or
/// nullopt.
std::optional<std::vector<int64_t>> constantInts(const Value *v);

/// True if every value of `from` is exactly a value of `to` (bool to any
/// number, integers into wider integers of the right sign or floats with
/// enough mantissa, float16/bfloat16 -> float -> double).
bool isLossless(DataType from, DataType to);

/// A new 1-D int64 tensor (or a scalar when `scalar`).
std::shared_ptr<const Tensor> makeInt64Tensor(const std::vector<int64_t> &v,
                                              bool scalar = false);

/// The rank of `v` if its type says, or nullopt.
std::optional<int64_t> rankOf(const Value *v);

/// Dim `i` of `v` if it is a known constant, or nullopt.
std::optional<int64_t> staticDim(const Value *v, int64_t i);

/// An int attribute of `n`, or `dflt` when absent.
int64_t intAttr(const Node &n, std::string_view name, int64_t dflt);

/// An operand that moved from an attribute to input `index` at opset
/// `inputSince` (Squeeze/Unsqueeze axes at 13, Split's split at 13, Slice's
/// starts/ends at 10, Pad's pads at 11).
struct IntsOperand {
  /// Neither the attribute nor the input is there.
  bool absent = false;
  /// The values, when known (constant input or attribute).
  std::optional<std::vector<int64_t>> values;
};
IntsOperand intsOperand(const Node &n, std::string_view attr, size_t index,
                        int inputSince);

/// Normalizes `axes` against `rank` (negative counts from the end). Fails on
/// out-of-range or repeated axes, or negative ones with an unknown rank.
std::optional<std::vector<int64_t>> normalizeAxes(std::vector<int64_t> axes,
                                                  std::optional<int64_t> rank);

/// Sets operand `attr`/input `index` of `n` (as intsOperand reads it) to
/// `values`: the attribute before `inputSince`, else a new int64 initializer.
void setIntsOperand(Node &n, std::string_view attr, size_t index,
                    int inputSince, const std::vector<int64_t> &values,
                    Rewriter &r);

// ------------------------------------------------- the simple pattern pass

/// A pattern pass made of one or more patterns that count into one
/// statistic. The patterns get the pass (for fresh names and the counter).
class SimplePatternPass final : public PatternPass {
public:
  using Populate = std::function<void(
      SimplePatternPass &, std::vector<std::unique_ptr<OpRewritePattern>> &)>;
  SimplePatternPass(std::string argument, std::string description,
                    std::string statName, std::string statDescription,
                    Populate populate)
      : argument_(std::move(argument)), description_(std::move(description)),
        populate_(std::move(populate)),
        counter_(this, std::move(statName), std::move(statDescription)) {}
  std::string_view argument() const override { return argument_; }
  std::string_view description() const override { return description_; }
  /// Numeric when marked so, or when its option (which trades exactness
  /// for reach) is on.
  bool isExact() const override { return exact_ && !flag(); }
  Statistic &counter() { return counter_; }
  /// Marks the pass numeric (results within float rounding).
  SimplePatternPass &numeric() {
    exact_ = false;
    return *this;
  }
  /// Adds the pass's one bool option (default false).
  SimplePatternPass &boolOption(std::string name, std::string description) {
    flag_.emplace(this, std::move(name), std::move(description),
                  PassOption::Kind::Bool, "false");
    return *this;
  }
  bool flag() const { return flag_ && flag_->boolValue(); }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    populate_(*this, patterns);
  }

private:
  std::string argument_, description_;
  Populate populate_;
  Statistic counter_;
  bool exact_ = true;
  std::optional<PassOption> flag_;
};

/// A pattern rooted at one op type that keeps its pass.
class SimplePattern : public OpRewritePattern {
public:
  SimplePattern(std::string op, SimplePatternPass &pass)
      : OpRewritePattern(std::move(op)), pass_(pass) {}

protected:
  SimplePatternPass &pass() { return pass_; }
  /// Replaces `n`'s single result with `x` when a graph output allows it.
  bool forward(Node &n, Value *x, Rewriter &r) {
    if (!canForwardResult(*n.output(0), *x, r.graph()))
      return r.notifyMatchFailure(n, "a graph output needs the node");
    r.replaceNode(n, {x});
    ++pass_.counter();
    return true;
  }

private:
  SimplePatternPass &pass_;
};

/// A SimplePatternPass of one pattern type P: P(pass) once, or P(op, pass) for
/// each op of `roots` when P is rooted at several op types.
template <class P>
std::unique_ptr<SimplePatternPass>
makeSimplePatternPass(const char *argument, const char *description,
                      const char *stat, const char *statDescription,
                      std::vector<std::string> roots = {}) {
  return std::make_unique<SimplePatternPass>(
      argument, description, stat, statDescription,
      [roots](SimplePatternPass &pass,
              std::vector<std::unique_ptr<OpRewritePattern>> &patterns) {
        if constexpr (std::is_constructible_v<P, SimplePatternPass &>)
          patterns.push_back(std::make_unique<P>(pass));
        else
          for (const std::string &op : roots)
            patterns.push_back(std::make_unique<P>(op, pass));
      });
}

/// A SimplePatternPass whose patterns `make(root, pass)` builds, one for each
/// op of `roots` (for a pattern shared by several passes).
using PatternFactory = std::unique_ptr<OpRewritePattern> (*)(
    std::string root, SimplePatternPass &pass);
std::unique_ptr<SimplePatternPass>
makeSimplePatternPass(const char *argument, const char *description,
                      const char *stat, const char *statDescription,
                      PatternFactory make, std::vector<std::string> roots);

// ------------------------------------------- shared by the eliminate-nop-*

/// Why `n` is not a no-op, or nullptr when its result equals input 0.
using NopCheck = const char *(*)(const Node &n);
/// True if `s` is Shape(x), whole (no start/end).
bool isShapeOf(const Value *s, const Value *x);
/// A NopCheck: `n` folds to its input (passes/Folding.h).
const char *foldsToInput(const Node &n);
/// The shape operand of Reshape/Expand: constant values, or Shape(X) itself
/// (a no-op either way), or why neither.
struct ShapeOperand {
  const char *why = nullptr;
  bool ownShape = false;
  std::optional<std::vector<int64_t>> values;
};
ShapeOperand shapeOperand(const Node &n);
/// An eliminate-nop-* pass: RemoveNop, rooted at each of `ops`, forwards
/// input 0 to the users of a node `check` says is a no-op (a graph output
/// that cannot take another value's place keeps its node).
std::unique_ptr<Pass> makeNopPass(const char *argument, const char *description,
                                  std::vector<std::string> ops, NopCheck check);

// ------------- Squeeze/Unsqueeze axes (fuse-consecutive-(un)squeezes,
// fuse-squeeze-unsqueeze)

/// The normalized axes of a Squeeze (its input's rank from the type, or
/// `inputRank`); absent axes mean the size-1 dims, which needs a fully static
/// shape.
std::optional<std::vector<int64_t>>
squeezeAxes(const Node &n, std::optional<int64_t> inputRank = std::nullopt);
/// The normalized axes of an Unsqueeze (against its output rank; its input's
/// rank from the type, or `inputRank`).
std::optional<std::vector<int64_t>>
unsqueezeAxes(const Node &n, std::optional<int64_t> inputRank = std::nullopt);
/// The `count` smallest non-negative integers not in sorted `taken`.
std::vector<int64_t> complement(const std::vector<int64_t> &taken,
                                size_t count);
/// The largest element of `v`, or `dflt` when empty.
int64_t maxOr(const std::vector<int64_t> &v, int64_t dflt);
/// Shared tail of the two chain fusions: `second` now reads `x` with
/// `axes`; `first` goes when nothing else uses it.
bool rewireChain(Node &second, Node &first, Value *x, std::vector<int64_t> axes,
                 SimplePatternPass &pass, Rewriter &r);

// ---- shape computations read syntactically (eliminate-shape-gather,
// ---- eliminate-slice-after-shape, fuse-concat-into-reshape)

/// Some of X's dims, as a shape computation holds them.
struct DimsRef {
  Value *x = nullptr;
  std::vector<int64_t> dims; // indices into X's shape
  bool scalar = false;
};
/// `i` normalized against `n` (negative counts from the end) and clamped to
/// [0, n], as Shape and Slice clamp.
int64_t clampIndex(int64_t i, int64_t n);
/// The dims `v` holds: v = Shape(X) (start/end included; X's rank known),
/// Gather(<dims>, constant indices), Slice(<dims>) with one unit-step range
/// on axis 0, or Unsqueeze(<scalar dim>, [0]).
std::optional<DimsRef> dimsRef(const Value *v);
/// The static values of `ref`'s dims, or nullopt if one is dynamic.
std::optional<std::vector<int64_t>> staticDims(const DimsRef &ref);
/// ShapeSubset, rooted at `root` (Gather or Slice): a subset of Shape(X) ->
/// its constant dims when static; from opset 15 a dynamic contiguous run ->
/// Shape <start, end> (X).
std::unique_ptr<OpRewritePattern>
makeShapeSubsetPattern(std::string root, SimplePatternPass &pass);

// ---------------------------- two ops in a row (fuse-consecutive-*, ...)

/// The node producing `n`'s input 0 if it is a default-domain `type`.
Node *producer(const Node &n, std::string_view type);
/// The rank of a Concat's result: from its type or any input's.
std::optional<int64_t> concatRank(const Node &n);
/// `n`'s axis attribute normalized against `rank`, or nullopt.
std::optional<int64_t> axisOf(const Node &n, int64_t dflt,
                              std::optional<int64_t> rank);
/// A Slice's operands as constants (opset 10+): starts, ends, axes
/// (normalized), steps.
struct SliceParams {
  std::vector<int64_t> starts, ends, axes, steps;
};
std::optional<SliceParams> sliceParams(const Node &n,
                                       std::optional<int64_t> rank);

// ------------------------------------------------------------- fusions

/// The perm of a Transpose of known rank, or nullopt (fuse-transpose-into-gemm,
/// fuse-consecutive-transposes).
std::optional<std::vector<int64_t>> permOf(const Node &t);

/// What a Pad does, when it is a constant-mode pad of the spatial dims only.
struct SpatialPad {
  Value *input = nullptr;
  std::vector<int64_t> begin, end;
  double value = 0;
};
/// A private constant-mode Pad of the spatial dims only, or nullopt with
/// `why` set to the reason.
std::optional<SpatialPad> spatialPad(Node &pad, const char *&why);
/// The consumer's pads attribute (zeros when absent), if auto_pad allows.
std::optional<std::vector<int64_t>> consumerPads(const Node &n, size_t spatial);
/// PadInto, rooted at `op` (Conv, AveragePool or MaxPool): the Pad before it
/// folded into its pads (fuse-pad-into-conv, fuse-pad-into-pool).
std::unique_ptr<OpRewritePattern> makePadIntoPattern(std::string op,
                                                     Statistic &fused);

/// ChannelOpIntoConv, rooted at `op` (Add or Mul): a per-channel constant
/// after a Conv folded into its bias or weights (fuse-add-bias-into-conv,
/// fuse-mul-into-conv).
std::unique_ptr<OpRewritePattern>
makeChannelOpIntoConvPattern(std::string op, Statistic &fused);

/// An inference BatchNormalization with constant parameters as the
/// per-channel affine map y = (x - mean) * scale + bias, scale already divided
/// by sqrt(var + epsilon) (fuse-bn-into-conv, fuse-bn-into-gemm).
struct BnAffine {
  std::vector<double> scale, mean, bias;
};
/// Fills `out` for `bn` with `channels` channels; returns why not, or nullptr.
const char *bnAffine(const Node &bn, int64_t channels, BnAffine &out);

} // namespace onnxopt
