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

#include "passes/GeluMatch.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class GeluToOrt final : public OpRewritePattern {
public:
  GeluToOrt(Statistic &gelu, Statistic &biasGelu)
      : OpRewritePattern("Erf"), gelu_(gelu), biasGelu_(biasGelu) {}

  bool matchAndRewrite(Node &erf, Rewriter &r) override {
    GeluMatch m;
    if (const char *why = matchGelu(erf, m))
      return r.notifyMatchFailure(erf, why);
    Value *y = m.y;
    Node *result = m.result;
    bool yPrivate = m.yPrivate;
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
    r.replaceChain(*result, *g);
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
