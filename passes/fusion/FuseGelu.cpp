// fuse-gelu: the GELU that exports before opset 20 spell out op by op (the
// exact erf form, or the tanh approximation) becomes ONNX's Gelu (opset 20).
//
// Before (passes/GeluMatch.h has the variants):
//   g = Mul (Mul (y, Add (Erf (Div (y, sqrt(2))), 1)), 0.5)
//   g = Mul (Mul (y, Add (Tanh (Mul (Add (y, Mul (Pow (y, 3), 0.044715)),
//                                     sqrt(2/pi))), 1)), 0.5)
// After:
//   g = Gelu (y)      or   Gelu <approximate = "tanh"> (y)
//
// Preconditions: the model imports opset >= 20 (an older model is converted
// first only when --target-opset asks for it); float32; the constants
// within float rounding of their values; every value between y and g
// private to the chain.
//
// Numeric: runtimes evaluate erf and tanh with their own approximations, so
// results move within float rounding.
#include "passes/GeluMatch.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class GeluChain final : public SimplePattern {
public:
  GeluChain(std::string root, SimplePatternPass &pass)
      : SimplePattern(std::move(root), pass) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    GeluMatch m;
    if (const char *why = matchGelu(n, m))
      return r.notifyMatchFailure(n, why);
    auto op = r.resolve("Gelu");
    if (!op.ok())
      return r.notifyMatchFailure(n, "the model's opset has no Gelu (< 20)");
    Node *g = r.create(*op, {m.y}, 1, m.result);
    if (m.tanh)
      r.setAttr(*g, Attribute::makeString("approximate", "tanh"));
    r.replaceChain(*m.result, *g);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseGeluPass() {
  auto p = makeSimplePatternPass<GeluChain>(
      "fuse-gelu", "Fuse the erf or tanh GELU chain into Gelu (opset >= 20)",
      "num-fused", "GELUs fused", {"Erf", "Tanh"});
  p->numeric();
  return p;
}

} // namespace onnxopt
