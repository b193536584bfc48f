// eliminate-op-with-unit: removes arithmetic with an identity element where
// that is exact in IEEE arithmetic.
//
// Before:
//   Y = Mul (X, one)                # one: every element 1
// After:
//   (uses of Y read X)
//
// Removed: x * 1, 1 * x, x / 1, x - 0 (keeps -0), x + (-0), (-0) + x; for
// integer types also x + 0 and 0 + x. Kept (TRAPS.md 13): x + (+0), which
// turns -0 into +0, and x - (-0) likewise; 0 - x, 1 / x.
//
// Preconditions: the unit is a constant (not an overridable input) of X's
// element type whose every element is the unit, bit for bit; it cannot
// enlarge X by broadcasting (a scalar, or X's rank is known and at least the
// unit's with every unit dim 1 or equal to X's); a graph output keeps its
// node unless X can carry its name. Exact.

#include "ir/ElementTypes.h"
#include "passes/PatternPass.h"
#include "passes/PatternRewriter.h"

#include <cstring>

namespace onnxopt {

namespace {

enum class Unit { One, PlusZero, MinusZero };

/// True if every element of the constant is exactly `u` (bit for bit for
/// floats, so -0 and +0 differ).
bool allUnit(const Tensor &t, Unit u) {
  switch (t.dtype()) {
    REF_FLOATS({
      View<T> v(t);
      T want = T(Compute<T>(u == Unit::One         ? 1.0
                            : u == Unit::MinusZero ? -0.0
                                                   : 0.0));
      for (int64_t i = 0; i < v.size(); ++i)
        if (std::memcmp(&v[i], &want, sizeof(T)) != 0)
          return false;
      return true;
    })
    REF_INTS({
      // Integers have one zero: +0 and -0 are the same unit.
      View<T> v(t);
      T want = T(u == Unit::One ? 1 : 0);
      for (int64_t i = 0; i < v.size(); ++i)
        if (v[i] != want)
          return false;
      return true;
    })
  default:
    return false;
  }
}

/// True if broadcasting `c` against `x` leaves x's shape unchanged.
bool cannotEnlarge(const Value &x, const Tensor &c) {
  if (c.dims().empty())
    return true;
  const auto &s = x.type().shape();
  if (!x.type().isTensor() || !s || s->size() < c.dims().size())
    return false;
  size_t off = s->size() - c.dims().size();
  for (size_t i = 0; i < c.dims().size(); ++i) {
    const Dim &d = (*s)[off + i];
    if (c.dims()[i] != 1 && !(d.isConstant() && d.value() == c.dims()[i]))
      return false;
  }
  return true;
}

class RemoveUnitOp final : public OpRewritePattern {
public:
  RemoveUnitOp(std::string op, Statistic &removed)
      : OpRewritePattern(std::move(op)), removed_(removed) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() != 2 || !n.output(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    // Which operand may be the unit, and which units are exact there.
    for (size_t k = 0; k < 2; ++k) {
      Value *unit = n.input(k), *x = n.input(1 - k);
      if (!unit || !x || !unit->isConstant() || !unit->tensor())
        continue;
      bool exact = false;
      const Tensor &t = *unit->tensor();
      bool isInt = !isFloatType(t.dtype());
      if (n.is("Mul"))
        exact = allUnit(t, Unit::One);
      else if (n.is("Div") && k == 1)
        exact = allUnit(t, Unit::One);
      else if (n.is("Sub") && k == 1)
        exact = allUnit(t, Unit::PlusZero);
      else if (n.is("Add"))
        exact = allUnit(t, Unit::MinusZero) ||
                (isInt && allUnit(t, Unit::PlusZero));
      if (!exact)
        continue;
      if (x->type().isTensor() && x->type().elemType() != DataType::Undefined &&
          x->type().elemType() != t.dtype())
        continue;
      if (!cannotEnlarge(*x, t))
        return r.notifyMatchFailure(n, "the unit could broadcast X larger");
      if (!canForwardResult(*n.output(0), *x, r.graph()))
        return r.notifyMatchFailure(n, "a graph output needs the node");
      r.replaceNode(n, {x});
      ++removed_;
      return true;
    }
    return r.notifyMatchFailure(n, "no exact unit operand");
  }

private:
  Statistic &removed_;
};

class EliminateOpWithUnitPass final : public PatternPass {
public:
  std::string_view argument() const override {
    return "eliminate-op-with-unit";
  }
  std::string_view description() const override {
    return "Remove x*1, x/1, x-0 and x+(-0) (exact in IEEE arithmetic)";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    for (const char *op : {"Add", "Sub", "Mul", "Div"})
      patterns.push_back(std::make_unique<RemoveUnitOp>(op, numRemoved));
  }

private:
  Statistic numRemoved{this, "num-removed", "Operations with a unit removed"};
};

} // namespace

std::unique_ptr<Pass> createEliminateOpWithUnitPass() {
  return std::make_unique<EliminateOpWithUnitPass>();
}

} // namespace onnxopt
