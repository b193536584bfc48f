// eliminate-op-with-unit: removes arithmetic with an identity element where
// that is exact in IEEE arithmetic.
//
// Before:
//   Y = Mul (X, one)                # one: every element 1
// After:
//   (uses of Y read X)
//
// Removed: x * 1, 1 * x, x / 1, x - 0 (keeps -0), x + (-0), (-0) + x; for
// integer types also x + 0 and 0 + x. Kept (TRAPS.md 13): x + (+0), which
// turns -0 into +0, and x - (-0) likewise; 0 - x, 1 / x.
//
// Preconditions: the unit is a constant (not an overridable input) of X's
// element type whose every element is the unit, bit for bit; it cannot
// enlarge X by broadcasting (a scalar, or X's rank is known and at least the
// unit's with every unit dim 1 or equal to X's); a graph output keeps its
// node unless X can carry its name. Exact.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createEliminateOpWithUnitPass();

} // namespace onnxopt
