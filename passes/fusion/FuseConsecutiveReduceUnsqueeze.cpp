// fuse-consecutive-reduce-unsqueeze (exact)
//   Unsqueeze(Reduce*(X, axes, keepdims = 0), axes) -> Reduce*(X, axes,
//   keepdims = 1): the same elements, the reduced axes kept as size 1. Axes
//   read opset-aware (ReduceSum's moved to an input at 13, the others' at 18).
//
// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
#include "absl/strings/match.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class ReduceUnsqueeze final : public SimplePattern {
public:
  explicit ReduceUnsqueeze(SimplePatternPass &pass)
      : SimplePattern("Unsqueeze", pass) {}

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

} // namespace

std::unique_ptr<Pass> createFuseConsecutiveReduceUnsqueezePass() {
  return makeSimplePatternPass<ReduceUnsqueeze>(
      "fuse-consecutive-reduce-unsqueeze",
      "Turn Unsqueeze of a keepdims=0 reduction on the same axes into "
      "keepdims=1",
      "num-fused", "Reduce+Unsqueeze pairs fused");
}

} // namespace onnxopt
