// fuse-consecutive-transposes: two Transposes in a row become one, or none
// when they cancel.
//
// Before:
//   t = Transpose <perm = p> (X)
//   Y = Transpose <perm = q> (t)
// After:
//   Y = Transpose <perm = r> (X)    # r[i] = p[q[i]]; nothing if r is identity
//
// Preconditions: both perms explicit (or the rank known from the type); the
// first result may have other users (it then stays for them). Exact: only
// elements move.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createFuseConsecutiveTransposesPass();

} // namespace onnxopt
