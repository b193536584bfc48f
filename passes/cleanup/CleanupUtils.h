// Helpers shared by the shape-glue cleanup passes: reading constant int
// operands and axes (opset-aware), static dims, and a pattern pass described
// by data.
#pragma once

#include "passes/fusion/FusionUtils.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace onnxopt {

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

/// A pattern pass made of one or more patterns that count into one
/// statistic. The patterns get the pass (for fresh names and the counter).
class CleanupPass final : public PatternPass {
public:
  using Populate = std::function<void(
      CleanupPass &, std::vector<std::unique_ptr<OpRewritePattern>> &)>;
  CleanupPass(std::string argument, std::string description,
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
  CleanupPass &numeric() {
    exact_ = false;
    return *this;
  }
  /// Adds the pass's one bool option (default false).
  CleanupPass &boolOption(std::string name, std::string description) {
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
class CleanupPattern : public OpRewritePattern {
public:
  CleanupPattern(std::string op, CleanupPass &pass)
      : OpRewritePattern(std::move(op)), pass_(pass) {}

protected:
  CleanupPass &pass() { return pass_; }
  /// Replaces `n`'s single result with `x` when a graph output allows it.
  bool forward(Node &n, Value *x, Rewriter &r) {
    if (!canForwardResult(*n.output(0), *x, r.graph()))
      return r.notifyMatchFailure(n, "a graph output needs the node");
    r.replaceNode(n, {x});
    ++pass_.counter();
    return true;
  }

private:
  CleanupPass &pass_;
};

/// A CleanupPass of one pattern type P: P(pass) once, or P(op, pass) for each
/// op of `roots` when P is rooted at several op types.
template <class P>
std::unique_ptr<CleanupPass>
makeCleanupPass(const char *argument, const char *description, const char *stat,
                const char *statDescription,
                std::vector<std::string> roots = {}) {
  return std::make_unique<CleanupPass>(
      argument, description, stat, statDescription,
      [roots](CleanupPass &pass,
              std::vector<std::unique_ptr<OpRewritePattern>> &patterns) {
        if constexpr (std::is_constructible_v<P, CleanupPass &>)
          patterns.push_back(std::make_unique<P>(pass));
        else
          for (const std::string &op : roots)
            patterns.push_back(std::make_unique<P>(op, pass));
      });
}

} // namespace onnxopt
