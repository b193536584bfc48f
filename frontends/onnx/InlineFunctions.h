// Model-local functions (ModelProto.functions) inlined at their call sites,
// at the protobuf level, before import: what --target-opset does first (a
// function body imports opsets of its own, which a conversion of the graph
// would leave behind) and --inline-functions asks for.
#pragma once

#include "absl/status/status.h"

namespace onnx {
class ModelProto;
}

namespace onnxopt {

/// Replaces every call of a model-local function (in the graph, in every
/// subgraph, and in the bodies it inlines) by the function's body, its
/// values renamed apart (`<function>.<n>/<name>`), attribute references
/// bound to the call's attributes, and removes
/// the functions. Errors, with nothing changed that matters (the caller
/// discards the copy): a function that imports a domain at another version
/// than the model, calls nested deeper than 32 (recursion), a call with more
/// operands or results than the function declares, a function with fields
/// ONNX 1.12 does not know (IR 9's attribute defaults).
absl::Status inlineLocalFunctions(onnx::ModelProto &model);

} // namespace onnxopt
