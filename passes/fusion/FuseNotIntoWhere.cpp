// fuse-not-into-where (exact)
//   Where(Not(c), x, y) -> Where(c, y, x): the same element is picked, and
//   the broadcast shape does not depend on the operand order.
//
// Two ops in a row that one op (or none) computes. The first result must be
// private (one user, not a graph output) unless it merely stays for others.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class NotIntoWhere final : public SimplePattern {
public:
  explicit NotIntoWhere(SimplePatternPass &pass)
      : SimplePattern("Where", pass) {}

  bool matchAndRewrite(Node &where, Rewriter &r) override {
    if (where.op().isOpaque() || where.numInputs() != 3 || !where.input(0) ||
        !where.output(0))
      return r.notifyMatchFailure(where, "opaque or malformed");
    Node *no = producer(where, "Not");
    if (!no || !no->input(0) || !isPrivateResult(where.input(0)))
      return r.notifyMatchFailure(where, "not fed by a private Not");
    Value *x = where.input(1), *y = where.input(2);
    r.setOperand(where, 0, no->input(0));
    r.setOperand(where, 1, y);
    r.setOperand(where, 2, x);
    r.eraseNode(*no);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseNotIntoWherePass() {
  return makeSimplePatternPass<NotIntoWhere>(
      "fuse-not-into-where", "Turn Where(Not(c), x, y) into Where(c, y, x)",
      "num-fused", "Nots folded into Where");
}

} // namespace onnxopt
