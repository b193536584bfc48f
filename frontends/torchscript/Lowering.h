// The TorchScript lowering (private to the frontend module): walks a frozen,
// inlined, specialized forward() graph in program order and emits ONNX ops
// (opset 17) into the IR.
//
// A TorchScript value lowers to one of:
//   - a constant (an IValue: numbers, lists of numbers, strings, None),
//     folded at import time;
//   - an IR value: a tensor, or an int/float/bool computed at run time as a
//     0-d tensor (x.size(0), ...); a list of ints computed at run time is a
//     1-D int64 tensor;
//   - a list of IR values (tensor lists for cat/stack, tuples, the results
//     of chunk/split/unbind).
// prim::If on a run-time condition becomes ONNX If, prim::Loop ONNX Loop;
// their blocks lower into subgraphs that read outer values directly.
// Weights and other constants go to the main graph as initializers.
#pragma once

#include "format/TypeInference.h"
#include "frontends/torchscript/TorchScriptImporter.h"
#include "ir/Builder.h"
#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/ir/ir.h>

#include <optional>
#include <string>
#include <vector>

namespace onnxopt::torchscript {

namespace jit = torch::jit;

constexpr int64_t kOpset = 17;

std::optional<DataType> dataTypeOf(c10::ScalarType t);
std::optional<c10::ScalarType> scalarTypeOf(DataType dt);
bool isFloating(DataType dt);

/// Move-only attributes gathered into a vector.
template <class... A> std::vector<Attribute> attrList(A... a) {
  std::vector<Attribute> v;
  (v.push_back(std::move(a)), ...);
  return v;
}

class Lowering {
public:
  /// `argNames`: forward()'s argument names from its schema (`self` first).
  Lowering(Model &model, const std::vector<TorchInput> &inputs,
           std::vector<std::string> argNames)
      : model_(model), main_(model, *model.graph), cur_(&main_),
        shapes_(*model.graph, kOpset), inputs_(inputs),
        argNames_(std::move(argNames)) {}

  absl::Status run(jit::Graph &graph);

  // ---- operands (Lowering.cpp) --------------------------------------------
  std::optional<c10::IValue> constant(const jit::Value *v);
  /// A tensor operand: a lowered value, or a constant tensor/number made an
  /// initializer (numbers take `numberType` when floating, else int64/bool).
  absl::StatusOr<Value *> tensor(const jit::Value *v,
                                 DataType numberType = DataType::Float);
  /// A list of ints as a 1-D int64 tensor (constant or computed).
  absl::StatusOr<Value *> intList(const jit::Value *v);
  /// The items of a list: tensor lists, tuples, or a computed int list
  /// (gathered one by one; `count` items, which must be known).
  absl::StatusOr<std::vector<Value *>> items(const jit::Value *v,
                                             std::optional<size_t> count);
  std::optional<int64_t> intOf(const jit::Value *v);
  std::optional<double> numberOf(const jit::Value *v);
  std::optional<bool> boolOf(const jit::Value *v);
  std::optional<std::vector<int64_t>> intsOf(const jit::Value *v);
  bool isNone(const jit::Value *v);
  std::optional<int64_t> rankOf(const jit::Value *v);
  /// The element type libtorch knows for a value (ints from sizes are
  /// int64, Python floats double).
  static std::optional<DataType> elementTypeOf(const jit::Value *v);
  static DataType typeOf(Value *v) {
    return v->type().isTensor() ? v->type().elemType() : DataType::Float;
  }
  /// A dtype argument (a ScalarType number; None: `fallback`).
  std::optional<DataType> dtypeArg(const jit::Value *v, DataType fallback);

  // ---- building ------------------------------------------------------------
  Value *initializer(std::string name, const at::Tensor &t);
  Value *scalar(double x, DataType dt);
  Value *ints(const std::vector<int64_t> &v, bool asScalar = false);
  std::string nameOf(const jit::Value *v);
  std::string nameOfText(const std::string &base);
  absl::Status unsupported(const jit::Node &n, const std::string &why = "");

  /// A node for `n`, its results named after n's outputs.
  absl::StatusOr<Node *> emit(std::string_view op,
                              const std::vector<Value *> &inputs,
                              const jit::Node &n, size_t outs = 1);
  /// An intermediate node (its result named afresh).
  absl::StatusOr<Value *> step(std::string_view op,
                               const std::vector<Value *> &inputs,
                               std::vector<Attribute> attrs = attrList());
  /// n's first output is a new `op` node.
  absl::Status result(const jit::Node &n, std::string_view op,
                      const std::vector<Value *> &inputs,
                      std::vector<Attribute> attrs = attrList());
  void alias(const jit::Node &n, Value *v) { tensors_[n.output(0)] = v; }
  /// Infers a finished node's result types (ranks for later rank-dependent
  /// lowerings, dtypes for casts).
  void finish(Node *node) { shapes_.infer(*node); }
  /// Evaluates a node on numbers, strings and lists whose operands are all
  /// known at import time with libtorch's own kernel (scripted code's
  /// checks and messages). False: not such a node.
  bool foldConstant(jit::Node &n);
  absl::StatusOr<Value *> cast(Value *v, DataType to);
  /// Torch's type promotion for a binary op: both operands cast to the
  /// result type (a higher category wins: bool < int < float; within one,
  /// a dimensioned tensor over a 0-d tensor over a number; a number of a
  /// higher category gives float32/int64).
  absl::Status promote(Value *&a, Value *&b, const jit::Value *ja,
                       const jit::Value *jb);
  /// `v` unsqueezed to a 1-element 1-D tensor.
  absl::StatusOr<Value *> asVector(Value *v);

  // ---- the lowering --------------------------------------------------------
  absl::Status lower(jit::Node &n);
  absl::Status lowerBlock(jit::Block &block);
  absl::Status lowerIf(jit::Node &n);
  absl::Status lowerLoop(jit::Node &n);
  /// `to` stands for what `from` lowered to (replacing what it stood for).
  void bind(const jit::Value *to, const jit::Value *from);
  /// The most iterations a constant `for` loop is unrolled for.
  static constexpr int64_t kMaxUnroll = 64;
  absl::Status lowerConvolution(jit::Node &n);
  absl::Status lowerArithmetic(jit::Node &n, std::string_view op);
  absl::Status lowerTensorOps(jit::Node &n, const std::string &kind);
  absl::Status lowerRnn(jit::Node &n, bool lstm);
  absl::Status lowerAttention(jit::Node &n);
  absl::Status lowerEncoderLayer(jit::Node &n);
  /// Multi-head self/cross attention as torch's fast path computes it
  /// (nn.MultiheadAttention's packed in-projection); `weights` gets the
  /// attention probabilities averaged over heads when asked for.
  absl::StatusOr<Value *> attention(jit::Node &n, Value *q, Value *k, Value *v,
                                    int64_t embed, int64_t heads, Value *inW,
                                    Value *inB, Value *outW, Value *outB,
                                    const jit::Value *mask,
                                    std::optional<int64_t> maskType,
                                    Value **weights, bool average);
  absl::StatusOr<Value *> linear(Value *x, Value *w, Value *b);
  absl::StatusOr<Value *> gelu(Value *x, bool tanh);
  /// A tensor of `shape` (1-D int64) filled with `fill` (a 0-d tensor).
  absl::StatusOr<Value *> filled(Value *shape, Value *fill);
  absl::Status lowerCreation(jit::Node &n, const std::string &kind);
  absl::Status lowerShapeOps(jit::Node &n, const std::string &kind);

  Model &model_;
  Builder main_; ///< constants: the main graph
  Builder *cur_; ///< nodes: the graph being built
  IncrementalShapeInference shapes_;
  /// Inside a run-time If branch or Loop body: constants must not be
  /// mutated by folding there (the path may not run).
  int runtimeDepth_ = 0;
  const std::vector<TorchInput> &inputs_;
  std::vector<std::string> argNames_;
  absl::flat_hash_map<const jit::Value *, Value *> tensors_;
  absl::flat_hash_map<const jit::Value *, std::vector<Value *>> lists_;
  absl::flat_hash_map<const jit::Value *, c10::IValue> consts_;
  absl::flat_hash_set<std::string> names_;
  /// Constant tensors made initializers, with the tensor (its impl and
  /// version) they were made from.
  struct ConstTensor {
    Value *value;
    const void *impl;
    int64_t version;
  };
  absl::flat_hash_map<const jit::Value *, ConstTensor> constTensors_;
};

} // namespace onnxopt::torchscript
