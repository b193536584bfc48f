// The GELU matcher (see GeluMatch.h).
#include "passes/GeluMatch.h"

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

/// The producer of private `v` when it is a default-domain `type`.
Node *privateDef(const Value *v, std::string_view type) {
  Node *n = v ? v->definingNode() : nullptr;
  return isOp(n, type) && v->hasOneUse() && !v->isGraphOutput() ? n : nullptr;
}

/// y^3: Pow (y, 3), Mul (y, Mul (y, y)) or Mul (Mul (y, y), y), private.
/// Returns y and the nodes that read it in `readers`.
Value *cubeOf(const Value *v, std::vector<const Node *> &readers) {
  if (Node *p = privateDef(v, "Pow")) {
    if (scalarConstant(p->input(1)) != 3.0)
      return nullptr;
    readers = {p};
    return p->input(0);
  }
  Node *outer = privateDef(v, "Mul");
  if (!outer)
    return nullptr;
  for (unsigned i = 0; i < 2; ++i) {
    Node *sq = privateDef(outer->input(i), "Mul");
    Value *y = outer->input(1 - i);
    if (sq && sq->input(0) == y && sq->input(1) == y) {
      readers = {outer, sq};
      return y;
    }
  }
  return nullptr;
}

} // namespace

const char *matchGelu(Node &n, GeluMatch &m) {
  m = GeluMatch{};
  std::vector<const Node *> readers; // the chain's nodes that read y
  if (n.op().isOpaque() || !n.output(0) || !n.input(0))
    return "opaque or malformed";
  if (!onlyUser(n.input(0), n.op().type))
    return "the input of the Erf or Tanh has other users";
  Node *scale = n.input(0)->definingNode();
  if (n.is("Erf")) {
    // y / sqrt(2) or y * (1 / sqrt(2)).
    auto divisor =
        isOp(scale, "Div") ? scalarConstant(scale->input(1)) : std::nullopt;
    if (divisor && std::fabs(*divisor - std::sqrt(2.0)) <= 1e-6)
      m.y = scale->input(0);
    else if (isOp(scale, "Mul"))
      m.y = otherIfConstant(*scale, 1 / std::sqrt(2.0));
    if (!m.y)
      return "the Erf's input is not y / sqrt(2)";
    readers = {scale};
  } else if (n.is("Tanh")) {
    // (y + 0.044715 y^3) * sqrt(2 / pi).
    Value *u = isOp(scale, "Mul")
                   ? otherIfConstant(*scale, std::sqrt(2.0 / M_PI))
                   : nullptr;
    Node *add = privateDef(u, "Add");
    if (!add)
      return "the Tanh's input is not (y + 0.044715 y^3) * sqrt(2 / pi)";
    for (unsigned i = 0; i < 2 && !m.y; ++i) {
      Node *t = privateDef(add->input(1 - i), "Mul");
      Value *cube = t ? otherIfConstant(*t, 0.044715) : nullptr;
      if (cube && cubeOf(cube, readers) == add->input(i))
        m.y = add->input(i);
    }
    if (!m.y)
      return "the Tanh's input is not (y + 0.044715 y^3) * sqrt(2 / pi)";
    readers.push_back(add);
    m.tanh = true;
  } else {
    return "not an Erf or a Tanh";
  }
  Node *plus = onlyUser(n.output(0), "Add");
  Value *one = plus ? otherIfConstant(*plus, 1.0) : nullptr;
  if (!one || one != n.output(0))
    return "the Erf or Tanh is not followed by + 1";
  // y * (erf + 1) * 0.5, in either grouping.
  Node *mul = onlyUser(plus->output(0), "Mul");
  if (!mul)
    return "erf + 1 does not feed one Mul";
  Value *other =
      mul->input(0) == plus->output(0) ? mul->input(1) : mul->input(0);
  if (other == m.y) {
    m.result = onlyUser(mul->output(0), "Mul");
    if (!m.result || otherIfConstant(*m.result, 0.5) != mul->output(0))
      return "y * (erf + 1) is not halved";
    readers.push_back(mul);
  } else {
    Node *half = other ? other->definingNode() : nullptr;
    if (!isOp(half, "Mul") || otherIfConstant(*half, 0.5) != m.y ||
        !other->hasOneUse() || other->isGraphOutput())
      return "(erf + 1) is not multiplied by y";
    m.result = mul;
    readers.push_back(half);
  }
  if (!m.y->type().isTensor() || m.y->type().elemType() != DataType::Float)
    return "not float32";
  size_t inside = 0;
  for (const Use *u = m.y->firstUse(); u; u = u->nextUse())
    inside += std::count(readers.begin(), readers.end(), u->user()) > 0;
  m.yPrivate = inside == m.y->numUses() && !m.y->isGraphOutput();
  return nullptr;
}

} // namespace onnxopt
