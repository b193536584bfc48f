// Element types, dimensions (constant, symbolic or unknown) and value types.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onnxopt {

/// ONNX element types; the numeric values are TensorProto.DataType's.
enum class DataType : int32_t {
  Undefined = 0,
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  UInt32 = 12,
  UInt64 = 13,
  Complex64 = 14,
  Complex128 = 15,
  BFloat16 = 16,
};

/// True for the element types this build understands (1..16).
bool isKnownDataType(int32_t v);
/// Byte size of one element; 0 for String and Undefined.
size_t elementSize(DataType t);
/// Name used in the text form ("float", "int64", ...).
const char *dataTypeName(DataType t);
/// Inverse of dataTypeName.
std::optional<DataType> parseDataTypeName(std::string_view name);

/// One dimension of a tensor shape.
class Dim {
public:
  enum class Kind : uint8_t { Unknown, Constant, Symbol };
  Dim() = default;
  static Dim constant(int64_t v) {
    Dim d;
    d.kind_ = Kind::Constant;
    d.value_ = v;
    return d;
  }
  static Dim symbol(std::string name) {
    Dim d;
    d.kind_ = Kind::Symbol;
    d.symbol_ = std::move(name);
    return d;
  }
  Kind kind() const { return kind_; }
  bool isConstant() const { return kind_ == Kind::Constant; }
  bool isSymbol() const { return kind_ == Kind::Symbol; }
  int64_t value() const { return value_; }
  const std::string &symbol() const { return symbol_; }
  /// ONNX dimension denotation, carried through.
  std::string denotation;
  bool operator==(const Dim &o) const {
    return kind_ == o.kind_ && value_ == o.value_ && symbol_ == o.symbol_ &&
           denotation == o.denotation;
  }

private:
  Kind kind_ = Kind::Unknown;
  int64_t value_ = 0;
  std::string symbol_;
};

/// The type of a value: a tensor (possibly unranked), a sparse tensor, a
/// sequence, an optional, a map, or unknown (no type information).
class Type {
public:
  enum class Kind : uint8_t {
    Unknown,
    Tensor,
    SparseTensor,
    Sequence,
    Optional,
    Map
  };

  Type() = default;
  static Type tensor(DataType dtype) {
    Type t;
    t.kind_ = Kind::Tensor;
    t.elemType_ = dtype;
    return t;
  }
  static Type tensor(DataType dtype, std::vector<Dim> dims) {
    Type t = tensor(dtype);
    t.shape_ = std::move(dims);
    return t;
  }
  static Type sparseTensor(DataType dtype) {
    Type t = tensor(dtype);
    t.kind_ = Kind::SparseTensor;
    return t;
  }
  static Type sequence(Type elem);
  static Type optional(Type elem);
  static Type map(DataType key, Type value);

  Kind kind() const { return kind_; }
  bool isUnknown() const { return kind_ == Kind::Unknown; }
  bool isTensor() const { return kind_ == Kind::Tensor; }
  /// Element type of a (sparse) tensor, or the key type of a map.
  DataType elemType() const { return elemType_; }
  void setElemType(DataType t) { elemType_ = t; }
  /// Shape of a (sparse) tensor; nullopt when unranked.
  const std::optional<std::vector<Dim>> &shape() const { return shape_; }
  void setShape(std::optional<std::vector<Dim>> s) { shape_ = std::move(s); }
  /// Element type of a sequence/optional, or the value type of a map.
  const Type *inner() const { return inner_.get(); }
  /// ONNX type denotation, carried through.
  std::string denotation;

  bool operator==(const Type &o) const;
  bool operator!=(const Type &o) const { return !(*this == o); }
  /// Text form, as in the ONNX textual syntax ("float[batch,3]", "seq(int64)").
  std::string str() const;

private:
  Kind kind_ = Kind::Unknown;
  DataType elemType_ = DataType::Undefined;
  std::optional<std::vector<Dim>> shape_;
  std::shared_ptr<const Type> inner_;
};

} // namespace onnxopt
