// eliminate-if-with-const-cond: an If whose condition is a constant is
// replaced by the nodes of the branch it always takes.
//
// Before:
//   Y = If (c) <then_branch = { ...; => (a) }, else_branch = { ... }>
//   with c = {true}
// After:
//   the then branch's nodes, inlined before the If's place; Y is its output a
//
// Preconditions: c is a constant (not overridable) with one bool element. The
// branch's constants become the graph's; values it captures from outer
// scopes are used directly; nested subgraphs move with their nodes. A graph
// output that the branch returns straight from an outer value, a constant or
// another output keeps a node of its own (an Identity). Exact: the same
// nodes run on the same values.
#pragma once

#include <memory>

namespace onnxopt {

class Pass;
std::unique_ptr<Pass> createEliminateIfWithConstCondPass();

} // namespace onnxopt
