// eliminate-slice-after-shape
//   Slice (Shape(X), [s], [e], axes = [0], steps = [1])  ->  the constant
//   dims when static; from opset 15 otherwise Shape <start = s, end = e> (X)
//   (Shape and a unit-step Slice clamp the same way).
//
// Exact. Shape computations read syntactically: fold-shape-ops does the same
// through inference and symbols; this needs no inference and keeps working
// where a dim is unknown rather than symbolic.
// The pattern is ShapeSubset (passes/PatternUtils.h).
#include "passes/PatternUtils.h"

namespace onnxopt {

std::unique_ptr<Pass> createEliminateSliceAfterShapePass() {
  return makeSimplePatternPass(
      "eliminate-slice-after-shape",
      "Replace Slice of Shape with constant dims or a Shape slice",
      "num-replaced", "Slices of Shape replaced", makeShapeSubsetPattern,
      {"Slice"});
}

} // namespace onnxopt
