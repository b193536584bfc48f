// GELU as exporters spell it out, op by op: the matcher that fuse-gelu (ONNX's
// Gelu, opset 20) and ort-fuse-bias-gelu (com.microsoft.Gelu / BiasGelu)
// share.
//
//   erf:   g = Mul (Mul (y, Add (Erf (Div (y, sqrt(2))), 1)), 0.5)
//          (Mul (y, 1/sqrt(2)) for the Div)
//   tanh:  g = Mul (Mul (y, Add (Tanh (Mul (Add (y, Mul (y^3, 0.044715)),
//                                            sqrt(2/pi))), 1)), 0.5)
//          (y^3 as Pow (y, 3) or Mul (y, Mul (y, y)))
// either operand order of each Mul and Add, and the halving also as
// Mul (Mul (y, 0.5), Add (...)). Constants within float rounding; every
// value between y and g private to the chain.
#pragma once

#include "ir/Graph.h"

namespace onnxopt {

struct GeluMatch {
  Value *y = nullptr;     // the GELU's input
  Node *result = nullptr; // the node whose result is the GELU's
  bool tanh = false;      // the tanh approximation
  /// y is read only by the chain (and is no graph output).
  bool yPrivate = false;
};

/// The GELU around `n`, an Erf or a Tanh: nullptr with `m` filled, or why
/// not.
const char *matchGelu(Node &n, GeluMatch &m);

} // namespace onnxopt
