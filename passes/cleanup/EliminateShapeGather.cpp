// eliminate-shape-gather
//   Gather <axis = 0> (Shape(X), i)  ->  the constant dims when X's dims at i
//   are static; from opset 15, a dynamic 1-D run i..i+k of X's dims becomes
//   Shape <start = i, end = i+k> (X).
//
// Exact. Shape computations read syntactically: fold-shape-ops does the same
// through inference and symbols; this needs no inference and keeps working
// where a dim is unknown rather than symbolic.
// The pattern is ShapeSubset (passes/PatternUtils.h).
#include "passes/PatternUtils.h"

namespace onnxopt {

std::unique_ptr<Pass> createEliminateShapeGatherPass() {
  return makeSimplePatternPass(
      "eliminate-shape-gather",
      "Replace Gather of Shape with constant dims or a Shape slice",
      "num-replaced", "Gathers of Shape replaced", makeShapeSubsetPattern,
      {"Gather"});
}

} // namespace onnxopt
