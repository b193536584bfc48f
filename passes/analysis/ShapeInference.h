// shape-inference and fold-shape-ops: ONNX's own per-operator type, shape and
// data-propagation functions, run over the IR through an adapter (no round
// trip through a ModelProto).
//
// shape-inference fills in what the IR does not know yet: types of values
// without one, unknown dims and ranks. It never overrides a declared dim, and
// never fails: nodes whose inference throws, opaque and custom-domain ops keep
// their declared types (counted in --pass-statistics). Symbolic dims
// (`batch`, `seq`) flow through as ONNX's functions propagate them.
//
// fold-shape-ops replaces int64 shape computations whose value is fully
// static with constants:
//   s = Shape (X)                   # X: float[batch, 3, 224, 224]
//   c = Gather <axis = 0> (s, one)  # one = {1}
// becomes c = {3} while Shape(X)[0] stays computed (TRAPS.md 1: a dynamic
// dim is never folded). It infers afresh from the graph inputs' declared
// types (the model's contract) and the initializers, not from intermediate
// value_info, so a stale annotation cannot bake in a dim. It also turns the
// shape input of a Reshape into a constant when its only dynamic entries are
// the Reshape input's own dims at the same positions (0 = copy, allowzero 0).
// That relies on the convention for dim_param: dims with the same symbol have
// the same size at run time (TensorRT checks it: "two network inputs with the
// same named dimension parameter are considered equal"), which dynamic axes
// follow and ONNX's inference functions preserve. Exact for every input that
// keeps that rule.
#pragma once

#include "absl/status/status.h"

#include <cstdint>
#include <memory>

namespace onnxopt {

class Graph;
class Model;
class Node;
class Pass;
std::unique_ptr<Pass> createShapeInferencePass();

/// Checks every node whose operands are typed with ONNX's inference function
/// for its op, as ONNX Runtime and onnx.checker do when they load a model:
/// the first node that rejects its operands is an error naming it. The
/// driver runs it before writing, so it never writes a model that a runtime
/// (or onnx-opt itself) refuses to load.
absl::Status typeCheckModel(const Model &m);
std::unique_ptr<Pass> createFoldShapeOpsPass();

/// shape-inference one node at a time, for frontends that build a graph in
/// program order: each node's results get the types ONNX's functions (and
/// the symbolic refinements above) infer from its operands' types, merged
/// into what the results already declare.
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

} // namespace onnxopt
