// shape-inference and fold-shape-ops: passes over the type inference engine of
// the ONNX format layer (format/TypeInference.h: ONNX's own per-operator type,
// shape and data-propagation functions, run over the IR through an adapter).
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

#include <memory>

namespace onnxopt {

class Pass;

std::unique_ptr<Pass> createShapeInferencePass();
std::unique_ptr<Pass> createFoldShapeOpsPass();

} // namespace onnxopt
