// Per-op fold hooks.
#include "passes/Folding.h"

namespace onnxopt {

namespace {

Value *foldIdentity(const Node &n) {
  return n.numInputs() == 1 ? n.input(0) : nullptr;
}

Value *foldTranspose(const Node &n) {
  Value *x = n.numInputs() == 1 ? n.input(0) : nullptr;
  if (!x)
    return nullptr;
  if (const Attribute *perm = n.attr("perm")) {
    for (size_t i = 0; i < perm->ints.size(); ++i)
      if (perm->ints[i] != static_cast<int64_t>(i))
        return nullptr;
    return x;
  }
  // Without perm the axes reverse: the identity only for rank 0 and 1.
  const auto &shape = x->type().shape();
  return x->type().isTensor() && shape && shape->size() <= 1 ? x : nullptr;
}

Value *foldCast(const Node &n) {
  Value *x = n.numInputs() == 1 ? n.input(0) : nullptr;
  const Attribute *to = n.attr("to");
  if (!x || !to || !x->type().isTensor() ||
      x->type().elemType() == DataType::Undefined)
    return nullptr;
  return to->i == static_cast<int64_t>(x->type().elemType()) ? x : nullptr;
}

Value *foldCastLike(const Node &n) {
  Value *x = n.numInputs() == 2 ? n.input(0) : nullptr;
  const Value *like = x ? n.input(1) : nullptr;
  if (!like || !x->type().isTensor() || !like->type().isTensor() ||
      x->type().elemType() == DataType::Undefined)
    return nullptr;
  return like->type().elemType() == x->type().elemType() ? x : nullptr;
}

struct FoldHook {
  std::string_view type;
  Value *(*fold)(const Node &);
};

// The one list of hooks (default domain): foldNode dispatches on it and
// foldHookOpTypes() reports it, so the two cannot disagree.
constexpr FoldHook kFoldHooks[] = {{"Identity", foldIdentity},
                                   {"Transpose", foldTranspose},
                                   {"Cast", foldCast},
                                   {"CastLike", foldCastLike}};

} // namespace

Value *foldNode(const Node &n) {
  if (n.op().isOpaque() || n.numOutputs() != 1 || !n.output(0))
    return nullptr;
  for (const FoldHook &h : kFoldHooks)
    if (n.is(h.type))
      return h.fold(n);
  return nullptr;
}

std::vector<std::string_view> foldHookOpTypes() {
  std::vector<std::string_view> types;
  for (const FoldHook &h : kFoldHooks)
    types.push_back(h.type);
  return types;
}

} // namespace onnxopt
