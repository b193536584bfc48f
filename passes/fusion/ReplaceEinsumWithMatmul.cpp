// replace-einsum-with-matmul: a two-operand Einsum that is a (batched)
// matrix product becomes MatMul, with a Transpose of the last two axes for
// an operand stored the other way round.
//
// Before:
//   Y = Einsum <equation = "bhid,bhjd->bhij"> (Q, K)
// After:
//   t = Transpose <perm = [0, 1, 3, 2]> (K)
//   Y = MatMul (Q, t)
//
// Preconditions: explicit output ("->"); batch labels (in both operands and
// the output) lead every term in the same order, optionally after a common
// "..." (numpy broadcasting, as MatMul's); exactly one contracted label k and
// one free label per operand (m in A, n in B); the output ends with m, n (or
// n, m: the operands swap); no repeated label in a term. Ranks must be known
// for the Transpose when "..." is used.
//
// Numeric: MatMul may sum the k products in another order than Einsum.
#include "passes/PatternUtils.h"

#include <algorithm>

namespace onnxopt {

namespace {

/// A term: whether it starts with "...", then its letters.
struct Term {
  bool ellipsis = false;
  std::string letters;
};

std::optional<Term> parseTerm(std::string_view t) {
  Term out;
  if (t.substr(0, 3) == "...") {
    out.ellipsis = true;
    t.remove_prefix(3);
  }
  for (char c : t) {
    if (!std::isalpha(static_cast<unsigned char>(c)) ||
        out.letters.find(c) != std::string::npos)
      return std::nullopt;
    out.letters += c;
  }
  return out;
}

/// How to compute the Einsum as MatMul(A', B'): which input is A, and
/// whether A and B need their last two axes swapped.
struct Plan {
  bool swapInputs = false, transA = false, transB = false;
};

std::optional<Plan> planFor(const Term &a, const Term &b, const Term &o) {
  if (a.ellipsis != b.ellipsis || a.ellipsis != o.ellipsis ||
      a.letters.size() < 2 || b.letters.size() < 2 || o.letters.size() < 2)
    return std::nullopt;
  size_t batch = o.letters.size() - 2;
  std::string prefix = o.letters.substr(0, batch);
  if (a.letters.size() != batch + 2 || b.letters.size() != batch + 2 ||
      a.letters.substr(0, batch) != prefix ||
      b.letters.substr(0, batch) != prefix)
    return std::nullopt;
  std::string ta = a.letters.substr(batch), tb = b.letters.substr(batch);
  std::string to = o.letters.substr(batch);
  // The contracted label: in both operands' tails, not in the output.
  char k = 0;
  for (char c : ta)
    if (tb.find(c) != std::string::npos)
      k = c;
  if (!k || to.find(k) != std::string::npos)
    return std::nullopt;
  char m = ta[0] == k ? ta[1] : ta[0], n = tb[0] == k ? tb[1] : tb[0];
  if (m == n || m == k || n == k)
    return std::nullopt;
  Plan p;
  if (to == std::string{m, n}) {
    p.transA = ta[0] == k;
    p.transB = tb[1] == k;
  } else if (to == std::string{n, m}) {
    p.swapInputs = true;
    p.transA = tb[0] == k;
    p.transB = ta[1] == k;
  } else {
    return std::nullopt;
  }
  return p;
}

class EinsumToMatMul final : public SimplePattern {
public:
  explicit EinsumToMatMul(SimplePatternPass &pass)
      : SimplePattern("Einsum", pass) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() != 2 || !n.input(0) || !n.input(1) ||
        !n.output(0))
      return r.notifyMatchFailure(n, "opaque or not two operands");
    const Attribute *eqAttr = n.attr("equation");
    if (!eqAttr)
      return r.notifyMatchFailure(n, "no equation");
    std::string eq;
    for (char c : eqAttr->s)
      if (c != ' ')
        eq += c;
    size_t arrow = eq.find("->"), comma = eq.find(',');
    if (arrow == std::string::npos || comma == std::string::npos ||
        comma > arrow)
      return r.notifyMatchFailure(n, "no explicit output");
    auto a = parseTerm(std::string_view(eq).substr(0, comma));
    auto b =
        parseTerm(std::string_view(eq).substr(comma + 1, arrow - comma - 1));
    auto o = parseTerm(std::string_view(eq).substr(arrow + 2));
    if (!a || !b || !o)
      return r.notifyMatchFailure(n, "a term has a repeated label");
    auto plan = planFor(*a, *b, *o);
    if (!plan)
      return r.notifyMatchFailure(n, "not a batched matrix product");
    Value *x = n.input(plan->swapInputs ? 1 : 0);
    Value *y = n.input(plan->swapInputs ? 0 : 1);
    auto transpose = r.resolve("Transpose");
    auto matmul = r.resolve("MatMul");
    if (!transpose.ok() || !matmul.ok())
      return r.notifyMatchFailure(n, "no MatMul at this opset");
    auto swapLast = [&](Value *v) -> Value * {
      auto rank = rankOf(v);
      if (!rank || *rank < 2)
        return nullptr;
      std::vector<int64_t> perm;
      for (int64_t i = 0; i < *rank; ++i)
        perm.push_back(i);
      std::swap(perm[size_t(*rank - 1)], perm[size_t(*rank - 2)]);
      Node *t = r.create(*transpose, {v}, 1, &n);
      r.setAttr(*t, Attribute::makeInts("perm", perm));
      r.setName(t->output(0), r.freshName(v->name() + "_t"));
      return t->output(0);
    };
    if ((plan->transA && !rankOf(x)) || (plan->transB && !rankOf(y)))
      return r.notifyMatchFailure(n, "an operand's rank is unknown");
    if (plan->transA)
      x = swapLast(x);
    if (plan->transB)
      y = swapLast(y);
    Node *mm = r.create(*matmul, {x, y}, 1, &n);
    mm->name = n.name;
    r.takeNameAndType(mm->output(0), *n.output(0));
    r.replaceNode(n, {mm->output(0)});
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createReplaceEinsumWithMatmulPass() {
  auto p = makeSimplePatternPass<EinsumToMatMul>(
      "replace-einsum-with-matmul",
      "Turn a two-operand Einsum that is a batched matrix product into "
      "MatMul",
      "num-replaced", "Einsums replaced");
  p->numeric();
  return p;
}

} // namespace onnxopt
