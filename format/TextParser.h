// Parser for onnx-opt's text form: ONNX's textual syntax plus what ONNX 1.12's
// parser lacks (scalars vs unranked, seq/optional/map/sparse types, float16 and
// NaN/Inf literals, empty leading outputs, names like `input.1` or
// `onnx::Add_3`).
#pragma once

#include "absl/status/status.h"

#include <string_view>

namespace onnx {
class ModelProto;
}

namespace onnxopt {

/// Parses `text` into `proto`. Errors name the line and column.
absl::Status parseModelText(std::string_view text, onnx::ModelProto &proto);

} // namespace onnxopt
