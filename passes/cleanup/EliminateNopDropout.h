// eliminate-nop-dropout: removes Dropout in inference mode.
//
// Before:                         After:
//   t = Dropout (x)                 y = Relu (x)
//   y = Relu (t)
//
// Preconditions: inference mode — opset 6 and older need is_test=1; from opset
// 12 the training_mode input is absent or a constant false (an overridable
// graph input is not constant); the mask result is absent or unused. Exact:
// Dropout in inference is the identity.
#pragma once

#include <memory>

namespace onnxopt {
class Pass;
std::unique_ptr<Pass> createEliminateNopDropoutPass();
} // namespace onnxopt
