// Helpers shared by the shape-glue cleanup passes.
#include "passes/cleanup/CleanupUtils.h"

#include <algorithm>
#include <cstring>

namespace onnxopt {

namespace {

struct NumberKind {
  bool known = false, isFloat = false, isSigned = false;
  int bits = 0;     // integers: width; floats: significand incl. hidden bit
  int exponent = 0; // floats: exponent bits
};

NumberKind numberKind(DataType t) {
  switch (t) {
  case DataType::UInt8:
    return {true, false, false, 8};
  case DataType::Int8:
    return {true, false, true, 8};
  case DataType::UInt16:
    return {true, false, false, 16};
  case DataType::Int16:
    return {true, false, true, 16};
  case DataType::UInt32:
    return {true, false, false, 32};
  case DataType::Int32:
    return {true, false, true, 32};
  case DataType::UInt64:
    return {true, false, false, 64};
  case DataType::Int64:
    return {true, false, true, 64};
  case DataType::Float16:
    return {true, true, true, 11, 5};
  case DataType::BFloat16:
    return {true, true, true, 8, 8};
  case DataType::Float:
    return {true, true, true, 24, 8};
  case DataType::Double:
    return {true, true, true, 53, 11};
  default:
    return {};
  }
}

} // namespace

bool isLossless(DataType from, DataType to) {
  NumberKind t = numberKind(to);
  if (from == DataType::Bool)
    return t.known || to == DataType::Bool;
  NumberKind f = numberKind(from);
  if (!f.known || !t.known)
    return false;
  if (f.isFloat)
    return t.isFloat && t.bits >= f.bits && t.exponent >= f.exponent;
  int valueBits = f.bits - (f.isSigned ? 1 : 0);
  if (t.isFloat)
    return valueBits <= t.bits;
  if (f.isSigned && !t.isSigned)
    return false;
  return valueBits <= t.bits - (t.isSigned ? 1 : 0);
}

std::optional<std::vector<int64_t>> constantInts(const Value *v) {
  if (!isConstantTensor(v) || (v->tensor()->dtype() != DataType::Int64 &&
                               v->tensor()->dtype() != DataType::Int32))
    return std::nullopt;
  return ref::toInt64s(*v->tensor());
}

std::shared_ptr<const Tensor> makeInt64Tensor(const std::vector<int64_t> &v,
                                              bool scalar) {
  std::vector<int64_t> dims;
  if (!scalar)
    dims.push_back(int64_t(v.size()));
  std::string bytes(v.size() * sizeof(int64_t), '\0');
  if (!v.empty())
    std::memcpy(bytes.data(), v.data(), bytes.size());
  return std::make_shared<Tensor>(
      Tensor::fromBytes(DataType::Int64, std::move(dims), std::move(bytes)));
}

std::optional<int64_t> rankOf(const Value *v) {
  if (!v || !v->type().isTensor() || !v->type().shape())
    return std::nullopt;
  return int64_t(v->type().shape()->size());
}

std::optional<int64_t> staticDim(const Value *v, int64_t i) {
  auto rank = rankOf(v);
  if (!rank || i < 0 || i >= *rank)
    return std::nullopt;
  const Dim &d = (*v->type().shape())[size_t(i)];
  if (!d.isConstant())
    return std::nullopt;
  return d.value();
}

int64_t intAttr(const Node &n, std::string_view name, int64_t dflt) {
  const Attribute *a = n.attr(name);
  return a && a->kind == AttrKind::Int ? a->i : dflt;
}

IntsOperand intsOperand(const Node &n, std::string_view attr, size_t index,
                        int inputSince) {
  IntsOperand out;
  if (n.op().sinceVersion >= inputSince) {
    if (n.numInputs() <= index || !n.input(index)) {
      out.absent = true;
      return out;
    }
    out.values = constantInts(n.input(index));
    return out;
  }
  const Attribute *a = n.attr(attr);
  if (!a) {
    out.absent = true;
    return out;
  }
  if (a->kind == AttrKind::Ints)
    out.values = a->ints;
  return out;
}

std::optional<std::vector<int64_t>> normalizeAxes(std::vector<int64_t> axes,
                                                  std::optional<int64_t> rank) {
  for (int64_t &a : axes) {
    if (a < 0) {
      if (!rank)
        return std::nullopt;
      a += *rank;
    }
    if (a < 0 || (rank && a >= *rank))
      return std::nullopt;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return std::nullopt;
  return axes;
}

void setIntsOperand(Node &n, std::string_view attr, size_t index,
                    int inputSince, const std::vector<int64_t> &values,
                    Rewriter &r) {
  if (n.op().sinceVersion < inputSince) {
    r.setAttr(n, Attribute::makeInts(std::string(attr), values));
    return;
  }
  Value *c = r.createInitializer(attr, makeInt64Tensor(values));
  while (n.numInputs() <= index)
    r.appendOperand(n, nullptr);
  r.setOperand(n, index, c);
}

} // namespace onnxopt
