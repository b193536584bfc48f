// fuse-consecutive-log-softmax (numeric)
//   Log(Softmax(X, axis)) -> LogSoftmax(X, axis). LogSoftmax computes
//   x - max - log(sum(exp(x - max))), which rounds differently from the log of
//   the rounded softmax (and does not underflow to -inf): within float
//   rounding, not bit for bit.
//
// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class LogOfSoftmax final : public SimplePattern {
public:
  explicit LogOfSoftmax(SimplePatternPass &pass) : SimplePattern("Log", pass) {}

  bool matchAndRewrite(Node &log, Rewriter &r) override {
    if (log.op().isOpaque() || !log.input(0) || !log.output(0))
      return r.notifyMatchFailure(log, "opaque or malformed");
    Node *sm = producer(log, "Softmax");
    if (!sm || !sm->input(0) || !isPrivateResult(log.input(0)))
      return r.notifyMatchFailure(log, "not fed by a private Softmax");
    auto op = r.resolve("LogSoftmax");
    if (!op.ok())
      return r.notifyMatchFailure(log, "no LogSoftmax at this opset");
    Node *ls = r.create(*op, {sm->input(0)}, 1, &log);
    if (const Attribute *axis = sm->attr("axis"))
      r.setAttr(*ls, Attribute::makeInt("axis", axis->i));
    ls->name = log.name;
    r.takeNameAndType(ls->output(0), *log.output(0));
    r.replaceNode(log, {ls->output(0)});
    r.eraseNode(*sm);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseConsecutiveLogSoftmaxPass() {
  auto p = makeSimplePatternPass<LogOfSoftmax>(
      "fuse-consecutive-log-softmax", "Turn Log(Softmax(x)) into LogSoftmax(x)",
      "num-fused", "Log+Softmax pairs fused");
  p->numeric();
  return p;
}

} // namespace onnxopt
