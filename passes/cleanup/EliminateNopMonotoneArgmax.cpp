// eliminate-nop-monotone-argmax (exact by default)
//   ArgMax/ArgMin(f(X)) -> ArgMax/ArgMin(X) for f strictly increasing and
//   injective on the values: a lossless widening Cast. With allow-ties=true
//   also Exp, Log, Sigmoid, Tanh, Softmax and LogSoftmax on the same axis,
//   which are increasing but can round or saturate two different inputs to
//   the same output (a tie picks the first index; X may not tie there).
//
// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class MonotoneArg final : public SimplePattern {
public:
  MonotoneArg(std::string op, SimplePatternPass &pass)
      : SimplePattern(std::move(op), pass) {}

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

} // namespace

std::unique_ptr<Pass> createEliminateNopMonotoneArgmaxPass() {
  auto p = makeSimplePatternPass<MonotoneArg>(
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
