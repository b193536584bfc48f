// The reference interpreter: runs a graph on the CPU with plain kernels that
// follow the ONNX operator definitions. Constant folding and --verify use it.
#pragma once

#include "backends/reference/TensorUtil.h"
#include "ir/Graph.h"

#include "absl/status/statusor.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace onnxopt::ref {

/// A runtime value: a tensor, a sequence (of tensors, or of maps: ZipMap's
/// output), an optional (empty or holding a tensor or sequence), or a map
/// (ai.onnx.ml: keys and values as two 1-D tensors of the same length, in
/// the map's order).
struct RefValue {
  enum class Kind : uint8_t { Absent, Tensor, Sequence, Optional, Map };
  Kind kind = Kind::Absent;
  /// The tensor, or a map's values.
  TensorPtr tensor;
  /// A map's keys.
  TensorPtr keys;
  std::vector<TensorPtr> sequence;
  /// The elements of a sequence of maps (each of kind Map).
  std::vector<RefValue> maps;
  /// The element of a non-empty optional.
  std::shared_ptr<const RefValue> element;
  /// Element type of an empty sequence or optional (from the IR type).
  Type type;

  static RefValue of(TensorPtr t) {
    RefValue v;
    v.kind = Kind::Tensor;
    v.tensor = std::move(t);
    return v;
  }
  static RefValue ofSequence(std::vector<TensorPtr> elems, Type type = {}) {
    RefValue v;
    v.kind = Kind::Sequence;
    v.sequence = std::move(elems);
    v.type = std::move(type);
    return v;
  }
  static RefValue ofMap(TensorPtr keys, TensorPtr values) {
    RefValue v;
    v.kind = Kind::Map;
    v.keys = std::move(keys);
    v.tensor = std::move(values);
    return v;
  }
  static RefValue ofMapSequence(std::vector<RefValue> maps, Type type = {}) {
    RefValue v;
    v.kind = Kind::Sequence;
    v.maps = std::move(maps);
    v.type = std::move(type);
    return v;
  }
  bool isTensor() const { return kind == Kind::Tensor; }
  bool isMap() const { return kind == Kind::Map; }
  /// Number of elements of a sequence, of either kind.
  size_t sequenceLength() const { return sequence.size() + maps.size(); }
};

/// Bounds on what one evaluation may allocate (bad models must not exhaust
/// memory).
struct EvalLimits {
  /// Largest tensor a kernel may create, in bytes.
  uint64_t maxTensorBytes = uint64_t(8) << 30;
  /// Called with every node result of the main graph as it is computed; it
  /// may read the value or replace it (--verify compares and substitutes the
  /// values that feed a discontinuity).
  std::function<void(const Value &, RefValue &)> onResult;
  /// The NCHWc block size of com.microsoft.nchwc tensors (0: unknown; the
  /// model's metadata onnxopt.nchwc_block_size sets it in evaluateModel).
  int64_t nchwcBlockSize = 0;
};

class Evaluator;

/// What a kernel sees: its node, its inputs and a place for its outputs.
class KernelContext {
public:
  KernelContext(const Node &n, std::vector<const RefValue *> inputs,
                Evaluator &ev)
      : node_(n), inputs_(std::move(inputs)), outputs_(n.numOutputs()),
        ev_(ev) {}

  const Node &node() const { return node_; }
  /// The evaluator running the node (for a kernel that runs another kernel
  /// on inputs of its own: a KernelContext over the same node).
  Evaluator &evaluator() const { return ev_; }
  /// The opset version the op's schema comes from.
  int sinceVersion() const { return node_.op().sinceVersion; }
  size_t numInputs() const { return inputs_.size(); }
  /// Input i, or nullptr when absent (optional input left empty).
  const RefValue *value(size_t i) const {
    return i < inputs_.size() ? inputs_[i] : nullptr;
  }
  bool hasInput(size_t i) const { return value(i) != nullptr; }
  /// Tensor input i, or nullptr when absent.
  const Tensor *input(size_t i) const {
    const RefValue *v = value(i);
    return v && v->isTensor() ? v->tensor.get() : nullptr;
  }
  TensorPtr inputPtr(size_t i) const {
    const RefValue *v = value(i);
    return v && v->isTensor() ? v->tensor : nullptr;
  }
  /// Tensor input i, or an error naming the node when it is missing.
  absl::StatusOr<const Tensor *> required(size_t i) const;

  size_t numOutputs() const { return outputs_.size(); }
  bool wantsOutput(size_t i) const {
    return i < node_.numOutputs() && node_.output(i);
  }
  void setOutput(size_t i, TensorPtr t) {
    if (i < outputs_.size())
      outputs_[i] = RefValue::of(std::move(t));
  }
  void setOutputValue(size_t i, RefValue v) {
    if (i < outputs_.size())
      outputs_[i] = std::move(v);
  }
  std::vector<RefValue> &outputs() { return outputs_; }

  // Attributes, with defaults.
  int64_t attrInt(std::string_view name, int64_t dflt) const;
  float attrFloat(std::string_view name, float dflt) const;
  std::string attrString(std::string_view name, std::string dflt = "") const;
  std::vector<int64_t> attrInts(std::string_view name) const;
  std::vector<float> attrFloats(std::string_view name) const;
  bool hasAttr(std::string_view name) const {
    return node_.attr(name) != nullptr;
  }

  /// A zero-filled tensor, after checking its size against the limits.
  absl::StatusOr<NewTensor> allocate(DataType dtype,
                                     const std::vector<int64_t> &dims) const;
  /// That check alone, for an output made another way (a deferred buffer).
  absl::Status checkOutput(DataType dtype,
                           const std::vector<int64_t> &dims) const;
  /// An error naming the node.
  absl::Status error(std::string_view what) const;
  absl::Status unsupportedType(DataType t) const;

  /// Runs a subgraph (If/Loop/Scan body) with `inputs` bound to its inputs;
  /// the body sees the values of the enclosing scopes.
  absl::StatusOr<std::vector<RefValue>>
  runSubgraph(const Graph &body, std::vector<RefValue> inputs);
  const EvalLimits &limits() const;

private:
  const Node &node_;
  std::vector<const RefValue *> inputs_;
  std::vector<RefValue> outputs_;
  Evaluator &ev_;
};

using Kernel = absl::Status (*)(KernelContext &);

/// The kernel of `n`'s op, or nullptr when the interpreter has none (opaque and
/// custom-domain ops included).
Kernel findKernel(const Node &n);
/// True if `n` and every node of its subgraphs have kernels.
bool canEvaluate(const Node &n);
/// The op types (default domain) the interpreter implements, sorted.
std::vector<std::string> supportedOps();

/// Runs graphs. Values of enclosing scopes stay visible to subgraph bodies.
class Evaluator {
public:
  explicit Evaluator(EvalLimits limits = {}) : limits_(limits) {}

  /// Runs `g` with `inputs` bound to its inputs in order (an Absent value for
  /// an input with an initializer uses that default) and returns its outputs.
  absl::StatusOr<std::vector<RefValue>> run(const Graph &g,
                                            std::vector<RefValue> inputs);
  /// Runs one node on the given inputs (constant folding).
  absl::StatusOr<std::vector<RefValue>>
  runNode(const Node &n, const std::vector<const RefValue *> &inputs);

  const EvalLimits &limits() const { return limits_; }

private:
  friend class KernelContext;
  struct Scope;
  absl::StatusOr<std::vector<RefValue>>
  runInScope(const Graph &g, std::vector<RefValue> inputs, Scope *parent);
  EvalLimits limits_;
  Scope *current_ = nullptr;
};

/// Runs the main graph of `m`.
absl::StatusOr<std::vector<RefValue>>
evaluateModel(const Model &m, std::vector<RefValue> inputs,
              EvalLimits limits = {});

} // namespace onnxopt::ref
