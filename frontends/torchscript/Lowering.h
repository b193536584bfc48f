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

#include <memory>
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

/// Whether `n` makes a new tensor no other view shares (zeros, full, empty,
/// clone and their _like forms): a write into it is seen only through it.
bool makesFreshTensor(const jit::Node &n);

class Lowering;
/// A lowering of one op kind (a member of Lowering): the node's status, or
/// nullopt when it declines a form it does not handle.
using LoweringFn = std::optional<absl::Status> (Lowering::*)(
    jit::Node &n, const std::string &kind);
/// The lowerings of `kind`, in the order they are tried (LoweringTable.cpp).
const std::vector<LoweringFn> &loweringsOf(const std::string &kind);

class Lowering {
public:
  /// `argNames`: forward()'s argument names from its schema (`self` first);
  /// `self`: the frozen module (the attributes freezing kept because
  /// forward() sets them).
  Lowering(Model &model, const std::vector<TorchInput> &inputs,
           std::vector<std::string> argNames,
           c10::intrusive_ptr<c10::ivalue::Object> self)
      : model_(model), main_(model, *model.graph), cur_(&main_),
        shapes_(*model.graph, kOpset), inputs_(inputs),
        argNames_(std::move(argNames)), self_(std::move(self)) {}

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
  /// Operand `i` of `n` as a tensor value.
  absl::StatusOr<Value *> operand(const jit::Node &n, size_t i) {
    return tensor(n.input(i));
  }
  /// `n` as the one-input ONNX op `op` of its operand 0.
  absl::Status unary(jit::Node &n, std::string_view op) {
    ONNXOPT_ASSIGN_OR_RETURN(auto x, operand(n, 0));
    return result(n, op, {x});
  }
  absl::Status lower(jit::Node &n);
  absl::Status lowerBlock(jit::Block &block);
  absl::Status lowerIf(jit::Node &n);
  absl::Status lowerLoop(jit::Node &n);
  /// `v` stands for nothing (before it is lowered again).
  void forget(const jit::Value *v);
  /// `to` stands for what `from` lowered to (replacing what it stood for).
  void bind(const jit::Value *to, const jit::Value *from);
  /// A run-time `if` in forward()'s top block whose branches give one
  /// result two ranks: lowering stops (Aborted) so that the importer can
  /// move what follows it into both branches and lower again.
  jit::Node *rankSplit_ = nullptr;
  /// A constant `for` loop is unrolled when it runs at most kMaxUnroll
  /// times or its unrolled body has at most kMaxUnrolledNodes nodes
  /// (SSD's loop over 90 classes: 90 x 17).
  static constexpr int64_t kMaxUnroll = 64;
  static constexpr int64_t kMaxUnrolledNodes = 4096;
  absl::Status lowerArithmetic(jit::Node &n, std::string_view op);
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

public:
  // ---- one per entry of the lowering table (LoweringTable.cpp), defined
  // beside their kind: Lowering.cpp (prim::*, lists, scalars), LowerOps.cpp
  // (math, convolution, reductions), LowerShapes.cpp (shapes and indexing).
  std::optional<absl::Status> lowerPrimIf(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerPrimLoop(jit::Node &n,
                                            const std::string &kind);
  std::optional<absl::Status> lowerPrimUninitialized(jit::Node &n,
                                                     const std::string &kind);
  std::optional<absl::Status> lowerRaiseOrWarn(jit::Node &n,
                                               const std::string &kind);
  std::optional<absl::Status> lowerListConstruct(jit::Node &n,
                                                 const std::string &kind);
  std::optional<absl::Status> lowerUnpack(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerListCopy(jit::Node &n,
                                            const std::string &kind);
  std::optional<absl::Status> lowerAppend(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerExtend(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerInsert(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerItemAccess(jit::Node &n,
                                              const std::string &kind);
  std::optional<absl::Status> lowerLen(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerDict(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerSetItem(jit::Node &n,
                                           const std::string &kind);
  std::optional<absl::Status> lowerTypeQuery(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerDim(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerPassThrough(jit::Node &n,
                                               const std::string &kind);
  std::optional<absl::Status> lowerScalarConversion(jit::Node &n,
                                                    const std::string &kind);
  std::optional<absl::Status> lowerNot(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerLogical(jit::Node &n,
                                           const std::string &kind);
  std::optional<absl::Status> lowerComparison(jit::Node &n,
                                              const std::string &kind);
  std::optional<absl::Status> lowerConvolution(jit::Node &n,
                                               const std::string &kind);
  std::optional<absl::Status> lowerBatchNorm(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerSqrt(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerHardsigmoid(jit::Node &n,
                                               const std::string &kind);
  std::optional<absl::Status> lowerSilu(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerGelu(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerClamp(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerAdd(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerSub(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerRsub(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerMul(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerDiv(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerFloorDivide(jit::Node &n,
                                               const std::string &kind);
  std::optional<absl::Status> lowerRemainder(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerPool(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerAdaptiveAvgPool(jit::Node &n,
                                                   const std::string &kind);
  std::optional<absl::Status> lowerFlatten(jit::Node &n,
                                           const std::string &kind);
  std::optional<absl::Status> lowerLinear(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerAddmm(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerTranspose2d(jit::Node &n,
                                               const std::string &kind);
  std::optional<absl::Status> lowerMatMul(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerCat(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerView(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerSize(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerPermute(jit::Node &n,
                                           const std::string &kind);
  std::optional<absl::Status> lowerTranspose(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerChunk(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerMeanOverDims(jit::Node &n,
                                                const std::string &kind);
  std::optional<absl::Status> lowerSoftmax(jit::Node &n,
                                           const std::string &kind);
  std::optional<absl::Status> lowerLayerNorm(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerUnsqueeze(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerEmbedding(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerSelect(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerListSlice(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerSlice(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerRecurrent(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status>
  lowerNativeMultiHeadAttention(jit::Node &n, const std::string &kind);
  std::optional<absl::Status>
  lowerTransformerEncoderLayerFwd(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerUnaryTable(jit::Node &n,
                                              const std::string &kind);
  std::optional<absl::Status> lowerRsqrt(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerPow(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerLeakyRelu(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerReduce(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerMinMaxAlongDim(jit::Node &n,
                                                  const std::string &kind);
  std::optional<absl::Status> lowerElementwiseMinMax(jit::Node &n,
                                                     const std::string &kind);
  std::optional<absl::Status> lowerArgMinMax(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerCumsum(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerEinsum(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerBaddbmm(jit::Node &n,
                                           const std::string &kind);
  std::optional<absl::Status> lowerGroupNorm(jit::Node &n,
                                             const std::string &kind);
  std::optional<absl::Status> lowerNumel(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerScalarSqrt(jit::Node &n,
                                              const std::string &kind);
  std::optional<absl::Status> lowerCreationOp(jit::Node &n,
                                              const std::string &kind);
  std::optional<absl::Status> lowerExpand(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerPad(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerMaskedFill(jit::Node &n,
                                              const std::string &kind);
  std::optional<absl::Status> lowerWhere(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerTriu(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerSplit(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerStack(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerRoll(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerConversion(jit::Node &n,
                                              const std::string &kind);
  std::optional<absl::Status> lowerIndexSelect(jit::Node &n,
                                               const std::string &kind);
  std::optional<absl::Status> lowerNms(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerGather(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerIndex(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerRepeat(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerFlip(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerSort(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerTensorOf(jit::Node &n,
                                            const std::string &kind);
  std::optional<absl::Status> lowerUnique(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerIndexPut(jit::Node &n,
                                            const std::string &kind);
  std::optional<absl::Status> lowerShapeAsTensor(jit::Node &n,
                                                 const std::string &kind);
  std::optional<absl::Status> lowerMeshgrid(jit::Node &n,
                                            const std::string &kind);
  std::optional<absl::Status> lowerTopk(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerFill(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerLog2(jit::Node &n, const std::string &kind);
  std::optional<absl::Status> lowerScatter(jit::Node &n,
                                           const std::string &kind);
  std::optional<absl::Status> lowerCopyInto(jit::Node &n,
                                            const std::string &kind);
  std::optional<absl::Status> lowerObject(jit::Node &n,
                                          const std::string &kind);
  std::optional<absl::Status> lowerDictView(jit::Node &n,
                                            const std::string &kind);
  std::optional<absl::Status> lowerRoiAlign(jit::Node &n,
                                            const std::string &kind);
  std::optional<absl::Status> lowerUpsample(jit::Node &n,
                                            const std::string &kind);

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
  /// Dicts with constant keys (torchvision's IntermediateLayerGetter and
  /// segmentation heads fill `out["out"] = x`): their entries in insertion
  /// order, as their contents are at this point of the program.
  using DictEntries = std::vector<std::pair<std::string, Value *>>;
  /// A dict, shared as Python shares it (`result[i]["boxes"] = b` changes
  /// the dict the list holds), with the value that made it (where it may be
  /// changed: inPlaceOf).
  struct Dict {
    DictEntries entries; ///< a list-valued entry: nullptr here, in `lists`
    const jit::Value *madeBy;
    /// Entries that are tensor lists (RetinaNet's head outputs split by
    /// level), as they were when set.
    absl::flat_hash_map<std::string, std::vector<Value *>> lists = {};
  };
  absl::flat_hash_map<const jit::Value *, std::shared_ptr<Dict>> dicts_;
  /// Lists of dicts (torchvision's detections: one dict per image).
  absl::flat_hash_map<const jit::Value *, std::vector<std::shared_ptr<Dict>>>
      dictLists_;
  /// Lists of tensor lists (torchvision's anchors: one list per image),
  /// each item as it was when appended; `listed_`: the lists appended to
  /// one, which must not change after (Python would share them).
  absl::flat_hash_map<const jit::Value *, std::vector<std::vector<Value *>>>
      listLists_;
  absl::flat_hash_set<const jit::Value *> listed_;
  /// A dict, taken over from a constant dict on first use.
  absl::StatusOr<std::shared_ptr<Dict>> dictOf(const jit::Value *v);
  absl::flat_hash_map<const jit::Value *, c10::IValue> consts_;
  /// (constant string key, tensor) tuples, and lists of them (what
  /// `OrderedDict([(str(i), v) for ...])` is built from).
  absl::flat_hash_map<const jit::Value *, std::pair<std::string, Value *>>
      pairs_;
  absl::flat_hash_map<const jit::Value *, DictEntries> pairLists_;
  /// The module and its submodules (`self.m.anchor_generator`), read by
  /// GetAttr after freezing kept them: an attribute is a constant, as it is
  /// when forward() starts. forward() may set one only to what it holds
  /// (torchvision's AnchorGenerator converts its cached anchors to the
  /// features' dtype and device: the same tensors on CPU); other state
  /// carried from one call to the next has no ONNX form.
  c10::intrusive_ptr<c10::ivalue::Object> self_;
  absl::flat_hash_map<const jit::Value *,
                      c10::intrusive_ptr<c10::ivalue::Object>>
      modules_;
  /// Attributes forward() set where they held None (caches filled on the
  /// first call), read from there on: (module, attribute) -> value.
  absl::flat_hash_map<std::pair<const c10::ivalue::Object *, std::string>,
                      const jit::Value *>
      moduleWrites_;
  /// Whether `v` holds at this point what `held` is (equal constants).
  bool holds(const jit::Value *v, const c10::IValue &held);
  /// Objects of TorchScript classes made in forward(): field -> value.
  absl::flat_hash_map<const jit::Value *,
                      absl::flat_hash_map<std::string, const jit::Value *>>
      objects_;
  /// Blocks lowered in place (an unrolled loop's body, the taken branch of
  /// an `if` on a constant): mutating a list or dict there is program order.
  absl::flat_hash_set<const jit::Block *> inline_;
  /// Whether `n`, mutating `container`, runs in place of the block that
  /// made the container (only through blocks lowered in place).
  bool inPlaceOf(const jit::Node &n, const jit::Value *container);
  /// `n` may change the list it reads first (append, insert, extend, item
  /// assignment): in place of the block that made it, and not a list kept
  /// in another (a copy there).
  absl::Status listMayChange(const jit::Node &n, const std::string &doing);
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
