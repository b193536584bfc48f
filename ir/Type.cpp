// Element types, dimensions and value types.
#include "ir/Type.h"

#include "ir/Printer.h"

#include "absl/strings/str_cat.h"

#include <array>

namespace onnxopt {

namespace {
struct TypeInfo {
  const char *name;
  size_t size;
};
constexpr std::array<TypeInfo, 17> kTypes = {{
    {"undefined", 0},
    {"float", 4},
    {"uint8", 1},
    {"int8", 1},
    {"uint16", 2},
    {"int16", 2},
    {"int32", 4},
    {"int64", 8},
    {"string", 0},
    {"bool", 1},
    {"float16", 2},
    {"double", 8},
    {"uint32", 4},
    {"uint64", 8},
    {"complex64", 8},
    {"complex128", 16},
    {"bfloat16", 2},
}};
} // namespace

bool isKnownDataType(int32_t v) { return v >= 1 && v <= 16; }

size_t elementSize(DataType t) {
  auto i = static_cast<size_t>(t);
  return i < kTypes.size() ? kTypes[i].size : 0;
}

const char *dataTypeName(DataType t) {
  auto i = static_cast<size_t>(t);
  return i < kTypes.size() ? kTypes[i].name : "undefined";
}

std::optional<DataType> parseDataTypeName(std::string_view name) {
  for (size_t i = 1; i < kTypes.size(); ++i)
    if (name == kTypes[i].name)
      return static_cast<DataType>(i);
  return std::nullopt;
}

Type Type::sequence(Type elem) {
  Type t;
  t.kind_ = Kind::Sequence;
  t.inner_ = std::make_shared<const Type>(std::move(elem));
  return t;
}

Type Type::optional(Type elem) {
  Type t;
  t.kind_ = Kind::Optional;
  t.inner_ = std::make_shared<const Type>(std::move(elem));
  return t;
}

Type Type::map(DataType key, Type value) {
  Type t;
  t.kind_ = Kind::Map;
  t.elemType_ = key;
  t.inner_ = std::make_shared<const Type>(std::move(value));
  return t;
}

bool Type::operator==(const Type &o) const {
  if (kind_ != o.kind_ || elemType_ != o.elemType_ || shape_ != o.shape_ ||
      denotation != o.denotation)
    return false;
  if (!inner_ || !o.inner_)
    return !inner_ && !o.inner_;
  return *inner_ == *o.inner_;
}

std::string Type::str() const {
  switch (kind_) {
  case Kind::Unknown:
    return "?";
  case Kind::Tensor:
  case Kind::SparseTensor: {
    std::string s(dataTypeName(elemType_));
    if (kind_ == Kind::SparseTensor)
      s = absl::StrCat("sparse_tensor(", s, ")");
    if (shape_) {
      s += "[";
      for (size_t i = 0; i < shape_->size(); ++i) {
        if (i)
          s += ",";
        const Dim &d = (*shape_)[i];
        if (d.isConstant())
          absl::StrAppend(&s, d.value());
        else if (d.isSymbol())
          s += dimSymbolText(d.symbol());
        else
          s += "?";
      }
      s += "]";
    }
    return s;
  }
  case Kind::Sequence:
    return absl::StrCat("seq(", inner_->str(), ")");
  case Kind::Optional:
    return absl::StrCat("optional(", inner_->str(), ")");
  case Kind::Map:
    return absl::StrCat("map(", dataTypeName(elemType_), ", ", inner_->str(),
                        ")");
  }
  return "?";
}

} // namespace onnxopt
