// fuse-cast-chains
//   t = Cast <to = T1> (X: T0);  Y = Cast <to = T2> (t)
//   ->  Y = Cast <to = T2> (X), or Y = X when T2 = T0
//   Only when T0 -> T1 is lossless (every T0 value is exactly a T1 value:
//   bool to any number, integers into wider integers of the right sign or
//   floats with enough mantissa, float16/bfloat16 -> float -> double). A
//   narrowing first step rounds or wraps, and skipping it would change
//   results (TRAPS.md 3: float -> int32 -> float truncates; it must stay).
//
// Exact.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class CastChain final : public SimplePattern {
public:
  explicit CastChain(SimplePatternPass &pass) : SimplePattern("Cast", pass) {}

  bool matchAndRewrite(Node &second, Rewriter &r) override {
    if (second.op().isOpaque() || !second.input(0) || !second.output(0))
      return r.notifyMatchFailure(second, "opaque or malformed");
    Node *first = second.input(0)->definingNode();
    if (!isOp(first, "Cast") || !first->input(0))
      return r.notifyMatchFailure(second, "not fed by a Cast");
    Value *x = first->input(0);
    const Attribute *mid = first->attr("to"), *to = second.attr("to");
    if (!mid || !to || !x->type().isTensor() ||
        x->type().elemType() == DataType::Undefined)
      return r.notifyMatchFailure(second, "a type is unknown");
    DataType t0 = x->type().elemType(), t1 = DataType(mid->i);
    if (!isLossless(t0, t1))
      return r.notifyMatchFailure(second, "the first Cast may round or wrap");
    if (DataType(to->i) == t0) {
      if (!forward(second, x, r))
        return false;
    } else {
      r.setOperand(second, 0, x);
      ++pass().counter();
    }
    if (!first->hasUses())
      r.eraseNode(*first);
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseCastChainsPass() {
  return makeSimplePatternPass<CastChain>(
      "fuse-cast-chains", "Skip a lossless widening Cast in a chain of Casts",
      "num-fused", "Casts skipped");
}

} // namespace onnxopt
