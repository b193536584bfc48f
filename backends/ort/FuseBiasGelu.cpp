// ort-fuse-bias-gelu: the exact (erf) GELU, as exporters write it, becomes
// ONNX Runtime's com.microsoft.Gelu, or com.microsoft.BiasGelu with the bias
// Add before it.
//
// Before:
//   y = Add (x, bias)                          # bias: constant [N], x: [...,
//   N] g = Mul (Mul (y, Add (Erf (Div (y, sqrt(2))), 1)), 0.5)
//       (also Mul (y, 1/sqrt(2)) for the Div, Mul (Mul (y, 0.5), ...) for the
//       halving, either operand order of each Mul and Add)
// After:
//   g = com.microsoft.BiasGelu (x, bias)       # or Gelu (y) without the Add
//
// Preconditions: float32; the constants are 1, 0.5 and sqrt(2) (or its
// inverse) within float rounding; the values inside the GELU have no other
// users; the bias is a 1-D constant as long as x's last (static) dim, and
// the Add feeds only this GELU (else it stays and Gelu takes y).
//
// Numeric: ONNX Runtime evaluates erf with its own approximation (MLAS), so
// results move within float rounding. This is what ONNX Runtime's own
// GeluFusion and BiasGeluFusion do at load at level `extended`; lowered
// ahead, a model loaded with optimizations `disabled` runs them too.
#include "backends/ort/OrtPasses.h"

#include "passes/PatternUtils.h"

#include <cmath>

namespace onnxopt {

namespace {

/// The scalar float constant operand of a binary `n` (either side) and the
/// other operand, when the constant is within float rounding of `want`.
Value *otherIfConstant(const Node &n, double want) {
  for (unsigned i = 0; i < 2; ++i) {
    auto v = scalarConstant(n.input(i));
    if (v && std::fabs(*v - want) <= 1e-6 * std::fabs(want))
      return n.input(1 - i);
  }
  return nullptr;
}

/// The single user of `v` if it is a default-domain `type` and `v` is not a
/// graph output.
Node *onlyUser(const Value *v, std::string_view type) {
  if (!v || !v->hasOneUse() || v->isGraphOutput())
    return nullptr;
  Node *u = v->firstUse()->user();
  return isOp(u, type) ? u : nullptr;
}

class GeluToOrt final : public OpRewritePattern {
public:
  GeluToOrt(Statistic &gelu, Statistic &biasGelu)
      : OpRewritePattern("Erf"), gelu_(gelu), biasGelu_(biasGelu) {}

  bool matchAndRewrite(Node &erf, Rewriter &r) override {
    // y / sqrt(2) or y * (1 / sqrt(2)).
    Node *scale = erf.input(0) ? erf.input(0)->definingNode() : nullptr;
    if (!onlyUser(erf.input(0), "Erf"))
      return r.notifyMatchFailure(erf, "the Erf's input has other users");
    Value *y = nullptr;
    auto divisor =
        isOp(scale, "Div") ? scalarConstant(scale->input(1)) : std::nullopt;
    if (divisor && std::fabs(*divisor - std::sqrt(2.0)) <= 1e-6)
      y = scale->input(0);
    else if (isOp(scale, "Mul"))
      y = otherIfConstant(*scale, 1 / std::sqrt(2.0));
    if (!y)
      return r.notifyMatchFailure(erf, "the Erf's input is not y / sqrt(2)");
    Node *plus = onlyUser(erf.output(0), "Add");
    Value *one = plus ? otherIfConstant(*plus, 1.0) : nullptr;
    if (!one || one != erf.output(0))
      return r.notifyMatchFailure(erf, "the Erf is not followed by + 1");
    // y * (erf + 1) * 0.5, in either grouping.
    Node *mul = onlyUser(plus->output(0), "Mul");
    if (!mul)
      return r.notifyMatchFailure(erf, "erf + 1 does not feed one Mul");
    Value *other =
        mul->input(0) == plus->output(0) ? mul->input(1) : mul->input(0);
    Node *result = nullptr;
    if (other == y) {
      result = onlyUser(mul->output(0), "Mul");
      if (!result || otherIfConstant(*result, 0.5) != mul->output(0))
        return r.notifyMatchFailure(erf, "y * (erf + 1) is not halved");
    } else {
      Node *half = other ? other->definingNode() : nullptr;
      if (!isOp(half, "Mul") || otherIfConstant(*half, 0.5) != y ||
          !other->hasOneUse() || other->isGraphOutput())
        return r.notifyMatchFailure(erf, "(erf + 1) is not multiplied by y");
      result = mul;
    }
    if (!y->type().isTensor() || y->type().elemType() != DataType::Float)
      return r.notifyMatchFailure(erf, "not float32");
    // The uses of y: the scale and the product (or the halving) only.
    const Node *product = other == y ? mul : other->definingNode();
    size_t inside = 0;
    for (const Use *u = y->firstUse(); u; u = u->nextUse())
      if (u->user() == scale || u->user() == product)
        ++inside;
    bool yPrivate = inside == y->numUses() && !y->isGraphOutput();
    // The bias Add before it, when only the GELU reads its result.
    Node *add = y->definingNode();
    Value *x = nullptr, *bias = nullptr;
    if (yPrivate && isOp(add, "Add"))
      for (unsigned i = 0; i < 2 && !bias; ++i) {
        const Value *b = add->input(1 - i);
        auto n =
            staticDim(add->input(i), rankOf(add->input(i)).value_or(1) - 1);
        if (isConstantTensor(b) && b->tensor()->dims().size() == 1 &&
            b->tensor()->dtype() == DataType::Float && n &&
            b->tensor()->dims()[0] == *n &&
            rankOf(add->input(i)).value_or(0) >= 1) {
          x = add->input(i);
          bias = add->input(1 - i);
        }
      }
    auto op = r.resolve(bias ? "BiasGelu" : "Gelu", "com.microsoft");
    if (!op.ok())
      return r.notifyMatchFailure(erf, "no com.microsoft domain");
    Node *g = bias ? r.create(*op, {x, bias}, 1, result)
                   : r.create(*op, {y}, 1, result);
    g->name = result->name;
    r.takeNameAndType(g->output(0), *result->output(0));
    Node *last = result;
    r.replaceAllUsesWith(result->output(0), g->output(0));
    r.eraseDeadFrom(*last);
    ++(bias ? biasGelu_ : gelu_);
    return true;
  }

private:
  Statistic &gelu_, &biasGelu_;
};

class OrtFuseBiasGeluPass final : public OrtLoweringPass {
public:
  std::string_view argument() const override { return "ort-fuse-bias-gelu"; }
  std::string_view description() const override {
    return "Lower the erf GELU (and a bias Add before it) to ONNX Runtime's "
           "com.microsoft.Gelu / BiasGelu";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<GeluToOrt>(numGelu, numBiasGelu));
  }

private:
  Statistic numGelu{this, "num-gelu", "GELUs lowered to Gelu"};
  Statistic numBiasGelu{this, "num-bias-gelu",
                        "bias Adds and GELUs lowered to BiasGelu"};
};

} // namespace

std::unique_ptr<Pass> createOrtFuseBiasGeluPass() {
  return std::make_unique<OrtFuseBiasGeluPass>();
}

} // namespace onnxopt
