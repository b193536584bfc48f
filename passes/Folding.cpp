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

} // namespace

Value *foldNode(const Node &n) {
  if (n.op().isOpaque() || n.numOutputs() != 1 || !n.output(0))
    return nullptr;
  if (n.is("Identity"))
    return foldIdentity(n);
  if (n.is("Transpose"))
    return foldTranspose(n);
  if (n.is("Cast"))
    return foldCast(n);
  if (n.is("CastLike"))
    return foldCastLike(n);
  return nullptr;
}

} // namespace onnxopt
