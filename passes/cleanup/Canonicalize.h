// canonicalize: applies every op's fold hook (passes/Folding.h) to a fixed
// point.
//
// Before:                                   After:
//   t = Transpose <perm = [0, 1]> (x)         y = Relu (x)
//   c = Cast <to = 1> (t)      # x is float
//   y = Relu (c)
//
// Preconditions: those of each fold (exact ones only); a graph output whose
// folded value is a graph input, a constant or another output keeps its node
// to carry its name. Exact.
#pragma once

#include <memory>

namespace onnxopt {
class Pass;
std::unique_ptr<Pass> createCanonicalizePass();
} // namespace onnxopt
