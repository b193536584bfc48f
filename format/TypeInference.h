// Schema-driven type and shape inference on the IR: ONNX's per-operator
// type, shape and data-propagation functions run over a graph through
// adapters, plus the symbolic refinements ONNX lacks (Reshape's -1 against
// symbolic dims, Shape/Slice/Concat data). An analysis: it computes types
// and shape data on the side and changes nothing; the shape-inference and
// fold-shape-ops passes, the TorchScript lowering and the driver's check
// before writing build on it.
//
// Safety: ONNX's propagation functions are called only when every operand is
// typed and ranked (ONNX 1.12's Shape >= 15 dereferences a missing type);
// inference functions run under try/catch and a failure is counted.
#pragma once

#include "ir/Graph.h"

#include "absl/status/status.h"

#include <cstdint>
#include <memory>

namespace onnx {
class TensorShapeProto;
}

namespace onnxopt {

/// Inference over one graph in program order.
class TypeInference {
public:
  /// With `trustDeclared`, node results start from their declared types;
  /// without, only graph inputs and initializers do (the model's contract).
  TypeInference(const Graph &g, int64_t opset, bool trustDeclared);
  ~TypeInference();
  void run();
  /// The inferred type of a node result (Unknown when inference said nothing).
  Type inferred(const Value *v) const;
  /// The statically known value of an int64 shape computation, if any.
  const onnx::TensorShapeProto *data(const Value *v) const;
  /// Nodes whose inference function threw.
  uint64_t failed() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when mergeInto can add nothing to `t`: a non-tensor type, or a tensor
/// whose element type and every dim are known.
bool isSettled(const Type &t);
/// Fills what `into` does not know from `from` (same kind): the element type,
/// the rank, unknown dims. Declared dims are never overridden. Returns whether
/// anything changed.
bool mergeInto(const Type &from, Type &into);

/// What refineTypes did to a graph.
struct RefineCounts {
  uint64_t refined = 0; // values whose type gained information
  uint64_t unknown = 0; // node results still without a type
  uint64_t failed = 0;  // nodes whose inference function threw
};
/// Runs inference over `g` at `opset` (declared types trusted) and merges
/// what it found into the node results' types (mergeInto: declared dims are
/// never overridden). What the shape-inference pass does; the opset
/// converter runs it before each version step.
RefineCounts refineTypes(Graph &g, int64_t opset);

/// Inference one node at a time, for frontends that build a graph in
/// program order: each node's results get the types ONNX's functions (and
/// the symbolic refinements) infer from its operands' types, merged into what
/// the results already declare.
class IncrementalShapeInference {
public:
  IncrementalShapeInference(const Graph &g, int64_t opset);
  ~IncrementalShapeInference();
  /// Infers `n` (its attributes set, its operands already inferred).
  void infer(Node &n);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Checks every node whose operands are typed with ONNX's inference function
/// for its op, as ONNX Runtime and onnx.checker do when they load a model,
/// plus the Conv channel check ONNX 1.12 lacks: the first node that rejects
/// its operands is an error naming it. The driver runs it before writing, so
/// it never writes a model that a runtime (or onnx-opt itself) refuses.
absl::Status typeCheckModel(const Model &m);

} // namespace onnxopt
