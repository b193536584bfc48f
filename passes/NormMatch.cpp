// The normalization matchers' shared pieces (see NormMatch.h).
#include "passes/NormMatch.h"

#include "passes/PatternUtils.h"

#include <algorithm>
#include <numeric>

namespace onnxopt {

/// The producer of `v` when it is a ReduceMean with keepdims 1 and constant
/// axes, else nullptr; its axes in `axes`.
Node *reduceMeanOf(const Value *v, std::vector<int64_t> &axes) {
  Node *n = v ? v->definingNode() : nullptr;
  if (!isOp(n, "ReduceMean") || intAttr(*n, "keepdims", 1) != 1)
    return nullptr;
  IntsOperand a = intsOperand(*n, "axes", 1, 18);
  if (a.absent || !a.values)
    return nullptr;
  axes = *a.values;
  return n;
}

/// The other operand of a two-input node, given one.
Value *otherOperand(const Node &n, const Value *x) {
  if (n.numInputs() != 2)
    return nullptr;
  if (n.input(0) == x)
    return n.input(1);
  return n.input(1) == x ? n.input(0) : nullptr;
}

/// The single user of `v` when it is an op of `type` and `v` is private.
Node *soleUser(const Value *v, std::string_view type) {
  if (!isPrivateResult(v))
    return nullptr;
  Node *u = v->firstUse()->user();
  return isOp(u, type) ? u : nullptr;
}

/// A constant for gamma or beta: `c` if its dims, leading 1s dropped, are
/// the normalized dims `norm` (a reshaped copy when they had leading 1s), or
/// nullptr. With unknown normalized dims, a 1-D `c` of one normalized axis.
Value *normalizedConstant(Value *c,
                          const std::vector<std::optional<int64_t>> &norm,
                          Rewriter &r) {
  if (!isConstantTensor(c) || c->tensor()->dtype() != DataType::Float)
    return nullptr;
  std::vector<int64_t> dims = c->tensor()->dims();
  size_t lead = 0;
  while (lead < dims.size() && dims.size() - lead > norm.size() &&
         dims[lead] == 1)
    ++lead;
  dims = std::vector<int64_t>(dims.begin() + int64_t(lead), dims.end());
  if (dims.size() != norm.size())
    return nullptr;
  for (size_t i = 0; i < dims.size(); ++i)
    if (norm[i] ? *norm[i] != dims[i] : norm.size() != 1)
      return nullptr;
  if (lead == 0)
    return c;
  const Tensor &t = *c->tensor();
  return r.createInitializer(c->name(),
                             std::make_shared<Tensor>(Tensor::fromBytes(
                                 t.dtype(), dims, std::string(t.bytes()))));
}

/// The last-axes check both normalizations make: `axes` of X (rank `rank`)
/// sorted are k..rank-1; returns k.
std::optional<int64_t> lastAxesStart(std::vector<int64_t> axes,
                                     std::optional<int64_t> rank) {
  auto norm = normalizeAxes(std::move(axes), rank);
  if (!rank || !norm || norm->empty())
    return std::nullopt;
  std::sort(norm->begin(), norm->end());
  int64_t k = (*norm)[0];
  for (size_t i = 0; i < norm->size(); ++i)
    if ((*norm)[i] != k + int64_t(i))
      return std::nullopt;
  if (norm->back() != *rank - 1)
    return std::nullopt;
  return k;
}

/// Ones of the static normalized dims `norm`, or nullptr when one is dynamic.
Value *onesScale(const std::vector<std::optional<int64_t>> &norm, Rewriter &r,
                 const char *name) {
  std::vector<int64_t> dims;
  for (const auto &n : norm) {
    if (!n)
      return nullptr;
    dims.push_back(*n);
  }
  int64_t count = std::accumulate(dims.begin(), dims.end(), int64_t(1),
                                  std::multiplies<int64_t>());
  return r.createInitializer(
      name, makeFloatTensor(DataType::Float, dims,
                            std::vector<double>(size_t(count), 1.0)));
}

} // namespace onnxopt
